/* cx-webchat-service.c: the "WebChatService" plugin of one window's bus: the customer side of
 * a GMS Chat API v2 chat, its transport, and the session cookies that let every window of a
 * site share one chat.
 *
 * The class is split by concern over cx-webchat-service-private.h: this file has the GObject
 * boilerplate, the configuration, the command table, the transcript and the events it
 * publishes; cx-webchat-service-session.c the cookies, starting, restoring and ending;
 * cx-webchat-service-transport.c the push socket, polling and the offline probe;
 * cx-webchat-service-outbox.c sendMessage's queue and typing; cx-webchat-service-files.c
 * sendFile and the file limits; cx-webchat-service-gms.c the requests to GMS.
 *
 * Every transcript entry, from any source (push frames, refresh replies, the replies to send and
 * disconnect, which ask for the transcript too), goes through
 * _cx_webchat_service_receive_messages(): an entry is published once, in index order, when its
 * index is the next one expected, so the sources may overlap freely.
 *
 * Disposing the service (a window closes) cancels its requests and keeps the cookies: the chat
 * goes on, and another window restores it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-webchat-service"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "services/cx-webchat-service-private.h"

G_DEFINE_FINAL_TYPE (CxWebChatService, cx_webchat_service, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_AGENT_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const event_names[] = {
  "started",
  "restored",
  "restoreTimeout",
  "restoreFailed",
  "messageReceived",
  "agentConnected",
  "agentDisconnected",
  "agentTypingStarted",
  "agentTypingStopped",
  "ended",
  "error",
  "chatServerWentOffline",
  "chatServerBackOnline",
  NULL,
};

/* Small helpers */

gint64
_cx_webchat_service_now_ms (void)
{
  return g_get_real_time () / 1000;
}

void
_cx_webchat_service_outgoing_free (Outgoing *outgoing)
{
  g_free (outgoing->text);
  g_clear_object (&outgoing->command);
  g_clear_object (&outgoing->row);
  g_free (outgoing);
}

/* @outgoing, off the queue, will not be sent: its row says why, its command is rejected. Takes
 * @error. */
void
_cx_webchat_service_outgoing_fail (Outgoing *outgoing, GError *error)
{
  if (outgoing->row != NULL)
    {
      cx_chat_message_set_error (outgoing->row, error->message);
      cx_chat_message_set_status (outgoing->row, CX_CHAT_MESSAGE_STATUS_FAILED);
    }
  cx_command_reject (outgoing->command, error);
  _cx_webchat_service_outgoing_free (outgoing);
}

JsonNode *
_cx_webchat_service_chat_id_node (const char *chat_id)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "chatId", chat_id);
  return cx_json_node_new_object (object);
}

JsonArray *
_cx_webchat_service_messages_to_array (GPtrArray *messages, guint from)
{
  JsonArray *array = json_array_new ();

  for (guint i = from; i < messages->len; i++)
    json_array_add_element (array, cx_message_to_json (g_ptr_array_index (messages, i)));

  return array;
}

void
_cx_webchat_service_publish (CxWebChatService *self, const char *event, JsonNode *data)
{
  /* A disposed service is off its bus: it has nothing more to say. */
  if (self->disposed || cx_plugin_get_bus (self->plugin) == NULL)
    return;

  cx_plugin_publish (self->plugin, event, data);
}

void
_cx_webchat_service_publish_error (CxWebChatService *self, const char *message)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) data = NULL;

  json_object_set_string_member (object, "message", message);
  data = cx_json_node_new_object (object);
  _cx_webchat_service_publish (self, "error", data);
}

/* Resolves and empties a list of waiting commands. */
void
_cx_webchat_service_resolve_all (GPtrArray *commands, JsonNode *result)
{
  g_autoptr (GPtrArray) taken = NULL;

  if (commands->len == 0)
    return;

  /* A resolution may run code that adds to the list: answer those in a later round. The copy
   * holds its own references, and frees them. */
  taken = g_ptr_array_copy (commands, (GCopyFunc) g_object_ref, NULL);
  g_ptr_array_set_size (commands, 0);
  for (guint i = 0; i < taken->len; i++)
    cx_command_resolve (g_ptr_array_index (taken, i), result);
}

