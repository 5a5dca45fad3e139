/* cx-webchat-service-session.c: CxWebChatService's session: the cookies every window of a site
 * shares, startChat and its start lock, restoring a chat the cookies name, and ending a chat.
 *
 * The state lives in session cookies on the site's cookie domain (CxHttp's site cookies, in the
 * application's one jar): "session" (chat id), "keys" ({secureKey, alias, userId}), "ping" (ms
 * since the epoch of the last good exchange, written at most once a second), "index" (next
 * transcript position) and "chatStartLock" (ms since the epoch). A service created on a site
 * whose cookies name a chat pinged less than restoreTimeout ago restores it (the transcript's
 * newest page, then "restored"); with an older ping it deletes them and publishes "restoreTimeout".
 * startChat takes the lock (refreshed every 500 ms while the start request runs, honoured while
 * under 2 s old); a window that finds the lock taken, or a live chat in the cookies, waits for
 * the session cookie (the jar's "changed" signal, and a timer for when the lock goes stale) and
 * restores that chat instead of starting a second one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-webchat-service"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "services/cx-webchat-service-private.h"

static JsonNode *transcript_result (CxWebChatService *self, const char *why_incomplete);
static void settle_transcript (CxWebChatService *self, const char *why_incomplete);
static void read_whole_transcript (CxWebChatService *self);

/* Cookies */

static void
set_cookie (CxWebChatService *self, const char *name, const char *value)
{
  g_autoptr (GError) error = NULL;

  /* The site address was checked at construction: this cannot fail. */
  if (!cx_http_set_site_cookie (self->http, self->site_url, name, value, &error))
    g_debug ("Could not set the cookie %s: %s", name, error->message);
}

void
_cx_webchat_service_set_cookie_int (CxWebChatService *self, const char *name, gint64 value)
{
  char buffer[32];

  g_snprintf (buffer, sizeof buffer, "%" G_GINT64_FORMAT, value);
  set_cookie (self, name, buffer);
}

/* Returns FALSE if the cookie is absent or not a whole number. */
static gboolean
get_cookie_int (CxWebChatService *self, const char *name, gint64 *value)
{
  g_autofree char *text = cx_http_get_site_cookie (self->http, self->site_url, name);

  return text != NULL && g_ascii_string_to_signed (text, 10, 0, G_MAXINT64, value, NULL);
}

static void
delete_session_cookies (CxWebChatService *self)
{
  /* The session first: a window that sees it gone does not look at the others. */
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_SESSION);
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_KEYS);
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_PING);
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_INDEX);
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_OPEN);
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_UNREAD);
}

static void
write_session_cookies (CxWebChatService *self)
{
  JsonObject *keys = json_object_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *text = NULL;

  json_object_set_string_member (keys, "secureKey", self->secure_key);
  json_object_set_string_member (keys, "alias", self->alias);
  json_object_set_string_member (keys, "userId", self->user_id);
  node = cx_json_node_new_object (keys);
  text = json_to_string (node, FALSE);

  self->last_ping_ms = _cx_webchat_service_now_ms ();
  set_cookie (self, COOKIE_KEYS, text);
  _cx_webchat_service_set_cookie_int (self, COOKIE_INDEX,
                                      cx_transcript_cursor_get_next_position (self->cursor));
  _cx_webchat_service_set_cookie_int (self, COOKIE_PING, self->last_ping_ms);
  /* Last: other windows wait for this one, and then read the others. */
  set_cookie (self, COOKIE_SESSION, self->chat_id);
}

/* A successful exchange: the chat is alive. */
void
_cx_webchat_service_touch_ping (CxWebChatService *self)
{
  gint64 now = _cx_webchat_service_now_ms ();

  if (self->state != STATE_ACTIVE || now - self->last_ping_ms < PING_MIN_INTERVAL_MS)
    return;

  self->last_ping_ms = now;
  _cx_webchat_service_set_cookie_int (self, COOKIE_PING, now);
}

typedef struct
{
  char *chat_id;
  char *secure_key;
  char *alias;
  char *user_id;
  gint64 ping;
  gboolean has_ping;
} CookieSession;

