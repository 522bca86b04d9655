-- What each sandbox's token and cost budgets have used, so that a budget survives the engine
-- or daemon that enforced it: one row per owner (the sandbox's name, else its id), credential
-- ('' = all of them), kind and window. A sandbox made again under the same name carries on
-- where the last one stopped. Written by the audit thread when a budgeted call settles.
CREATE TABLE budgets (
  owner        TEXT NOT NULL,      -- the sandbox's name, else its id
  sandbox      TEXT NOT NULL,      -- the sandbox id that wrote the row last
  credential   TEXT NOT NULL,      -- the credential's env var NAME, '' = every credential
  kind         TEXT NOT NULL CHECK (kind IN ('tokens', 'input', 'output', 'usd')),
  window_ms    INTEGER NOT NULL,   -- 0 = no window
  limit_value  REAL NOT NULL,      -- tokens, or USD for kind usd
  window_start TEXT NOT NULL,      -- ISO 8601 UTC, when the current window began
  used         REAL NOT NULL,      -- tokens, or estimated USD, used in the current window
  updated_at   TEXT NOT NULL,      -- ISO 8601 UTC
  PRIMARY KEY (owner, credential, kind, window_ms)
);