void
_cx_webchat_service_reject_all (GPtrArray *commands, const GError *error)
{
  g_autoptr (GPtrArray) taken = NULL;

  if (commands->len == 0)
    return;

  taken = g_ptr_array_copy (commands, (GCopyFunc) g_object_ref, NULL);
  g_ptr_array_set_size (commands, 0);
  for (guint i = 0; i < taken->len; i++)
    cx_command_reject (g_ptr_array_index (taken, i), g_error_copy (error));
}

/* Configuration */

/* ws://host/…/cx/1/chat/{service} for http://host/…/genesys/2/chat/{service}, or NULL. */
static char *
derive_push_url_base (GUri *data_uri)
{
  static const char marker[] = "/genesys/2/chat/";
  const char *path = g_uri_get_path (data_uri);
  const char *found = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *push_path = NULL;
  const char *service;
  const char *scheme;

  for (const char *p = strstr (path, marker); p != NULL; p = strstr (p + 1, marker))
    found = p;
  if (found == NULL)
    return NULL;

  service = found + strlen (marker);
  if (service[0] == '\0' || strchr (service, '/') != NULL)
    return NULL;

  prefix = g_strndup (path, found - path);
  push_path = g_strconcat (prefix, "/cx/1/chat/", service, NULL);
  scheme = g_ascii_strcasecmp (g_uri_get_scheme (data_uri), "https") == 0 ? "wss" : "ws";

  return g_uri_join (G_URI_FLAGS_ENCODED_PATH, scheme, NULL, g_uri_get_host (data_uri),
                     g_uri_get_port (data_uri), push_path, NULL, NULL);
}

static gboolean
parse_config (CxWebChatService *self, JsonObject *config, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GUri) trimmed = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *path = NULL;
  JsonNode *node;
  const char *data_url = NULL;
  const char *transport = "auto";
  const char *scheme;
  gsize length;

  node = config != NULL ? json_object_get_member (config, "dataURL") : NULL;
  if (node != NULL && json_node_get_value_type (node) == G_TYPE_STRING)
    data_url = json_node_get_string (node);
  if (data_url == NULL || data_url[0] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The chat settings have no “dataURL”"));
      return FALSE;
    }

  uri = g_uri_parse (data_url, SOUP_HTTP_URI_FLAGS, &local_error);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
      g_uri_get_query (uri) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The chat “dataURL” “%s” is not an http:// or https:// address"), data_url);
      return FALSE;
    }

  /* Per-chat addresses are dataURL + "/{chatId}/{op}". */
  path = g_strdup (g_uri_get_path (uri));
  length = strlen (path);
  while (length > 0 && path[length - 1] == '/')
    path[--length] = '\0';
  trimmed = soup_uri_copy (uri, SOUP_URI_PATH, path, SOUP_URI_FRAGMENT, NULL, SOUP_URI_NONE);
  self->data_url = g_uri_to_string (trimmed);
  self->push_url_base = derive_push_url_base (trimmed);

  node = config != NULL ? json_object_get_member (config, "transport") : NULL;
  if (node != NULL && json_node_get_value_type (node) == G_TYPE_STRING)
    transport = json_node_get_string (node);
  if (g_str_equal (transport, "auto"))
    self->push_allowed = TRUE;
  else if (g_str_equal (transport, "poll"))
    self->push_allowed = FALSE;
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The chat “transport” must be “auto” or “poll”, not “%s”"), transport);
      return FALSE;
    }

  return cx_service_config_get_uint (config, "pollRate", DEFAULT_POLL_RATE_MS, MIN_POLL_RATE_MS,
                                     MAX_POLL_RATE_MS, &self->poll_rate_ms, error) &&
         cx_service_config_get_uint (config, "pollExceptionLimit", DEFAULT_POLL_EXCEPTION_LIMIT, 1,
                                     1000, &self->poll_exception_limit, error) &&
         cx_service_config_get_uint (config, "restoreTimeout", DEFAULT_RESTORE_TIMEOUT_MS,
                                     MIN_RESTORE_TIMEOUT_MS, G_MAXINT, &self->restore_timeout_ms,
                                     error) &&
         cx_service_config_get_ajax_timeout (config, &self->ajax_timeout_ms, error);
}

/* The transcript */

/* The transcript's rows */

static void
set_agent_name (CxWebChatService *self, const char *name)
{
  if (g_strcmp0 (self->agent_name, name) == 0)
    return;

  g_free (self->agent_name);
  self->agent_name = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AGENT_NAME]);
}

void
_cx_webchat_service_clear_rows (CxWebChatService *self)
{
  g_list_store_remove_all (self->messages);
  set_agent_name (self, NULL);
}