static void
cookie_session_clear (CookieSession *session)
{
  g_clear_pointer (&session->chat_id, g_free);
  g_clear_pointer (&session->secure_key, g_free);
  g_clear_pointer (&session->alias, g_free);
  g_clear_pointer (&session->user_id, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CookieSession, cookie_session_clear)

static char *
dup_nonempty_member (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  if (json_node_get_string (node)[0] == '\0')
    return NULL;

  return g_strdup (json_node_get_string (node));
}

/* Reads the session and keys cookies. Returns FALSE when they do not name a chat (absent, or
 * not what this service writes). */
static gboolean
read_cookie_session (CxWebChatService *self, CookieSession *session)
{
  g_autofree char *keys = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object;

  session->chat_id = cx_http_get_site_cookie (self->http, self->site_url, COOKIE_SESSION);
  keys = cx_http_get_site_cookie (self->http, self->site_url, COOKIE_KEYS);
  session->has_ping = get_cookie_int (self, COOKIE_PING, &session->ping);
  if (session->chat_id == NULL || session->chat_id[0] == '\0' || keys == NULL)
    return FALSE;

  root = cx_json_parse (keys, strlen (keys), 4096, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;

  object = json_node_get_object (root);
  session->secure_key = dup_nonempty_member (object, "secureKey");
  session->alias = dup_nonempty_member (object, "alias");
  session->user_id = dup_nonempty_member (object, "userId");

  return session->secure_key != NULL && session->alias != NULL && session->user_id != NULL;
}

static gboolean
cookie_session_is_fresh (CxWebChatService *self, const CookieSession *session)
{
  gint64 age;

  if (!session->has_ping)
    return FALSE;

  age = _cx_webchat_service_now_ms () - session->ping;
  /* A ping from the future (a clock step) counts as now. */
  return age < (gint64) self->restore_timeout_ms;
}

/* Ending */

/* Stops every request, timer and socket of the current chat. */
static void
stop_chat_activity (CxWebChatService *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_clear_handle_id (&self->typing_timeout_id, g_source_remove);
  _cx_webchat_service_close_socket (self);

  self->socket_connecting = FALSE;
  self->socket_had_frame = FALSE;
  self->push_state = PUSH_UNTRIED;
  self->refresh_in_flight = FALSE;
  self->earlier_in_flight = FALSE;
  self->send_in_flight = FALSE;
  self->end_in_flight = FALSE;
  self->push_ended = FALSE;
  self->refresh_predates_end = FALSE;
  self->outbox_blocked = FALSE;
  self->refresh_predates_block = FALSE;
  self->offline = FALSE;
  self->recovering = FALSE;
  self->failures = 0;
  self->typing = FALSE;
  self->agent_typing = FALSE;
}

static void
clear_chat (CxWebChatService *self)
{
  g_clear_pointer (&self->chat_id, g_free);
  g_clear_pointer (&self->user_id, g_free);
  g_clear_pointer (&self->secure_key, g_free);
  g_clear_pointer (&self->alias, g_free);
}

/* The chat is over, or gone, for this service. The cookies go too unless the server could not
 * be asked (another window may still reach it). */
void
_cx_webchat_service_end_session (CxWebChatService *self, gboolean delete_cookies,
                                 const char *error_message)
{
  g_autoptr (CxWebChatService) hold = g_object_ref (self);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) data = NULL;
  Outgoing *outgoing;

  if (self->state != STATE_ACTIVE)
    return;

  stop_chat_activity (self);
  self->state = STATE_IDLE;
  self->generation++;
  if (delete_cookies)
    delete_session_cookies (self);

  error = g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_REJECTED, _ ("The chat has ended"));
  while ((outgoing = g_queue_pop_head (&self->outbox)) != NULL)
    _cx_webchat_service_outgoing_fail (outgoing, g_error_copy (error));
  _cx_webchat_service_reject_all (self->poll_waiters, error);
  _cx_webchat_service_reject_all (self->earlier_waiters, error);
  /* The keys are gone with the chat: what is held is all there will be. */
  settle_transcript (self, _ ("The chat ended before its earlier messages were read"));

  data = _cx_webchat_service_chat_id_node (self->chat_id);
  clear_chat (self);

  if (error_message != NULL)
    _cx_webchat_service_publish_error (self, error_message);
  _cx_webchat_service_publish (self, "ended", data);
  _cx_webchat_service_resolve_all (self->end_waiters, data);
}

/* endChat */

static void
end_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxWebChatService) hold = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  Outcome outcome;
  guint generation;

  reply = _cx_webchat_service_gms_post_finish (result, &outcome, NULL, &error);
  if (outcome == OUTCOME_CANCELLED)
    return;

  hold = g_object_ref (self);
  generation = self->generation;
  self->end_in_flight = FALSE;

  if (outcome == OUTCOME_FAILED && !self->push_ended)
    {
      _cx_webchat_service_reject_all (self->end_waiters, error);
      _cx_webchat_service_exchange_failed (self, error);
      return;
    }

  if (outcome == OUTCOME_OK)
    {
      _cx_webchat_service_exchange_succeeded (self);
      _cx_webchat_service_handle_reply (self, reply);
    }

  /* Over, whatever the reply said; refused means it was already gone. */
  if (_cx_webchat_service_still_in_chat (self, generation))
    _cx_webchat_service_end_session (self, TRUE, NULL);
}

