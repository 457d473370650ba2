-- Accounts and the task queue's own records: users with roles, API tokens (only their
-- SHA-256 is kept), comments on tasks and reassignments by supervisors.
-- Timestamps are TEXT in the runtime's fixed format (see 0001).

CREATE TABLE users (
    name        TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE user_roles (
    user_name   TEXT NOT NULL REFERENCES users (name),
    role        TEXT NOT NULL,
    PRIMARY KEY (user_name, role)
);

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    user_name   TEXT NOT NULL REFERENCES users (name),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_name);

CREATE TABLE task_comments (
    id          INTEGER PRIMARY KEY,
    task_id     INTEGER NOT NULL REFERENCES tasks (id),
    item_id     INTEGER NOT NULL REFERENCES work_items (id),
    author      TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX task_comments_by_task ON task_comments (task_id);

CREATE TABLE task_reassignments (
    id          INTEGER PRIMARY KEY,
    task_id     INTEGER NOT NULL REFERENCES tasks (id),
    from_user   TEXT,
    to_user     TEXT NOT NULL,
    by_user     TEXT NOT NULL,
    reason      TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX task_reassignments_by_task ON task_reassignments (task_id);
