/* cx-store-pg-chats.c: CxStorePg's chats, their messages and their files. */
#define G_LOG_DOMAIN "cx-store"

#include "config.h"

#include "server/cx-store-pg-private.h"

/* Chats */

gboolean
cx_store_pg_create_chat (CxStore *store, const CxChat *chat, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };

  g_return_val_if_fail (chat->state <= CX_CHAT_ENDED, FALSE);

  p_text (&p, chat->id);
  p_text (&p, chat->service);
  p_text (&p, chat->queue);
  p_text (&p, chat->secure_key);
  p_text (&p, chat->alias);
  p_text (&p, chat->user_id);
  p_text (&p, chat->nickname);
  p_text (&p, chat->first_name);
  p_text (&p, chat->last_name);
  p_text (&p, chat->email);
  p_text (&p, chat->subject);
  if (chat->user_data != NULL)
    p_json (&p, chat->user_data);
  else
    p_text (&p, "{}");
  p_text (&p, chat_states[chat->state]);
  p_text (&p, chat->agent);
  p_int (&p, chat->created_at);
  p_int (&p, chat->queued_at);
  p_int (&p, chat->accepted_at);
  p_int (&p, chat->ended_at);
  if (!cx_pg_transaction_begin (&tx, self, error) ||
      !cx_pg_run (self,
                  "INSERT INTO chats (" CHAT_COLUMNS
                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                  "$10, $11, $12, $13, $14, $15, $16, $17, $18, 1)",
                  &p, error))
    return FALSE;

  return cx_pg_transaction_commit (&tx, error);
}

CxChat *
cx_store_pg_get_chat (CxStore *store, const char *chat_id, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  res = cx_pg_read_query (self, "SELECT " CHAT_COLUMNS " FROM chats WHERE id = $1", &p, error);
  if (res == NULL || PQntuples (res) == 0)
    return NULL;
  return cx_pg_chat_from_row (self, res, 0, error);
}

