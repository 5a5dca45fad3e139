/* cx-agent-service-socket.c: CxAgentService's event socket: connecting it, reading its frames,
 * the backoff when it drops (1 s … 30 s), and the resync of chats and invitations after each
 * (re)connection, during which frames of a chat wait for it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-service"

#include "config.h"

#include "services/cx-agent-service-private.h"

/* The event socket */

static void start_sync (CxAgentService *self);

void
_cx_agent_service_close_socket (CxAgentService *self)
{
  if (self->socket == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->socket, self);
  if (soup_websocket_connection_get_state (self->socket) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->socket, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&self->socket);
}

static gboolean
retry_cb (gpointer user_data)
{
  CxAgentService *self = user_data;

  self->retry_id = 0;
  _cx_agent_service_connect_events (self);
  return G_SOURCE_REMOVE;
}

/* The socket closed, could not open, or the sync after it failed: say so once, and try again
 * after 1 s, 2 s, 4 s … 30 s. */
void
_cx_agent_service_connection_failed (CxAgentService *self)
{
  _cx_agent_service_close_socket (self);
  self->sync_id++;
  self->sync_pending = 0;
  _cx_agent_service_set_connected (self, FALSE);

  if (self->session != SESSION_SIGNED_IN)
    return;

  if (!self->lost)
    {
      self->lost = TRUE;
      _cx_agent_service_publish_empty (self, "connectionLost");
      if (self->session != SESSION_SIGNED_IN)
        return;
    }

  if (self->retry_id == 0 && !self->socket_connecting)
    {
      g_debug ("Reconnecting in %u ms", self->retry_delay_ms);
      self->retry_id = g_timeout_add (self->retry_delay_ms, retry_cb, self);
      self->retry_delay_ms = cx_service_next_retry_ms (self->retry_delay_ms);
    }
}

static void
confirm_signed_out_reply (CxAgentService *self, Request *request, JsonNode *reply,
                          const GError *error)
{
  if (request->generation != self->generation || self->session == SESSION_SIGNED_OUT)
    return;

  /* A 401: request_done_cb signs out. */
  if (g_error_matches (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN))
    return;

  if (error != NULL)
    {
      /* No word from the server: take the frame at its word. */
      g_debug ("Could not confirm the sign-out (%s): signing out", error->message);
      _cx_agent_service_session_ended (self);
      return;
    }

  /* This session is alive: the frame was for another session of the same agent. */
  g_debug ("Another session of this agent signed out; this one goes on");
  _cx_agent_service_connect_events (self);
}

/* The server says "signedOut". It means the socket's session (API.md), but cxdesk-server sends
 * it to every session of the agent; GET /me tells whether this one is over. The socket closes
 * either way: this window closes it first, so that it is not taken for a lost connection. */
static void
confirm_signed_out (CxAgentService *self)
{
  if (self->session != SESSION_SIGNED_IN && self->session != SESSION_SIGNING_OUT)
    return;

  _cx_agent_service_close_socket (self);
  self->sync_id++;
  self->sync_pending = 0;
  _cx_agent_service_set_connected (self, FALSE);
  _cx_agent_service_request_send (self, _cx_agent_service_route_request (self, CX_AGENT_ROUTE_ME,
                                                                         NULL, NULL, NULL,
                                                                         confirm_signed_out_reply));
}

static void
handle_frame (CxAgentService *self, CxAgentEvent *event)
{
  Chat *chat = _cx_agent_service_lookup_chat (self, event->chat_id);

  switch (event->type)
    {
      case CX_AGENT_EVENT_INVITATION:
        _cx_agent_service_handle_invitation (self, event);
        break;

      case CX_AGENT_EVENT_INVITATION_WITHDRAWN:
        _cx_agent_service_withdraw_invitation (self, event->chat_id, event->reason);
        break;

      case CX_AGENT_EVENT_MESSAGES:
        if (chat == NULL)
          {
            /* A chat of this agent that this window has not heard of: read it all. */
            chat = _cx_agent_service_chat_new (self, event->chat_id, CX_AGENT_CONVERSATION_INVITED);
            _cx_agent_service_chat_set_status (self, event->chat_id, CX_AGENT_CONVERSATION_ACTIVE);
            chat = _cx_agent_service_lookup_chat (self, event->chat_id);
            if (chat == NULL)
              break;
          }

        if (_cx_agent_service_chat_is_held (chat))
          {
            for (guint i = 0; i < event->messages->len; i++)
              g_ptr_array_add (chat->pending,
                               cx_message_ref (g_ptr_array_index (event->messages, i)));
            break;
          }

        _cx_agent_service_chat_receive (self, event->chat_id, event->messages, 0, 0);
        break;

      case CX_AGENT_EVENT_CHAT_ENDED:
        if (chat == NULL)
          break;
        if (_cx_agent_service_chat_is_held (chat) || chat->pending->len > 0)
          chat->pending_end = TRUE;
        else
          _cx_agent_service_chat_set_status (self, event->chat_id, CX_AGENT_CONVERSATION_ENDED);
        break;

      case CX_AGENT_EVENT_AGENT_STATE:
        _cx_agent_service_update_state (self, event->state, event->reason);
        break;

      case CX_AGENT_EVENT_CALLBACKS_CHANGED:
        _cx_agent_service_publish_empty (self, "callbacksChanged");
        break;

      case CX_AGENT_EVENT_SIGNED_OUT:
        confirm_signed_out (self);
        break;

      default:
        break;
    }
}

