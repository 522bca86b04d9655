-- One row per request a sandbox made through the proxy: allowed, denied or failed.
-- A forwarded request gets its row at "intent" time (decision NULL = in flight), committed
-- before anything goes upstream; the outcome fills in the rest when the response ends.
-- Rows left in flight by a crash become 'unknown' at the next start. No secret value is
-- ever stored: `credential` is the env var NAME, `query` has credential parameters redacted.
CREATE TABLE requests (
  id            INTEGER PRIMARY KEY,
  sandbox       TEXT NOT NULL,     -- sandboxes.id (no foreign key: rows outlive pruned sandboxes)
  service       TEXT,              -- catalogue service name; NULL for forward-proxy traffic
  credential    TEXT,              -- the credential's env var NAME, e.g. OPENAI_API_KEY
  method        TEXT NOT NULL,
  host          TEXT NOT NULL,
  path          TEXT NOT NULL,     -- the normalized path that was checked and forwarded
  query         TEXT,              -- query string, credential-bearing parameters = REDACTED
  status        INTEGER,           -- upstream status, or the proxy's own (403, 502, 503, 504)
  decision      TEXT CHECK (decision IN ('allowed', 'denied', 'error', 'unknown')), -- NULL = in flight
  reason        TEXT,              -- why denied / what failed
  bytes_in      INTEGER,           -- request body bytes from the guest
  bytes_out     INTEGER,           -- response body bytes to the guest
  ttfb_ms       INTEGER,           -- start to first response byte
  duration_ms   INTEGER,
  model         TEXT,              -- LLM model as the response names it
  input_tokens  INTEGER,
  output_tokens INTEGER,
  started_at    TEXT NOT NULL,     -- ISO 8601 UTC with ms (same format as strftime('%Y-%m-%dT%H:%M:%fZ'))
  ended_at      TEXT
);
-- Time windows (--since/--until, prune, every named query) start from started_at.
CREATE INDEX requests_started_at ON requests (started_at);
CREATE INDEX requests_sandbox_started_at ON requests (sandbox, started_at);
CREATE INDEX requests_service_started_at ON requests (service, started_at);
-- denied-recent, errors, --decision
CREATE INDEX requests_decision_started_at ON requests (decision, started_at);
-- recoverUnfinished() at start: only the in-flight rows
CREATE INDEX requests_in_flight ON requests (sandbox) WHERE decision IS NULL;
