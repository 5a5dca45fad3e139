/* cx-store-sqlite-statements.c: the SQL of every statement CxStoreSqlite prepares at open, one
 * per StatementId (cx-store-sqlite-private.h). The SQL is kept to what PostgreSQL also speaks
 * (UPSERT, partial indexes, no SQLite functions in the logic); cx-store-pg.c has its own
 * table, with $n parameters and row locks. */
#define G_LOG_DOMAIN "cx-store"

#include "config.h"

#include "server/cx-store-sqlite-private.h"

#define CHAT_COLUMNS                                                                               \
  "id, service, queue, secure_key, alias, user_id, nickname, first_name, last_name, email, "       \
  "subject, user_data, state, agent, created_at, queued_at, accepted_at, ended_at, next_index"

/* An agent's load: the chats it has plus the invitations it has not answered. */
#define AGENT_LOAD                                                                                 \
  "((SELECT COUNT(*) FROM chats c WHERE c.agent = a.username AND c.state = 'active')"              \
  " + (SELECT COUNT(*) FROM invitations i WHERE i.agent = a.username AND i.state = 'pending'))"

#define AGENT_COLUMNS                                                                              \
  "a.username, a.display_name, a.password_hash, a.capacity, a.state, a.reason, a.state_since, "    \
  "a.idle_since, " AGENT_LOAD

#define INVITATION_COLUMNS "chat_id, agent, state, offered_at, expires_at"

#define CALLBACK_COLUMNS                                                                           \
  "c.id, c.service, c.customer_number, c.state, c.desired_time, c.expiration_time, "               \
  "c.created_at, c.properties, c.secret_hash"