static void
socket_message_cb (SoupWebsocketConnection *socket, int type, GBytes *message, gpointer user_data)
{
  CxAgentService *self = user_data;
  g_autoptr (CxAgentService) hold = g_object_ref (self);
  g_autoptr (CxAgentEvent) event = NULL;
  g_autoptr (GError) error = NULL;
  const char *data;
  gsize length = 0;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      self->malformed_frames++;
      g_debug ("Ignoring a binary frame (%u malformed so far)", self->malformed_frames);
      return;
    }

  data = g_bytes_get_data (message, &length);
  if (!cx_agent_event_parse (data, length, &event, &error))
    {
      self->malformed_frames++;
      g_debug ("Ignoring a malformed frame (%u so far): %s", self->malformed_frames,
               error->message);
      return;
    }

  handle_frame (self, event);
}

static void
socket_closed_cb (SoupWebsocketConnection *socket, gpointer user_data)
{
  CxAgentService *self = user_data;
  g_autoptr (CxAgentService) hold = g_object_ref (self);

  g_debug ("The event socket closed (code %u)", soup_websocket_connection_get_close_code (socket));
  _cx_agent_service_connection_failed (self);
}

static void
session_check_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  /* A 401 signs out (_cx_agent_service_request_done_cb); anything else: the socket tries again as
   * planned. */
  if (error != NULL)
    g_debug ("Checking the session: %s", error->message);
}

static void
socket_connect_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxAgentService *self = user_data;
  g_autoptr (CxAgentService) hold = NULL;
  g_autoptr (SoupWebsocketConnection) socket = NULL;
  g_autoptr (GError) error = NULL;

  socket = cx_http_websocket_connect_finish (CX_HTTP (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  hold = g_object_ref (self);
  self->socket_connecting = FALSE;

  if (self->session != SESSION_SIGNED_IN || self->connecting_generation != self->generation)
    {
      /* Opened for a session that is over. */
      if (socket != NULL)
        soup_websocket_connection_close (socket, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      if (self->session == SESSION_SIGNED_IN)
        _cx_agent_service_connect_events (self);
      return;
    }

  if (socket == NULL)
    {
      g_debug ("The event socket did not open: %s", error->message);
      _cx_agent_service_connection_failed (self);

      /* Refused by the server: maybe the session is over. GET /me tells. */
      if (g_error_matches (error, CX_HTTP_ERROR, CX_HTTP_ERROR_STATUS))
        _cx_agent_service_request_send (
            self, _cx_agent_service_route_request (self, CX_AGENT_ROUTE_ME, NULL, NULL, NULL,
                                                   session_check_reply));
      return;
    }

  g_debug ("The event socket is open");
  self->socket = g_steal_pointer (&socket);
  soup_websocket_connection_set_max_incoming_payload_size (self->socket, CX_AGENT_FRAME_MAX_SIZE);
  g_signal_connect (self->socket, "message", G_CALLBACK (socket_message_cb), self);
  g_signal_connect (self->socket, "closed", G_CALLBACK (socket_closed_cb), self);

  start_sync (self);
}

void
_cx_agent_service_connect_events (CxAgentService *self)
{
  if (self->socket != NULL || self->socket_connecting || self->session != SESSION_SIGNED_IN)
    return;

  g_clear_handle_id (&self->retry_id, g_source_remove);
  self->socket_connecting = TRUE;
  self->connecting_generation = self->generation;
  /* The handshake carries the jar's session cookie. */
  cx_http_websocket_connect_async (self->http, self->events_url, NULL, NULL, self->cancellable,
                                   socket_connect_cb, self);
}

/* The sync after each connection: the agent's open chats and pending invitations. Frames that
 * come meanwhile wait for it, chat by chat. */

static void
sync_step_done (CxAgentService *self)
{
  g_assert (self->sync_pending > 0);
  if (--self->sync_pending > 0)
    return;

  g_debug ("Synchronised");
  self->retry_delay_ms = FIRST_RETRY_MS;
  _cx_agent_service_set_connected (self, TRUE);
  if (self->lost)
    {
      self->lost = FALSE;
      _cx_agent_service_publish_empty (self, "connectionRestored");
    }
}

static gboolean
sync_reply_is_current (CxAgentService *self, Request *request, const GError *error)
{
  if (request->generation != self->generation || request->sync_id != self->sync_id)
    return FALSE;

  if (error == NULL)
    return TRUE;

  g_debug ("Synchronising failed: %s", error->message);
  if (g_error_matches (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN))
    return FALSE;

  if (error->domain == CX_AGENT_SERVICE_ERROR)
    _cx_agent_service_publish_error (self, error->message);
  _cx_agent_service_connection_failed (self);
  return FALSE;
}

static GPtrArray *
chat_ids_where (CxAgentService *self, gboolean (*predicate) (Chat *chat))
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->chats);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (predicate (value))
      g_ptr_array_add (ids, g_strdup (key));

  return ids;
}