void
_cx_webchat_service_end_chat_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (GHashTable) form = NULL;

  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  g_ptr_array_add (self->end_waiters, g_object_ref (command));
  if (self->end_in_flight)
    return;

  self->end_in_flight = TRUE;
  form = _cx_webchat_service_new_form ();
  _cx_webchat_service_form_add_uint (form, "transcriptPosition",
                                     cx_transcript_cursor_get_next_position (self->cursor));
  _cx_webchat_service_gms_post_async (self, "disconnect", form, NULL, end_reply_cb);
}

/* Starting and restoring */

static void evaluate_start (CxWebChatService *self);

/* A chat begins for this service (started here, or restored). */
static void
begin_session (CxWebChatService *self, const char *chat_id, const char *user_id,
               const char *secure_key, const char *alias)
{
  /* Copied first: the arguments may be the service's own fields. */
  char *new_chat_id = g_strdup (chat_id);
  char *new_user_id = g_strdup (user_id);
  char *new_secure_key = g_strdup (secure_key);
  char *new_alias = g_strdup (alias);

  clear_chat (self);
  self->chat_id = new_chat_id;
  self->user_id = new_user_id;
  self->secure_key = new_secure_key;
  self->alias = new_alias;
  cx_transcript_cursor_reset (self->cursor, 1);
  self->last_acked_index = 0;
  self->claimed_index = 0;
  self->last_ping_ms = 0;
  g_ptr_array_set_size (self->transcript, 0);
  _cx_webchat_service_clear_rows (self);
  self->state = STATE_ACTIVE;
  self->generation++;
}

/* The startChat fields in GMS form: nickname (or firstName / lastName), emailAddress, subject,
 * userData[key]. */
static GHashTable *
start_form_from_data (JsonNode *data, GError **error)
{
  static const struct
  {
    const char *member;
    const char *field;
  } fields[] = {
    { "nickname", "nickname" },  { "firstname", "firstName" }, { "lastname", "lastName" },
    { "email", "emailAddress" }, { "subject", "subject" },
  };
  g_autoptr (GHashTable) form = _cx_webchat_service_new_form ();
  JsonObject *object;
  JsonNode *user_data;

  if (data == NULL || !JSON_NODE_HOLDS_OBJECT (data))
    {
      g_set_error_literal (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED,
                           _ ("startChat needs a nickname, or a first and last name"));
      return NULL;
    }

  object = json_node_get_object (data);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      JsonNode *node = json_object_get_member (object, fields[i].member);

      if (node == NULL || JSON_NODE_HOLDS_NULL (node))
        continue;
      if (json_node_get_value_type (node) != G_TYPE_STRING)
        {
          g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED,
                       _ ("startChat: “%s” must be text"), fields[i].member);
          return NULL;
        }
      if (json_node_get_string (node)[0] != '\0')
        _cx_webchat_service_form_add (form, fields[i].field, json_node_get_string (node));
    }

  if (!g_hash_table_contains (form, "nickname") && !g_hash_table_contains (form, "firstName") &&
      !g_hash_table_contains (form, "lastName"))
    {
      g_set_error_literal (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED,
                           _ ("startChat needs a nickname, or a first and last name"));
      return NULL;
    }

  user_data = json_object_get_member (object, "userData");
  if (user_data != NULL && JSON_NODE_HOLDS_OBJECT (user_data))
    {
      JsonObjectIter iter;
      const char *key;
      JsonNode *value;

      json_object_iter_init (&iter, json_node_get_object (user_data));
      while (json_object_iter_next (&iter, &key, &value))
        {
          g_autofree char *field = g_strdup_printf ("userData[%s]", key);
          g_autofree char *text = NULL;

          /* GMS user data is text: numbers and booleans are sent as JSON writes them. */
          if (!JSON_NODE_HOLDS_VALUE (value))
            continue;
          if (json_node_get_value_type (value) == G_TYPE_STRING)
            text = g_strdup (json_node_get_string (value));
          else
            text = json_to_string (value, FALSE);
          _cx_webchat_service_form_add (form, field, text);
        }
    }
  else if (user_data != NULL && !JSON_NODE_HOLDS_NULL (user_data))
    {
      g_set_error_literal (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED,
                           _ ("startChat: “userData” must be an object"));
      return NULL;
    }

  return g_steal_pointer (&form);
}

/* The chat panel's state as the site's cookies keep it ("panel": {state, unreadMessages}), for
 * a window that restores the chat to show it as the others do. */
