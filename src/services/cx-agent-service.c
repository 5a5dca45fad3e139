/* cx-agent-service.c: the agent app's one session with cxdesk-server's /cx/1 agent API: sign-in,
 * the event socket, the table of chats with one CxAgentConversation each, and the
 * "AgentService" plugin it puts on the bus of every window attached to it.
 *
 * Session. One per application, whatever the number of windows: the state (signed out, signing
 * in, signed in, signing out) is this object's, and every attached bus hears signedIn and
 * signedOut. The HttpOnly cookie the server sets at sign-in lives in the app's cookie jar
 * (CxHttp), which carries it; a service made while the jar holds it restores the session (GET
 * /cx/1/agent/me). The server can end the session too: a `signedOut` frame, or a 401 on any
 * request, after which the cookie is deleted. A "generation" counts sessions: a reply to a
 * request of an earlier session changes nothing.
 *
 * Event socket. Once signed in the service opens /cx/1/agent/events and then re-synchronises:
 * GET /chats (the agent's open chats, with their transcripts) and GET /invitations. It does so
 * on every (re)connection. When the socket closes unexpectedly, "connectionLost" is published
 * and it is reopened after 1 s, 2 s, 4 s … 30 s; "connectionRestored" follows the first complete
 * re-synchronisation.
 *
 * Transcripts. Every entry, from any source (push frames, the sync, the accept reply,
 * getChats, getTranscript, and the reads this service makes to fill gaps), goes through
 * chat_receive(): an entry is published once, when its index is the next one expected for its
 * chat. A push frame that skips ahead waits, and the transcript is read from the next index; while
 * a read, a sync or an accept of that chat is under way, frames wait too, and are applied after
 * it. Replies that hold the whole transcript from an index ("complete") may have holes where a
 * newer server put an entry of a type this version skips.
 *
 * Derived events (chatAccepted, chatLeft, customerTypingStarted / Stopped) are the state a batch
 * of entries leaves the chat in, compared with the state before it.
 *
 * The class is split by concern over cx-agent-service-private.h: this file has the class, its
 * properties, the plugin tables and attaching windows' buses; cx-agent-service-session.c the
 * session (sign-in, restore, sign-out, the agent's state); cx-agent-service-socket.c the event
 * socket (backoff, resync); cx-agent-service-chats.c the chats, invitations and chat commands;
 * cx-agent-service-request.c the requests to the /cx/1 agent API. CxAgentConversation, the
 * object a window binds for one chat, is its own class (cx-agent-conversation.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-service"

#include "config.h"

#include "services/cx-agent-service-private.h"

G_DEFINE_FINAL_TYPE (CxAgentService, cx_agent_service, G_TYPE_OBJECT)

GParamSpec *_cx_agent_service_properties[N_PROPS];

GQuark
cx_agent_service_error_quark (void)
{
  return g_quark_from_static_string ("cx-agent-service-error-quark");
}

/* CxAgentService */

static const char *const event_names[] = {
  "signedIn",
  "signedOut",
  "stateChanged",
  "invitation",
  "invitationWithdrawn",
  "chatAccepted",
  "messageReceived",
  "customerTypingStarted",
  "customerTypingStopped",
  "chatLeft",
  "chatEnded",
  "callbacksChanged",
  "connectionLost",
  "connectionRestored",
  "error",
  NULL,
};

/* Small helpers */

static JsonNode *
empty_object_node (void)
{
  return cx_json_node_new_object (json_object_new ());
}

static JsonNode *
chat_id_node (const char *chat_id)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "chatId", chat_id);
  return cx_json_node_new_object (object);
}

/* Every attached window hears every event of the session. */
void
_cx_agent_service_publish (CxAgentService *self, const char *event, JsonNode *data)
{
  /* A disposed service is off every bus: it has nothing more to say. */
  if (self->disposed || self->plugins == NULL)
    return;

  for (guint i = 0; i < self->plugins->len; i++)
    {
      CxPlugin *plugin = g_ptr_array_index (self->plugins, i);

      if (cx_plugin_get_bus (plugin) != NULL)
        cx_plugin_publish (plugin, event, data);
    }
}