#define CALLBACK_ORDER " ORDER BY c.desired_time, c.created_at, c.id"
const char *const cx_sqlite_statement_sql[N_STATEMENTS] = {
  [ST_BEGIN_READ] = "BEGIN",
  [ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
  [ST_COMMIT] = "COMMIT",
  [ST_ROLLBACK] = "ROLLBACK",
  [ST_SAVEPOINT] = "SAVEPOINT cx_call",
  [ST_RELEASE] = "RELEASE cx_call",
  [ST_ROLLBACK_TO] = "ROLLBACK TO cx_call",

  [ST_CHAT_INSERT] = "INSERT INTO chats (" CHAT_COLUMNS ") VALUES "
                     "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                     "?17, ?18, 1)",
  [ST_CHAT_GET] = "SELECT " CHAT_COLUMNS " FROM chats WHERE id = ?1",
  [ST_CHAT_EXISTS] = "SELECT 1 FROM chats WHERE id = ?1",
  [ST_CHAT_HEAD] = "SELECT next_index, state, queue, agent FROM chats WHERE id = ?1",
  [ST_CHAT_SET_NEXT_INDEX] = "UPDATE chats SET next_index = ?2 WHERE id = ?1",
  [ST_CHAT_UPDATE] = "UPDATE chats SET next_index = ?2, state = ?3, queue = ?4, agent = ?5, "
                     "user_data = COALESCE (?6, user_data), queued_at = ?7, accepted_at = ?8, "
                     "ended_at = ?9 WHERE id = ?1",
  [ST_CHAT_ACCEPT] = "UPDATE chats SET state = 'active', agent = ?2, accepted_at = ?3 "
                     "WHERE id = ?1",
  [ST_CHATS_OPEN] = "SELECT " CHAT_COLUMNS " FROM chats WHERE state IN ('waiting', 'active') "
                    "AND (?1 IS NULL OR queue = ?1) AND (?2 IS NULL OR agent = ?2) "
                    "ORDER BY queued_at, id",
  [ST_QUEUE_POSITION] = "SELECT (SELECT COUNT(*) FROM chats c WHERE c.queue = me.queue "
                        "AND c.state = 'waiting' AND (c.queued_at < me.queued_at "
                        "OR (c.queued_at = me.queued_at AND c.id < me.id))) "
                        "FROM chats me WHERE me.id = ?1",
  [ST_QUEUE_STATS] =
      "SELECT (SELECT COUNT(*) FROM chats w WHERE w.queue = ?1 "
      "AND w.state = 'waiting'), COUNT(*), COALESCE (SUM (ended_at - accepted_at), 0) "
      "FROM chats WHERE queue = ?1 AND state = 'ended' AND ended_at > ?2 "
      "AND accepted_at > 0",

  [ST_MESSAGE_INSERT] = "INSERT INTO messages (chat_id, idx, type, from_type, from_nickname, "
                        "from_participant_id, text, utc_time, user_data) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
  /* The chat's row always comes back, with NULL columns if it has no message in the window:
   * an unknown chat and an empty window differ, in one snapshot. */
  [ST_MESSAGES_GET] = "SELECT m.idx, m.type, m.from_type, m.from_nickname, "
                      "m.from_participant_id, m.text, m.utc_time, m.user_data FROM chats c "
                      "LEFT JOIN messages m ON m.chat_id = c.id AND m.idx >= ?2 "
                      "WHERE c.id = ?1 ORDER BY m.idx LIMIT ?3",

  [ST_FILE_INSERT] = "INSERT INTO files (chat_id, id, name, content_type, size, data, "
                     "uploaded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
  [ST_FILE_GET] = "SELECT id, chat_id, name, content_type, data, uploaded_at FROM files "
                  "WHERE chat_id = ?1 AND id = ?2",
  [ST_FILE_USAGE] = "SELECT COUNT(*), COALESCE (SUM (size), 0) FROM files WHERE chat_id = ?1",

  [ST_AGENT_UPSERT] = "INSERT INTO agents (username, display_name, password_hash, capacity, "
                      "state, reason, state_since, idle_since) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                      "ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, "
                      "password_hash = excluded.password_hash, capacity = excluded.capacity",
  [ST_AGENT_QUEUES_CLEAR] = "DELETE FROM agent_queues WHERE username = ?1",
  [ST_AGENT_QUEUE_INSERT] = "INSERT INTO agent_queues (username, queue) VALUES (?1, ?2) "
                            "ON CONFLICT DO NOTHING",
  [ST_AGENT_GET] = "SELECT " AGENT_COLUMNS " FROM agents a WHERE a.username = ?1",
  [ST_AGENT_QUEUES_GET] = "SELECT queue FROM agent_queues WHERE username = ?1 ORDER BY queue",
  [ST_AGENTS_LIST] = "SELECT " AGENT_COLUMNS " FROM agents a ORDER BY a.username",
  [ST_AGENTS_QUEUES_LIST] = "SELECT username, queue FROM agent_queues ORDER BY username, queue",
  [ST_AGENT_EXISTS] = "SELECT 1 FROM agents WHERE username = ?1",
  /* The right-hand sides see the old row: idle_since and state_since move only on a change. */
  [ST_AGENT_SET_STATE] = "UPDATE agents SET "
                         "idle_since = CASE WHEN ?2 = 'ready' AND state <> 'ready' "
                         "THEN ?4 ELSE idle_since END, "
                         "state_since = CASE WHEN state <> ?2 THEN ?4 ELSE state_since END, "
                         "state = ?2, reason = ?3 WHERE username = ?1",
  [ST_AGENT_IDLE_IF_UNLOADED] = "UPDATE agents SET idle_since = ?2 WHERE username = ?1 "
                                "AND NOT EXISTS (SELECT 1 FROM chats c WHERE c.agent = ?1 "
                                "AND c.state = 'active') "
                                "AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.agent = ?1 "
                                "AND i.state = 'pending')",

  [ST_SESSION_INSERT] = "INSERT INTO sessions (token_hash, username, expires_at) "
                        "VALUES (?1, ?2, ?3)",
  [ST_SESSION_LOOKUP] = "SELECT username FROM sessions WHERE token_hash = ?1 "
                        "AND expires_at > ?2",
  [ST_SESSION_DELETE] = "DELETE FROM sessions WHERE token_hash = ?1",

  /* The routing decision: ?1 the chat's queue, ?2 the chat, ?3 skip_since. */
  [ST_ROUTE_PICK] = "SELECT a.username FROM agents a WHERE a.state = 'ready' "
                    "AND (EXISTS (SELECT 1 FROM agent_queues q WHERE q.username = a.username "
                    "AND q.queue = ?1) "
                    "OR NOT EXISTS (SELECT 1 FROM agent_queues q WHERE q.username = a.username)) "
                    "AND " AGENT_LOAD " < a.capacity "
                    "AND NOT EXISTS (SELECT 1 FROM invitations s WHERE s.chat_id = ?2 "
                    "AND s.agent = a.username AND s.state IN ('declined', 'expired') "
                    "AND s.offered_at >= ?3) "
                    /* A chat transferred to a queue goes to someone who did not have it
                     * already, when there is one. */
                    "ORDER BY EXISTS (SELECT 1 FROM invitations h WHERE h.chat_id = ?2 "
                    "AND h.agent = a.username AND h.state = 'accepted'), "
                    "a.idle_since, a.username LIMIT 1",
  [ST_INVITATION_PENDING] = "SELECT agent FROM invitations WHERE chat_id = ?1 "
                            "AND state = 'pending'",
  [ST_INVITATION_INSERT] = "INSERT INTO invitations (chat_id, agent, state, offered_at, "
                           "expires_at) VALUES (?1, ?2, 'pending', ?3, ?4)",
  [ST_INVITATION_ANSWER] = "UPDATE invitations SET state = ?3, answered_at = ?4 "
                           "WHERE chat_id = ?1 AND agent = ?2 AND state = 'pending'",
  [ST_INVITATION_ANY] = "SELECT 1 FROM invitations WHERE chat_id = ?1 AND agent = ?2",
  [ST_INVITATIONS_WITHDRAW] = "UPDATE invitations SET state = 'withdrawn', answered_at = ?2 "
                              "WHERE chat_id = ?1 AND state = 'pending'",
  [ST_INVITATIONS_LIST] = "SELECT " INVITATION_COLUMNS " FROM invitations "
                          "WHERE state = 'pending' AND (?1 IS NULL OR agent = ?1) "
                          "ORDER BY offered_at, chat_id",

  [ST_CALLBACK_COUNT] = "SELECT COUNT(*) FROM callbacks WHERE service = ?1 "
                        "AND desired_time >= ?2 AND desired_time < ?3 "
                        "AND state <> 'CANCELLED' AND (?4 IS NULL OR id <> ?4)",
  [ST_CALLBACK_INSERT] = "INSERT INTO callbacks (id, service, customer_number, state, "
                         "desired_time, expiration_time, created_at, properties, secret_hash) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
  [ST_CALLBACK_UPDATE] = "UPDATE callbacks SET state = ?2, desired_time = ?3, "
                         "expiration_time = ?4, properties = ?5 WHERE id = ?1",
  [ST_CALLBACK_GET] = "SELECT " CALLBACK_COLUMNS " FROM callbacks c WHERE c.id = ?1",
  [ST_CALLBACK_SERVICE] = "SELECT service FROM callbacks WHERE id = ?1",
  [ST_CALLBACK_PROPERTIES_CLEAR] = "DELETE FROM callback_properties WHERE callback_id = ?1",
  [ST_CALLBACK_PROPERTY_INSERT] = "INSERT INTO callback_properties (callback_id, key, value) "
                                  "VALUES (?1, ?2, ?3)",
  /* find_callbacks: ?1 the service or NULL, ?2 the value (or the key), ?3 the value. */
  [ST_CALLBACKS_ALL] = "SELECT " CALLBACK_COLUMNS " FROM callbacks c "
                       "WHERE (?1 IS NULL OR c.service = ?1)" CALLBACK_ORDER,
  [ST_CALLBACKS_BY_NUMBER] = "SELECT " CALLBACK_COLUMNS " FROM callbacks c "
                             "WHERE c.customer_number = ?2 "
                             "AND (?1 IS NULL OR c.service = ?1)" CALLBACK_ORDER,
  [ST_CALLBACKS_BY_STATE] = "SELECT " CALLBACK_COLUMNS " FROM callbacks c "
                            "WHERE c.state = ?2 AND (?1 IS NULL OR c.service = ?1)" CALLBACK_ORDER,
  [ST_CALLBACKS_BY_ID] = "SELECT " CALLBACK_COLUMNS " FROM callbacks c "
                         "WHERE c.id = ?2 AND (?1 IS NULL OR c.service = ?1)" CALLBACK_ORDER,
  [ST_CALLBACKS_BY_PROPERTY] = "SELECT " CALLBACK_COLUMNS " FROM callbacks c "
                               "JOIN callback_properties p ON p.callback_id = c.id "
                               "WHERE p.key = ?2 AND (?3 IS NULL OR p.value = ?3) "
                               "AND (?1 IS NULL OR c.service = ?1)" CALLBACK_ORDER,
  [ST_CALLBACKS_BY_ANY_VALUE] = "SELECT " CALLBACK_COLUMNS " FROM callbacks c "
                                "WHERE (?1 IS NULL OR c.service = ?1) "
                                "AND (c.customer_number = ?2 OR c.state = ?2 OR c.id = ?2 "
                                "OR EXISTS (SELECT 1 FROM callback_properties p "
                                "WHERE p.callback_id = c.id AND p.value = ?2))" CALLBACK_ORDER,
  [ST_RATE_BUCKET_UPSERT] = "INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (?1, ?2, ?3)"
                            " ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens,"
                            " updated_at = excluded.updated_at",
  [ST_RATE_BUCKETS_FORGET] = "DELETE FROM rate_buckets WHERE updated_at < ?1",
  [ST_RATE_BUCKETS_SINCE] = "SELECT key, tokens, updated_at FROM rate_buckets"
                            " WHERE updated_at >= ?1",
};
