-- The staff queue is listed by role and state in due-date order, a task without a due date
-- last. This index holds exactly that order (the expression matches `DUE_SORT` in
-- engine/src/store/postgres.rs), so a listing reads its page and stops, however long the
-- queue is, instead of sorting every open task of the role.
DROP INDEX tasks_queue;
CREATE INDEX tasks_queue_due ON tasks (role, state, (COALESCE(due_date, DATE '9999-12-31')), id);
-- "My tasks": what a clerk has claimed.
CREATE INDEX tasks_claimed ON tasks (claimed_by, state) WHERE claimed_by IS NOT NULL;
-- "Next case": the unclaimed open tasks of a role in queue order. Claimed tasks leave this
-- index, so a clerk asking for the next task does not step over the ones colleagues hold.
CREATE INDEX tasks_unclaimed ON tasks (role, (COALESCE(due_date, DATE '9999-12-31')), id)
    WHERE state = 'open' AND claimed_by IS NULL;