void
_cx_agent_service_publish_empty (CxAgentService *self, const char *event)
{
  g_autoptr (JsonNode) data = empty_object_node ();

  _cx_agent_service_publish (self, event, data);
}

void
_cx_agent_service_publish_chat_id (CxAgentService *self, const char *event, const char *chat_id)
{
  g_autoptr (JsonNode) data = chat_id_node (chat_id);

  _cx_agent_service_publish (self, event, data);
}

void
_cx_agent_service_publish_error (CxAgentService *self, const char *message)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) data = NULL;

  json_object_set_string_member (object, "message", message);
  data = cx_json_node_new_object (object);
  _cx_agent_service_publish (self, "error", data);
}

void
_cx_agent_service_resolve_all (GPtrArray *commands, JsonNode *result)
{
  g_autoptr (GPtrArray) taken = NULL;

  if (commands->len == 0)
    return;

  /* An answer may run code that adds to the list: those wait for the next round. */
  taken = g_ptr_array_copy (commands, (GCopyFunc) g_object_ref, NULL);
  g_ptr_array_set_free_func (taken, g_object_unref);
  g_ptr_array_set_size (commands, 0);
  for (guint i = 0; i < taken->len; i++)
    cx_command_resolve (g_ptr_array_index (taken, i), result);
}

void
_cx_agent_service_reject_all (GPtrArray *commands, const GError *error)
{
  g_autoptr (GPtrArray) taken = NULL;

  if (commands->len == 0)
    return;

  taken = g_ptr_array_copy (commands, (GCopyFunc) g_object_ref, NULL);
  g_ptr_array_set_free_func (taken, g_object_unref);
  g_ptr_array_set_size (commands, 0);
  for (guint i = 0; i < taken->len; i++)
    cx_command_reject (g_ptr_array_index (taken, i), g_error_copy (error));
}

void
_cx_agent_service_reject_literal (CxCommand *command, CxAgentServiceError code, const char *message)
{
  cx_command_reject (command, g_error_new_literal (CX_AGENT_SERVICE_ERROR, code, message));
}

void
_cx_agent_service_reject_not_signed_in (CxCommand *command)
{
  _cx_agent_service_reject_literal (command, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN,
                                    _ ("You are not signed in"));
}

GError *
_cx_agent_service_bad_reply_error (const char *what)
{
  return g_error_new (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_BAD_REPLY,
                      _ ("The server’s answer to %s is not what the agent API describes"), what);
}

/* JSON reading: every field from the network is checked before use */

JsonArray *
_cx_agent_service_messages_to_array (GPtrArray *messages)
{
  JsonArray *array = json_array_new ();

  for (guint i = 0; i < messages->len; i++)
    json_array_add_element (array, cx_message_to_json (g_ptr_array_index (messages, i)));

  return array;
}

/* A customer as the bus describes it: its known members. */
JsonObject *
_cx_agent_service_customer_from_event (const CxAgentCustomer *event_customer)
{
  JsonObject *customer = json_object_new ();

  if (event_customer->nickname != NULL)
    json_object_set_string_member (customer, "nickname", event_customer->nickname);
  if (event_customer->first_name != NULL)
    json_object_set_string_member (customer, "firstName", event_customer->first_name);
  if (event_customer->last_name != NULL)
    json_object_set_string_member (customer, "lastName", event_customer->last_name);
  if (event_customer->email != NULL)
    json_object_set_string_member (customer, "email", event_customer->email);
  if (event_customer->subject != NULL)
    json_object_set_string_member (customer, "subject", event_customer->subject);

  return customer;
}

/* A request to a route of the agent API (cx-agent-api.h), with @id in its path. */
Request *
_cx_agent_service_route_request (CxAgentService *self, CxAgentRoute route, const char *id,
                                 JsonNode *body, CxCommand *command, ReplyFunc func)
{
  g_autofree char *path = cx_agent_route_path (route, id);

  return _cx_agent_service_request_new (self, cx_agent_route_method (route), path, body, command,
                                        func);
}

/* Command data */

JsonObject *
_cx_agent_service_command_object (CxCommand *command)
{
  return cx_json_node_get_object (cx_command_get_data (command));
}