static void
add_panel_state (CxWebChatService *self, JsonObject *object)
{
  g_autofree char *state = cx_http_get_site_cookie (self->http, self->site_url, COOKIE_OPEN);
  JsonObject *panel;
  gint64 unread = 0;

  if (state == NULL || (!g_str_equal (state, "open") && !g_str_equal (state, "minimized") &&
                        !g_str_equal (state, "closed")))
    return;

  panel = json_object_new ();
  json_object_set_string_member (panel, "state", state);
  if (get_cookie_int (self, COOKIE_UNREAD, &unread))
    json_object_set_int_member (panel, "unreadMessages", MIN (unread, G_MAXINT32));
  json_object_set_object_member (object, "panel", panel);
}

void
_cx_webchat_service_save_panel_state_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonObject *object = NULL;
  JsonNode *state = NULL;
  JsonNode *unread = NULL;
  const char *value;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    {
      object = json_node_get_object (data);
      state = json_object_get_member (object, "state");
      unread = json_object_get_member (object, "unreadMessages");
    }

  value = state != NULL && json_node_get_value_type (state) == G_TYPE_STRING
              ? json_node_get_string (state)
              : NULL;
  if (value == NULL ||
      (!g_str_equal (value, "open") && !g_str_equal (value, "minimized") &&
       !g_str_equal (value, "closed")) ||
      (unread != NULL &&
       (json_node_get_value_type (unread) != G_TYPE_INT64 || json_node_get_int (unread) < 0)))
    {
      cx_command_reject_message (
          command, _ ("savePanelState needs a “state” (open, minimized or closed) and a "
                      "whole “unreadMessages”"));
      return;
    }

  /* Kept for the chat only: with no chat there is nothing for another window to restore. */
  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  set_cookie (self, COOKIE_OPEN, value);
  _cx_webchat_service_set_cookie_int (self, COOKIE_UNREAD,
                                      unread != NULL ? json_node_get_int (unread) : 0);
  cx_command_resolve (command, NULL);
}

static void
restore_failed (CxWebChatService *self, gboolean forget, const GError *error)
{
  g_autoptr (CxWebChatService) hold = g_object_ref (self);
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) data = NULL;

  clear_chat (self);
  self->state = STATE_IDLE;
  if (forget)
    delete_session_cookies (self);

  json_object_set_string_member (object, "message", error->message);
  data = cx_json_node_new_object (object);
  _cx_webchat_service_publish (self, "restoreFailed", data);
  _cx_webchat_service_reject_all (self->restore_waiters, error);
  if (self->transcript_waiters->len > 0)
    {
      g_autoptr (JsonNode) transcript = transcript_result (self, error->message);

      _cx_webchat_service_resolve_all (self->transcript_waiters, transcript);
    }

  /* A startChat that found this chat in the cookies starts its own now. */
  if (forget && self->start_waiters->len > 0 && self->start_form != NULL)
    {
      self->state = STATE_STARTING;
      evaluate_start (self);
    }
  else
    {
      _cx_webchat_service_reject_all (self->start_waiters, error);
      g_clear_pointer (&self->start_form, g_hash_table_unref);
    }
}

static void
restore_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxWebChatService) hold = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) data = NULL;
  g_autoptr (JsonNode) result_node = NULL;
  g_autoptr (GPtrArray) fresh = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  JsonObject *object;
  Outcome outcome;
  guint generation;

  reply = _cx_webchat_service_gms_post_finish (result, &outcome, NULL, &error);
  if (outcome == OUTCOME_CANCELLED)
    return;

  hold = g_object_ref (self);
  if (outcome != OUTCOME_OK)
    {
      /* Refused: the chat is gone. Failed: the server may come back for another window. */
      restore_failed (self, outcome == OUTCOME_REFUSED, error);
      return;
    }

  begin_session (self, self->chat_id, self->user_id, self->secure_key, self->alias);
  generation = self->generation;
  _cx_webchat_service_exchange_succeeded (self);

  /* The newest page of the transcript (our server pages it; a plain GMS server sends it all),
   * published once as "restored", not as messageReceived. Older pages are read as the
   * customer scrolls up (loadEarlier). */
  if (reply->first_position > 0)
    cx_transcript_cursor_reset (self->cursor, reply->first_position);
  fresh =
      cx_transcript_cursor_accept (self->cursor, reply->messages,
                                   cx_transcript_cursor_get_first_position (self->cursor), 0, NULL);
  for (guint i = 0; i < fresh->len; i++)
    {
      CxMessage *message = g_ptr_array_index (fresh, i);

      g_ptr_array_add (self->transcript, cx_message_ref (message));
      if (message->from_type == CX_PARTY_AGENT && message->type == CX_MESSAGE_TYPING_STARTED)
        self->agent_typing = TRUE;
      else if (message->from_type == CX_PARTY_AGENT)
        self->agent_typing = FALSE;
    }
  _cx_webchat_service_set_cookie_int (self, COOKIE_INDEX,
                                      cx_transcript_cursor_get_next_position (self->cursor));
  rows = _cx_webchat_service_rows_for (self, fresh, TRUE);
  g_list_store_splice (self->messages, 0, 0, rows->pdata, rows->len);

  object = json_object_new ();
  json_object_set_string_member (object, "chatId", self->chat_id);
  json_object_set_array_member (object, "messages",
                                _cx_webchat_service_messages_to_array (self->transcript, 0));
  /* The newest page only: getTranscript reads the rest. */
  json_object_set_boolean_member (object, "more", cx_transcript_cursor_has_older (self->cursor));
  add_panel_state (self, object);
  data = cx_json_node_new_object (object);
  result_node = _cx_webchat_service_chat_id_node (self->chat_id);

  _cx_webchat_service_publish (self, "restored", data);
  _cx_webchat_service_resolve_all (self->restore_waiters, result_node);

  if (reply->chat_ended)
    {
      /* It ended while no window was looking. A startChat waiting on it starts a new one. */
      if (_cx_webchat_service_still_in_chat (self, generation))
        _cx_webchat_service_end_session (self, TRUE, NULL);
      if (!self->disposed && self->state == STATE_IDLE && self->start_waiters->len > 0 &&
          self->start_form != NULL)
        {
          self->state = STATE_STARTING;
          evaluate_start (self);
        }
      return;
    }

  g_clear_pointer (&self->start_form, g_hash_table_unref);
  _cx_webchat_service_resolve_all (self->start_waiters, result_node);
  if (_cx_webchat_service_still_in_chat (self, generation))
    _cx_webchat_service_start_transport (self);
  /* A getTranscript asked while the chat was being restored. */
  if (_cx_webchat_service_still_in_chat (self, generation))
    read_whole_transcript (self);
}

