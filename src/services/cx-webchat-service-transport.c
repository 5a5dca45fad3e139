/* cx-webchat-service-transport.c: how CxWebChatService reads the transcript of its chat: the
 * push socket, polling, and probing while the server is gone.
 *
 * With "auto", the service opens cxdesk-server's push socket
 * (ws://host/cx/1/chat/{service}/{chatId}/socket, derived from dataURL) and falls back to
 * polling `refresh` every pollRate ms when the socket cannot open; with "poll" it only polls,
 * which works against a plain GMS.
 *
 * Server gone. pollExceptionLimit consecutive failed exchanges (no answer, a timeout, a 5xx,
 * a reply that is not GMS), or a push socket that closes and cannot reconnect, make the service
 * publish "chatServerWentOffline" and probe with `refresh` after 1 s, 2 s, 4 s … up to 30 s.
 * When a probe succeeds the queue of sendMessage is sent, then "chatServerBackOnline" is
 * published and the transport resumes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-webchat-service"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "services/cx-webchat-service-private.h"

/* Transport: polling, the push socket, and the server going away */

static gboolean
tick_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;

  self->tick_id = 0;
  if (self->state != STATE_ACTIVE || self->offline)
    return G_SOURCE_REMOVE;

  if (self->push_state == PUSH_ACTIVE)
    {
      /* An open socket is a live chat: say so to the other windows. */
      if (self->socket != NULL)
        _cx_webchat_service_touch_ping (self);
      /* A send is waiting for a transcript that a failed refresh did not bring. */
      if (self->outbox_blocked)
        _cx_webchat_service_poll_now (self);
      self->tick_id = g_timeout_add (self->poll_rate_ms, tick_cb, self);
    }
  else if (self->polling_enabled || self->outbox_blocked)
    {
      _cx_webchat_service_poll_now (self);
    }

  return G_SOURCE_REMOVE;
}

static void
schedule_tick (CxWebChatService *self, guint delay_ms)
{
  g_clear_handle_id (&self->tick_id, g_source_remove);
  self->tick_id = g_timeout_add (delay_ms, tick_cb, self);
}

static gboolean
retry_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;

  self->retry_id = 0;
  _cx_webchat_service_poll_now (self);
  return G_SOURCE_REMOVE;
}

/* The next probe while offline: 1 s, 2 s, 4 s … 30 s after the failures that led to it. */
static void
schedule_retry (CxWebChatService *self)
{
  if (self->retry_id != 0 || self->refresh_in_flight)
    return;

  self->retry_delay_ms = cx_service_next_retry_ms (self->retry_delay_ms);
  self->retry_id = g_timeout_add (self->retry_delay_ms, retry_cb, self);
}

static void
go_offline (CxWebChatService *self)
{
  g_autoptr (JsonNode) data = NULL;

  if (self->offline)
    return;

  g_debug ("Chat %s: the chat server is offline", self->chat_id);
  self->offline = TRUE;
  self->recovering = FALSE;
  _cx_webchat_service_close_socket (self);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  self->retry_delay_ms = 0;
  schedule_retry (self);

  data = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (data, json_object_new ());
  _cx_webchat_service_publish (self, "chatServerWentOffline", data);
}

/* Back online once a probe succeeded and every queued message is sent. */
void
_cx_webchat_service_maybe_back_online (CxWebChatService *self)
{
  g_autoptr (JsonNode) data = NULL;

  if (self->state != STATE_ACTIVE || !self->offline || !self->recovering || self->send_in_flight ||
      !g_queue_is_empty (&self->outbox))
    return;

  g_debug ("Chat %s: the chat server is back", self->chat_id);
  self->offline = FALSE;
  self->recovering = FALSE;
  self->failures = 0;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  /* The socket gets a fresh chance; if it cannot open, the chat polls. */
  self->push_state = PUSH_UNTRIED;

  data = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (data, json_object_new ());
  _cx_webchat_service_publish (self, "chatServerBackOnline", data);

  if (self->state == STATE_ACTIVE && !self->offline)
    _cx_webchat_service_start_transport (self);
}

void
_cx_webchat_service_exchange_succeeded (CxWebChatService *self)
{
  self->failures = 0;
  _cx_webchat_service_touch_ping (self);
}

void
_cx_webchat_service_exchange_failed (CxWebChatService *self, const GError *error)
{
  self->failures++;
  g_debug ("Chat %s: failure %u of %u: %s", self->chat_id, self->failures,
           self->poll_exception_limit, error->message);

  if (self->offline)
    {
      self->recovering = FALSE;
      schedule_retry (self);
      return;
    }

  if (self->failures >= self->poll_exception_limit)
    go_offline (self);
}