const char *
_cx_agent_service_command_string (CxCommand *command, const char *member)
{
  return cx_json_get_string (_cx_agent_service_command_object (command), member);
}

/* The "chatId" of @command, or NULL after rejecting it. */
const char *
_cx_agent_service_command_chat_id (CxCommand *command)
{
  const char *chat_id = _cx_agent_service_command_string (command, "chatId");

  if (!cx_id_is_valid (chat_id))
    {
      cx_command_reject (
          command, g_error_new (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_INVALID,
                                _ ("%s needs a “chatId”"), cx_command_get_short_name (command)));
      return NULL;
    }

  return chat_id;
}

/* Commands: callbacks and canned responses */

/* Answers @request with @reply as it came, once the parser has found it to be what the API
 * describes (@parsed); else with a bad-reply error naming @what. */
static void
answer_checked (Request *request, JsonNode *reply, const GError *error, gboolean parsed,
                const char *what)
{
  g_autoptr (GError) bad = NULL;

  if (error == NULL && !parsed)
    bad = _cx_agent_service_bad_reply_error (what);
  _cx_agent_service_answer (request, reply, error != NULL ? error : bad);
}

static void
get_callbacks_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (GPtrArray) callbacks = NULL;

  answer_checked (request, reply, error,
                  error == NULL && cx_agent_callbacks_parse (reply, &callbacks, NULL),
                  "/callbacks");
}

/* A command that is one GET of @route: signed in, or deferred or refused as @func. */
static void
get_route (CxAgentService *self, CxCommand *command, CxCommandFunc func, CxAgentRoute route,
           ReplyFunc reply_func)
{
  if (!_cx_agent_service_require_session (self, command, func))
    return;

  _cx_agent_service_request_send (
      self, _cx_agent_service_route_request (self, route, NULL, NULL, command, reply_func));
}

static void
get_callbacks_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  get_route (user_data, command, get_callbacks_cb, CX_AGENT_ROUTE_CALLBACKS, get_callbacks_reply);
}

static void
callback_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (CxCallbackInfo) callback = NULL;

  answer_checked (request, reply, error,
                  error == NULL && cx_callback_parse_object (reply, &callback, NULL), "/callbacks");
}

static void
change_callback (CxAgentService *self, CxCommand *command, CxCommandFunc func, CxAgentRoute route,
                 JsonNode *body)
{
  const char *id = _cx_agent_service_command_string (command, "id");

  if (!cx_id_is_valid (id))
    {
      cx_command_reject (command,
                         g_error_new (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_INVALID,
                                      _ ("%s needs the callback’s “id”"),
                                      cx_command_get_short_name (command)));
      return;
    }

  if (!_cx_agent_service_require_session (self, command, func))
    return;

  _cx_agent_service_request_send (
      self, _cx_agent_service_route_request (self, route, id, body, command, callback_reply));
}

static void
complete_callback_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  change_callback (user_data, command, complete_callback_cb, CX_AGENT_ROUTE_COMPLETE_CALLBACK,
                   NULL);
}

static void
reschedule_callback_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  const char *desired_time = _cx_agent_service_command_string (command, "desiredTime");
  g_autoptr (JsonNode) body = NULL;
  gint64 time = 0;

  if (desired_time == NULL || !cx_iso8601_parse (desired_time, &time, NULL))
    {
      _cx_agent_service_reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                                        _ ("rescheduleCallback needs a “desiredTime” (ISO-8601)"));
      return;
    }

  body = cx_agent_reschedule_build (time);
  change_callback (user_data, command, reschedule_callback_cb, CX_AGENT_ROUTE_RESCHEDULE_CALLBACK,
                   body);
}

static void
get_canned_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (GPtrArray) responses = NULL;

  answer_checked (request, reply, error,
                  error == NULL && cx_agent_canned_parse (reply, &responses, NULL), "/canned");
}

static void
get_canned_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  get_route (user_data, command, get_canned_cb, CX_AGENT_ROUTE_CANNED, get_canned_reply);
}

