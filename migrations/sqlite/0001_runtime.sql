-- The durable runtime: flow versions, work items, tokens, tasks, messages, outbox, timers
-- and the append-only transition log. Timestamps are TEXT in one fixed format
-- (YYYY-MM-DDTHH:MM:SS.ffffffZ) so that text order is time order; dates are TEXT YYYY-MM-DD.

CREATE TABLE flow_definitions (
    hash        TEXT PRIMARY KEY,
    flow_id     TEXT NOT NULL,
    version     INTEGER NOT NULL,
    title       TEXT NOT NULL,
    source      TEXT NOT NULL,
    registered_at TEXT NOT NULL
);
CREATE INDEX flow_definitions_by_flow ON flow_definitions (flow_id, registered_at);

CREATE TABLE work_items (
    id          INTEGER PRIMARY KEY,
    flow_id     TEXT NOT NULL,
    flow_version INTEGER NOT NULL,
    flow_hash   TEXT NOT NULL REFERENCES flow_definitions (hash),
    subject     TEXT NOT NULL,
    data        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('running', 'waiting', 'failed', 'completed', 'cancelled')),
    parent_id   INTEGER REFERENCES work_items (id),
    parent_token_id INTEGER,
    error       TEXT,
    run_at      TEXT,
    seq         INTEGER NOT NULL,
    head_hash   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX work_items_runnable ON work_items (run_at) WHERE run_at IS NOT NULL;
CREATE INDEX work_items_by_flow ON work_items (flow_id, state);
CREATE INDEX work_items_by_parent ON work_items (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES work_items (id),
    node        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('ready', 'waiting', 'joined', 'failed', 'done')),
    wait        TEXT,
    wait_key    TEXT,
    wake_at     TEXT,
    fork_path   TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    pending_children INTEGER NOT NULL,
    error       TEXT,
    entered_at  TEXT NOT NULL
);
CREATE INDEX tokens_live ON tokens (item_id) WHERE state <> 'done';
CREATE INDEX tokens_waiting ON tokens (wait, wait_key) WHERE state = 'waiting';

CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES work_items (id),
    token_id    INTEGER NOT NULL REFERENCES tokens (id),
    flow_id     TEXT NOT NULL,
    node        TEXT NOT NULL,
    step        TEXT,
    name        TEXT NOT NULL,
    lane        TEXT NOT NULL,
    role        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    fields      TEXT NOT NULL,
    due_date    TEXT,
    state       TEXT NOT NULL CHECK (state IN ('open', 'completed', 'cancelled')),
    claimed_by  TEXT,
    claimed_at  TEXT,
    completed_by TEXT,
    completed_at TEXT,
    answer      TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX tasks_queue ON tasks (role, state, due_date);
CREATE INDEX tasks_by_item ON tasks (item_id);

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    delivery_id TEXT NOT NULL UNIQUE,
    item_id     INTEGER NOT NULL REFERENCES work_items (id),
    node        TEXT NOT NULL,
    document    TEXT NOT NULL,
    correlation_key TEXT,
    correlation_value TEXT,
    payload     TEXT NOT NULL,
    received_by TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX messages_by_item ON messages (item_id);

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES work_items (id),
    node        TEXT NOT NULL,
    document    TEXT NOT NULL,
    recipient   TEXT,
    payload     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'sent')),
    created_at  TEXT NOT NULL,
    sent_at     TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';
CREATE INDEX outbox_by_item ON outbox (item_id);

CREATE TABLE timers (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES work_items (id),
    token_id    INTEGER NOT NULL REFERENCES tokens (id),
    node        TEXT NOT NULL,
    wake_at     TEXT NOT NULL,
    fired_at    TEXT
);
CREATE INDEX timers_by_item ON timers (item_id);

CREATE TABLE transitions (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES work_items (id),
    seq         INTEGER NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    from_node   TEXT,
    to_node     TEXT,
    data_change TEXT,
    detail      TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE UNIQUE INDEX transitions_by_item ON transitions (item_id, seq);

-- The log is append-only: the database refuses updates and deletes through the normal
-- path. Tampering with the file directly is caught by `nagare audit verify`.
CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