/* Reads the transcript of the chat the cookies name: its newest page, from a server that pages
 * (API.md), or all of it from index 1. */
static void
begin_restore (CxWebChatService *self, CookieSession *session)
{
  g_autoptr (GHashTable) form = _cx_webchat_service_new_form ();

  clear_chat (self);
  self->chat_id = g_steal_pointer (&session->chat_id);
  self->user_id = g_steal_pointer (&session->user_id);
  self->secure_key = g_steal_pointer (&session->secure_key);
  self->alias = g_steal_pointer (&session->alias);
  self->state = STATE_RESTORING;

  _cx_webchat_service_form_add_uint (form, "transcriptPosition", 1);
  _cx_webchat_service_form_add_uint (form, "limit", TRANSCRIPT_PAGE);
  _cx_webchat_service_gms_post_async (self, "refresh", form, NULL, restore_reply_cb);
}

static gboolean
restore_timeout_idle_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (JsonNode) data = json_node_new (JSON_NODE_OBJECT);

  self->restore_timeout_idle_id = 0;
  json_node_take_object (data, json_object_new ());
  _cx_webchat_service_publish (self, "restoreTimeout", data);

  return G_SOURCE_REMOVE;
}

/* What the cookies say when the window opens: a live chat to restore, an expired one to
 * forget, or nothing. */
void
_cx_webchat_service_restore_from_cookies (CxWebChatService *self)
{
  g_auto (CookieSession) session = { 0 };

  if (!read_cookie_session (self, &session))
    {
      /* Half a session (a cookie deleted by hand, a foreign value) is no session. */
      if (session.chat_id != NULL)
        delete_session_cookies (self);
      return;
    }

  if (cookie_session_is_fresh (self, &session))
    {
      begin_restore (self, &session);
      return;
    }

  delete_session_cookies (self);
  /* From the main loop, so that whoever created the service has subscribed by then. */
  if (self->restore_timeout_idle_id == 0)
    self->restore_timeout_idle_id = g_idle_add (restore_timeout_idle_cb, self);
}

static gboolean
lock_refresh_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;

  _cx_webchat_service_set_cookie_int (self, COOKIE_LOCK, _cx_webchat_service_now_ms ());
  return G_SOURCE_CONTINUE;
}

