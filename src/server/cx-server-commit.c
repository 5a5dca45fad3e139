/* cx-server-commit.c: group commit (issue 9 item 13). The writes of one main-loop turn share one
 * transaction of the store and one sync to disk; a request that wrote is paused until that
 * commit, so that its reply never leaves before what it acknowledges is on disk, and the
 * pushes its writes cause are sent only after the commit. If the commit fails, every paused
 * reply becomes a 500 and nothing is pushed. Handlers keep their synchronous shape: they call
 * the store and reply as before. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-protocol.h"
#include "protocol/cx-gms-callback.h"
#include "protocol/cx-gms-chat.h"
#include "server/cx-server-private.h"

/* A batch is committed at the end of the next main-loop turn, or before a request (or a write
 * outside any request) that would make it larger than this. */
#define BATCH_MAX_WRITES 256

/* What _cx_server_append pushes, kept until the batch that wrote it is committed; or the
 * closing of a chat's customer sockets, kept in order behind the pushes it follows. */
typedef struct
{
  CxChat *before;
  CxChat *update; /* or NULL */
  GPtrArray *messages;
  char *close_chat_id; /* instead of the above */
} Push;

static void
push_free (gpointer data)
{
  Push *push = data;

  cx_chat_free (push->before);
  cx_chat_free (push->update);
  g_clear_pointer (&push->messages, g_ptr_array_unref);
  g_free (push->close_chat_id);
  g_free (push);
}

struct _CxServerCommit
{
  gboolean legacy;            /* CXDESK_BENCH_LEGACY_COMMIT=1: no batches (bench anchor) */
  gulong will_write_id;       /* on the store */
  SoupServerMessage *current; /* the request whose handler runs now, not a reference */
  gboolean current_paused;    /* it wrote, and is paused, in this batch */
  GPtrArray *paused;          /* SoupServerMessage, waiting for the commit */
  GPtrArray *pushes;          /* Push, in the order they were made */
  guint writes;               /* calls that wrote in this batch */
  guint idle_id;
};

static void
push_to_agent (CxServer *self, const CxChat *chat, GPtrArray *messages)
{
  g_autoptr (JsonNode) frame = NULL;

  if (chat->agent == NULL)
    return;

  frame = cx_agent_event_build_messages (
      chat->id, messages,
      ((CxMessage *) g_ptr_array_index (messages, messages->len - 1))->index + 1);
  _cx_server_send_to_agent (self, chat->agent, frame);
}

/* Pushes what an append wrote, once it is committed: to the customer's sockets, to the agent
 * who had the chat and the one who has it now, on this node (and, for the other nodes'
 * sockets, cx-server-cluster.c reads the rows back and comes here too). */
void
_cx_server_push_append (CxServer *self, const CxChat *chat, GPtrArray *messages,
                        const CxChat *update)
{
  const CxChat *now = update ? update : chat;

  if (messages->len > 0)
    {
      _cx_server_push_to_customers (self, now, messages);
      push_to_agent (self, now, messages);
      if (chat->agent != NULL && g_strcmp0 (chat->agent, now->agent) != 0)
        push_to_agent (self, chat, messages);
    }

  /* However it ended, the agent who had it hears it ended. */
  if (chat->state != CX_CHAT_ENDED && now->state == CX_CHAT_ENDED && chat->agent != NULL)
    {
      g_autoptr (JsonNode) frame = cx_agent_event_build_chat_ended (chat->id);

      _cx_server_send_to_agent (self, chat->agent, frame);
    }
}

/* The same, and the other nodes hear of it. */
static void
push_now (CxServer *self, const CxChat *chat, GPtrArray *messages, const CxChat *update)
{
  const CxChat *now = update ? update : chat;
  gboolean ended = chat->state != CX_CHAT_ENDED && now->state == CX_CHAT_ENDED;

  _cx_server_push_append (self, chat, messages, update);
  if (_cx_server_cluster_active (self) && (messages->len > 0 || ended))
    {
      guint from = messages->len > 0 ? ((CxMessage *) g_ptr_array_index (messages, 0))->index : 0;
      guint to = messages->len > 0
                     ? ((CxMessage *) g_ptr_array_index (messages, messages->len - 1))->index + 1
                     : 0;
      char from_s[16], to_s[16];

      g_snprintf (from_s, sizeof from_s, "%u", from);
      g_snprintf (to_s, sizeof to_s, "%u", to);
      _cx_server_cluster_note (self, "m", chat->id, from_s, to_s, chat->agent ? chat->agent : "",
                               ended ? "1" : "0", NULL);
    }
}

