-- Version 2 on PostgreSQL: co-browse sessions and their audit (sqlite/004), in PostgreSQL's
-- types. Never page content; the code only until an agent joins; the secret only as a hash.
CREATE TABLE cobrowse_sessions (
  id TEXT NOT NULL PRIMARY KEY,
  code TEXT,
  secret_hash TEXT NOT NULL,
  address TEXT,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  agent TEXT,
  joined_at BIGINT,
  ended_at BIGINT,
  ended_by TEXT,
  end_reason TEXT
);
CREATE INDEX cobrowse_sessions_by_code ON cobrowse_sessions (code) WHERE code IS NOT NULL;
CREATE INDEX cobrowse_sessions_by_agent ON cobrowse_sessions (agent) WHERE ended_at IS NULL;
CREATE TABLE cobrowse_modes (
  session_id TEXT NOT NULL REFERENCES cobrowse_sessions (id),
  at BIGINT NOT NULL,
  mode TEXT NOT NULL,
  changed_by TEXT NOT NULL
);
CREATE INDEX cobrowse_modes_by_session ON cobrowse_modes (session_id, at);