/* The customer's message in flight, if @message is the server's copy of it (the rule of
 * cx-webchat-service-outbox.c): its row takes the index instead of a second row. */
static gboolean
claim_echo (CxWebChatService *self, CxMessage *message)
{
  Outgoing *outgoing = g_queue_peek_head (&self->outbox);

  /* The reply to its send brought it: the row has its index already. */
  if (message->index != 0 && message->index == self->claimed_index)
    return TRUE;

  if (outgoing == NULL || outgoing->row == NULL || outgoing->first_position == 0 ||
      cx_chat_message_get_index (outgoing->row) != 0 || message->type != CX_MESSAGE_TEXT ||
      message->from_type != CX_PARTY_CLIENT ||
      message->index < MAX (self->last_acked_index + 1, outgoing->first_position) ||
      g_strcmp0 (message->text, outgoing->text) != 0)
    return FALSE;

  cx_chat_message_set_index (outgoing->row, message->index);
  cx_chat_message_set_status (outgoing->row, CX_CHAT_MESSAGE_STATUS_SENT);
  return TRUE;
}

/* The rows @entries (in index order) make. With @newest (entries after every row, not an older
 * page), they also say who the agent is now, and the server's copies of this window's messages
 * go to their rows. */
GPtrArray *
_cx_webchat_service_rows_for (CxWebChatService *self, GPtrArray *entries, gboolean newest)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < entries->len; i++)
    {
      CxMessage *message = g_ptr_array_index (entries, i);
      gboolean staff =
          message->from_type == CX_PARTY_AGENT || message->from_type == CX_PARTY_SUPERVISOR;
      CxChatMessage *row;

      if (newest && staff && message->type == CX_MESSAGE_PARTICIPANT_JOINED)
        set_agent_name (self, message->from_nickname);
      else if (newest && staff && message->type == CX_MESSAGE_PARTICIPANT_LEFT &&
               g_strcmp0 (self->agent_name, message->from_nickname) == 0)
        set_agent_name (self, NULL);

      if (newest && claim_echo (self, message))
        continue;
      row = cx_chat_message_new_from_transcript (message);
      if (row != NULL)
        g_ptr_array_add (rows, row);
    }

  return rows;
}

gboolean
_cx_webchat_service_still_in_chat (CxWebChatService *self, guint generation)
{
  return !self->disposed && self->state == STATE_ACTIVE && self->generation == generation;
}

static void
publish_with_nickname (CxWebChatService *self, const char *event, CxMessage *message,
                       gboolean with_text)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) data = NULL;

  json_object_set_string_member (object, "nickname",
                                 message->from_nickname != NULL ? message->from_nickname : "");
  if (with_text)
    json_object_set_string_member (object, "text", message->text != NULL ? message->text : "");
  data = cx_json_node_new_object (object);
  _cx_webchat_service_publish (self, event, data);
}

/* The events a transcript entry stands for, besides messageReceived. */
static void
publish_derived (CxWebChatService *self, CxMessage *message)
{
  if (message->from_type != CX_PARTY_AGENT)
    return;

  switch (message->type)
    {
      case CX_MESSAGE_PARTICIPANT_JOINED:
        publish_with_nickname (self, "agentConnected", message, FALSE);
        break;

      case CX_MESSAGE_PARTICIPANT_LEFT:
        self->agent_typing = FALSE;
        publish_with_nickname (self, "agentDisconnected", message, FALSE);
        break;

      case CX_MESSAGE_TYPING_STARTED:
        self->agent_typing = TRUE;
        publish_with_nickname (self, "agentTypingStarted", message, TRUE);
        break;

      case CX_MESSAGE_TYPING_STOPPED:
        self->agent_typing = FALSE;
        publish_with_nickname (self, "agentTypingStopped", message, FALSE);
        break;

      case CX_MESSAGE_TEXT:
        /* A message ends the typing that led to it. */
        if (self->agent_typing)
          {
            self->agent_typing = FALSE;
            publish_with_nickname (self, "agentTypingStopped", message, FALSE);
          }
        break;

      default:
        break;
    }
}

/* Publishes the entries of @messages not published yet, in index order, each exactly once
 * (the transcript cursor says which). With @strict (push frames, which are contiguous), an entry
 * past the next index means something was missed: the rest is dropped, and a refresh reads from
 * the next index. Replies hold every entry from the position they were asked from, which was at
 * or below the next one: an index they skip is an entry of a type this version does not read. */