/* A 500 in the error shape of the API the path belongs to. */
static void
reply_not_committed (SoupServerMessage *msg)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;

  /* The handler's reply is there already: setting a response appends to the body. */
  soup_message_body_truncate (soup_server_message_get_response_body (msg));

  if (path != NULL && g_str_has_prefix (path, "/genesys/2/chat"))
    {
      error = g_error_new_literal (CX_GMS_ERROR, CX_GMS_ERROR_INTERNAL,
                                   _ ("The server could not complete the request"));
      node = cx_gms_error_to_json (error);
    }
  else if (path != NULL && g_str_has_prefix (path, "/genesys/1/service/callback"))
    {
      error = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INTERNAL,
                                   _ ("The server could not complete the request"));
      node = cx_callback_error_to_json (error);
    }

  if (node != NULL)
    _cx_server_reply_json (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, node);
  else
    _cx_server_reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                            _ ("The server could not complete the request"));
}

/**
 * _cx_server_commit_flush:
 *
 * Commits the open batch, if any: then lets the paused replies go and sends the pushes; or, if
 * the commit failed, turns every paused reply into a 500 and pushes nothing.
 */
void
_cx_server_commit_flush (CxServer *self)
{
  CxServerCommit *commit = self->commit;
  g_autoptr (GPtrArray) paused = NULL;
  g_autoptr (GPtrArray) pushes = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (commit == NULL)
    return;
  g_clear_handle_id (&commit->idle_id, g_source_remove);
  if (!cx_store_in_batch (self->store))
    return;

  ok = cx_store_commit_batch (self->store, &error);
  g_debug ("Group commit: %u writes, %u replies held, %u pushes: %s", commit->writes,
           commit->paused->len, commit->pushes->len, ok ? "committed" : "failed");

  paused = g_steal_pointer (&commit->paused);
  pushes = g_steal_pointer (&commit->pushes);
  commit->paused = g_ptr_array_new_with_free_func (g_object_unref);
  commit->pushes = g_ptr_array_new_with_free_func (push_free);
  commit->writes = 0;
  commit->current_paused = FALSE;

  if (!ok)
    g_warning ("Could not commit %u replies: %s", paused->len, error->message);

  for (guint i = 0; i < paused->len; i++)
    {
      SoupServerMessage *msg = g_ptr_array_index (paused, i);

      if (!ok)
        reply_not_committed (msg);
      soup_server_message_unpause (msg);
    }

  for (guint i = 0; ok && i < pushes->len; i++)
    {
      Push *push = g_ptr_array_index (pushes, i);

      if (push->close_chat_id != NULL)
        {
          _cx_server_close_customer_sockets_here (self, push->close_chat_id);
          _cx_server_cluster_note (self, "c", push->close_chat_id, NULL);
        }
      else
        push_now (self, push->before, push->messages, push->update);
    }
}

static gboolean
commit_idle_cb (gpointer user_data)
{
  CxServer *self = user_data;

  self->commit->idle_id = 0;
  _cx_server_commit_flush (self);
  return G_SOURCE_REMOVE;
}

/* Every call of the store that writes comes here first: it joins the batch, opening one if
 * needed, and the request it is made for waits for the batch's commit. */
static void
will_write_cb (CxStore *store, gpointer user_data)
{
  CxServer *self = user_data;
  CxServerCommit *commit = self->commit;

  if (commit->legacy)
    return;

  /* Never in the middle of a handler: its earlier writes would be committed apart from its
   * later ones. */
  if (commit->current == NULL && commit->writes >= BATCH_MAX_WRITES)
    _cx_server_commit_flush (self);

  if (!cx_store_in_batch (store))
    {
      g_autoptr (GError) error = NULL;

      /* Without a batch the write commits (and syncs) on its own: slower, as durable. */
      if (!cx_store_begin_batch (store, &error))
        {
          g_warning ("Could not begin a batch: %s", error->message);
          return;
        }
      /* Idle at the default priority: after the handlers of this turn and the next, not
       * starved by a busy server as a lower priority would be. */
      commit->idle_id = g_idle_add_full (G_PRIORITY_DEFAULT, commit_idle_cb, self, NULL);
    }

  commit->writes++;
  if (commit->current != NULL && !commit->current_paused)
    {
      soup_server_message_pause (commit->current);
      g_ptr_array_add (commit->paused, g_object_ref (commit->current));
      commit->current_paused = TRUE;
    }
}