static gboolean
chat_is_syncing (Chat *chat)
{
  return chat->syncing;
}

static gboolean
chat_is_unconfirmed_invitation (Chat *chat)
{
  return chat->invite_mark && chat->conversation->status == CX_AGENT_CONVERSATION_INVITED;
}

static void
sync_chats_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (GPtrArray) chats = NULL;
  g_autoptr (GPtrArray) missing = NULL;
  g_autoptr (GError) local_error = NULL;
  guint generation = self->generation;

  if (!sync_reply_is_current (self, request, error))
    return;

  if (!cx_agent_chats_parse (reply, &chats, &local_error))
    {
      g_autoptr (GError) bad = _cx_agent_service_bad_reply_error ("/chats");

      g_debug ("The chats do not parse: %s", local_error->message);

      _cx_agent_service_publish_error (self, bad->message);
      _cx_agent_service_connection_failed (self);
      return;
    }

  for (guint i = 0; i < chats->len && self->generation == generation; i++)
    {
      const char *chat_id = ((CxAgentChat *) g_ptr_array_index (chats, i))->chat_id;
      Chat *chat;

      _cx_agent_service_apply_chat (self, g_ptr_array_index (chats, i));
      chat = _cx_agent_service_lookup_chat (self, chat_id);
      if (chat != NULL)
        {
          chat->syncing = FALSE;
          _cx_agent_service_chat_flush (self, chat_id);
        }
    }

  /* Open when the socket closed, and not open now: they ended while this window was not
   * listening (or went to another agent; the API cannot tell which). */
  missing = chat_ids_where (self, chat_is_syncing);
  for (guint i = 0; i < missing->len && self->generation == generation; i++)
    {
      const char *chat_id = g_ptr_array_index (missing, i);
      Chat *chat = _cx_agent_service_lookup_chat (self, chat_id);

      if (chat == NULL)
        continue;

      chat->syncing = FALSE;
      chat->pending_end = TRUE;
      _cx_agent_service_chat_flush (self, chat_id);
    }

  if (self->generation == generation && request->sync_id == self->sync_id)
    sync_step_done (self);
}

static void
sync_invitations_reply (CxAgentService *self, Request *request, JsonNode *reply,
                        const GError *error)
{
  g_autoptr (GPtrArray) invitations = NULL;
  g_autoptr (GPtrArray) gone = NULL;
  g_autoptr (GError) local_error = NULL;
  guint generation = self->generation;

  if (!sync_reply_is_current (self, request, error))
    return;

  if (!cx_agent_invitations_parse (reply, &invitations, &local_error))
    {
      g_autoptr (GError) bad = _cx_agent_service_bad_reply_error ("/invitations");

      g_debug ("The invitations do not parse: %s", local_error->message);

      _cx_agent_service_publish_error (self, bad->message);
      _cx_agent_service_connection_failed (self);
      return;
    }

  for (guint i = 0; i < invitations->len && self->generation == generation; i++)
    _cx_agent_service_handle_invitation (self, g_ptr_array_index (invitations, i));

  /* Offered when the socket closed, and not now: withdrawn while this window was not
   * listening. */
  gone = chat_ids_where (self, chat_is_unconfirmed_invitation);
  for (guint i = 0; i < gone->len && self->generation == generation; i++)
    _cx_agent_service_withdraw_invitation (self, g_ptr_array_index (gone, i), "gone");

  if (self->generation == generation && request->sync_id == self->sync_id)
    sync_step_done (self);
}

static void
start_sync (CxAgentService *self)
{
  GHashTableIter iter;
  gpointer value;
  Request *request;

  self->sync_id++;
  self->sync_pending = 2;

  g_hash_table_iter_init (&iter, self->chats);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Chat *chat = value;

      chat->syncing = chat->conversation->status == CX_AGENT_CONVERSATION_ACTIVE;
      chat->invite_mark = chat->conversation->status == CX_AGENT_CONVERSATION_INVITED;
    }

  request = _cx_agent_service_route_request (self, CX_AGENT_ROUTE_CHATS, NULL, NULL, NULL,
                                             sync_chats_reply);
  request->sync_id = self->sync_id;
  _cx_agent_service_request_send (self, request);

  request = _cx_agent_service_route_request (self, CX_AGENT_ROUTE_INVITATIONS, NULL, NULL, NULL,
                                             sync_invitations_reply);
  request->sync_id = self->sync_id;
  _cx_agent_service_request_send (self, request);
}