static gboolean
insert_message (CxStorePg *self, const char *chat_id, guint index, CxMessage *message,
                GError **error)
{
  g_auto (Params) p = { 0 };

  p_text (&p, chat_id);
  p_int (&p, index);
  p_text (&p, cx_message_type_to_string (message->type));
  p_text (&p, cx_party_type_to_string (message->from_type));
  p_text (&p, message->from_nickname);
  p_text (&p, message->from_participant_id);
  p_text (&p, message->text);
  p_int (&p, message->utc_time);
  p_json (&p, message->user_data);
  return cx_pg_run (self,
                    "INSERT INTO messages (chat_id, idx, type, from_type, from_nickname, "
                    "from_participant_id, text, utc_time, user_data) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &p, error);
}

/* The hot path, a message and no change to the chat: the lock, the insert and the index in one
 * statement (each round trip to the database holds the main loop). */
static gboolean
append_one (CxStorePg *self, const char *chat_id, CxMessage *message, GError **error)
{
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;
  guint index;

  p_text (&p, chat_id);
  p_text (&p, cx_message_type_to_string (message->type));
  p_text (&p, cx_party_type_to_string (message->from_type));
  p_text (&p, message->from_nickname);
  p_text (&p, message->from_participant_id);
  p_text (&p, message->text);
  p_int (&p, message->utc_time);
  p_json (&p, message->user_data);
  if (!cx_pg_transaction_begin (&tx, self, error))
    return FALSE;
  res = cx_pg_query (self,
                     "WITH head AS (SELECT next_index FROM chats WHERE id = $1 FOR UPDATE), "
                     "ins AS (INSERT INTO messages (chat_id, idx, type, from_type, from_nickname, "
                     "from_participant_id, text, utc_time, user_data) "
                     "SELECT $1, head.next_index, $2, $3, $4, $5, $6, $7::bigint, $8 FROM head) "
                     "UPDATE chats c SET next_index = head.next_index + 1 FROM head "
                     "WHERE c.id = $1 RETURNING head.next_index",
                     &p, error);
  if (res == NULL)
    return FALSE;
  if (PQntuples (res) == 0)
    return cx_pg_set_not_found (error, "chat", chat_id);
  index = col_int (res, 0, 0);
  if (!cx_pg_transaction_commit (&tx, error))
    return FALSE;

  /* Only now that it is stored does the message get its index. */
  message->index = index;
  return TRUE;
}

gboolean
cx_store_pg_append (CxStore *store, const char *chat_id, GPtrArray *messages, const CxChat *update,
                    GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (ChatHead) head = { 0 };
  g_auto (Params) p = { 0 };
  guint n_messages = messages != NULL ? messages->len : 0;
  gboolean found;

  g_return_val_if_fail (update == NULL || update->state <= CX_CHAT_ENDED, FALSE);

  if (update == NULL && n_messages == 1)
    return append_one (self, chat_id, g_ptr_array_index (messages, 0), error);

  if (!cx_pg_transaction_begin (&tx, self, error) ||
      !cx_pg_lock_chat_head (self, chat_id, &head, &found, error))
    return FALSE;
  if (!found)
    return cx_pg_set_not_found (error, "chat", chat_id);

  for (guint i = 0; i < n_messages; i++)
    if (!insert_message (self, chat_id, head.next_index + i, g_ptr_array_index (messages, i),
                         error))
      return FALSE;

  p_text (&p, chat_id);
  p_int (&p, head.next_index + n_messages);
  if (update != NULL)
    {
      gint64 now = cx_store_event_time (messages, update);

      p_text (&p, chat_states[update->state]);
      p_text (&p, update->queue);
      p_text (&p, update->agent);
      p_json (&p, update->user_data);
      p_int (&p, update->queued_at);
      p_int (&p, update->accepted_at);
      p_int (&p, update->ended_at);
      if (!cx_pg_run (self,
                      "UPDATE chats SET next_index = $2, state = $3, queue = $4, agent = $5, "
                      "user_data = COALESCE ($6, user_data), queued_at = $7, accepted_at = $8, "
                      "ended_at = $9 WHERE id = $1",
                      &p, error))
        return FALSE;

      /* An invitation to a chat that ended or moved to another queue can no longer be
       * accepted. */
      if ((update->state == CX_CHAT_ENDED || g_strcmp0 (update->queue, head.queue) != 0) &&
          !cx_pg_withdraw_invitations (self, chat_id, now, error))
        return FALSE;

      /* The chat left its agent: ended, back to a queue, or to someone else. */
      if (head.state == CX_CHAT_ACTIVE && head.agent != NULL &&
          (update->state != CX_CHAT_ACTIVE || g_strcmp0 (update->agent, head.agent) != 0) &&
          !cx_pg_touch_idle_if_unloaded (self, head.agent, now, error))
        return FALSE;
    }
  else if (n_messages > 0 &&
           !cx_pg_run (self, "UPDATE chats SET next_index = $2 WHERE id = $1", &p, error))
    {
      return FALSE;
    }

  if (!cx_pg_transaction_commit (&tx, error))
    return FALSE;

  /* Only now that they are stored do the messages get their indices. */
  for (guint i = 0; i < n_messages; i++)
    ((CxMessage *) g_ptr_array_index (messages, i))->index = head.next_index + i;
  return TRUE;
}

GPtrArray *
cx_store_pg_get_messages (CxStore *store, const char *chat_id, guint from, guint limit,
                          GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  p_int (&p, from);
  if (limit > 0)
    p_int (&p, limit);
  else
    p_text (&p, NULL); /* LIMIT NULL: all */

  /* The chat's row always comes back, with NULL columns if it has no message in the window:
   * an unknown chat and an empty window differ, in one snapshot. */
  res = cx_pg_read_query (
      self,
      "SELECT m.idx, m.type, m.from_type, m.from_nickname, m.from_participant_id, "
      "m.text, m.utc_time, m.user_data FROM chats c "
      "LEFT JOIN messages m ON m.chat_id = c.id AND m.idx >= $2 "
      "WHERE c.id = $1 ORDER BY m.idx LIMIT $3::bigint",
      &p, error);
  if (res == NULL || PQntuples (res) == 0)
    return NULL; /* an error, or no such chat */
  if (PQgetisnull (res, 0, 0))
    return g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  return cx_pg_collect (self, res, 0, (FromRow) cx_pg_message_from_row,
                        (GDestroyNotify) cx_message_unref, error);
}

GPtrArray *
cx_store_pg_list_open_chats (CxStore *store, const char *queue, const char *agent, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };

  p_text (&p, queue);
  p_text (&p, agent);
  return cx_pg_collect_query (
      self,
      "SELECT " CHAT_COLUMNS " FROM chats WHERE state IN ('waiting', 'active') "
      "AND ($1::text IS NULL OR queue = $1) "
      "AND ($2::text IS NULL OR agent = $2) ORDER BY queued_at, id",
      &p, (FromRow) cx_pg_chat_from_row, (GDestroyNotify) cx_chat_free, error);
}