static void
start_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxWebChatService) hold = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) data = NULL;
  Outcome outcome;
  guint generation;

  reply = _cx_webchat_service_gms_post_finish (result, &outcome, NULL, &error);
  if (outcome == OUTCOME_CANCELLED)
    return;

  hold = g_object_ref (self);
  self->start_in_flight = FALSE;
  g_clear_handle_id (&self->lock_refresh_id, g_source_remove);

  if (outcome == OUTCOME_OK && (reply->chat_id == NULL || reply->user_id == NULL ||
                                reply->secure_key == NULL || reply->alias == NULL))
    {
      g_clear_error (&error);
      error = g_error_new_literal (CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                                   _ ("The chat server did not say which chat it started"));
    }

  if (error != NULL)
    {
      cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_LOCK);
      self->state = STATE_IDLE;
      g_clear_pointer (&self->start_form, g_hash_table_unref);
      _cx_webchat_service_publish_error (self, error->message);
      _cx_webchat_service_reject_all (self->start_waiters, error);
      _cx_webchat_service_reject_all (self->restore_waiters, error);
      return;
    }

  begin_session (self, reply->chat_id, reply->user_id, reply->secure_key, reply->alias);
  generation = self->generation;
  write_session_cookies (self);
  /* After the session cookie: a window waiting on the lock finds the chat, not a free lock. */
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_LOCK);
  g_clear_pointer (&self->start_form, g_hash_table_unref);

  data = _cx_webchat_service_chat_id_node (self->chat_id);
  _cx_webchat_service_publish (self, "started", data);
  _cx_webchat_service_resolve_all (self->start_waiters, data);
  _cx_webchat_service_resolve_all (self->restore_waiters, data);

  if (!_cx_webchat_service_still_in_chat (self, generation))
    return;
  _cx_webchat_service_handle_reply (self, reply);
  if (_cx_webchat_service_still_in_chat (self, generation))
    _cx_webchat_service_start_transport (self);
}

static gboolean
lock_wait_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;

  self->lock_wait_id = 0;
  evaluate_start (self);
  return G_SOURCE_REMOVE;
}

/* startChat, and every change of the cookies while it waits: restore the chat the cookies
 * name, wait for the window that holds the start lock, or take the lock and start. */
static void
evaluate_start (CxWebChatService *self)
{
  g_auto (CookieSession) session = { 0 };
  gint64 lock = 0;

  if (self->state != STATE_STARTING || self->start_in_flight)
    return;

  g_clear_handle_id (&self->lock_wait_id, g_source_remove);

  if (read_cookie_session (self, &session))
    {
      if (cookie_session_is_fresh (self, &session))
        {
          begin_restore (self, &session);
          return;
        }

      /* Nobody has pinged it for restoreTimeout: it is over for the client. */
      delete_session_cookies (self);
    }

  if (get_cookie_int (self, COOKIE_LOCK, &lock))
    {
      gint64 age = _cx_webchat_service_now_ms () - lock;

      if (age > -START_LOCK_VALID_MS && age < START_LOCK_VALID_MS)
        {
          /* Another window is starting the chat. Its session cookie brings us back here
           * (_cx_webchat_service_jar_changed_cb), or its lock goes stale and this timer does. */
          self->lock_wait_id =
              g_timeout_add ((guint) (START_LOCK_VALID_MS - age + 1), lock_wait_cb, self);
          return;
        }
    }

  self->start_in_flight = TRUE;
  _cx_webchat_service_set_cookie_int (self, COOKIE_LOCK, _cx_webchat_service_now_ms ());
  self->lock_refresh_id = g_timeout_add (START_LOCK_REFRESH_MS, lock_refresh_cb, self);
  _cx_webchat_service_gms_post_async (self, NULL, self->start_form, NULL, start_reply_cb);
}

/* No chat here, and another window of the site has started one: join it, as a window opened
 * now would. */
static void
pick_up_chat (CxWebChatService *self)
{
  g_auto (CookieSession) session = { 0 };

  if (self->state != STATE_IDLE || self->disposed)
    return;

  if (read_cookie_session (self, &session) && cookie_session_is_fresh (self, &session))
    begin_restore (self, &session);
}

static gboolean
cookie_check_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;

  self->cookie_check_id = 0;
  if (self->state == STATE_IDLE)
    pick_up_chat (self);
  else
    evaluate_start (self);
  return G_SOURCE_REMOVE;
}

void
_cx_webchat_service_jar_changed_cb (SoupCookieJar *jar, SoupCookie *old_cookie,
                                    SoupCookie *new_cookie, gpointer user_data)
{
  CxWebChatService *self = user_data;
  SoupCookie *cookie = new_cookie != NULL ? new_cookie : old_cookie;

  if (cookie == NULL || !g_str_has_prefix (soup_cookie_get_name (cookie), CX_WEBCHAT_COOKIE_PREFIX))
    return;

  /* Idle, only a session cookie being set (a chat starting in another window) matters; its
   * domain is checked when the cookies are read for this site. */
  if (self->state == STATE_IDLE)
    {
      if (new_cookie != NULL && g_str_equal (soup_cookie_get_name (new_cookie), COOKIE_SESSION) &&
          self->cookie_check_id == 0)
        self->cookie_check_id = g_idle_add (cookie_check_cb, self);
      return;
    }

  if (self->state != STATE_STARTING || self->start_in_flight)
    return;

  /* Not from inside the jar's signal: once the other window has written all its cookies. */
  if (self->cookie_check_id == 0)
    self->cookie_check_id = g_idle_add (cookie_check_cb, self);
}