static void
refresh_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxWebChatService) hold = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) nothing = NULL;
  gboolean predates_block;
  gboolean predates_end;
  Outcome outcome;
  guint generation;

  reply = _cx_webchat_service_gms_post_finish (result, &outcome, NULL, &error);
  if (outcome == OUTCOME_CANCELLED)
    return;

  hold = g_object_ref (self);
  generation = self->generation;
  self->refresh_in_flight = FALSE;
  predates_block = self->refresh_predates_block;
  self->refresh_predates_block = FALSE;
  predates_end = self->refresh_predates_end;
  self->refresh_predates_end = FALSE;

  if (self->push_ended && outcome != OUTCOME_OK)
    {
      /* The server said the chat is over; its last entries are lost, not the ending. */
      _cx_webchat_service_end_session (self, TRUE, NULL);
      return;
    }

  if (outcome == OUTCOME_REFUSED)
    {
      /* The server does not know this chat, or these keys, any more. */
      _cx_webchat_service_end_session (self, TRUE, error->message);
      return;
    }

  if (outcome == OUTCOME_FAILED)
    {
      _cx_webchat_service_reject_all (self->poll_waiters, error);
      _cx_webchat_service_exchange_failed (self, error);
      if (self->offline)
        schedule_retry (self);
      else if (self->push_state != PUSH_ACTIVE && (self->polling_enabled || self->outbox_blocked))
        schedule_tick (self, self->poll_rate_ms);
      return;
    }

  _cx_webchat_service_exchange_succeeded (self);
  _cx_webchat_service_handle_reply (self, reply);
  if (!_cx_webchat_service_still_in_chat (self, generation))
    return;

  if (self->push_ended)
    {
      /* Read before the end: read once more, for the entries that came with it. */
      if (predates_end)
        _cx_webchat_service_poll_now (self);
      else
        _cx_webchat_service_end_session (self, TRUE, NULL);
      return;
    }

  nothing = json_node_new (JSON_NODE_NULL);
  _cx_webchat_service_resolve_all (self->poll_waiters, nothing);

  if (predates_block && self->outbox_blocked)
    {
      /* This transcript was read before the send failed: it cannot tell whether the server
       * stored the message. Read it again. */
      _cx_webchat_service_poll_now (self);
      return;
    }

  /* The transcript is fresh: a message whose send was uncertain can be checked now. */
  if (self->offline)
    self->recovering = TRUE;
  self->outbox_blocked = FALSE;
  _cx_webchat_service_pump_outbox (self);
  if (!_cx_webchat_service_still_in_chat (self, generation))
    return;
  _cx_webchat_service_maybe_back_online (self);

  if (!self->offline && self->push_state != PUSH_ACTIVE && self->polling_enabled &&
      self->tick_id == 0 && !self->refresh_in_flight)
    schedule_tick (self, self->poll_rate_ms);
}

/* Reads the transcript from the next index now (a poll, a probe, or a check). */
void
_cx_webchat_service_poll_now (CxWebChatService *self)
{
  g_autoptr (GHashTable) form = NULL;

  if (self->state != STATE_ACTIVE || self->refresh_in_flight)
    return;

  if (self->push_state != PUSH_ACTIVE)
    g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->retry_id, g_source_remove);

  self->refresh_in_flight = TRUE;
  form = _cx_webchat_service_new_form ();
  _cx_webchat_service_form_add_uint (form, "transcriptPosition",
                                     cx_transcript_cursor_get_next_position (self->cursor));
  _cx_webchat_service_gms_post_async (self, "refresh", form, NULL, refresh_cb);
}

/* The push socket says the chat is over. The entries that ended it (the customer's or the
 * agent's ParticipantLeft) may not have come over it: they are read before the chat ends here,
 * from the reply to our own disconnect if one is under way, or else from a last refresh. */
static void
push_chat_ended (CxWebChatService *self)
{
  self->push_ended = TRUE;
  _cx_webchat_service_close_socket (self);

  if (self->end_in_flight)
    return;

  if (self->refresh_in_flight)
    self->refresh_predates_end = TRUE;
  else
    _cx_webchat_service_poll_now (self);
}

static void
push_message_cb (SoupWebsocketConnection *socket, int type, GBytes *message, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxAgentEvent) event = NULL;
  g_autoptr (GError) error = NULL;
  const char *data;
  gsize length = 0;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;

  data = g_bytes_get_data (message, &length);
  if (!cx_agent_event_parse (data, length, &event, &error))
    {
      g_debug ("Chat %s: ignoring a push frame: %s", self->chat_id, error->message);
      return;
    }

  if (event->chat_id == NULL || g_strcmp0 (event->chat_id, self->chat_id) != 0)
    return;

  self->socket_had_frame = TRUE;
  _cx_webchat_service_exchange_succeeded (self);

  if (event->type == CX_AGENT_EVENT_MESSAGES)
    _cx_webchat_service_receive_messages (self, event->messages, TRUE);
  else if (event->type == CX_AGENT_EVENT_CHAT_ENDED)
    push_chat_ended (self);
}