gboolean
cx_store_pg_queue_position (CxStore *store, const char *chat_id, guint *position, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  res = cx_pg_read_query (self,
                          "SELECT (SELECT COUNT(*) FROM chats c WHERE c.queue = me.queue "
                          "AND c.state = 'waiting' AND (c.queued_at < me.queued_at "
                          "OR (c.queued_at = me.queued_at AND c.id < me.id))) "
                          "FROM chats me WHERE me.id = $1",
                          &p, error);
  if (res == NULL)
    return FALSE;
  if (PQntuples (res) == 0)
    return cx_pg_set_not_found (error, "chat", chat_id);
  *position = col_int (res, 0, 0);
  return TRUE;
}

gboolean
cx_store_pg_queue_stats (CxStore *store, const char *queue, gint64 since, guint *waiting,
                         gint64 *mean_handle_ms, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;
  gint64 handled;

  p_text (&p, queue);
  p_int (&p, since);
  res = cx_pg_read_query (
      self,
      "SELECT (SELECT COUNT(*) FROM chats w WHERE w.queue = $1 "
      "AND w.state = 'waiting'), COUNT(*), COALESCE (SUM (ended_at - accepted_at), 0) "
      "FROM chats WHERE queue = $1 AND state = 'ended' AND ended_at > $2 "
      "AND accepted_at > 0",
      &p, error);
  if (res == NULL)
    return FALSE;
  *waiting = col_int (res, 0, 0);
  handled = col_int (res, 0, 1);
  *mean_handle_ms = handled > 0 ? col_int (res, 0, 2) / handled : -1;
  return TRUE;
}

/* Files */

gboolean
cx_store_pg_add_file (CxStore *store, const CxFile *file, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };
  gsize size;
  gconstpointer data = g_bytes_get_data (file->data, &size);
  g_autoptr (PGresult) res = NULL;

  p_text (&p, file->chat_id);
  p_text (&p, file->id);
  p_text (&p, file->name);
  p_text (&p, file->content_type);
  p_int (&p, size);
  p_bytes (&p, data, size);
  p_int (&p, file->uploaded_at);
  if (!cx_pg_transaction_begin (&tx, self, error))
    return FALSE;
  /* INSERT ... SELECT: nothing inserted names an unknown chat. */
  res = cx_pg_query (
      self,
      "INSERT INTO files (chat_id, id, name, content_type, size, data, uploaded_at) "
      "SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM chats WHERE id = $1)",
      &p, error);
  if (res == NULL)
    return FALSE;
  if (cx_pg_changes (res) == 0)
    return cx_pg_set_not_found (error, "chat", file->chat_id);
  return cx_pg_transaction_commit (&tx, error);
}

CxFile *
cx_store_pg_get_file (CxStore *store, const char *chat_id, const char *file_id, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;
  CxFile *file;
  guchar *data;
  size_t size = 0;

  p_text (&p, chat_id);
  p_text (&p, file_id);
  res = cx_pg_read_query (self,
                          "SELECT id, chat_id, name, content_type, data, uploaded_at FROM files "
                          "WHERE chat_id = $1 AND id = $2",
                          &p, error);
  if (res == NULL || PQntuples (res) == 0)
    return NULL;

  data = PQunescapeBytea ((const guchar *) PQgetvalue (res, 0, 4), &size);
  if (data == NULL)
    {
      cx_pg_set_corrupt_error (self, "file", error);
      return NULL;
    }
  file = g_new0 (CxFile, 1);
  file->id = col_dup (res, 0, 0);
  file->chat_id = col_dup (res, 0, 1);
  file->name = col_dup (res, 0, 2);
  file->content_type = col_dup (res, 0, 3);
  file->data = g_bytes_new (data, size);
  file->uploaded_at = col_int (res, 0, 5);
  PQfreemem (data);
  return file;
}

gboolean
cx_store_pg_file_usage (CxStore *store, const char *chat_id, guint *count, guint64 *total_size,
                        GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  res = cx_pg_read_query (
      self, "SELECT COUNT(*), COALESCE (SUM (size), 0) FROM files WHERE chat_id = $1", &p, error);
  if (res == NULL)
    return FALSE;
  *count = col_int (res, 0, 0);
  *total_size = col_int (res, 0, 1);
  return TRUE;
}