void
_cx_webchat_service_start_chat_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;

  if (self->state == STATE_ACTIVE)
    {
      /* One chat at a time: this is it. */
      result = _cx_webchat_service_chat_id_node (self->chat_id);
      cx_command_resolve (command, result);
      return;
    }

  /* Checked at once, even when another start is under way, so a bad call fails now. */
  form = start_form_from_data (cx_command_get_data (command), &error);
  if (form == NULL)
    {
      cx_command_reject (command, g_steal_pointer (&error));
      return;
    }

  g_ptr_array_add (self->start_waiters, g_object_ref (command));
  if (self->start_form == NULL)
    self->start_form = g_steal_pointer (&form);

  /* A start or a restore under way answers this call too (one request for both). */
  if (self->state != STATE_IDLE)
    return;

  self->state = STATE_STARTING;
  evaluate_start (self);
}

void
_cx_webchat_service_restore_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_auto (CookieSession) session = { 0 };
  g_autoptr (JsonNode) result = NULL;

  switch (self->state)
    {
      case STATE_ACTIVE:
        result = _cx_webchat_service_chat_id_node (self->chat_id);
        cx_command_resolve (command, result);
        return;

      case STATE_STARTING:
      case STATE_RESTORING:
        g_ptr_array_add (self->restore_waiters, g_object_ref (command));
        return;

      case STATE_IDLE:
      default:
        break;
    }

  if (!read_cookie_session (self, &session))
    {
      cx_command_reject_message (command, _ ("There is no chat to restore"));
      return;
    }

  if (!cookie_session_is_fresh (self, &session))
    {
      g_autoptr (JsonNode) data = json_node_new (JSON_NODE_OBJECT);

      delete_session_cookies (self);
      json_node_take_object (data, json_object_new ());
      _cx_webchat_service_publish (self, "restoreTimeout", data);
      cx_command_reject_message (command, _ ("The chat was left too long ago to restore"));
      return;
    }

  g_ptr_array_add (self->restore_waiters, g_object_ref (command));
  begin_restore (self, &session);
}

/* loadEarlier and getTranscript: the pages of the transcript before the first entry this service
 * holds. One request runs at a time: the page before (loadEarlier, TRANSCRIPT_PAGE entries), or,
 * while a getTranscript waits, every page down to the first entry (TRANSCRIPT_WHOLE_PAGE
 * entries each, at most TRANSCRIPT_WHOLE_MAX_PAGES of them). Each page's rows go above the
 * others in the model: the panel shows them as the customer scrolls up. */

static JsonNode *
transcript_result (CxWebChatService *self, const char *why_incomplete)
{
  JsonObject *object = json_object_new ();

  json_object_set_array_member (object, "messages",
                                _cx_webchat_service_messages_to_array (self->transcript, 0));
  json_object_set_boolean_member (object, "complete", why_incomplete == NULL);
  if (why_incomplete != NULL)
    json_object_set_string_member (object, "error", why_incomplete);
  return cx_json_node_new_object (object);
}

/* Answers every getTranscript waiting with the entries held: all of them, or (with
 * @why_incomplete) not the oldest, and why. */
static void
settle_transcript (CxWebChatService *self, const char *why_incomplete)
{
  g_autoptr (JsonNode) result = NULL;

  self->earlier_pages = 0;
  if (self->transcript_waiters->len == 0)
    return;

  result = transcript_result (self, cx_transcript_cursor_has_older (self->cursor) ? why_incomplete
                                                                                  : NULL);
  _cx_webchat_service_resolve_all (self->transcript_waiters, result);
}

static void earlier_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data);

static void
request_earlier (CxWebChatService *self)
{
  g_autoptr (GHashTable) form = NULL;

  if (self->earlier_in_flight)
    return;

  self->earlier_in_flight = TRUE;
  form = _cx_webchat_service_new_form ();
  _cx_webchat_service_form_add_uint (form, "transcriptPosition", 1);
  _cx_webchat_service_form_add_uint (form, "before",
                                     cx_transcript_cursor_get_first_position (self->cursor));
  _cx_webchat_service_form_add_uint (
      form, "limit", self->transcript_waiters->len > 0 ? TRANSCRIPT_WHOLE_PAGE : TRANSCRIPT_PAGE);
  _cx_webchat_service_gms_post_async (self, "refresh", form, NULL, earlier_reply_cb);
}

/* The next older page for the getTranscript calls waiting, or their answer. */
static void
read_whole_transcript (CxWebChatService *self)
{
  if (self->transcript_waiters->len == 0)
    return;

  if (!cx_transcript_cursor_has_older (self->cursor))
    settle_transcript (self, NULL);
  else if (self->earlier_pages >= TRANSCRIPT_WHOLE_MAX_PAGES)
    settle_transcript (self, _ ("The transcript is too long to be read whole"));
  else
    request_earlier (self);
}