void
_cx_webchat_service_receive_messages (CxWebChatService *self, GPtrArray *messages, gboolean strict)
{
  g_autoptr (CxWebChatService) hold = g_object_ref (self);
  g_autoptr (GPtrArray) fresh = NULL;
  g_autoptr (GPtrArray) after_gap = NULL;
  g_autoptr (JsonNode) data = NULL;
  JsonObject *object;
  guint generation = self->generation;

  if (self->state != STATE_ACTIVE || messages->len == 0)
    return;

  /* A reply's next position is not trusted to move the cursor: a request that did not ask for
   * the transcript gets the chat's next position with no entries. */
  fresh = cx_transcript_cursor_accept (self->cursor, messages, strict ? 0 : 1, 0, &after_gap);
  for (guint i = 0; i < fresh->len; i++)
    g_ptr_array_add (self->transcript, cx_message_ref (g_ptr_array_index (fresh, i)));
  if (fresh->len > 0)
    {
      g_autoptr (GPtrArray) rows = _cx_webchat_service_rows_for (self, fresh, TRUE);

      /* One change of the model: a view relays itself out once. */
      g_list_store_splice (self->messages, g_list_model_get_n_items (G_LIST_MODEL (self->messages)),
                           0, rows->pdata, rows->len);
    }

  if (fresh->len > 0)
    {
      _cx_webchat_service_set_cookie_int (self, COOKIE_INDEX,
                                          cx_transcript_cursor_get_next_position (self->cursor));

      object = json_object_new ();
      json_object_set_array_member (object, "messages",
                                    _cx_webchat_service_messages_to_array (fresh, 0));
      data = cx_json_node_new_object (object);
      _cx_webchat_service_publish (self, "messageReceived", data);

      for (guint i = 0; i < fresh->len && _cx_webchat_service_still_in_chat (self, generation); i++)
        publish_derived (self, g_ptr_array_index (fresh, i));
    }

  if (after_gap != NULL && _cx_webchat_service_still_in_chat (self, generation))
    {
      g_debug ("Chat %s: the push socket skipped to a later index, reading the transcript",
               self->chat_id);
      _cx_webchat_service_poll_now (self);
    }
}

/* Everything a reply carries: new transcript entries, and whether the chat is over. */
void
_cx_webchat_service_handle_reply (CxWebChatService *self, CxGmsReply *reply)
{
  guint generation = self->generation;

  _cx_webchat_service_receive_messages (self, reply->messages, FALSE);
  if (reply->chat_ended && _cx_webchat_service_still_in_chat (self, generation))
    _cx_webchat_service_end_session (self, TRUE, NULL);
}

/* Commands */

static void
get_session_data_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  JsonObject *object;
  g_autoptr (JsonNode) result = NULL;

  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  /* Never the secure key: it is the chat's password, and data on the bus is widely seen. */
  object = json_object_new ();
  json_object_set_string_member (object, "chatId", self->chat_id);
  json_object_set_string_member (object, "userId", self->user_id);
  json_object_set_string_member (object, "alias", self->alias);
  result = cx_json_node_new_object (object);
  cx_command_resolve (command, result);
}

typedef struct
{
  const char *name;
  CxCommandFunc func;
} CommandSpec;

static const CommandSpec command_specs[] = {
  { "startChat", _cx_webchat_service_start_chat_cb },
  { "restore", _cx_webchat_service_restore_cb },
  { "sendMessage", _cx_webchat_service_send_message_cb },
  { "sendTyping", _cx_webchat_service_send_typing_cb },
  { "endChat", _cx_webchat_service_end_chat_cb },
  { "getFileLimits", _cx_webchat_service_get_file_limits_cb },
  { "sendFile", _cx_webchat_service_send_file_cb },
  { "savePanelState", _cx_webchat_service_save_panel_state_cb },
  { "getSessionData", get_session_data_cb },
  { "getTranscript", _cx_webchat_service_get_transcript_cb },
  { "loadEarlier", _cx_webchat_service_load_earlier_cb },
  { "poll", _cx_webchat_service_poll_command_cb },
  { "startPoll", _cx_webchat_service_start_poll_cb },
  { "stopPoll", _cx_webchat_service_stop_poll_cb },
};

/* Object */

