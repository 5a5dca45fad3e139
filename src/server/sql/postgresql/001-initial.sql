-- Version 1 on PostgreSQL: the SQLite schema at its version 3 (sqlite/001..003), in
-- PostgreSQL's types: times and counts BIGINT, file contents BYTEA, JSON kept as TEXT (the
-- store parses it, as on SQLite). States are stored as words, as on SQLite.
CREATE TABLE agents (
  username TEXT NOT NULL PRIMARY KEY,
  display_name TEXT,
  password_hash TEXT,
  capacity BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('offline', 'not_ready', 'ready')),
  reason TEXT,
  state_since BIGINT NOT NULL,
  idle_since BIGINT NOT NULL
);
-- Routing reads the ready agents, longest idle first.
CREATE INDEX agents_by_readiness ON agents (state, idle_since, username);
-- No row for an agent = it serves every queue.
CREATE TABLE agent_queues (
  username TEXT NOT NULL REFERENCES agents (username) ON DELETE CASCADE,
  queue TEXT NOT NULL,
  PRIMARY KEY (username, queue)
);

CREATE TABLE chats (
  id TEXT NOT NULL PRIMARY KEY,
  service TEXT NOT NULL,
  queue TEXT NOT NULL,
  secure_key TEXT NOT NULL,
  alias TEXT,
  user_id TEXT,
  nickname TEXT,
  first_name TEXT,
  last_name TEXT,
  email TEXT,
  subject TEXT,
  user_data TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'active', 'ended')),
  agent TEXT REFERENCES agents (username),
  created_at BIGINT NOT NULL,
  queued_at BIGINT NOT NULL,
  accepted_at BIGINT NOT NULL,
  ended_at BIGINT NOT NULL,
  next_index BIGINT NOT NULL
);
CREATE INDEX chats_by_state ON chats (state, queued_at);
CREATE INDEX chats_by_queue ON chats (queue, state, ended_at);
CREATE INDEX chats_by_agent ON chats (agent, state);

CREATE TABLE messages (
  chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  idx BIGINT NOT NULL,
  type TEXT NOT NULL,
  from_type TEXT NOT NULL,
  from_nickname TEXT,
  from_participant_id TEXT,
  text TEXT,
  utc_time BIGINT NOT NULL,
  user_data TEXT,
  PRIMARY KEY (chat_id, idx)
);

CREATE TABLE files (
  chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  data BYTEA NOT NULL,
  uploaded_at BIGINT NOT NULL,
  PRIMARY KEY (chat_id, id)
);

CREATE TABLE sessions (
  token_hash TEXT NOT NULL PRIMARY KEY,
  username TEXT NOT NULL REFERENCES agents (username) ON DELETE CASCADE,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE invitations (
  chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  agent TEXT NOT NULL REFERENCES agents (username) ON DELETE CASCADE,
  state TEXT NOT NULL
    CHECK (state IN ('pending', 'accepted', 'declined', 'expired', 'withdrawn')),
  offered_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  answered_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX invitations_by_agent ON invitations (agent, state);
CREATE INDEX invitations_by_chat ON invitations (chat_id, state);
-- A chat is offered to one agent at a time, whichever node offers it.
CREATE UNIQUE INDEX invitations_one_pending ON invitations (chat_id) WHERE state = 'pending';

CREATE TABLE callbacks (
  id TEXT NOT NULL PRIMARY KEY,
  service TEXT NOT NULL,
  customer_number TEXT,
  state TEXT NOT NULL,
  desired_time BIGINT NOT NULL,
  expiration_time BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  properties TEXT NOT NULL,
  secret_hash TEXT
);
CREATE INDEX callbacks_by_slot ON callbacks (service, desired_time);
CREATE INDEX callbacks_by_number ON callbacks (customer_number);
CREATE INDEX callbacks_by_state ON callbacks (state);
-- The properties again, one row per key, for the GMS query by key and value (the JSON column
-- keeps their types for reading back). Strings as they are, other values as JSON.
CREATE TABLE callback_properties (
  callback_id TEXT NOT NULL REFERENCES callbacks (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (callback_id, key)
);
CREATE INDEX callback_properties_by_value ON callback_properties (key, value);

-- Customer rate limits (cx-server-gms.c), so that a restart does not refill them.
CREATE TABLE rate_buckets (
  key TEXT NOT NULL PRIMARY KEY,
  tokens DOUBLE PRECISION NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX rate_buckets_by_time ON rate_buckets (updated_at);
