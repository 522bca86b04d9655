-- Request budgets and the request rates of endpoint rules join the token and cost budgets:
-- kind 'requests', and a request rate's endpoint rule in the key, so each rated rule keeps
-- its own count. SQLite cannot change a CHECK, so the table is made again with its rows.
CREATE TABLE budgets_next (
  owner        TEXT NOT NULL,      -- the sandbox's name, else its id
  sandbox      TEXT NOT NULL,      -- the sandbox id that wrote the row last
  credential   TEXT NOT NULL,      -- the credential's env var NAME, '' = every credential
  kind         TEXT NOT NULL CHECK (kind IN ('tokens', 'input', 'output', 'usd', 'requests')),
  window_ms    INTEGER NOT NULL,   -- 0 = no window
  endpoint     TEXT NOT NULL DEFAULT '', -- a request rate's endpoint rule, `METHOD /glob`; '' = none
  limit_value  REAL NOT NULL,      -- tokens, USD for kind usd, requests for kind requests
  window_start TEXT NOT NULL,      -- ISO 8601 UTC, when the current window began
  used         REAL NOT NULL,      -- tokens, estimated USD, or requests used in the current window
  updated_at   TEXT NOT NULL,      -- ISO 8601 UTC
  PRIMARY KEY (owner, credential, kind, window_ms, endpoint)
);
INSERT INTO budgets_next (owner, sandbox, credential, kind, window_ms, limit_value, window_start, used, updated_at)
  SELECT owner, sandbox, credential, kind, window_ms, limit_value, window_start, used, updated_at FROM budgets;
DROP TABLE budgets;
ALTER TABLE budgets_next RENAME TO budgets;
