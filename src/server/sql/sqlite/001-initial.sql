-- Version 1: chats and their messages and files, agents and their sessions, invitations,
-- callbacks. States are stored as words so that the database reads well and does not depend
-- on the order of the C enums.
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
  created_at INTEGER NOT NULL,
  queued_at INTEGER NOT NULL,
  accepted_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  next_index INTEGER NOT NULL
);
CREATE INDEX chats_by_state ON chats (state, queued_at);
CREATE INDEX chats_by_queue ON chats (queue, state, ended_at);
CREATE INDEX chats_by_agent ON chats (agent, state);

CREATE TABLE messages (
  chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  type TEXT NOT NULL,
  from_type TEXT NOT NULL,
  from_nickname TEXT,
  from_participant_id TEXT,
  text TEXT,
  utc_time INTEGER NOT NULL,
  user_data TEXT,
  PRIMARY KEY (chat_id, idx)
) WITHOUT ROWID;

CREATE TABLE files (
  chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  data BLOB NOT NULL,
  uploaded_at INTEGER NOT NULL,
  PRIMARY KEY (chat_id, id)
);

CREATE TABLE agents (
  username TEXT NOT NULL PRIMARY KEY,
  display_name TEXT,
  password_hash TEXT,
  capacity INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('offline', 'not_ready', 'ready')),
  reason TEXT,
  state_since INTEGER NOT NULL,
  idle_since INTEGER NOT NULL
);
-- Routing reads the ready agents, longest idle first.
CREATE INDEX agents_by_readiness ON agents (state, idle_since, username);
-- No row for an agent = it serves every queue.
CREATE TABLE agent_queues (
  username TEXT NOT NULL REFERENCES agents (username) ON DELETE CASCADE,
  queue TEXT NOT NULL,
  PRIMARY KEY (username, queue)
);

CREATE TABLE sessions (
  token_hash TEXT NOT NULL PRIMARY KEY,
  username TEXT NOT NULL REFERENCES agents (username) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE invitations (
  chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  agent TEXT NOT NULL REFERENCES agents (username) ON DELETE CASCADE,
  state TEXT NOT NULL
    CHECK (state IN ('pending', 'accepted', 'declined', 'expired', 'withdrawn')),
  offered_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  answered_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX invitations_by_agent ON invitations (agent, state);
CREATE INDEX invitations_by_chat ON invitations (chat_id, state);
-- A chat is offered to one agent at a time, whichever process offers it.
CREATE UNIQUE INDEX invitations_one_pending ON invitations (chat_id) WHERE state = 'pending';

CREATE TABLE callbacks (
  id TEXT NOT NULL PRIMARY KEY,
  service TEXT NOT NULL,
  customer_number TEXT,
  state TEXT NOT NULL,
  desired_time INTEGER NOT NULL,
  expiration_time INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  properties TEXT NOT NULL
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
