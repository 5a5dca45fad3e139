/* cx-store.c: the CxStore interface (each call checks its arguments and goes to the
 * implementation), its error domain, and the plain structs it hands out. */
#define G_LOG_DOMAIN "cx-store"

#include "config.h"

#ifdef CX_HAVE_POSTGRESQL
#include "server/cx-store-pg.h"
#endif
#include "server/cx-store-private.h"
#include "server/cx-store-sqlite.h"
#include "server/cx-store.h"

G_DEFINE_QUARK (cx - store - error - quark, cx_store_error)

G_DEFINE_INTERFACE (CxStore, cx_store, G_TYPE_OBJECT)

/* Batches: whether one is open, kept on the object so that every implementation shares it. */
static GQuark in_batch_quark;

/* Emitted by every call that writes, before it writes: the owner of a batch opens one here
 * (cx-server-commit.c). */
static guint will_write_signal;

static void
cx_store_default_init (CxStoreInterface *iface)
{
  in_batch_quark = g_quark_from_static_string ("cx-store-in-batch");
  will_write_signal = g_signal_new ("will-write", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST,
                                    0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static inline void
will_write (CxStore *self)
{
  g_signal_emit (self, will_write_signal, 0);
}

void
cx_chat_free (CxChat *chat)
{
  if (chat == NULL)
    return;

  g_free (chat->id);
  g_free (chat->service);
  g_free (chat->queue);
  g_free (chat->secure_key);
  g_free (chat->alias);
  g_free (chat->user_id);
  g_free (chat->nickname);
  g_free (chat->first_name);
  g_free (chat->last_name);
  g_free (chat->email);
  g_free (chat->subject);
  g_clear_pointer (&chat->user_data, json_node_unref);
  g_free (chat->agent);
  g_free (chat);
}

CxChat *
cx_chat_copy (const CxChat *chat)
{
  CxChat *copy;

  g_return_val_if_fail (chat != NULL, NULL);

  copy = g_new0 (CxChat, 1);
  copy->id = g_strdup (chat->id);
  copy->service = g_strdup (chat->service);
  copy->queue = g_strdup (chat->queue);
  copy->secure_key = g_strdup (chat->secure_key);
  copy->alias = g_strdup (chat->alias);
  copy->user_id = g_strdup (chat->user_id);
  copy->nickname = g_strdup (chat->nickname);
  copy->first_name = g_strdup (chat->first_name);
  copy->last_name = g_strdup (chat->last_name);
  copy->email = g_strdup (chat->email);
  copy->subject = g_strdup (chat->subject);
  copy->user_data = chat->user_data ? json_node_copy (chat->user_data) : NULL;
  copy->state = chat->state;
  copy->agent = g_strdup (chat->agent);
  copy->created_at = chat->created_at;
  copy->queued_at = chat->queued_at;
  copy->accepted_at = chat->accepted_at;
  copy->ended_at = chat->ended_at;
  copy->next_index = chat->next_index;

  return copy;
}

void
cx_agent_free (CxAgent *agent)
{
  if (agent == NULL)
    return;

  g_free (agent->username);
  g_free (agent->display_name);
  g_free (agent->password_hash);
  g_strfreev (agent->queues);
  g_free (agent->reason);
  g_free (agent);
}

void
cx_invitation_free (CxInvitation *invitation)
{
  if (invitation == NULL)
    return;

  g_free (invitation->chat_id);
  g_free (invitation->agent);
  g_free (invitation);
}

void
cx_file_free (CxFile *file)
{
  if (file == NULL)
    return;

  g_free (file->id);
  g_free (file->chat_id);
  g_free (file->name);
  g_free (file->content_type);
  g_clear_pointer (&file->data, g_bytes_unref);
  g_free (file);
}

void
cx_callback_free (CxCallback *callback)
{
  if (callback == NULL)
    return;

  g_free (callback->id);
  g_free (callback->service);
  g_free (callback->customer_number);
  g_free (callback->state);
  g_clear_pointer (&callback->properties, json_node_unref);
  g_free (callback->secret_hash);
  g_free (callback);
}

CxCallback *
cx_callback_copy (const CxCallback *callback)
{
  CxCallback *copy;

  g_return_val_if_fail (callback != NULL, NULL);

  copy = g_new0 (CxCallback, 1);
  copy->id = g_strdup (callback->id);
  copy->service = g_strdup (callback->service);
  copy->customer_number = g_strdup (callback->customer_number);
  copy->state = g_strdup (callback->state);
  copy->desired_time = callback->desired_time;
  copy->expiration_time = callback->expiration_time;
  copy->created_at = callback->created_at;
  copy->properties = callback->properties ? json_node_copy (callback->properties) : NULL;
  copy->secret_hash = g_strdup (callback->secret_hash);

  return copy;
}

/* Chats */

gboolean
cx_store_create_chat (CxStore *self, const CxChat *chat, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (chat != NULL, FALSE);
  g_return_val_if_fail (chat->id != NULL, FALSE);
  g_return_val_if_fail (chat->service != NULL, FALSE);
  g_return_val_if_fail (chat->queue != NULL, FALSE);
  g_return_val_if_fail (chat->secure_key != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->create_chat (self, chat, error);
}

CxChat *
cx_store_get_chat (CxStore *self, const char *chat_id, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (chat_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return CX_STORE_GET_IFACE (self)->get_chat (self, chat_id, error);
}

gboolean
cx_store_append (CxStore *self, const char *chat_id, GPtrArray *messages, const CxChat *update,
                 GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (chat_id != NULL, FALSE);
  g_return_val_if_fail (update == NULL || update->queue != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->append (self, chat_id, messages, update, error);
}

GPtrArray *
cx_store_get_messages (CxStore *self, const char *chat_id, guint from, guint limit, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (chat_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return CX_STORE_GET_IFACE (self)->get_messages (self, chat_id, from, limit, error);
}

GPtrArray *
cx_store_list_open_chats (CxStore *self, const char *queue, const char *agent, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return CX_STORE_GET_IFACE (self)->list_open_chats (self, queue, agent, error);
}

gboolean
cx_store_queue_position (CxStore *self, const char *chat_id, guint *position, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (chat_id != NULL, FALSE);
  g_return_val_if_fail (position != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return CX_STORE_GET_IFACE (self)->queue_position (self, chat_id, position, error);
}

gboolean
cx_store_queue_stats (CxStore *self, const char *queue, gint64 since, guint *waiting,
                      gint64 *mean_handle_ms, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (queue != NULL, FALSE);
  g_return_val_if_fail (waiting != NULL, FALSE);
  g_return_val_if_fail (mean_handle_ms != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return CX_STORE_GET_IFACE (self)->queue_stats (self, queue, since, waiting, mean_handle_ms,
                                                 error);
}

/* Files */

gboolean
cx_store_add_file (CxStore *self, const CxFile *file, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (file != NULL, FALSE);
  g_return_val_if_fail (file->id != NULL, FALSE);
  g_return_val_if_fail (file->chat_id != NULL, FALSE);
  g_return_val_if_fail (file->name != NULL, FALSE);
  g_return_val_if_fail (file->content_type != NULL, FALSE);
  g_return_val_if_fail (file->data != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->add_file (self, file, error);
}

CxFile *
cx_store_get_file (CxStore *self, const char *chat_id, const char *file_id, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (chat_id != NULL, NULL);
  g_return_val_if_fail (file_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return CX_STORE_GET_IFACE (self)->get_file (self, chat_id, file_id, error);
}

gboolean
cx_store_file_usage (CxStore *self, const char *chat_id, guint *count, guint64 *total_size,
                     GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (chat_id != NULL, FALSE);
  g_return_val_if_fail (count != NULL, FALSE);
  g_return_val_if_fail (total_size != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return CX_STORE_GET_IFACE (self)->file_usage (self, chat_id, count, total_size, error);
}

/* Agents and sessions */

gboolean
cx_store_put_agent (CxStore *self, const CxAgent *agent, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (agent != NULL, FALSE);
  g_return_val_if_fail (agent->username != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->put_agent (self, agent, error);
}

CxAgent *
cx_store_get_agent (CxStore *self, const char *username, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (username != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return CX_STORE_GET_IFACE (self)->get_agent (self, username, error);
}

GPtrArray *
cx_store_list_agents (CxStore *self, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return CX_STORE_GET_IFACE (self)->list_agents (self, error);
}

gboolean
cx_store_set_agent_state (CxStore *self, const char *username, CxAgentState state,
                          const char *reason, gint64 now, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (username != NULL, FALSE);
  g_return_val_if_fail (state <= CX_AGENT_READY, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->set_agent_state (self, username, state, reason, now, error);
}

gboolean
cx_store_create_session (CxStore *self, const char *token_hash, const char *username,
                         gint64 expires_at, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (token_hash != NULL, FALSE);
  g_return_val_if_fail (username != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->create_session (self, token_hash, username, expires_at, error);
}

char *
cx_store_lookup_session (CxStore *self, const char *token_hash, gint64 now, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (token_hash != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return CX_STORE_GET_IFACE (self)->lookup_session (self, token_hash, now, error);
}

gboolean
cx_store_delete_session (CxStore *self, const char *token_hash, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (token_hash != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->delete_session (self, token_hash, error);
}

/* Routing */

CxInvitation *
cx_store_offer_chat (CxStore *self, const char *chat_id, gint64 now, gint64 expires_at,
                     gint64 skip_since, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (chat_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->offer_chat (self, chat_id, now, expires_at, skip_since, error);
}

CxInvitation *
cx_store_invite_agent (CxStore *self, const char *chat_id, const char *agent, gint64 now,
                       gint64 expires_at, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (chat_id != NULL, NULL);
  g_return_val_if_fail (agent != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->invite_agent (self, chat_id, agent, now, expires_at, error);
}

gboolean
cx_store_answer_invitation (CxStore *self, const char *chat_id, const char *agent,
                            CxInvitationState state, gint64 now, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (chat_id != NULL, FALSE);
  g_return_val_if_fail (agent != NULL, FALSE);
  g_return_val_if_fail (state > CX_INVITATION_PENDING && state <= CX_INVITATION_WITHDRAWN, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->answer_invitation (self, chat_id, agent, state, now, error);
}

GPtrArray *
cx_store_list_invitations (CxStore *self, const char *agent, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return CX_STORE_GET_IFACE (self)->list_invitations (self, agent, error);
}

/* Callbacks */

gboolean
cx_store_create_callback (CxStore *self, const CxCallback *callback, gint64 slot_start,
                          gint64 slot_end, guint capacity, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (callback != NULL, FALSE);
  g_return_val_if_fail (callback->id != NULL, FALSE);
  g_return_val_if_fail (callback->service != NULL, FALSE);
  g_return_val_if_fail (callback->state != NULL, FALSE);
  g_return_val_if_fail (
      callback->properties == NULL || JSON_NODE_HOLDS_OBJECT (callback->properties), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->create_callback (self, callback, slot_start, slot_end, capacity,
                                                     error);
}

CxCallback *
cx_store_get_callback (CxStore *self, const char *id, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return CX_STORE_GET_IFACE (self)->get_callback (self, id, error);
}

gboolean
cx_store_update_callback (CxStore *self, const CxCallback *callback, gint64 slot_start,
                          gint64 slot_end, guint capacity, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (callback != NULL, FALSE);
  g_return_val_if_fail (callback->id != NULL, FALSE);
  g_return_val_if_fail (callback->state != NULL, FALSE);
  g_return_val_if_fail (
      callback->properties == NULL || JSON_NODE_HOLDS_OBJECT (callback->properties), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->update_callback (self, callback, slot_start, slot_end, capacity,
                                                     error);
}

GPtrArray *
cx_store_find_callbacks (CxStore *self, const char *service, const char *key, const char *value,
                         GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return CX_STORE_GET_IFACE (self)->find_callbacks (self, service, key, value, error);
}

gboolean
cx_store_count_callbacks (CxStore *self, const char *service, gint64 start, gint64 end,
                          guint *count, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (service != NULL, FALSE);
  g_return_val_if_fail (count != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return CX_STORE_GET_IFACE (self)->count_callbacks (self, service, start, end, count, error);
}

/* Batches */

gboolean
cx_store_begin_batch (CxStore *self, GError **error)
{
  CxStoreInterface *iface;

  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (!cx_store_in_batch (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  iface = CX_STORE_GET_IFACE (self);
  if (iface->begin_batch != NULL && !iface->begin_batch (self, error))
    return FALSE;

  g_object_set_qdata (G_OBJECT (self), in_batch_quark, GINT_TO_POINTER (TRUE));
  return TRUE;
}

gboolean
cx_store_commit_batch (CxStore *self, GError **error)
{
  CxStoreInterface *iface;

  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (cx_store_in_batch (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  iface = CX_STORE_GET_IFACE (self);
  g_object_set_qdata (G_OBJECT (self), in_batch_quark, NULL);
  return iface->commit_batch == NULL || iface->commit_batch (self, error);
}

void
cx_store_rollback_batch (CxStore *self)
{
  CxStoreInterface *iface;

  g_return_if_fail (CX_IS_STORE (self));
  g_return_if_fail (cx_store_in_batch (self));

  iface = CX_STORE_GET_IFACE (self);
  g_object_set_qdata (G_OBJECT (self), in_batch_quark, NULL);
  if (iface->rollback_batch != NULL)
    iface->rollback_batch (self);
}

gboolean
cx_store_in_batch (CxStore *self)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);

  return g_object_get_qdata (G_OBJECT (self), in_batch_quark) != NULL;
}

/* Customer rate limits (issue 9 item 5) */

void
cx_stored_bucket_free (CxStoredBucket *bucket)
{
  if (bucket == NULL)
    return;
  g_free (bucket->key);
  g_free (bucket);
}

gboolean
cx_store_save_rate_buckets (CxStore *self, GPtrArray *buckets, gint64 forget_before, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (buckets != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->save_rate_buckets (self, buckets, forget_before, error);
}

/**
 * cx_store_load_rate_buckets:
 *
 * Returns: (transfer full) (element-type CxStoredBucket): the buckets used since @since, or
 *   %NULL with @error set
 */
GPtrArray *
cx_store_load_rate_buckets (CxStore *self, gint64 since, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return CX_STORE_GET_IFACE (self)->load_rate_buckets (self, since, error);
}

/* Opening */

CxStore *
cx_store_open (const char *location, GError **error)
{
  g_return_val_if_fail (location != NULL, NULL);

#ifdef CX_HAVE_POSTGRESQL
  if (cx_store_pg_is_url (location))
    return cx_store_pg_open (location, error);
#else
  /* Built with -Dpostgresql=disabled (the Flatpak): say so, rather than making an SQLite file
   * named like the URL. */
  if (g_str_has_prefix (location, "postgresql://") || g_str_has_prefix (location, "postgres://"))
    {
      g_set_error_literal (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED,
                           "This cxdesk-server was built without PostgreSQL support "
                           "(-Dpostgresql=disabled): use an SQLite file");
      return NULL;
    }
#endif
  return cx_store_sqlite_open (location, error);
}

/* What the stores share (cx-store-private.h) */

gboolean
cx_store_state_from_text (const char *const *names, guint n_names, const char *text, int *state)
{
  for (guint i = 0; text != NULL && i < n_names; i++)
    {
      if (g_str_equal (names[i], text))
        {
          *state = i;
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
cx_store_json_from_text (const char *text, gboolean object, JsonNode **out)
{
  g_autoptr (JsonNode) node = NULL;

  *out = NULL;
  if (text == NULL)
    {
      if (object)
        *out = json_node_init_object (json_node_alloc (), json_object_new ());
      return TRUE;
    }
  node = json_from_string (text, NULL);
  if (node == NULL || (object && !JSON_NODE_HOLDS_OBJECT (node)))
    return FALSE;
  *out = g_steal_pointer (&node);
  return TRUE;
}

gint64
cx_store_event_time (GPtrArray *messages, const CxChat *update)
{
  gint64 time = MAX (update->ended_at, MAX (update->queued_at, update->accepted_at));

  for (guint i = 0; messages != NULL && i < messages->len; i++)
    time = MAX (time, ((CxMessage *) g_ptr_array_index (messages, i))->utc_time);

  return time > 0 ? time : g_get_real_time () / 1000;
}

char **
cx_store_steal_strv (GPtrArray *strings)
{
  if (strings == NULL || strings->len == 0)
    return NULL;

  g_ptr_array_add (strings, NULL);
  return (char **) g_ptr_array_steal (strings, NULL);
}

/* Co-browse (issue 11) */

void
cx_cobrowse_mode_change_free (CxCobrowseModeChange *change)
{
  if (change == NULL)
    return;
  g_free (change->mode);
  g_free (change->changed_by);
  g_free (change);
}

void
cx_cobrowse_record_free (CxCobrowseRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->id);
  g_free (record->code);
  g_free (record->secret_hash);
  g_free (record->address);
  g_free (record->agent);
  g_free (record->ended_by);
  g_free (record->end_reason);
  g_clear_pointer (&record->modes, g_ptr_array_unref);
  g_free (record);
}

gboolean
cx_store_create_cobrowse (CxStore *self, const CxCobrowseRecord *record, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (record != NULL && record->id != NULL && record->code != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->create_cobrowse (self, record, error);
}

/**
 * cx_store_join_cobrowse:
 *
 * Returns: (transfer full): the id of the session @agent joined, or %NULL with an error
 */
char *
cx_store_join_cobrowse (CxStore *self, const char *code, const char *agent, gint64 now,
                        GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (code != NULL && agent != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->join_cobrowse (self, code, agent, now, error);
}

gboolean
cx_store_cobrowse_mode (CxStore *self, const char *id, gint64 at, const char *mode,
                        const char *changed_by, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (id != NULL && mode != NULL && changed_by != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->cobrowse_mode (self, id, at, mode, changed_by, error);
}

gboolean
cx_store_end_cobrowse (CxStore *self, const char *id, gint64 at, const char *ended_by,
                       const char *reason, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), FALSE);
  g_return_val_if_fail (id != NULL && ended_by != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  will_write (self);
  return CX_STORE_GET_IFACE (self)->end_cobrowse (self, id, at, ended_by, reason, error);
}

/**
 * cx_store_get_cobrowse:
 *
 * Returns: (transfer full) (nullable): the session with its mode changes, %NULL if there is
 *   none (no error) or on a failure (error)
 */
CxCobrowseRecord *
cx_store_get_cobrowse (CxStore *self, const char *id, GError **error)
{
  g_return_val_if_fail (CX_IS_STORE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return CX_STORE_GET_IFACE (self)->get_cobrowse (self, id, error);
}