static const CxCommandSpec command_specs[] = {
  { "signIn", _cx_agent_service_sign_in_cb },
  { "signOut", _cx_agent_service_sign_out_cb },
  { "restore", _cx_agent_service_restore_cb },
  { "setState", _cx_agent_service_set_state_cb },
  { "accept", _cx_agent_service_accept_cb },
  { "decline", _cx_agent_service_decline_cb },
  { "send", _cx_agent_service_send_cb },
  { "typing", _cx_agent_service_typing_cb },
  { "end", _cx_agent_service_end_cb },
  { "transfer", _cx_agent_service_transfer_cb },
  { "getChats", _cx_agent_service_get_chats_cb },
  { "getTranscript", _cx_agent_service_get_transcript_cb },
  { "getCallbacks", get_callbacks_cb },
  { "completeCallback", complete_callback_cb },
  { "rescheduleCallback", reschedule_callback_cb },
  { "getCanned", get_canned_cb },
  { "dismiss", _cx_agent_service_dismiss_cb },
};

/* Object */

static void
cx_agent_service_dispose (GObject *object)
{
  CxAgentService *self = CX_AGENT_SERVICE (object);
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  gpointer key;

  self->disposed = TRUE;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  _cx_agent_service_close_socket (self);

  /* The customer must not see this agent typing forever. */
  if (self->typing_timers != NULL)
    {
      g_hash_table_iter_init (&iter, self->typing_timers);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          if (self->http != NULL && self->session == SESSION_SIGNED_IN)
            _cx_agent_service_send_typing_stop_detached (self, key);
          g_hash_table_iter_remove (&iter);
        }
    }

  /* No command reaches the service after this. */
  while (self->plugins != NULL && self->plugins->len > 0)
    {
      CxPlugin *plugin = g_ptr_array_steal_index (self->plugins, self->plugins->len - 1);

      cx_plugin_leave_bus (&plugin);
    }

  error = g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN,
                               _ ("The agent session was closed"));
  if (self->restore_waiters != NULL)
    _cx_agent_service_reject_all (self->restore_waiters, error);
  if (self->sign_out_waiters != NULL)
    _cx_agent_service_reject_all (self->sign_out_waiters, error);
  if (self->deferred != NULL)
    {
      for (guint i = 0; i < self->deferred->len; i++)
        {
          Deferred *deferred = &g_array_index (self->deferred, Deferred, i);

          cx_command_reject (deferred->command, g_error_copy (error));
          g_clear_object (&deferred->command);
        }
      g_array_set_size (self->deferred, 0);
    }

  if (self->chats != NULL)
    g_hash_table_remove_all (self->chats);

  g_clear_object (&self->http);

  G_OBJECT_CLASS (cx_agent_service_parent_class)->dispose (object);
}

static void
cx_agent_service_finalize (GObject *object)
{
  CxAgentService *self = CX_AGENT_SERVICE (object);

  g_clear_pointer (&self->plugins, g_ptr_array_unref);
  g_clear_pointer (&self->restore_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->sign_out_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->deferred, g_array_unref);
  g_clear_pointer (&self->chats, g_hash_table_unref);
  g_clear_pointer (&self->typing_timers, g_hash_table_unref);
  g_clear_object (&self->conversations);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->agent, cx_agent_info_free);
  g_clear_pointer (&self->me_uri, g_uri_unref);
  g_free (self->reason);
  g_strfreev (self->queues);
  g_free (self->server_url);
  g_free (self->api_base);
  g_free (self->events_url);
  g_free (self->host);

  G_OBJECT_CLASS (cx_agent_service_parent_class)->finalize (object);
}