static void
cx_webchat_service_dispose (GObject *object)
{
  CxWebChatService *self = CX_WEBCHAT_SERVICE (object);
  g_autoptr (GError) error = NULL;
  Outgoing *outgoing;

  self->disposed = TRUE;

  /* The chat goes on without this window: nothing is sent, no cookie is touched, and no
   * command reaches the service after this. */
  cx_service_leave_bus (self->cancellable, &self->plugin);

  g_clear_handle_id (&self->lock_refresh_id, g_source_remove);
  g_clear_handle_id (&self->lock_wait_id, g_source_remove);
  g_clear_handle_id (&self->cookie_check_id, g_source_remove);
  g_clear_handle_id (&self->restore_timeout_idle_id, g_source_remove);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_clear_handle_id (&self->typing_timeout_id, g_source_remove);
  _cx_webchat_service_close_socket (self);

  if (self->jar_changed_id != 0 && self->http != NULL)
    g_signal_handler_disconnect (cx_http_get_cookie_jar (self->http), self->jar_changed_id);
  self->jar_changed_id = 0;

  /* What still waits is answered now: the window is gone. */
  error =
      g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN, _ ("The chat window was closed"));
  _cx_webchat_service_reject_all (self->start_waiters, error);
  _cx_webchat_service_reject_all (self->restore_waiters, error);
  _cx_webchat_service_reject_all (self->earlier_waiters, error);
  _cx_webchat_service_reject_all (self->transcript_waiters, error);
  _cx_webchat_service_reject_all (self->poll_waiters, error);
  _cx_webchat_service_reject_all (self->end_waiters, error);
  while ((outgoing = g_queue_pop_head (&self->outbox)) != NULL)
    _cx_webchat_service_outgoing_fail (outgoing, g_error_copy (error));

  g_clear_object (&self->bus);
  g_clear_object (&self->http);

  G_OBJECT_CLASS (cx_webchat_service_parent_class)->dispose (object);
}

static void
cx_webchat_service_finalize (GObject *object)
{
  CxWebChatService *self = CX_WEBCHAT_SERVICE (object);

  g_clear_pointer (&self->start_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->restore_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->earlier_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->transcript_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->poll_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->end_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->transcript, g_ptr_array_unref);
  g_clear_pointer (&self->cursor, cx_transcript_cursor_free);
  g_clear_object (&self->messages);
  g_free (self->agent_name);
  g_clear_pointer (&self->start_form, g_hash_table_unref);
  g_clear_object (&self->cancellable);
  g_free (self->site_url);
  g_free (self->data_url);
  g_free (self->push_url_base);
  g_free (self->chat_id);
  g_free (self->user_id);
  g_free (self->secure_key);
  g_free (self->alias);

  G_OBJECT_CLASS (cx_webchat_service_parent_class)->finalize (object);
}