/* Just before the handler: which request the writes that follow are for. */
static void
request_read_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  CxServer *self = user_data;
  CxServerCommit *commit = self->commit;

  if (commit->writes >= BATCH_MAX_WRITES)
    _cx_server_commit_flush (self);

  commit->current = msg;
  commit->current_paused = FALSE;
  for (guint i = 0; i < commit->paused->len; i++)
    if (g_ptr_array_index (commit->paused, i) == msg)
      commit->current_paused = TRUE;

  /* A request that only reads may read what the open batch wrote: its reply waits for the
   * commit too, so that no reply shows what is not yet on disk. */
  if (!commit->current_paused && cx_store_in_batch (self->store))
    {
      soup_server_message_pause (msg);
      g_ptr_array_add (commit->paused, g_object_ref (msg));
      commit->current_paused = TRUE;
    }
}

/* Just after the handler (connected after libsoup's own got-body, which runs it). */
static void
got_body_after_cb (SoupServerMessage *msg, gpointer user_data)
{
  CxServer *self = user_data;

  if (self->commit->current == msg)
    self->commit->current = NULL;
}

/* A message that is gone (its client hung up, the server disconnected) is not unpaused. */
static void
finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  CxServer *self = user_data;

  if (self->commit->current == msg)
    self->commit->current = NULL;
  g_ptr_array_remove (self->commit->paused, msg);
}

static void
request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  g_signal_connect_object (msg, "got-body", G_CALLBACK (got_body_after_cb), user_data,
                           G_CONNECT_AFTER);
  g_signal_connect_object (msg, "finished", G_CALLBACK (finished_cb), user_data, 0);
}

void
_cx_server_commit_init (CxServer *self)
{
  CxServerCommit *commit = g_new0 (CxServerCommit, 1);

  commit->legacy = g_strcmp0 (g_getenv ("CXDESK_BENCH_LEGACY_COMMIT"), "1") == 0;
  commit->paused = g_ptr_array_new_with_free_func (g_object_unref);
  commit->pushes = g_ptr_array_new_with_free_func (push_free);
  self->commit = commit;

  commit->will_write_id =
      g_signal_connect (self->store, "will-write", G_CALLBACK (will_write_cb), self);
  g_signal_connect_object (self->soup, "request-started", G_CALLBACK (request_started_cb), self, 0);
  g_signal_connect_object (self->soup, "request-read", G_CALLBACK (request_read_cb), self, 0);
}

/* Commits what is pending and stops batching; the server can go away after this. */
void
_cx_server_commit_free (CxServer *self)
{
  CxServerCommit *commit = self->commit;

  if (commit == NULL)
    return;

  _cx_server_commit_flush (self);
  g_clear_signal_handler (&commit->will_write_id, self->store);
  g_clear_handle_id (&commit->idle_id, g_source_remove);
  g_ptr_array_unref (commit->paused);
  g_ptr_array_unref (commit->pushes);
  g_free (commit);
  self->commit = NULL;
}

/**
 * _cx_server_append:
 * @chat: the chat as it was before this change
 * @update: (nullable): the chat after it, written in the same transaction
 *
 * Writes @messages (and @update), then pushes them to the customer's sockets and to the
 * agent who had the chat and the one who has it now. Nothing is pushed that is not durable:
 * inside a batch the pushes wait for its commit.
 */
gboolean
_cx_server_append (CxServer *self, const CxChat *chat, GPtrArray *messages, const CxChat *update,
                   GError **error)
{
  Push *push;

  if (!cx_store_append (self->store, chat->id, messages, update, error))
    return FALSE;

  if (self->commit == NULL || !cx_store_in_batch (self->store))
    {
      push_now (self, chat, messages, update);
      return TRUE;
    }

  push = g_new0 (Push, 1);
  push->before = cx_chat_copy (chat);
  push->update = update ? cx_chat_copy (update) : NULL;
  push->messages = g_ptr_array_new_full (messages->len, (GDestroyNotify) cx_message_unref);
  for (guint i = 0; i < messages->len; i++)
    g_ptr_array_add (push->messages, cx_message_ref (g_ptr_array_index (messages, i)));
  g_ptr_array_add (self->commit->pushes, push);
  return TRUE;
}

gboolean
_cx_server_append_one (CxServer *self, const CxChat *chat, CxMessage *message, const CxChat *update,
                       GError **error)
{
  g_autoptr (GPtrArray) messages = g_ptr_array_new ();

  g_ptr_array_add (messages, message);
  return _cx_server_append (self, chat, messages, update, error);
}

/* Closing a chat's customer sockets waits, inside a batch, behind the pushes queued before it
 * (the customer hears the chat ended, then the socket closes). TRUE if it was queued. */
gboolean
_cx_server_commit_defer_close (CxServer *self, const char *chat_id)
{
  Push *push;

  if (self->commit == NULL || !cx_store_in_batch (self->store))
    return FALSE;

  push = g_new0 (Push, 1);
  push->close_chat_id = g_strdup (chat_id);
  g_ptr_array_add (self->commit->pushes, push);
  return TRUE;
}
