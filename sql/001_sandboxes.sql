-- One row per sandbox, live or ended. A live sandbox (ended_at IS NULL) owns its /30:
-- the partial unique indexes make a double allocation impossible even across processes.
CREATE TABLE sandboxes (
  id          TEXT PRIMARY KEY,           -- short random hex, also in netns/link names
  name        TEXT,                       -- --name, for people
  slot        INTEGER NOT NULL,           -- index of the /30 inside the pool
  netns       TEXT NOT NULL,              -- network namespace name (airlock-<id>)
  host_if     TEXT NOT NULL,              -- host end of the veth (al-<id>)
  gateway     TEXT NOT NULL,              -- host address, .1 of the /30
  guest       TEXT NOT NULL,              -- guest address, .2 of the /30
  proxy_port  INTEGER NOT NULL,
  owner_pid   INTEGER NOT NULL,           -- the airlock process that made it
  owner_start TEXT,                       -- that process's start time (guards against pid reuse)
  profiles    TEXT NOT NULL DEFAULT '[]', -- JSON array of profile names
  credentials TEXT NOT NULL DEFAULT '[]', -- JSON array of credential env var NAMES (never values)
  created_at  TEXT NOT NULL,              -- ISO 8601 UTC
  ended_at    TEXT,
  exit_status INTEGER
);
CREATE UNIQUE INDEX sandboxes_live_slot ON sandboxes (slot) WHERE ended_at IS NULL;
CREATE UNIQUE INDEX sandboxes_live_gateway ON sandboxes (gateway) WHERE ended_at IS NULL;
CREATE INDEX sandboxes_created_at ON sandboxes (created_at);