static void
cx_webchat_service_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxWebChatService *self = CX_WEBCHAT_SERVICE (object);

  switch (prop_id)
    {
      case PROP_AGENT_NAME:
        g_value_set_string (value, self->agent_name);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_webchat_service_class_init (CxWebChatServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cx_webchat_service_dispose;
  object_class->finalize = cx_webchat_service_finalize;
  object_class->get_property = cx_webchat_service_get_property;

  properties[PROP_AGENT_NAME] =
      g_param_spec_string ("agent-name", NULL, NULL, NULL,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cx_webchat_service_init (CxWebChatService *self)
{
  self->cancellable = g_cancellable_new ();
  self->transcript = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  self->start_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->restore_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->earlier_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->transcript_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->poll_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->end_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->cursor = cx_transcript_cursor_new ();
  self->messages = g_list_store_new (CX_TYPE_CHAT_MESSAGE);
  self->polling_enabled = TRUE;
  g_queue_init (&self->outbox);
}

/**
 * cx_webchat_service_new:
 * @bus: the window's bus
 * @http: the application's #CxHttp
 * @site_url: the address of the site the window shows (its cookies hold the chat's state)
 * @config: (nullable): the `webchat` object of a `_genesys.widgets` configuration: dataURL
 *   (required), pollRate, pollExceptionLimit, restoreTimeout, ajaxTimeout (ms), transport
 *   ("auto" or "poll")
 * @error: return location for a #GError
 *
 * Registers the "WebChatService" plugin on @bus and makes it ready. If the site's cookies name
 * a chat pinged within restoreTimeout, the chat is restored ("restored" follows).
 *
 * Returns: (transfer full): the service, or %NULL with @error set (bad configuration or site
 *   address, or the name is taken on @bus)
 */
CxWebChatService *
cx_webchat_service_new (CxBus *bus, CxHttp *http, const char *site_url, JsonObject *config,
                        GError **error)
{
  g_autoptr (CxWebChatService) self = NULL;
  g_autofree char *domain = NULL;
  CxPlugin *plugin;

  g_return_val_if_fail (CX_IS_BUS (bus), NULL);
  g_return_val_if_fail (CX_IS_HTTP (http), NULL);
  g_return_val_if_fail (site_url != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (CX_TYPE_WEBCHAT_SERVICE, NULL);
  self->http = g_object_ref (http);
  self->site_url = g_strdup (site_url);

  domain = cx_http_get_cookie_domain (http, site_url, error);
  if (domain == NULL || !parse_config (self, config, error))
    return NULL;

  plugin = cx_bus_register_plugin (bus, CX_WEBCHAT_SERVICE_NAME, error);
  if (plugin == NULL)
    return NULL;
  self->bus = g_object_ref (bus);
  self->plugin = g_object_ref (plugin);

  if (!cx_plugin_register_events (plugin, event_names, error))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (command_specs); i++)
    if (!cx_plugin_register_command (plugin, command_specs[i].name, command_specs[i].func, self,
                                     NULL, error))
      return NULL;

  /* Another window may start a chat while this one waits to start one. */
  self->jar_changed_id = g_signal_connect (cx_http_get_cookie_jar (http), "changed",
                                           G_CALLBACK (_cx_webchat_service_jar_changed_cb), self);

  cx_plugin_ready (plugin);
  _cx_webchat_service_restore_from_cookies (self);

  return g_steal_pointer (&self);
}

CxPlugin *
cx_webchat_service_get_plugin (CxWebChatService *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT_SERVICE (self), NULL);

  return self->plugin;
}

const char *
cx_webchat_service_get_site_url (CxWebChatService *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT_SERVICE (self), NULL);

  return self->site_url;
}

/**
 * cx_webchat_service_get_chat_id:
 *
 * Returns: (nullable): the id of the chat this service is in, or %NULL
 */
const char *
cx_webchat_service_get_chat_id (CxWebChatService *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT_SERVICE (self), NULL);

  return self->state == STATE_ACTIVE ? self->chat_id : NULL;
}

/**
 * cx_webchat_service_get_uses_push:
 *
 * Returns: whether the chat's messages come over the push socket (%FALSE: polling)
 */
gboolean
cx_webchat_service_get_uses_push (CxWebChatService *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT_SERVICE (self), FALSE);

  return self->push_state == PUSH_ACTIVE;
}

/**
 * cx_webchat_service_get_messages:
 *
 * Returns: (transfer none): the transcript as rows: a #GListModel of #CxChatMessage, in index
 *   order, with the customer's messages being sent and this window's notices where they came
 */
GListModel *
cx_webchat_service_get_messages (CxWebChatService *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT_SERVICE (self), NULL);

  return G_LIST_MODEL (self->messages);
}

/**
 * cx_webchat_service_get_agent_name:
 *
 * Returns: (nullable): the name of the agent in the chat, from the transcript
 */
const char *
cx_webchat_service_get_agent_name (CxWebChatService *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT_SERVICE (self), NULL);

  return self->agent_name;
}

/**
 * cx_webchat_service_add_notice:
 * @sender: (nullable): who it is from, plain text
 * @text: plain text
 *
 * Adds a notice of this window's only (never sent) at the end of the transcript model.
 */
void
cx_webchat_service_add_notice (CxWebChatService *self, const char *sender, const char *text)
{
  g_autoptr (CxChatMessage) row = NULL;

  g_return_if_fail (CX_IS_WEBCHAT_SERVICE (self));
  g_return_if_fail (text != NULL);

  row = cx_chat_message_new (CX_CHAT_MESSAGE_SYSTEM, sender, text, _cx_webchat_service_now_ms ());
  g_list_store_append (self->messages, row);
}

/**
 * cx_webchat_service_clear_transcript:
 *
 * Forgets the rows of a chat that has ended (the panel goes back to its form). In a chat, or
 * while one starts or is restored, it does nothing: the transcript is the chat's.
 */
void
cx_webchat_service_clear_transcript (CxWebChatService *self)
{
  g_return_if_fail (CX_IS_WEBCHAT_SERVICE (self));

  if (self->state == STATE_IDLE)
    _cx_webchat_service_clear_rows (self);
}
