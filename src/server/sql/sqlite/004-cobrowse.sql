-- Version 4: co-browse sessions (issue 11, cx-server-cobrowse.c) and their audit: who, when,
-- the mode changes and how each ended. Never page content. A session's code is kept only
-- until an agent joins (then NULL: single use); the customer's secret only as a hash.
CREATE TABLE cobrowse_sessions (
  id TEXT NOT NULL PRIMARY KEY,
  code TEXT,
  secret_hash TEXT NOT NULL,
  address TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  agent TEXT,
  joined_at INTEGER,
  ended_at INTEGER,
  ended_by TEXT,
  end_reason TEXT
) WITHOUT ROWID;
CREATE INDEX cobrowse_sessions_by_code ON cobrowse_sessions (code) WHERE code IS NOT NULL;
CREATE INDEX cobrowse_sessions_by_agent ON cobrowse_sessions (agent) WHERE ended_at IS NULL;
CREATE TABLE cobrowse_modes (
  session_id TEXT NOT NULL REFERENCES cobrowse_sessions (id),
  at INTEGER NOT NULL,
  mode TEXT NOT NULL,
  changed_by TEXT NOT NULL
);
CREATE INDEX cobrowse_modes_by_session ON cobrowse_modes (session_id, at);
