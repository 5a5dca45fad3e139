-- Version 3: customer rate limits (issue 9 item 5, cx-server-gms.c), so that a restart does
-- not refill them.
CREATE TABLE rate_buckets (
  key TEXT NOT NULL PRIMARY KEY,
  tokens REAL NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX rate_buckets_by_time ON rate_buckets (updated_at);