static void
cx_agent_service_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxAgentService *self = CX_AGENT_SERVICE (object);

  switch (prop_id)
    {
      case PROP_SIGNED_IN:
        g_value_set_boolean (value, cx_agent_service_get_signed_in (self));
        break;

      case PROP_USERNAME:
        g_value_set_string (value, cx_agent_service_get_username (self));
        break;

      case PROP_STATE:
        g_value_set_string (value, cx_agent_service_get_state (self));
        break;

      case PROP_CONNECTED:
        g_value_set_boolean (value, self->connected);
        break;

      case PROP_DISPLAY_NAME:
        g_value_set_string (value, cx_agent_service_get_display_name (self));
        break;

      case PROP_REASON:
        g_value_set_string (value, self->reason);
        break;

      case PROP_QUEUES:
        g_value_set_boxed (value, self->queues);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_agent_service_class_init (CxAgentServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = cx_agent_service_dispose;
  object_class->finalize = cx_agent_service_finalize;
  object_class->get_property = cx_agent_service_get_property;

  _cx_agent_service_properties[PROP_SIGNED_IN] =
      g_param_spec_boolean ("signed-in", NULL, NULL, FALSE, flags);
  _cx_agent_service_properties[PROP_USERNAME] =
      g_param_spec_string ("username", NULL, NULL, NULL, flags);
  _cx_agent_service_properties[PROP_STATE] = g_param_spec_string ("state", NULL, NULL, NULL, flags);
  _cx_agent_service_properties[PROP_CONNECTED] =
      g_param_spec_boolean ("connected", NULL, NULL, FALSE, flags);
  /* The signed-in agent as the server describes it; NULL (empty queues) when signed out. */
  _cx_agent_service_properties[PROP_DISPLAY_NAME] =
      g_param_spec_string ("display-name", NULL, NULL, NULL, flags);
  _cx_agent_service_properties[PROP_REASON] =
      g_param_spec_string ("reason", NULL, NULL, NULL, flags);
  _cx_agent_service_properties[PROP_QUEUES] =
      g_param_spec_boxed ("queues", NULL, NULL, G_TYPE_STRV, flags);

  g_object_class_install_properties (object_class, N_PROPS, _cx_agent_service_properties);
}

static void
deferred_clear (gpointer data)
{
  Deferred *deferred = data;

  g_clear_object (&deferred->command);
}

static void
cx_agent_service_init (CxAgentService *self)
{
  self->cancellable = g_cancellable_new ();
  self->plugins = g_ptr_array_new_with_free_func (g_object_unref);
  self->restore_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->sign_out_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->deferred = g_array_new (FALSE, FALSE, sizeof (Deferred));
  g_array_set_clear_func (self->deferred, deferred_clear);
  self->chats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) _cx_agent_service_chat_free);
  self->typing_timers = g_hash_table_new_full (
      g_str_hash, g_str_equal, g_free, (GDestroyNotify) _cx_agent_service_typing_timer_free);
  self->conversations = g_list_store_new (CX_TYPE_AGENT_CONVERSATION);
  self->state = CX_AGENT_PRESENCE_OFFLINE;
  self->retry_delay_ms = FIRST_RETRY_MS;
  self->queues = g_new0 (char *, 1);
}

/* Derives the agent API's addresses from the server's: http(s)://host[:port][/prefix/]. */
static gboolean
parse_server_url (CxAgentService *self, const char *server_url, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autofree char *path = NULL;
  g_autofree char *api_path = NULL;
  g_autofree char *events_path = NULL;
  g_autofree char *events_route = cx_agent_route_path (CX_AGENT_ROUTE_EVENTS, NULL);
  g_autofree char *me_route = cx_agent_route_path (CX_AGENT_ROUTE_ME, NULL);
  g_autofree char *me = NULL;
  const char *scheme;
  const char *ws_scheme;

  uri = g_uri_parse (server_url, SOUP_HTTP_URI_FLAGS, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
      g_uri_get_query (uri) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The agent server address “%s” is not an http:// or https:// address"),
                   server_url);
      return FALSE;
    }

  path = g_strdup (g_uri_get_path (uri));
  if (!g_str_has_suffix (path, "/"))
    {
      char *with_slash = g_strconcat (path, "/", NULL);

      g_free (path);
      path = with_slash;
    }
  /* path ends with "/", the prefix starts with one. */
  api_path = g_strconcat (path, CX_AGENT_API_PREFIX + 1, NULL);
  events_path = g_strconcat (api_path, events_route, NULL);
  ws_scheme = g_ascii_strcasecmp (scheme, "https") == 0 ? "wss" : "ws";

  self->server_url = g_strdup (server_url);
  self->host = g_strdup (g_uri_get_host (uri));
  self->api_base = g_uri_join (G_URI_FLAGS_ENCODED_PATH, scheme, NULL, g_uri_get_host (uri),
                               g_uri_get_port (uri), api_path, NULL, NULL);
  self->events_url = g_uri_join (G_URI_FLAGS_ENCODED_PATH, ws_scheme, NULL, g_uri_get_host (uri),
                                 g_uri_get_port (uri), events_path, NULL, NULL);
  me = g_strconcat (self->api_base, me_route, NULL);
  self->me_uri = g_uri_parse (me, SOUP_HTTP_URI_FLAGS, error);

  return self->me_uri != NULL;
}

