-- A live sandbox's name is unique in its state directory: `exec`, `ls` and `rm` find it by name.
-- (Ended sandboxes keep theirs for the audit log.)
CREATE UNIQUE INDEX sandboxes_live_name ON sandboxes (name) WHERE ended_at IS NULL AND name IS NOT NULL;