static void connect_push (CxWebChatService *self);

static void
push_closed_cb (SoupWebsocketConnection *socket, gpointer user_data)
{
  CxWebChatService *self = user_data;
  gboolean had_frame = self->socket_had_frame;

  g_debug ("Chat %s: the push socket closed (code %u)", self->chat_id,
           soup_websocket_connection_get_close_code (socket));
  _cx_webchat_service_close_socket (self);

  if (self->state != STATE_ACTIVE || self->offline)
    return;

  if (had_frame)
    {
      /* It worked: open it again. If that fails, the server is gone. */
      connect_push (self);
      return;
    }

  /* Closed before it said anything (a refused key, a server that does not push): poll, and
   * let the poll find out what is the matter. */
  self->push_state = PUSH_UNAVAILABLE;
  _cx_webchat_service_poll_now (self);
}

static void
push_connect_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (SoupWebsocketConnection) socket = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) hello = NULL;
  g_autofree char *text = NULL;

  socket = cx_http_websocket_connect_finish (CX_HTTP (source), result, &error);
  if (socket == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->socket_connecting = FALSE;
  if (self->state != STATE_ACTIVE || self->offline)
    return;

  if (socket == NULL)
    {
      g_debug ("Chat %s: no push socket: %s", self->chat_id, error->message);
      if (self->push_state == PUSH_ACTIVE)
        {
          /* The socket worked, closed, and cannot reopen. */
          self->failures = MAX (self->failures, self->poll_exception_limit);
          go_offline (self);
          return;
        }

      self->push_state = PUSH_UNAVAILABLE;
      _cx_webchat_service_poll_now (self);
      return;
    }

  self->socket = g_steal_pointer (&socket);
  self->socket_had_frame = FALSE;
  self->push_state = PUSH_ACTIVE;
  soup_websocket_connection_set_max_incoming_payload_size (self->socket, CX_AGENT_FRAME_MAX_SIZE);
  g_signal_connect (self->socket, "message", G_CALLBACK (push_message_cb), self);
  g_signal_connect (self->socket, "closed", G_CALLBACK (push_closed_cb), self);

  /* The key goes in the first frame, never in the address. */
  hello = cx_push_hello_build (self->secure_key, self->user_id, self->alias,
                               cx_transcript_cursor_get_next_position (self->cursor));
  text = json_to_string (hello, FALSE);
  soup_websocket_connection_send_text (self->socket, text);

  schedule_tick (self, self->poll_rate_ms);
}

static void
connect_push (CxWebChatService *self)
{
  g_autofree char *escaped = NULL;
  g_autofree char *url = NULL;

  if (self->socket != NULL || self->socket_connecting)
    return;

  escaped = g_uri_escape_string (self->chat_id, NULL, FALSE);
  url = g_strdup_printf ("%s/%s/socket", self->push_url_base, escaped);
  self->socket_connecting = TRUE;
  cx_http_websocket_connect_async (self->http, url, NULL, NULL, self->cancellable, push_connect_cb,
                                   self);
}

void
_cx_webchat_service_start_transport (CxWebChatService *self)
{
  if (self->push_allowed && self->push_url_base != NULL && self->push_state != PUSH_UNAVAILABLE)
    connect_push (self);
  else
    _cx_webchat_service_poll_now (self);
}

void
_cx_webchat_service_close_socket (CxWebChatService *self)
{
  if (self->socket == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->socket, self);
  if (soup_websocket_connection_get_state (self->socket) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->socket, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&self->socket);
}

void
_cx_webchat_service_poll_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;

  /* As in the Widgets: only the service itself may poll on demand. */
  if (g_strcmp0 (cx_command_get_commander (command), PRIVATE_COMMANDER) != 0)
    {
      cx_command_reject (command, g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_ACCESS_DENIED,
                                                       _ ("Access Denied to private command")));
      return;
    }

  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  g_ptr_array_add (self->poll_waiters, g_object_ref (command));
  _cx_webchat_service_poll_now (self);
}

void
_cx_webchat_service_start_poll_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;

  self->polling_enabled = TRUE;
  if (self->state == STATE_ACTIVE && !self->offline && self->push_state != PUSH_ACTIVE &&
      self->tick_id == 0 && !self->refresh_in_flight)
    _cx_webchat_service_poll_now (self);

  cx_command_resolve (command, NULL);
}

void
_cx_webchat_service_stop_poll_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;

  /* Stops the periodic refresh; the push socket, and probes while offline, go on. */
  self->polling_enabled = FALSE;
  if (self->push_state != PUSH_ACTIVE)
    g_clear_handle_id (&self->tick_id, g_source_remove);

  cx_command_resolve (command, NULL);
}