/**
 * cx_agent_service_new:
 * @http: the application's #CxHttp (its cookie jar holds the agent's session cookie)
 * @server_url: the cxdesk-server address, e.g. "http://127.0.0.1:8080/"
 * @error: return location for a #GError
 *
 * The application's one agent session. Windows attach their buses to it
 * (cx_agent_service_attach()). If the jar has the session cookie already, the session is
 * restored.
 *
 * Returns: (transfer full): the service, or %NULL with @error set (a bad address)
 */
CxAgentService *
cx_agent_service_new (CxHttp *http, const char *server_url, GError **error)
{
  g_autoptr (CxAgentService) self = NULL;

  g_return_val_if_fail (CX_IS_HTTP (http), NULL);
  g_return_val_if_fail (server_url != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (CX_TYPE_AGENT_SERVICE, NULL);
  self->http = g_object_ref (http);
  if (!parse_server_url (self, server_url, error))
    return NULL;

  if (_cx_agent_service_has_session_cookie (self))
    _cx_agent_service_begin_restore (self);

  return g_steal_pointer (&self);
}

#define GREETED_KEY "cx-agent-service-greeted"

/* A window attached to a signed-in session hears signedIn, as it would have had it been there:
 * once, after the window has finished setting itself up. What it has missed besides is in the
 * conversations model and the service's properties, which it reads. */
static gboolean
greet_cb (gpointer user_data)
{
  CxAgentService *self = user_data;

  self->greet_id = 0;
  for (guint i = 0; i < self->plugins->len; i++)
    {
      CxPlugin *plugin = g_ptr_array_index (self->plugins, i);

      if (g_object_get_data (G_OBJECT (plugin), GREETED_KEY) != NULL)
        continue;
      g_object_set_data (G_OBJECT (plugin), GREETED_KEY, GINT_TO_POINTER (TRUE));
      if (self->session == SESSION_SIGNED_IN && cx_plugin_get_bus (plugin) != NULL)
        {
          g_autoptr (JsonNode) agent = _cx_agent_service_agent_node (self);

          cx_plugin_publish (plugin, "signedIn", agent);
        }
    }
  return G_SOURCE_REMOVE;
}

static CxPlugin *
plugin_of_bus (CxAgentService *self, CxBus *bus)
{
  for (guint i = 0; i < self->plugins->len; i++)
    if (cx_plugin_get_bus (g_ptr_array_index (self->plugins, i)) == bus)
      return g_ptr_array_index (self->plugins, i);
  return NULL;
}

/**
 * cx_agent_service_attach:
 * @bus: a window's bus
 * @error: return location for a #GError
 *
 * Registers the "AgentService" plugin on @bus and makes it ready: the window's plugins and its
 * Console command the one session, and hear all of its events.
 *
 * Returns: (transfer none): the plugin, or %NULL with @error set (the name is taken on @bus)
 */
CxPlugin *
cx_agent_service_attach (CxAgentService *self, CxBus *bus, GError **error)
{
  CxPlugin *plugin;

  g_return_val_if_fail (CX_IS_AGENT_SERVICE (self), NULL);
  g_return_val_if_fail (CX_IS_BUS (bus), NULL);
  g_return_val_if_fail (!self->disposed, NULL);

  plugin =
      cx_bus_register_plugin_with_table (bus, CX_AGENT_SERVICE_NAME, event_names, command_specs,
                                         G_N_ELEMENTS (command_specs), self, error);
  if (plugin == NULL)
    return NULL;

  g_ptr_array_add (self->plugins, plugin);
  cx_plugin_ready (plugin);
  if (self->session == SESSION_SIGNED_IN && self->greet_id == 0)
    self->greet_id = g_idle_add (greet_cb, self);
  else if (self->session != SESSION_SIGNED_IN)
    g_object_set_data (G_OBJECT (plugin), GREETED_KEY, GINT_TO_POINTER (TRUE));
  return plugin;
}

/**
 * cx_agent_service_detach:
 * @bus: a bus attached with cx_agent_service_attach()
 *
 * Takes the plugin off @bus (a window closes). The session goes on for the other windows.
 */
void
cx_agent_service_detach (CxAgentService *self, CxBus *bus)
{
  CxPlugin *plugin;

  g_return_if_fail (CX_IS_AGENT_SERVICE (self));
  g_return_if_fail (CX_IS_BUS (bus));

  plugin = plugin_of_bus (self, bus);
  if (plugin == NULL)
    return;

  cx_bus_unregister_plugin (bus, plugin);
  g_ptr_array_remove (self->plugins, plugin);
}

/**
 * cx_agent_service_get_n_windows:
 *
 * Returns: how many buses are attached
 */
guint
cx_agent_service_get_n_windows (CxAgentService *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SERVICE (self), 0);

  return self->plugins->len;
}