static void
earlier_failed (CxWebChatService *self, const GError *error)
{
  g_autofree char *why = NULL;

  _cx_webchat_service_reject_all (self->earlier_waiters, error);
  /* Translators: %s says why */
  why = g_strdup_printf (_ ("The earlier messages could not be read: %s"), error->message);
  settle_transcript (self, why);
}

static void
earlier_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxWebChatService) hold = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) older = NULL;
  g_autoptr (GPtrArray) merged = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (JsonNode) data = NULL;
  JsonObject *object;
  Outcome outcome;
  guint first;
  guint page_from;
  guint generation;

  reply = _cx_webchat_service_gms_post_finish (result, &outcome, NULL, &error);
  if (outcome == OUTCOME_CANCELLED)
    return;

  hold = g_object_ref (self);
  generation = self->generation;
  self->earlier_in_flight = FALSE;
  if (outcome != OUTCOME_OK)
    {
      earlier_failed (self, error);
      if (outcome == OUTCOME_FAILED && _cx_webchat_service_still_in_chat (self, generation))
        _cx_webchat_service_exchange_failed (self, error);
      return;
    }

  _cx_webchat_service_exchange_succeeded (self);

  /* Without firstPosition the server sent every entry from the start. A page that does not
   * begin before the first entry held would be asked for again and again: refused. */
  first = cx_transcript_cursor_get_first_position (self->cursor);
  page_from = reply->first_position > 0 ? reply->first_position : 1;
  if (page_from >= first)
    {
      g_autoptr (GError) bad =
          g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _ ("The chat server sent no messages before %u"), first);

      earlier_failed (self, bad);
      return;
    }
  older = cx_transcript_cursor_accept_older (self->cursor, reply->messages, page_from);
  merged =
      g_ptr_array_new_full (older->len + self->transcript->len, (GDestroyNotify) cx_message_unref);
  for (guint i = 0; i < older->len; i++)
    g_ptr_array_add (merged, cx_message_ref (g_ptr_array_index (older, i)));
  for (guint i = 0; i < self->transcript->len; i++)
    g_ptr_array_add (merged, cx_message_ref (g_ptr_array_index (self->transcript, i)));
  g_ptr_array_unref (self->transcript);
  self->transcript = g_steal_pointer (&merged);
  rows = _cx_webchat_service_rows_for (self, older, FALSE);
  g_list_store_splice (self->messages, 0, 0, rows->pdata, rows->len);

  object = json_object_new ();
  json_object_set_array_member (object, "messages",
                                _cx_webchat_service_messages_to_array (older, 0));
  json_object_set_boolean_member (object, "more", cx_transcript_cursor_has_older (self->cursor));
  data = cx_json_node_new_object (object);
  _cx_webchat_service_resolve_all (self->earlier_waiters, data);

  if (!_cx_webchat_service_still_in_chat (self, generation))
    return;
  if (self->transcript_waiters->len > 0)
    {
      self->earlier_pages++;
      read_whole_transcript (self);
    }
}

void
_cx_webchat_service_load_earlier_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;

  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  if (!cx_transcript_cursor_has_older (self->cursor))
    {
      JsonObject *object = json_object_new ();
      g_autoptr (JsonNode) data = NULL;

      json_object_set_array_member (object, "messages", json_array_new ());
      json_object_set_boolean_member (object, "more", FALSE);
      data = cx_json_node_new_object (object);
      cx_command_resolve (command, data);
      return;
    }

  /* One request answers every call made while it runs. */
  g_ptr_array_add (self->earlier_waiters, g_object_ref (command));
  request_earlier (self);
}

/* getTranscript: every entry of the chat, in index order; the older pages are read first. */
void
_cx_webchat_service_get_transcript_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (JsonNode) result = NULL;

  switch (self->state)
    {
      case STATE_RESTORING:
        /* Answered once the restored chat's pages are read. */
        g_ptr_array_add (self->transcript_waiters, g_object_ref (command));
        return;

      case STATE_ACTIVE:
        if (cx_transcript_cursor_has_older (self->cursor))
          {
            g_ptr_array_add (self->transcript_waiters, g_object_ref (command));
            read_whole_transcript (self);
            return;
          }
        break;

      case STATE_IDLE:
      case STATE_STARTING:
      default:
        break;
    }

  /* No chat to read from (an ended one's keys are gone), or nothing older. */
  result = transcript_result (
      self, cx_transcript_cursor_has_older (self->cursor)
                ? _ ("The chat has ended: its earlier messages can no longer be read")
                : NULL);
  cx_command_resolve (command, result);
}
