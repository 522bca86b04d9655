-- What the audit log could not keep, so that a gap is itself on record: rows the writer gave
-- up on (disk full, database locked past its retries) and rows pruned to keep the log under
-- audit.maxBytes. `airlock doctor` reports them. Never holds a secret.
CREATE TABLE audit_gaps (
  id      INTEGER PRIMARY KEY,
  kind    TEXT NOT NULL CHECK (kind IN ('lost', 'pruned')),
  rows    INTEGER NOT NULL,  -- how many requests rows (or refused requests) the gap holds
  reason  TEXT NOT NULL,     -- what happened, e.g. "SQLITE_FULL: database or disk is full"
  at      TEXT NOT NULL      -- ISO 8601 UTC, when it was recorded
);
