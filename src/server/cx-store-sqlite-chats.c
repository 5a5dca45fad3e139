/* cx-store-sqlite-chats.c: CxStoreSqlite's chats, their messages and their files. */
#define G_LOG_DOMAIN "cx-store"

#include "config.h"

#include "server/cx-store-sqlite-private.h"

/* Chats */

gboolean
cx_store_sqlite_create_chat (CxStore *store, const CxChat *chat, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  Statement *stmt;

  g_return_val_if_fail (chat->state <= CX_CHAT_ENDED, FALSE);

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;

  stmt = use (self, ST_CHAT_INSERT);
  bind_text (stmt, 1, chat->id);
  bind_text (stmt, 2, chat->service);
  bind_text (stmt, 3, chat->queue);
  bind_text (stmt, 4, chat->secure_key);
  bind_text (stmt, 5, chat->alias);
  bind_text (stmt, 6, chat->user_id);
  bind_text (stmt, 7, chat->nickname);
  bind_text (stmt, 8, chat->first_name);
  bind_text (stmt, 9, chat->last_name);
  bind_text (stmt, 10, chat->email);
  bind_text (stmt, 11, chat->subject);
  if (chat->user_data != NULL)
    cx_sqlite_bind_json (stmt, 12, chat->user_data);
  else
    bind_text (stmt, 12, "{}");
  bind_text (stmt, 13, chat_states[chat->state]);
  bind_text (stmt, 14, chat->agent);
  bind_int64 (stmt, 15, chat->created_at);
  bind_int64 (stmt, 16, chat->queued_at);
  bind_int64 (stmt, 17, chat->accepted_at);
  bind_int64 (stmt, 18, chat->ended_at);
  if (!cx_sqlite_run (self, stmt, error))
    return FALSE;

  return cx_sqlite_transaction_commit (&tx, error);
}

CxChat *
cx_store_sqlite_get_chat (CxStore *store, const char *chat_id, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_autoptr (Statement) stmt = use (self, ST_CHAT_GET);
  StepResult result;

  bind_text (stmt, 1, chat_id);
  result = cx_sqlite_step (self, stmt, error);
  if (result != STEP_ROW)
    return NULL;

  return cx_sqlite_chat_from_row (self, stmt, error);
}

gboolean
cx_store_sqlite_append (CxStore *store, const char *chat_id, GPtrArray *messages,
                        const CxChat *update, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (ChatHead) head = { 0 };
  guint n_messages = messages != NULL ? messages->len : 0;
  gboolean found;
  Statement *stmt;

  g_return_val_if_fail (update == NULL || update->state <= CX_CHAT_ENDED, FALSE);

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;

  if (!cx_sqlite_read_chat_head (self, chat_id, update != NULL, &head, &found, error))
    return FALSE;
  if (!found)
    return cx_sqlite_set_not_found (error, "chat", chat_id);

  stmt = use (self, ST_MESSAGE_INSERT);
  for (guint i = 0; i < n_messages; i++)
    {
      CxMessage *message = g_ptr_array_index (messages, i);

      bind_text (stmt, 1, chat_id);
      bind_int64 (stmt, 2, head.next_index + i);
      bind_text (stmt, 3, cx_message_type_to_string (message->type));
      bind_text (stmt, 4, cx_party_type_to_string (message->from_type));
      bind_text (stmt, 5, message->from_nickname);
      bind_text (stmt, 6, message->from_participant_id);
      bind_text (stmt, 7, message->text);
      bind_int64 (stmt, 8, message->utc_time);
      cx_sqlite_bind_json (stmt, 9, message->user_data);
      if (!cx_sqlite_run (self, stmt, error))
        return FALSE;
    }

  if (update != NULL)
    {
      gint64 now = cx_store_event_time (messages, update);

      stmt = use (self, ST_CHAT_UPDATE);
      bind_text (stmt, 1, chat_id);
      bind_int64 (stmt, 2, head.next_index + n_messages);
      bind_text (stmt, 3, chat_states[update->state]);
      bind_text (stmt, 4, update->queue);
      bind_text (stmt, 5, update->agent);
      cx_sqlite_bind_json (stmt, 6, update->user_data);
      bind_int64 (stmt, 7, update->queued_at);
      bind_int64 (stmt, 8, update->accepted_at);
      bind_int64 (stmt, 9, update->ended_at);
      if (!cx_sqlite_run (self, stmt, error))
        return FALSE;

      /* An invitation to a chat that ended or moved to another queue can no longer be
       * accepted. */
      if ((update->state == CX_CHAT_ENDED || g_strcmp0 (update->queue, head.queue) != 0) &&
          !cx_sqlite_withdraw_invitations (self, chat_id, now, error))
        return FALSE;

      /* The chat left its agent: ended, back to a queue, or to someone else. */
      if (head.state == CX_CHAT_ACTIVE && head.agent != NULL &&
          (update->state != CX_CHAT_ACTIVE || g_strcmp0 (update->agent, head.agent) != 0) &&
          !cx_sqlite_touch_idle_if_unloaded (self, head.agent, now, error))
        return FALSE;
    }
  else if (n_messages > 0)
    {
      stmt = use (self, ST_CHAT_SET_NEXT_INDEX);
      bind_text (stmt, 1, chat_id);
      bind_int64 (stmt, 2, head.next_index + n_messages);
      if (!cx_sqlite_run (self, stmt, error))
        return FALSE;
    }

  if (!cx_sqlite_transaction_commit (&tx, error))
    return FALSE;

  /* Only now that they are stored do the messages get their indices. */
  for (guint i = 0; i < n_messages; i++)
    ((CxMessage *) g_ptr_array_index (messages, i))->index = head.next_index + i;

  return TRUE;
}