/**
 * cx_agent_service_get_http:
 *
 * Returns: (transfer none): the application's CxHttp the session uses
 */
CxHttp *
cx_agent_service_get_http (CxAgentService *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SERVICE (self), NULL);

  return self->http;
}

/**
 * cx_agent_service_get_display_name:
 *
 * Returns: (nullable): the signed-in agent's name for people
 */
const char *
cx_agent_service_get_display_name (CxAgentService *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SERVICE (self), NULL);

  return self->session == SESSION_SIGNED_IN ? self->agent->display_name : NULL;
}

/**
 * cx_agent_service_get_reason:
 *
 * Returns: (nullable): the code of the agent's not-ready reason
 */
const char *
cx_agent_service_get_reason (CxAgentService *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SERVICE (self), NULL);

  return self->reason;
}

/**
 * cx_agent_service_get_queues:
 *
 * Returns: (transfer none): the queues the agent serves; empty when signed out
 */
const char *const *
cx_agent_service_get_queues (CxAgentService *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SERVICE (self), NULL);

  return (const char *const *) self->queues;
}

const char *
cx_agent_service_get_server_url (CxAgentService *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SERVICE (self), NULL);

  return self->server_url;
}

gboolean
cx_agent_service_get_signed_in (CxAgentService *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SERVICE (self), FALSE);

  return self->session == SESSION_SIGNED_IN || self->session == SESSION_SIGNING_OUT;
}

/**
 * cx_agent_service_get_username:
 *
 * Returns: (nullable): the signed-in agent's user name
 */
const char *
cx_agent_service_get_username (CxAgentService *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SERVICE (self), NULL);

  return self->agent != NULL ? self->agent->username : NULL;
}

/**
 * cx_agent_service_get_state:
 *
 * Returns: (nullable): "ready", "not_ready" or "offline" while signed in, else %NULL
 */
const char *
cx_agent_service_get_state (CxAgentService *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SERVICE (self), NULL);

  return self->agent != NULL ? cx_agent_presence_to_string (self->state) : NULL;
}

/**
 * cx_agent_service_get_connected:
 *
 * Returns: whether the event socket is open and the window is up to date
 */
gboolean
cx_agent_service_get_connected (CxAgentService *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SERVICE (self), FALSE);

  return self->connected;
}

/**
 * cx_agent_service_get_conversations:
 *
 * Returns: (transfer none): a #GListModel of #CxAgentConversation: the invitations and chats
 *   of this window, in the order they came
 */
GListModel *
cx_agent_service_get_conversations (CxAgentService *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SERVICE (self), NULL);

  return G_LIST_MODEL (self->conversations);
}

/**
 * cx_agent_service_get_malformed_frames:
 *
 * Returns: how many event frames were ignored because they did not parse
 */
guint
cx_agent_service_get_malformed_frames (CxAgentService *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SERVICE (self), 0);

  return self->malformed_frames;
}
