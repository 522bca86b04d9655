-- Live changes to a running sandbox (engine API, `airlock update`): one row per change, written
-- before it takes effect. Names only: a credential is its variable NAME, never its value.
CREATE TABLE sandbox_changes (
  id       INTEGER PRIMARY KEY,
  sandbox  TEXT NOT NULL,   -- sandboxes.id
  at       TEXT NOT NULL,   -- ISO 8601 UTC
  kind     TEXT NOT NULL CHECK (kind IN ('attach', 'revoke', 'budgets', 'endpoints')),
  detail   TEXT NOT NULL    -- JSON: the credential names, or the new budgets / endpoint rules
);
CREATE INDEX sandbox_changes_sandbox_at ON sandbox_changes (sandbox, at);