GPtrArray *
cx_store_sqlite_get_messages (CxStore *store, const char *chat_id, guint from, guint limit,
                              GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_autoptr (Statement) stmt = use (self, ST_MESSAGES_GET);
  g_autoptr (GPtrArray) messages = NULL;
  StepResult result;

  bind_text (stmt, 1, chat_id);
  bind_int64 (stmt, 2, from);
  bind_int64 (stmt, 3, limit > 0 ? (gint64) limit : -1);

  result = cx_sqlite_step (self, stmt, error);
  if (result != STEP_ROW)
    return NULL; /* an error, or no such chat */

  messages = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  if (sqlite3_column_type (stmt, 0) == SQLITE_NULL)
    return g_steal_pointer (&messages); /* nothing from @from on */

  do
    {
      CxMessage *message = cx_sqlite_message_from_row (self, stmt, error);

      if (message == NULL)
        return NULL;
      g_ptr_array_add (messages, message);
    }
  while ((result = cx_sqlite_step (self, stmt, error)) == STEP_ROW);

  if (result == STEP_ERROR)
    return NULL;

  return g_steal_pointer (&messages);
}

GPtrArray *
cx_store_sqlite_list_open_chats (CxStore *store, const char *queue, const char *agent,
                                 GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_autoptr (Statement) stmt = use (self, ST_CHATS_OPEN);

  bind_text (stmt, 1, queue);
  bind_text (stmt, 2, agent);
  return cx_sqlite_collect (self, stmt, (gpointer) cx_sqlite_chat_from_row,
                            (GDestroyNotify) cx_chat_free, error);
}

gboolean
cx_store_sqlite_queue_position (CxStore *store, const char *chat_id, guint *position,
                                GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_autoptr (Statement) stmt = use (self, ST_QUEUE_POSITION);
  StepResult result;

  bind_text (stmt, 1, chat_id);
  result = cx_sqlite_step (self, stmt, error);
  if (result == STEP_ERROR)
    return FALSE;
  if (result == STEP_DONE)
    return cx_sqlite_set_not_found (error, "chat", chat_id);

  *position = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

gboolean
cx_store_sqlite_queue_stats (CxStore *store, const char *queue, gint64 since, guint *waiting,
                             gint64 *mean_handle_ms, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_autoptr (Statement) stmt = use (self, ST_QUEUE_STATS);
  gint64 handled;

  bind_text (stmt, 1, queue);
  bind_int64 (stmt, 2, since);
  if (cx_sqlite_step (self, stmt, error) != STEP_ROW)
    return FALSE; /* an aggregate always has its row */

  *waiting = sqlite3_column_int64 (stmt, 0);
  handled = sqlite3_column_int64 (stmt, 1);
  *mean_handle_ms = handled > 0 ? sqlite3_column_int64 (stmt, 2) / handled : -1;
  return TRUE;
}

/* Files */

gboolean
cx_store_sqlite_add_file (CxStore *store, const CxFile *file, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  Statement *stmt;
  gsize size;
  gconstpointer data = g_bytes_get_data (file->data, &size);

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;

  {
    g_autoptr (Statement) exists = use (self, ST_CHAT_EXISTS);
    StepResult result;

    bind_text (exists, 1, file->chat_id);
    result = cx_sqlite_step (self, exists, error);
    if (result == STEP_ERROR)
      return FALSE;
    if (result == STEP_DONE)
      return cx_sqlite_set_not_found (error, "chat", file->chat_id);
  }

  stmt = use (self, ST_FILE_INSERT);
  bind_text (stmt, 1, file->chat_id);
  bind_text (stmt, 2, file->id);
  bind_text (stmt, 3, file->name);
  bind_text (stmt, 4, file->content_type);
  bind_int64 (stmt, 5, size);
  if (size > 0)
    sqlite3_bind_blob64 (stmt, 6, data, size, SQLITE_STATIC);
  else
    sqlite3_bind_zeroblob (stmt, 6, 0);
  bind_int64 (stmt, 7, file->uploaded_at);
  if (!cx_sqlite_run (self, stmt, error))
    return FALSE;

  return cx_sqlite_transaction_commit (&tx, error);
}

CxFile *
cx_store_sqlite_get_file (CxStore *store, const char *chat_id, const char *file_id, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_autoptr (Statement) stmt = use (self, ST_FILE_GET);
  CxFile *file;

  bind_text (stmt, 1, chat_id);
  bind_text (stmt, 2, file_id);
  if (cx_sqlite_step (self, stmt, error) != STEP_ROW)
    return NULL;

  file = g_new0 (CxFile, 1);
  file->id = column_dup (stmt, 0);
  file->chat_id = column_dup (stmt, 1);
  file->name = column_dup (stmt, 2);
  file->content_type = column_dup (stmt, 3);
  /* column_blob before column_bytes, as SQLite asks. */
  {
    gconstpointer data = sqlite3_column_blob (stmt, 4);

    file->data = g_bytes_new (data, sqlite3_column_bytes (stmt, 4));
  }
  file->uploaded_at = sqlite3_column_int64 (stmt, 5);

  return file;
}

gboolean
cx_store_sqlite_file_usage (CxStore *store, const char *chat_id, guint *count, guint64 *total_size,
                            GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_autoptr (Statement) stmt = use (self, ST_FILE_USAGE);

  bind_text (stmt, 1, chat_id);
  if (cx_sqlite_step (self, stmt, error) != STEP_ROW)
    return FALSE;

  *count = sqlite3_column_int64 (stmt, 0);
  *total_size = sqlite3_column_int64 (stmt, 1);
  return TRUE;
}
