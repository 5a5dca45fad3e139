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
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-service"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "protocol/cx-agent-protocol.h"
#include "protocol/cx-protocol.h"
#include "services/cx-agent-conversation-private.h"
#include "services/cx-agent-service.h"

/* The session cookie cxdesk-server sets at sign-in (API.md "/cx/1"). */
#define SESSION_COOKIE "cxdesk_agent"

#define TYPING_IDLE_MS 5000
#define FIRST_RETRY_MS 1000
#define MAX_RETRY_MS 30000

GQuark
cx_agent_service_error_quark (void)
{
  return g_quark_from_static_string ("cx-agent-service-error-quark");
}

/* CxAgentService */

typedef enum
{
  SESSION_SIGNED_OUT,
  SESSION_SIGNING_IN, /* signIn or restore under way */
  SESSION_SIGNED_IN,
  SESSION_SIGNING_OUT, /* our DELETE of the session is under way */
} Session;

/* What this window knows of one chat besides its conversation object. */
typedef struct
{
  CxAgentConversation *conversation;
  guint next_position; /* every entry below it has been published */
  GPtrArray *pending;  /* CxMessage from push frames, not applied yet */
  gboolean pending_end;
  /* While any of these holds, push frames wait in pending. */
  gboolean syncing; /* the (re)connection sync has not brought this chat yet */
  gboolean fetching;
  gboolean accepting;
  gboolean invite_mark; /* invited when the sync began: withdrawn if the sync does not list it */
  guint last_fetch_from;
} Chat;

typedef struct
{
  CxCommand *command;
  CxCommandFunc func;
} Deferred;

typedef struct
{
  CxAgentService *self;
  char *chat_id;
  guint id;
} TypingTimer;

struct _CxAgentService
{
  GObject parent_instance;

  GPtrArray *plugins; /* CxPlugin: the "AgentService" of each attached window's bus */
  guint greet_id;     /* tells newly attached buses that the session is signed in */
  CxHttp *http;
  char *server_url;
  char *api_base;   /* http(s)://host[:port]/…/cx/1/agent, no trailing slash */
  char *events_url; /* ws(s)://host[:port]/…/cx/1/agent/events */
  GUri *me_uri;     /* where the session cookie applies */
  char *host;

  /* Every request; cancelled only in dispose. Replies check the session generation. */
  GCancellable *cancellable;
  gboolean disposed;

  /* The session */
  Session session;
  guint generation; /* changes when a session begins or ends */
  JsonObject *agent;
  CxAgentPresence state;
  char *reason;
  char **queues;               /* of the agent, as the server says; never NULL */
  GPtrArray *restore_waiters;  /* CxCommand */
  GPtrArray *sign_out_waiters; /* CxCommand */
  GArray *deferred;            /* Deferred: commands that came while signing in */

  /* The event socket */
  SoupWebsocketConnection *socket;
  gboolean socket_connecting;
  guint connecting_generation;
  gboolean connected; /* open, and synchronised */
  gboolean lost;      /* connectionLost published, connectionRestored not yet */
  guint retry_delay_ms;
  guint retry_id;
  guint sync_id;
  guint sync_pending;
  guint malformed_frames;

  GHashTable *chats; /* chat id → Chat */
  GListStore *conversations;
  GHashTable *typing_timers; /* chat id → TypingTimer */
};

G_DEFINE_FINAL_TYPE (CxAgentService, cx_agent_service, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_SIGNED_IN,
  PROP_USERNAME,
  PROP_STATE,
  PROP_CONNECTED,
  PROP_DISPLAY_NAME,
  PROP_REASON,
  PROP_QUEUES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

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
static void
publish (CxAgentService *self, const char *event, JsonNode *data)
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

static void
publish_empty (CxAgentService *self, const char *event)
{
  g_autoptr (JsonNode) data = empty_object_node ();

  publish (self, event, data);
}

static void
publish_chat_id (CxAgentService *self, const char *event, const char *chat_id)
{
  g_autoptr (JsonNode) data = chat_id_node (chat_id);

  publish (self, event, data);
}

static void
publish_error (CxAgentService *self, const char *message)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) data = NULL;

  json_object_set_string_member (object, "message", message);
  data = cx_json_node_new_object (object);
  publish (self, "error", data);
}

static void
resolve_all (GPtrArray *commands, JsonNode *result)
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

static void
reject_all (GPtrArray *commands, const GError *error)
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

static void
reject_literal (CxCommand *command, CxAgentServiceError code, const char *message)
{
  cx_command_reject (command, g_error_new_literal (CX_AGENT_SERVICE_ERROR, code, message));
}

static void
reject_not_signed_in (CxCommand *command)
{
  reject_literal (command, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN, _ ("You are not signed in"));
}

static GError *
bad_reply_error (const char *what)
{
  return g_error_new (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_BAD_REPLY,
                      _ ("The server’s answer to %s is not what the agent API describes"), what);
}

/* JSON reading: every field from the network is checked before use */

/* The messages of a JSON array. Entries of a type this version does not know are skipped (their
 * index stays unused); anything else malformed fails the whole array. */
static GPtrArray *
parse_messages (JsonArray *array, GError **error)
{
  g_autoptr (GPtrArray) messages =
      g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autoptr (GError) local_error = NULL;
      CxMessage *message = cx_message_from_json (json_array_get_element (array, i), &local_error);

      if (message != NULL)
        g_ptr_array_add (messages, message);
      else if (!g_error_matches (local_error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_UNKNOWN_TYPE))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }

  return g_steal_pointer (&messages);
}

static JsonArray *
messages_to_array (GPtrArray *messages)
{
  JsonArray *array = json_array_new ();

  for (guint i = 0; i < messages->len; i++)
    json_array_add_element (array, cx_message_to_json (g_ptr_array_index (messages, i)));

  return array;
}

/* The customer of a chat object or invitation, kept to its known string members. */
static JsonObject *
customer_from_json (JsonObject *object)
{
  static const char *const members[] = { "nickname", "firstName", "lastName", "email", "subject" };
  JsonObject *customer = json_object_new ();

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      const char *value = cx_json_get_string (object, members[i]);

      if (value != NULL)
        json_object_set_string_member (customer, members[i], value);
    }

  return customer;
}

static JsonObject *
customer_from_event (const CxAgentCustomer *event_customer)
{
  JsonObject *customer = json_object_new ();

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

/* The agent as the server describes it, checked and reduced to the documented members:
 * {username, displayName, state, reason, capacity, queues}. */
static JsonObject *
parse_agent (JsonNode *node, CxAgentPresence *state, GError **error)
{
  JsonObject *object = cx_json_node_get_object (node);
  g_autoptr (JsonObject) agent = NULL;
  const char *username = cx_json_get_string (object, "username");
  const char *display_name = cx_json_get_string (object, "displayName");
  const char *reason = cx_json_get_string (object, "reason");
  JsonArray *queues = cx_json_get_array (object, "queues");
  JsonArray *clean_queues;
  gint64 capacity = 0;

  if (!cx_id_is_valid (username) || display_name == NULL ||
      !cx_agent_presence_from_string (cx_json_get_string (object, "state"), state) ||
      !cx_json_get_int (object, "capacity", 0, G_MAXINT, &capacity) ||
      (reason == NULL && !cx_json_is_null_or_absent (object, "reason")) ||
      (queues == NULL && !cx_json_is_null_or_absent (object, "queues")))
    {
      g_propagate_error (error, bad_reply_error ("/cx/1/agent"));
      return NULL;
    }

  agent = json_object_new ();
  json_object_set_string_member (agent, "username", username);
  json_object_set_string_member (agent, "displayName", display_name);
  json_object_set_string_member (agent, "state", cx_agent_presence_to_string (*state));
  if (reason != NULL)
    json_object_set_string_member (agent, "reason", reason);
  else
    json_object_set_null_member (agent, "reason");
  json_object_set_int_member (agent, "capacity", capacity);

  clean_queues = json_array_new ();
  for (guint i = 0; queues != NULL && i < json_array_get_length (queues); i++)
    {
      JsonNode *queue = json_array_get_element (queues, i);

      if (!JSON_NODE_HOLDS_VALUE (queue) || json_node_get_value_type (queue) != G_TYPE_STRING)
        {
          json_array_unref (clean_queues);
          g_propagate_error (error, bad_reply_error ("/cx/1/agent"));
          return NULL;
        }
      json_array_add_string_element (clean_queues, json_node_get_string (queue));
    }
  json_object_set_array_member (agent, "queues", clean_queues);

  return g_steal_pointer (&agent);
}

/* Command data */

static JsonObject *
command_object (CxCommand *command)
{
  return cx_json_node_get_object (cx_command_get_data (command));
}

static const char *
command_string (CxCommand *command, const char *member)
{
  return cx_json_get_string (command_object (command), member);
}

/* The "chatId" of @command, or NULL after rejecting it. */
static const char *
command_chat_id (CxCommand *command)
{
  const char *chat_id = command_string (command, "chatId");

  if (!cx_id_is_valid (chat_id))
    {
      cx_command_reject (
          command, g_error_new (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_INVALID,
                                _ ("%s needs a “chatId”"), cx_command_get_short_name (command)));
      return NULL;
    }

  return chat_id;
}

/* Requests */

typedef struct _Request Request;

/* Called with the reply (NULL when the server answered with no body), or with @error. */
typedef void (*ReplyFunc) (CxAgentService *self, Request *request, JsonNode *reply,
                           const GError *error);

struct _Request
{
  CxAgentService *self; /* not a reference: valid unless the request was cancelled */
  GCancellable *cancellable;
  SoupMessage *msg;
  CxCommand *command;
  ReplyFunc func;
  char *chat_id;
  guint generation;
  guint sync_id;
  guint from;
  gboolean signing_in;          /* a 401 is a wrong password, not a lost session */
  gboolean ends_chat;           /* end, not transfer */
  const char *conflict_message; /* what a 409 means for this request */
};

static void
request_free (Request *request)
{
  g_clear_object (&request->cancellable);
  g_clear_object (&request->msg);
  g_clear_object (&request->command);
  g_free (request->chat_id);
  g_free (request);
}

static char *
escape (const char *segment)
{
  return g_uri_escape_string (segment, NULL, FALSE);
}

/* A request to api_base + @path (which starts with "/"). Set its fields, then request_send(). */
static Request *
request_new (CxAgentService *self, const char *method, const char *path, JsonNode *body,
             CxCommand *command, ReplyFunc func)
{
  Request *request = g_new0 (Request, 1);
  g_autofree char *url = g_strconcat (self->api_base, path, NULL);

  request->self = self;
  request->cancellable = g_object_ref (self->cancellable);
  request->command = command != NULL ? g_object_ref (command) : NULL;
  request->func = func;
  request->generation = self->generation;
  /* api_base was checked at construction and every segment of @path is escaped. */
  request->msg = soup_message_new (method, url);

  if (request->msg != NULL)
    {
      soup_message_headers_replace (soup_message_get_request_headers (request->msg), "Accept",
                                    "application/json");
      if (body != NULL)
        {
          char *text = json_to_string (body, FALSE);
          g_autoptr (GBytes) bytes = g_bytes_new_take (text, strlen (text));

          soup_message_set_request_body_from_bytes (request->msg, "application/json", bytes);
        }
    }

  return request;
}

static void session_rejected (CxAgentService *self, guint generation);

/* A failed request's error, as this service reports it. */
static GError *
request_error (Request *request, guint status, GError *error)
{
  if (status == SOUP_STATUS_UNAUTHORIZED)
    {
      g_error_free (error);
      if (request->signing_in)
        return g_error_new_literal (CX_AGENT_SERVICE_ERROR,
                                    CX_AGENT_SERVICE_ERROR_WRONG_CREDENTIALS,
                                    _ ("Wrong user name or password"));
      return g_error_new_literal (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN,
                                  _ ("You are not signed in"));
    }

  if (status == SOUP_STATUS_CONFLICT && request->conflict_message != NULL)
    {
      g_error_free (error);
      return g_error_new_literal (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_REFUSED,
                                  request->conflict_message);
    }

  if (status >= 400 && status < 500 && status != SOUP_STATUS_REQUEST_TIMEOUT)
    {
      GError *refused = g_error_new_literal (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_REFUSED,
                                             error->message);

      g_error_free (error);
      return refused;
    }

  /* No answer, a timeout, or a server error: CxHttp's error says which. */
  return error;
}

static void
request_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Request *request = user_data;
  CxAgentService *self;
  g_autoptr (CxAgentService) hold = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  guint status;

  body = cx_http_send_finish (CX_HTTP (source), result, &error);
  if (g_cancellable_is_cancelled (request->cancellable))
    {
      /* The window is gone: answer its command, touch nothing else. */
      if (request->command != NULL)
        cx_command_reject (request->command,
                           g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN,
                                                _ ("The agent window was closed")));
      request_free (request);
      return;
    }

  self = request->self;
  hold = g_object_ref (self);
  status = soup_message_get_status (request->msg);

  if (body == NULL)
    {
      error = request_error (request, status, g_steal_pointer (&error));
    }
  else if (g_bytes_get_size (body) > 0)
    {
      gsize size = 0;
      const char *data = g_bytes_get_data (body, &size);

      reply = cx_json_parse (data, size, size, NULL);
      if (reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply))
        {
          g_clear_pointer (&reply, json_node_unref);
          error = bad_reply_error (g_uri_get_path (soup_message_get_uri (request->msg)));
        }
    }

  request->func (self, request, reply, error);

  /* The server no longer knows the session: every window signs out. */
  if (status == SOUP_STATUS_UNAUTHORIZED && !request->signing_in)
    session_rejected (self, request->generation);

  request_free (request);
}

static void
request_send (CxAgentService *self, Request *request)
{
  if (request->msg == NULL)
    {
      g_autoptr (GError) error = g_error_new_literal (CX_HTTP_ERROR, CX_HTTP_ERROR_INVALID_URI,
                                                      _ ("The agent API address is not valid"));

      request->func (self, request, NULL, error);
      request_free (request);
      return;
    }

  cx_http_send_async (self->http, request->msg, 0, self->cancellable, request_done_cb, request);
}

/* Resolves or rejects the request's command with @reply or @error. */
static void
answer (Request *request, JsonNode *reply, const GError *error)
{
  if (request->command == NULL)
    return;

  if (error != NULL)
    cx_command_reject (request->command, g_error_copy (error));
  else
    cx_command_resolve (request->command, reply);
}

static void
detached_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;

  body = cx_http_send_finish (CX_HTTP (source), result, &error);
  if (body == NULL)
    g_debug ("A request sent by a closed window failed: %s", error->message);
}

/* Sends typing false for a window that is closing: nothing waits for the answer. */
static void
send_typing_stop_detached (CxAgentService *self, const char *chat_id)
{
  g_autofree char *escaped = escape (chat_id);
  g_autofree char *url = g_strdup_printf ("%s/chats/%s/typing", self->api_base, escaped);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  static const char body[] = "{\"typing\":false}";
  g_autoptr (GBytes) bytes = g_bytes_new_static (body, strlen (body));

  if (msg == NULL)
    return;

  soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  cx_http_send_async (self->http, msg, 0, NULL, detached_done_cb, NULL);
}

/* Chats */

static void
chat_free (Chat *chat)
{
  g_clear_object (&chat->conversation);
  g_clear_pointer (&chat->pending, g_ptr_array_unref);
  g_free (chat);
}

static Chat *
lookup_chat (CxAgentService *self, const char *chat_id)
{
  return chat_id != NULL ? g_hash_table_lookup (self->chats, chat_id) : NULL;
}

static gboolean
chat_is_held (Chat *chat)
{
  return chat->syncing || chat->fetching || chat->accepting;
}

static Chat *
chat_new (CxAgentService *self, const char *chat_id, CxAgentConversationStatus status)
{
  Chat *chat = g_new0 (Chat, 1);

  chat->conversation = _cx_agent_conversation_new (chat_id, status);
  chat->next_position = 1;
  chat->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  g_hash_table_insert (self->chats, g_strdup (chat_id), chat);
  g_list_store_append (self->conversations, chat->conversation);

  return chat;
}

static void
chat_remove (CxAgentService *self, const char *chat_id)
{
  Chat *chat = lookup_chat (self, chat_id);
  guint position;

  if (chat == NULL)
    return;

  if (g_list_store_find (self->conversations, chat->conversation, &position))
    g_list_store_remove (self->conversations, position);
  g_hash_table_remove (self->chats, chat_id);
}

static void stop_typing_timer (CxAgentService *self, const char *chat_id);

/* The conversation enters @status; publishes what that means for this window. */
static void
chat_set_status (CxAgentService *self, const char *chat_id, CxAgentConversationStatus status)
{
  Chat *chat = lookup_chat (self, chat_id);
  CxAgentConversationStatus old;

  if (chat == NULL || chat->conversation->status == status)
    return;

  old = chat->conversation->status;
  /* An ended chat stays ended. */
  if (old == CX_AGENT_CONVERSATION_ENDED)
    return;

  _cx_agent_conversation_set_status (chat->conversation, status);
  if (status != CX_AGENT_CONVERSATION_INVITED)
    chat->conversation->expires_at = 0;

  switch (status)
    {
      case CX_AGENT_CONVERSATION_ACTIVE:
        publish_chat_id (self, "chatAccepted", chat_id);
        break;

      case CX_AGENT_CONVERSATION_LEFT:
        stop_typing_timer (self, chat_id);
        if (old == CX_AGENT_CONVERSATION_ACTIVE)
          publish_chat_id (self, "chatLeft", chat_id);
        break;

      case CX_AGENT_CONVERSATION_ENDED:
        stop_typing_timer (self, chat_id);
        _cx_agent_conversation_set_typing (chat->conversation, FALSE, NULL);
        publish_chat_id (self, "chatEnded", chat_id);
        break;

      case CX_AGENT_CONVERSATION_INVITED:
      default:
        break;
    }
}

static void chat_fetch (CxAgentService *self, const char *chat_id);
static void connection_failed (CxAgentService *self);

static int
compare_index (gconstpointer a, gconstpointer b)
{
  const CxMessage *first = *(const CxMessage *const *) a;
  const CxMessage *second = *(const CxMessage *const *) b;

  return first->index < second->index ? -1 : first->index > second->index;
}

/* The state @fresh leaves the chat in, published as the change it is: chatAccepted before the
 * entries, chatLeft and the customer's typing after them. */
static void
publish_batch (CxAgentService *self, const char *chat_id, GPtrArray *fresh)
{
  Chat *chat = lookup_chat (self, chat_id);
  g_autoptr (CxAgentConversation) conversation = g_object_ref (chat->conversation);
  g_autoptr (JsonNode) data = NULL;
  CxAgentConversationStatus status = conversation->status;
  gboolean typing = conversation->customer_typing;
  g_autofree char *typing_text = g_strdup (conversation->customer_typing_text);
  guint generation = self->generation;
  JsonObject *object;

  for (guint i = 0; i < fresh->len; i++)
    {
      CxMessage *message = g_ptr_array_index (fresh, i);

      if (message->from_type == CX_PARTY_CLIENT)
        {
          if (message->type == CX_MESSAGE_TYPING_STARTED)
            {
              typing = TRUE;
              g_free (typing_text);
              typing_text = g_strdup (message->text);
            }
          else if (message->type == CX_MESSAGE_TYPING_STOPPED || message->type == CX_MESSAGE_TEXT ||
                   message->type == CX_MESSAGE_PARTICIPANT_LEFT)
            {
              typing = FALSE;
            }
        }
      else if (message->from_type == CX_PARTY_AGENT)
        {
          /* Only the chat's agent hears of it: a join or leave here is this agent's. */
          if (message->type == CX_MESSAGE_PARTICIPANT_JOINED)
            status = CX_AGENT_CONVERSATION_ACTIVE;
          else if (message->type == CX_MESSAGE_PARTICIPANT_LEFT &&
                   status == CX_AGENT_CONVERSATION_ACTIVE)
            status = CX_AGENT_CONVERSATION_LEFT;
        }
    }

  _cx_agent_conversation_append (conversation, fresh);

  if (status == CX_AGENT_CONVERSATION_ACTIVE)
    chat_set_status (self, chat_id, status);
  if (self->generation != generation)
    return;

  object = json_object_new ();
  json_object_set_string_member (object, "chatId", chat_id);
  json_object_set_array_member (object, "messages", messages_to_array (fresh));
  data = cx_json_node_new_object (object);
  publish (self, "messageReceived", data);
  if (self->generation != generation)
    return;

  if (status == CX_AGENT_CONVERSATION_LEFT)
    chat_set_status (self, chat_id, status);
  if (self->generation != generation || conversation->status == CX_AGENT_CONVERSATION_ENDED)
    return;

  if (typing && (!conversation->customer_typing ||
                 g_strcmp0 (typing_text, conversation->customer_typing_text) != 0))
    {
      JsonObject *typing_object = json_object_new ();
      g_autoptr (JsonNode) typing_data = NULL;

      _cx_agent_conversation_set_typing (conversation, TRUE, typing_text);
      json_object_set_string_member (typing_object, "chatId", chat_id);
      json_object_set_string_member (typing_object, "text", typing_text != NULL ? typing_text : "");
      typing_data = cx_json_node_new_object (typing_object);
      publish (self, "customerTypingStarted", typing_data);
    }
  else if (!typing && conversation->customer_typing)
    {
      _cx_agent_conversation_set_typing (conversation, FALSE, NULL);
      publish_chat_id (self, "customerTypingStopped", chat_id);
    }
}

/* Applies @messages to the chat, each entry once, in index order, from its next position.
 * With @complete_from > 0, @messages are every entry the server has from that index up to
 * @complete_next (a reply, not a push frame): an index missing there is an entry this version
 * skips, not a gap. Otherwise an index past the next one is a gap: the rest waits in pending
 * and the transcript is read from the next position. */
static void
chat_receive (CxAgentService *self, const char *chat_id, GPtrArray *messages, guint complete_from,
              guint complete_next)
{
  Chat *chat = lookup_chat (self, chat_id);
  g_autoptr (GPtrArray) sorted = NULL;
  g_autoptr (GPtrArray) fresh = NULL;
  g_autofree char *id = g_strdup (chat_id);
  gboolean complete;
  gboolean gap = FALSE;

  if (chat == NULL)
    return;

  complete = complete_from > 0 && complete_from <= chat->next_position;
  sorted = g_ptr_array_copy (messages, (GCopyFunc) cx_message_ref, NULL);
  g_ptr_array_set_free_func (sorted, (GDestroyNotify) cx_message_unref);
  g_ptr_array_sort (sorted, compare_index);
  fresh = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);

  for (guint i = 0; i < sorted->len; i++)
    {
      CxMessage *message = g_ptr_array_index (sorted, i);

      if (message->index < chat->next_position)
        continue;

      if (message->index > chat->next_position && !complete)
        {
          gap = TRUE;
          for (; i < sorted->len; i++)
            g_ptr_array_add (chat->pending, cx_message_ref (g_ptr_array_index (sorted, i)));
          break;
        }

      g_ptr_array_add (fresh, cx_message_ref (message));
      chat->next_position = message->index + 1;
    }

  if (complete && complete_next > chat->next_position)
    chat->next_position = complete_next;

  if (fresh->len > 0)
    publish_batch (self, id, fresh);

  chat = lookup_chat (self, id);
  if (!gap || chat == NULL || self->disposed)
    return;

  if (chat->last_fetch_from == chat->next_position)
    {
      /* The server's transcript from here did not have these entries a moment ago either:
       * do not loop on it. The next sync reads the chat again. */
      g_debug ("Chat %s: entries after %u are missing from the transcript; dropping %u", id,
               chat->next_position, chat->pending->len);
      g_ptr_array_set_size (chat->pending, 0);
      return;
    }

  g_debug ("Chat %s: a push frame skipped to a later index; reading from %u", id,
           chat->next_position);
  chat_fetch (self, id);
}

/* Once nothing holds the chat any more: the frames that waited, then its end. */
static void
chat_flush (CxAgentService *self, const char *chat_id)
{
  Chat *chat = lookup_chat (self, chat_id);
  g_autofree char *id = g_strdup (chat_id);

  if (chat == NULL || chat_is_held (chat))
    return;

  if (chat->pending->len > 0)
    {
      g_autoptr (GPtrArray) taken = chat->pending;

      chat->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
      chat_receive (self, id, taken, 0, 0);
      chat = lookup_chat (self, id);
    }

  if (chat != NULL && !chat_is_held (chat) && chat->pending_end)
    {
      chat->pending_end = FALSE;
      chat_set_status (self, id, CX_AGENT_CONVERSATION_ENDED);
    }
}

static void
chat_fetch_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  Chat *chat = lookup_chat (self, request->chat_id);
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (GError) local_error = NULL;
  JsonObject *object = cx_json_node_get_object (reply);
  JsonArray *array = cx_json_get_array (object, "messages");
  gint64 next_position = 0;

  if (request->generation != self->generation || chat == NULL)
    return;

  chat->fetching = FALSE;

  if (error != NULL)
    {
      if (g_error_matches (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN))
        return;

      if (soup_message_get_status (request->msg) == SOUP_STATUS_NOT_FOUND)
        {
          /* Not this agent's chat any more. */
          g_ptr_array_set_size (chat->pending, 0);
          chat_set_status (self, request->chat_id, CX_AGENT_CONVERSATION_LEFT);
          return;
        }

      if (error->domain == CX_AGENT_SERVICE_ERROR)
        {
          chat->last_fetch_from = 0;
          publish_error (self, error->message);
          return;
        }

      /* No answer: the server is unreachable. Reconnecting re-reads every chat. */
      g_debug ("Chat %s: reading the transcript failed: %s", request->chat_id, error->message);
      chat->last_fetch_from = 0;
      connection_failed (self);
      return;
    }

  if (array == NULL || !cx_json_get_int (object, "nextPosition", 0, G_MAXUINT, &next_position) ||
      (messages = parse_messages (array, &local_error)) == NULL)
    {
      g_autoptr (GError) bad = bad_reply_error ("/messages");

      publish_error (self, bad->message);
      return;
    }

  chat_receive (self, request->chat_id, messages, request->from, (guint) next_position);
  chat_flush (self, request->chat_id);
}

/* Reads the chat's transcript from its next position; push frames wait meanwhile. */
static void
chat_fetch (CxAgentService *self, const char *chat_id)
{
  Chat *chat = lookup_chat (self, chat_id);
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  Request *request;

  if (chat == NULL || chat->fetching || self->session != SESSION_SIGNED_IN)
    return;

  chat->fetching = TRUE;
  chat->last_fetch_from = chat->next_position;
  escaped = escape (chat_id);
  path = g_strdup_printf ("/chats/%s/messages?from=%u", escaped, chat->next_position);
  request = request_new (self, SOUP_METHOD_GET, path, NULL, NULL, chat_fetch_reply);
  request->chat_id = g_strdup (chat_id);
  request->from = chat->next_position;
  request_send (self, request);
}

/* A chat object of the agent API (API.md "A chat"): the conversation is created or updated, and
 * its transcript applied. Returns the chat id, or NULL with @error set. */
static char *
apply_chat_object (CxAgentService *self, JsonObject *object, GError **error)
{
  const char *chat_id = cx_json_get_string (object, "chatId");
  const char *state = cx_json_get_string (object, "state");
  JsonObject *customer = cx_json_get_object (object, "customer");
  JsonNode *user_data = cx_json_get_member (object, "userData");
  JsonArray *array = cx_json_get_array (object, "messages");
  g_autoptr (GPtrArray) messages = NULL;
  g_autofree char *id = NULL;
  gint64 next_position = 0;
  gint64 created_at = 0;
  CxAgentConversationStatus status;
  Chat *chat;

  if (!cx_id_is_valid (chat_id) || array == NULL ||
      !cx_json_get_int (object, "nextPosition", 0, G_MAXUINT, &next_position) ||
      (user_data != NULL && !JSON_NODE_HOLDS_OBJECT (user_data) &&
       !JSON_NODE_HOLDS_NULL (user_data)) ||
      (messages = parse_messages (array, NULL)) == NULL)
    {
      g_propagate_error (error, bad_reply_error ("/chats"));
      return NULL;
    }

  if (g_strcmp0 (state, "ended") == 0)
    status = CX_AGENT_CONVERSATION_ENDED;
  else if (g_strcmp0 (state, "active") == 0)
    status = CX_AGENT_CONVERSATION_ACTIVE;
  else if (g_strcmp0 (state, "waiting") == 0)
    status = CX_AGENT_CONVERSATION_LEFT;
  else
    {
      g_propagate_error (error, bad_reply_error ("/chats"));
      return NULL;
    }

  id = g_strdup (chat_id);
  chat = lookup_chat (self, id);
  if (chat == NULL)
    chat = chat_new (self, id, CX_AGENT_CONVERSATION_INVITED);

  _cx_agent_conversation_set_queue (chat->conversation, cx_json_get_string (object, "queue"));
  if (customer != NULL)
    _cx_agent_conversation_take_customer (chat->conversation, customer_from_json (customer));
  _cx_agent_conversation_set_user_data (chat->conversation, user_data);
  if (cx_json_get_int (object, "createdAt", 0, G_MAXINT64, &created_at))
    chat->conversation->waiting_since = created_at;

  if (status == CX_AGENT_CONVERSATION_ACTIVE)
    chat_set_status (self, id, status);
  chat_receive (self, id, messages, 1, (guint) next_position);
  if (status != CX_AGENT_CONVERSATION_ACTIVE)
    chat_set_status (self, id, status);

  return g_steal_pointer (&id);
}

/* Invitations */

static void
handle_invitation (CxAgentService *self, const CxAgentEvent *event)
{
  Chat *chat = lookup_chat (self, event->chat_id);
  JsonObject *object;
  g_autoptr (JsonNode) data = NULL;
  gboolean fresh;

  if (chat != NULL && chat->conversation->status == CX_AGENT_CONVERSATION_ACTIVE)
    {
      g_debug ("Chat %s: an invitation for a chat this agent is in", event->chat_id);
      return;
    }

  if (chat != NULL && chat->conversation->status == CX_AGENT_CONVERSATION_ENDED)
    {
      /* An ended chat is not offered again: this is news of another one. */
      chat_remove (self, event->chat_id);
      chat = NULL;
    }

  if (chat == NULL)
    chat = chat_new (self, event->chat_id, CX_AGENT_CONVERSATION_INVITED);

  chat->invite_mark = FALSE;
  fresh = chat->conversation->status != CX_AGENT_CONVERSATION_INVITED ||
          chat->conversation->expires_at == 0;

  _cx_agent_conversation_set_queue (chat->conversation, event->queue);
  _cx_agent_conversation_take_customer (chat->conversation, customer_from_event (&event->customer));
  _cx_agent_conversation_set_user_data (chat->conversation, event->user_data);
  chat->conversation->waiting_since = event->waiting_since;
  chat->conversation->expires_at = event->expires_at;
  _cx_agent_conversation_set_status (chat->conversation, CX_AGENT_CONVERSATION_INVITED);

  /* Pending invitations come again on every connection: each is news once. */
  if (!fresh)
    return;

  object = json_object_new ();
  json_object_set_string_member (object, "chatId", event->chat_id);
  json_object_set_string_member (object, "queue", event->queue);
  json_object_set_object_member (object, "customer", customer_from_event (&event->customer));
  json_object_set_member (object, "userData", json_node_copy (event->user_data));
  json_object_set_int_member (object, "waitingSince", event->waiting_since);
  json_object_set_int_member (object, "expiresAt", event->expires_at);
  data = cx_json_node_new_object (object);
  publish (self, "invitation", data);
}

static void
withdraw_invitation (CxAgentService *self, const char *chat_id, const char *reason)
{
  Chat *chat = lookup_chat (self, chat_id);
  g_autofree char *id = g_strdup (chat_id);
  JsonObject *object;
  g_autoptr (JsonNode) data = NULL;

  if (chat == NULL || chat->conversation->status != CX_AGENT_CONVERSATION_INVITED)
    return;

  chat_remove (self, id);

  object = json_object_new ();
  json_object_set_string_member (object, "chatId", id);
  if (reason != NULL)
    json_object_set_string_member (object, "reason", reason);
  else
    json_object_set_null_member (object, "reason");
  data = cx_json_node_new_object (object);
  publish (self, "invitationWithdrawn", data);
}

/* Typing of the agent: a true is followed by a false after TYPING_IDLE_MS without another */

static void
typing_timer_free (TypingTimer *timer)
{
  g_clear_handle_id (&timer->id, g_source_remove);
  g_free (timer->chat_id);
  g_free (timer);
}

static void post_typing (CxAgentService *self, const char *chat_id, gboolean typing,
                         CxCommand *command);

static gboolean
typing_idle_cb (gpointer user_data)
{
  TypingTimer *timer = user_data;
  CxAgentService *self = timer->self;
  g_autofree char *chat_id = g_strdup (timer->chat_id);

  timer->id = 0;
  g_hash_table_remove (self->typing_timers, chat_id);
  if (self->session == SESSION_SIGNED_IN)
    post_typing (self, chat_id, FALSE, NULL);

  return G_SOURCE_REMOVE;
}

static void
start_typing_timer (CxAgentService *self, const char *chat_id)
{
  TypingTimer *timer = g_new0 (TypingTimer, 1);

  timer->self = self;
  timer->chat_id = g_strdup (chat_id);
  timer->id = g_timeout_add (TYPING_IDLE_MS, typing_idle_cb, timer);
  g_hash_table_replace (self->typing_timers, g_strdup (chat_id), timer);
}

static void
stop_typing_timer (CxAgentService *self, const char *chat_id)
{
  g_hash_table_remove (self->typing_timers, chat_id);
}

static void
typing_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  if (error != NULL && request->generation == self->generation)
    {
      /* The next true must be sent again. */
      stop_typing_timer (self, request->chat_id);
      if (request->command == NULL &&
          !g_error_matches (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN))
        g_debug ("Chat %s: typing not sent: %s", request->chat_id, error->message);
    }

  answer (request, NULL, error);
}

static void
post_typing (CxAgentService *self, const char *chat_id, gboolean typing, CxCommand *command)
{
  g_autofree char *escaped = escape (chat_id);
  g_autofree char *path = g_strdup_printf ("/chats/%s/typing", escaped);
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) body = NULL;
  Request *request;

  json_object_set_boolean_member (object, "typing", typing);
  body = cx_json_node_new_object (object);
  request = request_new (self, SOUP_METHOD_POST, path, body, command, typing_reply);
  request->chat_id = g_strdup (chat_id);
  request_send (self, request);
}

/* The session and the agent's state */

static void connect_events (CxAgentService *self);
static void close_socket (CxAgentService *self);
static void run_deferred (CxAgentService *self);

static void
set_connected (CxAgentService *self, gboolean connected)
{
  if (self->connected == connected)
    return;

  self->connected = connected;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTED]);
}

/* The agent's state as the server reports it; "stateChanged" when it is news. */
static void
update_state (CxAgentService *self, CxAgentPresence state, const char *reason)
{
  JsonObject *object;
  g_autoptr (JsonNode) data = NULL;

  if (self->state == state && g_strcmp0 (self->reason, reason) == 0)
    return;

  self->state = state;
  g_free (self->reason);
  self->reason = g_strdup (reason);
  if (self->agent != NULL)
    {
      json_object_set_string_member (self->agent, "state", cx_agent_presence_to_string (state));
      if (reason != NULL)
        json_object_set_string_member (self->agent, "reason", reason);
      else
        json_object_set_null_member (self->agent, "reason");
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REASON]);

  object = json_object_new ();
  json_object_set_string_member (object, "state", cx_agent_presence_to_string (state));
  if (reason != NULL)
    json_object_set_string_member (object, "reason", reason);
  else
    json_object_set_null_member (object, "reason");
  data = cx_json_node_new_object (object);
  publish (self, "stateChanged", data);
}

static JsonNode *
agent_node (CxAgentService *self)
{
  return cx_json_node_new_object (json_object_ref (self->agent));
}

/* The agent's queues: the strings of its "queues" member (parse_agent checked the rest). */
static char **
queues_of_agent (JsonObject *agent)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *queues = cx_json_get_array (agent, "queues");

  for (guint i = 0; queues != NULL && i < json_array_get_length (queues); i++)
    {
      JsonNode *node = json_array_get_element (queues, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_strv_builder_add (builder, json_node_get_string (node));
    }
  return g_strv_builder_end (builder);
}

static void
session_began (CxAgentService *self, JsonObject *agent, CxAgentPresence state, Request *request)
{
  g_autoptr (JsonNode) data = NULL;

  self->session = SESSION_SIGNED_IN;
  self->generation++;
  g_clear_pointer (&self->agent, json_object_unref);
  self->agent = json_object_ref (agent);
  self->state = state;
  g_free (self->reason);
  self->reason = g_strdup (cx_json_get_string (agent, "reason"));
  g_strfreev (self->queues);
  self->queues = queues_of_agent (agent);
  self->retry_delay_ms = FIRST_RETRY_MS;

  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIGNED_IN]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USERNAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REASON]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUEUES]);
  g_object_thaw_notify (G_OBJECT (self));

  data = agent_node (self);
  publish (self, "signedIn", data);
  answer (request, data, NULL);
  resolve_all (self->restore_waiters, data);

  if (self->session == SESSION_SIGNED_IN)
    connect_events (self);
  run_deferred (self);
}

/* The session is over for this window (signed out here or elsewhere, or refused by the
 * server): everything of it goes, and "signedOut" says so. */
static void
session_ended (CxAgentService *self)
{
  if (self->session != SESSION_SIGNED_IN && self->session != SESSION_SIGNING_OUT)
    return;

  g_debug ("Signed out");
  self->session = SESSION_SIGNED_OUT;
  self->generation++;
  self->sync_id++;
  self->sync_pending = 0;
  self->lost = FALSE;
  close_socket (self);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_clear_handle_id (&self->greet_id, g_source_remove);

  g_hash_table_remove_all (self->typing_timers);
  g_hash_table_remove_all (self->chats);
  g_list_store_remove_all (self->conversations);
  g_clear_pointer (&self->agent, json_object_unref);
  g_clear_pointer (&self->reason, g_free);
  g_strfreev (self->queues);
  self->queues = g_new0 (char *, 1);
  self->state = CX_AGENT_PRESENCE_OFFLINE;

  g_object_freeze_notify (G_OBJECT (self));
  set_connected (self, FALSE);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIGNED_IN]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USERNAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REASON]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUEUES]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_object_thaw_notify (G_OBJECT (self));

  publish_empty (self, "signedOut");
}

static GSList *
session_cookies (CxAgentService *self)
{
  SoupCookieJar *jar = cx_http_get_cookie_jar (self->http);
  GSList *cookies = soup_cookie_jar_get_cookie_list (jar, self->me_uri, TRUE);
  GSList *ours = NULL;

  for (GSList *l = cookies; l != NULL; l = l->next)
    {
      if (g_str_equal (soup_cookie_get_name (l->data), SESSION_COOKIE))
        ours = g_slist_prepend (ours, l->data);
      else
        soup_cookie_free (l->data);
    }
  g_slist_free (cookies);

  return ours;
}

static gboolean
has_session_cookie (CxAgentService *self)
{
  GSList *cookies = session_cookies (self);
  gboolean found = cookies != NULL;

  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);
  return found;
}

static void
delete_session_cookie (CxAgentService *self)
{
  SoupCookieJar *jar = cx_http_get_cookie_jar (self->http);
  GSList *cookies = session_cookies (self);

  for (GSList *l = cookies; l != NULL; l = l->next)
    soup_cookie_jar_delete_cookie (jar, l->data);
  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);
}

/* A request of session @generation was answered 401: the server has forgotten the session.
 * Deleting the cookie signs out every window of the app. */
static void
session_rejected (CxAgentService *self, guint generation)
{
  if (generation != self->generation ||
      (self->session != SESSION_SIGNED_IN && self->session != SESSION_SIGNING_OUT))
    return;

  g_debug ("The server no longer knows the session");
  session_ended (self);
  delete_session_cookie (self);
}

static void
sign_in_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (JsonObject) agent = NULL;
  g_autoptr (GError) local_error = NULL;
  CxAgentPresence state = CX_AGENT_PRESENCE_OFFLINE;

  if (request->generation != self->generation || self->session != SESSION_SIGNING_IN)
    {
      answer (request, NULL, error);
      return;
    }

  if (error == NULL)
    agent = parse_agent (reply, &state, &local_error);

  if (agent == NULL)
    {
      const GError *failure = error != NULL ? error : local_error;

      g_debug ("Signing in failed: %s", failure->message);
      self->session = SESSION_SIGNED_OUT;
      answer (request, NULL, failure);
      reject_all (self->restore_waiters, failure);
      run_deferred (self);
      return;
    }

  session_began (self, agent, state, request);
}

/* GET /me with the cookie the app has: a window restores the app's session. */
static void
begin_restore (CxAgentService *self)
{
  Request *request;

  self->session = SESSION_SIGNING_IN;
  request = request_new (self, SOUP_METHOD_GET, "/me", NULL, NULL, sign_in_reply);
  request_send (self, request);
}

/* Deferred commands: those that came while signing in run once it is settled */

static void
defer (CxAgentService *self, CxCommand *command, CxCommandFunc func)
{
  Deferred deferred = { g_object_ref (command), func };

  g_array_append_val (self->deferred, deferred);
}

static void
run_deferred (CxAgentService *self)
{
  g_autoptr (GArray) taken = NULL;

  if (self->deferred->len == 0)
    return;

  taken = self->deferred;
  self->deferred = g_array_new (FALSE, FALSE, sizeof (Deferred));
  for (guint i = 0; i < taken->len; i++)
    {
      Deferred *deferred = &g_array_index (taken, Deferred, i);

      if (!self->disposed)
        deferred->func (NULL, deferred->command, self);
      g_clear_object (&deferred->command);
    }
}

/* Whether @command may run now; if not it is deferred (signing in) or rejected. */
static gboolean
require_session (CxAgentService *self, CxCommand *command, CxCommandFunc func)
{
  if (self->session == SESSION_SIGNED_IN)
    return TRUE;

  if (self->session == SESSION_SIGNING_IN)
    defer (self, command, func);
  else
    reject_not_signed_in (command);

  return FALSE;
}

/* The event socket */

static void start_sync (CxAgentService *self);

static void
close_socket (CxAgentService *self)
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
  connect_events (self);
  return G_SOURCE_REMOVE;
}

/* The socket closed, could not open, or the sync after it failed: say so once, and try again
 * after 1 s, 2 s, 4 s … 30 s. */
static void
connection_failed (CxAgentService *self)
{
  close_socket (self);
  self->sync_id++;
  self->sync_pending = 0;
  set_connected (self, FALSE);

  if (self->session != SESSION_SIGNED_IN)
    return;

  if (!self->lost)
    {
      self->lost = TRUE;
      publish_empty (self, "connectionLost");
      if (self->session != SESSION_SIGNED_IN)
        return;
    }

  if (self->retry_id == 0 && !self->socket_connecting)
    {
      g_debug ("Reconnecting in %u ms", self->retry_delay_ms);
      self->retry_id = g_timeout_add (self->retry_delay_ms, retry_cb, self);
      self->retry_delay_ms = MIN (self->retry_delay_ms * 2, MAX_RETRY_MS);
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
      session_ended (self);
      return;
    }

  /* This session is alive: the frame was for another session of the same agent. */
  g_debug ("Another session of this agent signed out; this one goes on");
  connect_events (self);
}

/* The server says "signedOut". It means the socket's session (API.md), but cxdesk-server sends
 * it to every session of the agent; GET /me tells whether this one is over. The socket closes
 * either way: this window closes it first, so that it is not taken for a lost connection. */
static void
confirm_signed_out (CxAgentService *self)
{
  if (self->session != SESSION_SIGNED_IN && self->session != SESSION_SIGNING_OUT)
    return;

  close_socket (self);
  self->sync_id++;
  self->sync_pending = 0;
  set_connected (self, FALSE);
  request_send (self,
                request_new (self, SOUP_METHOD_GET, "/me", NULL, NULL, confirm_signed_out_reply));
}

static void
handle_frame (CxAgentService *self, CxAgentEvent *event)
{
  Chat *chat = lookup_chat (self, event->chat_id);

  switch (event->type)
    {
      case CX_AGENT_EVENT_INVITATION:
        handle_invitation (self, event);
        break;

      case CX_AGENT_EVENT_INVITATION_WITHDRAWN:
        withdraw_invitation (self, event->chat_id, event->reason);
        break;

      case CX_AGENT_EVENT_MESSAGES:
        if (chat == NULL)
          {
            /* A chat of this agent that this window has not heard of: read it all. */
            chat = chat_new (self, event->chat_id, CX_AGENT_CONVERSATION_INVITED);
            chat_set_status (self, event->chat_id, CX_AGENT_CONVERSATION_ACTIVE);
            chat = lookup_chat (self, event->chat_id);
            if (chat == NULL)
              break;
          }

        if (chat_is_held (chat))
          {
            for (guint i = 0; i < event->messages->len; i++)
              g_ptr_array_add (chat->pending,
                               cx_message_ref (g_ptr_array_index (event->messages, i)));
            break;
          }

        chat_receive (self, event->chat_id, event->messages, 0, 0);
        break;

      case CX_AGENT_EVENT_CHAT_ENDED:
        if (chat == NULL)
          break;
        if (chat_is_held (chat) || chat->pending->len > 0)
          chat->pending_end = TRUE;
        else
          chat_set_status (self, event->chat_id, CX_AGENT_CONVERSATION_ENDED);
        break;

      case CX_AGENT_EVENT_AGENT_STATE:
        update_state (self, event->state, event->reason);
        break;

      case CX_AGENT_EVENT_CALLBACKS_CHANGED:
        publish_empty (self, "callbacksChanged");
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
  connection_failed (self);
}

static void
session_check_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  /* A 401 signs out (request_done_cb); anything else: the socket tries again as planned. */
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
        connect_events (self);
      return;
    }

  if (socket == NULL)
    {
      g_debug ("The event socket did not open: %s", error->message);
      connection_failed (self);

      /* Refused by the server: maybe the session is over. GET /me tells. */
      if (g_error_matches (error, CX_HTTP_ERROR, CX_HTTP_ERROR_STATUS))
        request_send (self,
                      request_new (self, SOUP_METHOD_GET, "/me", NULL, NULL, session_check_reply));
      return;
    }

  g_debug ("The event socket is open");
  self->socket = g_steal_pointer (&socket);
  soup_websocket_connection_set_max_incoming_payload_size (self->socket, CX_AGENT_FRAME_MAX_SIZE);
  g_signal_connect (self->socket, "message", G_CALLBACK (socket_message_cb), self);
  g_signal_connect (self->socket, "closed", G_CALLBACK (socket_closed_cb), self);

  start_sync (self);
}

static void
connect_events (CxAgentService *self)
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
  set_connected (self, TRUE);
  if (self->lost)
    {
      self->lost = FALSE;
      publish_empty (self, "connectionRestored");
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
    publish_error (self, error->message);
  connection_failed (self);
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
  JsonArray *chats = cx_json_get_array (cx_json_node_get_object (reply), "chats");
  g_autoptr (GPtrArray) missing = NULL;
  guint generation = self->generation;

  if (!sync_reply_is_current (self, request, error))
    return;

  if (chats == NULL)
    {
      g_autoptr (GError) bad = bad_reply_error ("/chats");

      publish_error (self, bad->message);
      connection_failed (self);
      return;
    }

  for (guint i = 0; i < json_array_get_length (chats) && self->generation == generation; i++)
    {
      g_autoptr (GError) local_error = NULL;
      JsonObject *object = cx_json_node_get_object (json_array_get_element (chats, i));
      g_autofree char *chat_id = apply_chat_object (self, object, &local_error);
      Chat *chat = lookup_chat (self, chat_id);

      if (chat_id == NULL)
        {
          publish_error (self, local_error->message);
          continue;
        }

      if (chat != NULL)
        {
          chat->syncing = FALSE;
          chat_flush (self, chat_id);
        }
    }

  /* Open when the socket closed, and not open now: they ended while this window was not
   * listening (or went to another agent; the API cannot tell which). */
  missing = chat_ids_where (self, chat_is_syncing);
  for (guint i = 0; i < missing->len && self->generation == generation; i++)
    {
      const char *chat_id = g_ptr_array_index (missing, i);
      Chat *chat = lookup_chat (self, chat_id);

      if (chat == NULL)
        continue;

      chat->syncing = FALSE;
      chat->pending_end = TRUE;
      chat_flush (self, chat_id);
    }

  if (self->generation == generation && request->sync_id == self->sync_id)
    sync_step_done (self);
}

static void
sync_invitations_reply (CxAgentService *self, Request *request, JsonNode *reply,
                        const GError *error)
{
  JsonArray *invitations = cx_json_get_array (cx_json_node_get_object (reply), "invitations");
  g_autoptr (GPtrArray) gone = NULL;
  guint generation = self->generation;

  if (!sync_reply_is_current (self, request, error))
    return;

  if (invitations == NULL)
    {
      g_autoptr (GError) bad = bad_reply_error ("/invitations");

      publish_error (self, bad->message);
      connection_failed (self);
      return;
    }

  for (guint i = 0; i < json_array_get_length (invitations) && self->generation == generation; i++)
    {
      g_autofree char *text = json_to_string (json_array_get_element (invitations, i), FALSE);
      g_autoptr (CxAgentEvent) event = NULL;
      g_autoptr (GError) local_error = NULL;

      if (!cx_agent_event_parse (text, strlen (text), &event, &local_error) ||
          event->type != CX_AGENT_EVENT_INVITATION)
        {
          g_debug ("Ignoring a malformed invitation: %s",
                   local_error != NULL ? local_error->message : "not an invitation");
          continue;
        }

      handle_invitation (self, event);
    }

  /* Offered when the socket closed, and not now: withdrawn while this window was not
   * listening. */
  gone = chat_ids_where (self, chat_is_unconfirmed_invitation);
  for (guint i = 0; i < gone->len && self->generation == generation; i++)
    withdraw_invitation (self, g_ptr_array_index (gone, i), "gone");

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

  request = request_new (self, SOUP_METHOD_GET, "/chats", NULL, NULL, sync_chats_reply);
  request->sync_id = self->sync_id;
  request_send (self, request);

  request = request_new (self, SOUP_METHOD_GET, "/invitations", NULL, NULL, sync_invitations_reply);
  request->sync_id = self->sync_id;
  request_send (self, request);
}

/* Commands: the session */

static void
sign_in_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *username = command_string (command, "username");
  const char *password = command_string (command, "password");
  JsonObject *object;
  g_autoptr (JsonNode) body = NULL;
  Request *request;

  if (!cx_id_is_valid (username) || password == NULL)
    {
      reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                      _ ("Signing in needs a user name and a password"));
      return;
    }

  switch (self->session)
    {
      case SESSION_SIGNING_IN:
        defer (self, command, sign_in_cb);
        return;

      case SESSION_SIGNED_IN:
        cx_command_reject (command,
                           g_error_new (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_BUSY,
                                        _ ("You are already signed in as %s: sign out first"),
                                        cx_json_get_string (self->agent, "username")));
        return;

      case SESSION_SIGNING_OUT:
        reject_literal (command, CX_AGENT_SERVICE_ERROR_BUSY, _ ("Signing out is under way"));
        return;

      case SESSION_SIGNED_OUT:
      default:
        break;
    }

  object = json_object_new ();
  json_object_set_string_member (object, "username", username);
  json_object_set_string_member (object, "password", password);
  body = cx_json_node_new_object (object);

  self->session = SESSION_SIGNING_IN;
  request = request_new (self, SOUP_METHOD_POST, "/session", body, command, sign_in_reply);
  request->signing_in = TRUE;
  request_send (self, request);
}

static void
restore_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  g_autoptr (JsonNode) result = NULL;

  switch (self->session)
    {
      case SESSION_SIGNED_IN:
        result = agent_node (self);
        cx_command_resolve (command, result);
        return;

      case SESSION_SIGNING_IN:
        g_ptr_array_add (self->restore_waiters, g_object_ref (command));
        return;

      case SESSION_SIGNING_OUT:
        reject_literal (command, CX_AGENT_SERVICE_ERROR_BUSY, _ ("Signing out is under way"));
        return;

      case SESSION_SIGNED_OUT:
      default:
        g_ptr_array_add (self->restore_waiters, g_object_ref (command));
        begin_restore (self);
        return;
    }
}

static void
sign_out_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (JsonNode) nothing = json_node_new (JSON_NODE_NULL);

  if (error != NULL &&
      !g_error_matches (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN))
    {
      /* The server did not hear it: still signed in. */
      if (self->session == SESSION_SIGNING_OUT && request->generation == self->generation)
        self->session = SESSION_SIGNED_IN;
      reject_all (self->sign_out_waiters, error);
      return;
    }

  if (request->generation == self->generation)
    {
      session_ended (self);
      /* The reply deleted it; a 401 did not: every window follows either way. */
      delete_session_cookie (self);
    }
  resolve_all (self->sign_out_waiters, nothing);
}

static void
sign_out_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;

  switch (self->session)
    {
      case SESSION_SIGNED_OUT:
        cx_command_resolve (command, NULL);
        return;

      case SESSION_SIGNING_IN:
        defer (self, command, sign_out_cb);
        return;

      case SESSION_SIGNING_OUT:
        g_ptr_array_add (self->sign_out_waiters, g_object_ref (command));
        return;

      case SESSION_SIGNED_IN:
      default:
        break;
    }

  g_ptr_array_add (self->sign_out_waiters, g_object_ref (command));
  self->session = SESSION_SIGNING_OUT;
  request_send (self,
                request_new (self, SOUP_METHOD_DELETE, "/session", NULL, NULL, sign_out_reply));
}

static void
set_state_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (JsonObject) agent = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonNode) result = NULL;
  CxAgentPresence state;

  if (error != NULL)
    {
      answer (request, NULL, error);
      return;
    }

  agent = parse_agent (reply, &state, &local_error);
  if (agent == NULL)
    {
      answer (request, NULL, local_error);
      return;
    }

  if (request->generation == self->generation && self->session == SESSION_SIGNED_IN)
    update_state (self, state, cx_json_get_string (agent, "reason"));

  result = cx_json_node_new_object (g_steal_pointer (&agent));
  answer (request, result, NULL);
}

static void
set_state_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  JsonObject *data = command_object (command);
  const char *state = cx_json_get_string (data, "state");
  const char *reason = cx_json_get_string (data, "reason");
  CxAgentPresence presence;
  JsonObject *object;
  g_autoptr (JsonNode) body = NULL;

  if (!cx_agent_presence_from_string (state, &presence))
    {
      reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                      _ ("setState needs a “state”: ready, not_ready or offline"));
      return;
    }
  if (reason == NULL && !cx_json_is_null_or_absent (data, "reason"))
    {
      reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                      _ ("setState: “reason” must be text"));
      return;
    }

  if (!require_session (self, command, set_state_cb))
    return;

  object = json_object_new ();
  json_object_set_string_member (object, "state", cx_agent_presence_to_string (presence));
  if (reason != NULL)
    json_object_set_string_member (object, "reason", reason);
  body = cx_json_node_new_object (object);
  request_send (self,
                request_new (self, SOUP_METHOD_PUT, "/state", body, command, set_state_reply));
}

/* Commands: invitations and chats */

static void
accept_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  Chat *chat = lookup_chat (self, request->chat_id);
  g_autoptr (GError) local_error = NULL;
  g_autofree char *chat_id = NULL;

  if (request->generation != self->generation)
    {
      answer (request, reply, error);
      return;
    }

  if (chat != NULL)
    chat->accepting = FALSE;

  if (error == NULL)
    {
      chat_id = apply_chat_object (self, cx_json_node_get_object (reply), &local_error);
      if (chat_id != NULL && g_strcmp0 (chat_id, request->chat_id) != 0)
        {
          g_clear_pointer (&chat_id, g_free);
          local_error = bad_reply_error ("/accept");
        }
    }

  answer (request, reply, error != NULL ? error : local_error);
  chat_flush (self, request->chat_id);
}

static void
accept_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = command_chat_id (command);
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  Request *request;
  Chat *chat;

  if (chat_id == NULL || !require_session (self, command, accept_cb))
    return;

  /* Frames of the chat wait for the reply, which has its whole transcript. */
  chat = lookup_chat (self, chat_id);
  if (chat != NULL)
    chat->accepting = TRUE;

  escaped = escape (chat_id);
  path = g_strdup_printf ("/invitations/%s/accept", escaped);
  request = request_new (self, SOUP_METHOD_POST, path, NULL, command, accept_reply);
  request->chat_id = g_strdup (chat_id);
  request->conflict_message = _ ("This chat is no longer offered to you");
  request_send (self, request);
}

static void
decline_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  if (error == NULL && request->generation == self->generation)
    withdraw_invitation (self, request->chat_id, "declined");

  answer (request, NULL, error);
}

static void
decline_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = command_chat_id (command);
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  Request *request;

  if (chat_id == NULL || !require_session (self, command, decline_cb))
    return;

  escaped = escape (chat_id);
  path = g_strdup_printf ("/invitations/%s/decline", escaped);
  request = request_new (self, SOUP_METHOD_POST, path, NULL, command, decline_reply);
  request->chat_id = g_strdup (chat_id);
  request->conflict_message = _ ("This chat is no longer offered to you");
  request_send (self, request);
}

static void
send_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  JsonObject *result_object;
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GError) bad = NULL;
  gint64 index = 0;

  if (error != NULL)
    {
      answer (request, NULL, error);
      return;
    }

  if (!cx_json_get_int (cx_json_node_get_object (reply), "index", 1, G_MAXUINT, &index))
    {
      bad = bad_reply_error ("/send");
      answer (request, NULL, bad);
      return;
    }

  result_object = json_object_new ();
  json_object_set_int_member (result_object, "index", index);
  result = cx_json_node_new_object (result_object);
  answer (request, result, NULL);
}

static void
send_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = command_chat_id (command);
  const char *text;
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  JsonObject *object;
  g_autoptr (JsonNode) body = NULL;
  Request *request;

  if (chat_id == NULL)
    return;

  text = command_string (command, "text");
  if (text == NULL || text[0] == '\0')
    {
      reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID, _ ("send needs a “text”"));
      return;
    }

  if (!require_session (self, command, send_cb))
    return;

  /* A message ends the agent's typing. */
  if (g_hash_table_contains (self->typing_timers, chat_id))
    {
      stop_typing_timer (self, chat_id);
      post_typing (self, chat_id, FALSE, NULL);
    }

  object = json_object_new ();
  json_object_set_string_member (object, "text", text);
  body = cx_json_node_new_object (object);
  escaped = escape (chat_id);
  path = g_strdup_printf ("/chats/%s/send", escaped);
  request = request_new (self, SOUP_METHOD_POST, path, body, command, send_reply);
  request->chat_id = g_strdup (chat_id);
  request_send (self, request);
}

static void
typing_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = command_chat_id (command);
  JsonNode *typing_node;
  gboolean typing;
  gboolean was_typing;

  if (chat_id == NULL)
    return;

  typing_node = cx_json_get_member (command_object (command), "typing");
  if (typing_node == NULL || !JSON_NODE_HOLDS_VALUE (typing_node) ||
      json_node_get_value_type (typing_node) != G_TYPE_BOOLEAN)
    {
      reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                      _ ("typing needs “typing”: true or false"));
      return;
    }

  if (!require_session (self, command, typing_cb))
    return;

  typing = json_node_get_boolean (typing_node);
  was_typing = g_hash_table_contains (self->typing_timers, chat_id);

  if (typing)
    {
      /* Each true puts the automatic false off; only the first is sent. */
      start_typing_timer (self, chat_id);
      if (was_typing)
        {
          cx_command_resolve (command, NULL);
          return;
        }
    }
  else
    {
      stop_typing_timer (self, chat_id);
      if (!was_typing)
        {
          cx_command_resolve (command, NULL);
          return;
        }
    }

  post_typing (self, chat_id, typing, command);
}

static void
leave_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  if (error == NULL && request->generation == self->generation)
    {
      /* This window knows at once; the others from the transcript and chatEnded. */
      chat_set_status (self, request->chat_id,
                       request->ends_chat ? CX_AGENT_CONVERSATION_ENDED
                                          : CX_AGENT_CONVERSATION_LEFT);
    }

  answer (request, NULL, error);
}

static void
end_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = command_chat_id (command);
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  Request *request;

  if (chat_id == NULL || !require_session (self, command, end_cb))
    return;

  stop_typing_timer (self, chat_id);
  escaped = escape (chat_id);
  path = g_strdup_printf ("/chats/%s/end", escaped);
  request = request_new (self, SOUP_METHOD_POST, path, NULL, command, leave_reply);
  request->chat_id = g_strdup (chat_id);
  request->ends_chat = TRUE;
  request_send (self, request);
}

static void
transfer_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = command_chat_id (command);
  const char *queue;
  const char *agent;
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  JsonObject *object;
  g_autoptr (JsonNode) body = NULL;
  Request *request;

  if (chat_id == NULL)
    return;

  queue = command_string (command, "queue");
  agent = command_string (command, "agent");
  if ((queue == NULL) == (agent == NULL) || (queue != NULL && !cx_id_is_valid (queue)) ||
      (agent != NULL && !cx_id_is_valid (agent)))
    {
      reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                      _ ("transfer needs either a “queue” or an “agent”"));
      return;
    }

  if (!require_session (self, command, transfer_cb))
    return;

  stop_typing_timer (self, chat_id);
  object = json_object_new ();
  if (queue != NULL)
    json_object_set_string_member (object, "queue", queue);
  else
    json_object_set_string_member (object, "agent", agent);
  body = cx_json_node_new_object (object);
  escaped = escape (chat_id);
  path = g_strdup_printf ("/chats/%s/transfer", escaped);
  request = request_new (self, SOUP_METHOD_POST, path, body, command, leave_reply);
  request->chat_id = g_strdup (chat_id);
  request_send (self, request);
}

static void
get_chats_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  JsonArray *chats = cx_json_get_array (cx_json_node_get_object (reply), "chats");
  g_autoptr (GError) bad = NULL;

  if (error != NULL)
    {
      answer (request, NULL, error);
      return;
    }

  if (chats == NULL)
    {
      bad = bad_reply_error ("/chats");
      answer (request, NULL, bad);
      return;
    }

  /* Checked, and what is new to this window applied, before the caller sees it. */
  for (guint i = 0; i < json_array_get_length (chats) && request->generation == self->generation;
       i++)
    {
      JsonObject *object = cx_json_node_get_object (json_array_get_element (chats, i));
      g_autofree char *chat_id = apply_chat_object (self, object, &bad);

      if (chat_id == NULL)
        {
          answer (request, NULL, bad);
          return;
        }
      chat_flush (self, chat_id);
    }

  answer (request, reply, NULL);
}

static void
get_chats_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;

  if (!require_session (self, command, get_chats_cb))
    return;

  request_send (self,
                request_new (self, SOUP_METHOD_GET, "/chats", NULL, command, get_chats_reply));
}

static void
get_transcript_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  JsonObject *object = cx_json_node_get_object (reply);
  JsonArray *array = cx_json_get_array (object, "messages");
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (GError) bad = NULL;
  g_autoptr (JsonNode) result = NULL;
  JsonObject *result_object;
  gint64 next_position = 0;

  if (error != NULL)
    {
      answer (request, NULL, error);
      return;
    }

  if (array == NULL || !cx_json_get_int (object, "nextPosition", 0, G_MAXUINT, &next_position) ||
      (messages = parse_messages (array, NULL)) == NULL)
    {
      bad = bad_reply_error ("/messages");
      answer (request, NULL, bad);
      return;
    }

  if (request->generation == self->generation)
    {
      chat_receive (self, request->chat_id, messages, request->from, (guint) next_position);
      chat_flush (self, request->chat_id);
    }

  result_object = json_object_new ();
  json_object_set_string_member (result_object, "chatId", request->chat_id);
  json_object_set_array_member (result_object, "messages", messages_to_array (messages));
  json_object_set_int_member (result_object, "nextPosition", next_position);
  result = cx_json_node_new_object (result_object);
  answer (request, result, NULL);
}

static void
get_transcript_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = command_chat_id (command);
  JsonObject *data = command_object (command);
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  gint64 from = 1;
  Request *request;

  if (chat_id == NULL)
    return;

  if (!cx_json_is_null_or_absent (data, "from") &&
      !cx_json_get_int (data, "from", 1, G_MAXUINT, &from))
    {
      reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                      _ ("getTranscript: “from” must be a transcript index, 1 or more"));
      return;
    }

  if (!require_session (self, command, get_transcript_cb))
    return;

  escaped = escape (chat_id);
  path = g_strdup_printf ("/chats/%s/messages?from=%" G_GINT64_FORMAT, escaped, from);
  request = request_new (self, SOUP_METHOD_GET, path, NULL, command, get_transcript_reply);
  request->chat_id = g_strdup (chat_id);
  request->from = (guint) from;
  request_send (self, request);
}

static void
dismiss_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = command_chat_id (command);
  Chat *chat;

  if (chat_id == NULL)
    return;

  chat = lookup_chat (self, chat_id);
  if (chat == NULL)
    {
      cx_command_resolve (command, NULL);
      return;
    }

  if (chat->conversation->status != CX_AGENT_CONVERSATION_ENDED &&
      chat->conversation->status != CX_AGENT_CONVERSATION_LEFT)
    {
      reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                      _ ("Only a conversation that is over can be dismissed"));
      return;
    }

  chat_remove (self, chat_id);
  cx_command_resolve (command, NULL);
}

/* Commands: callbacks and canned responses */

/* Checks that @reply has an array @member of objects, each with the string members @required. */
static gboolean
reply_has_list (JsonNode *reply, const char *member, const char *const *required)
{
  JsonArray *array = cx_json_get_array (cx_json_node_get_object (reply), member);

  if (array == NULL)
    return FALSE;

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *item = cx_json_node_get_object (json_array_get_element (array, i));

      if (item == NULL)
        return FALSE;
      for (guint j = 0; required[j] != NULL; j++)
        if (cx_json_get_string (item, required[j]) == NULL)
          return FALSE;
    }

  return TRUE;
}

static void
get_callbacks_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  static const char *const required[] = { "_id", NULL };
  g_autoptr (GError) bad = NULL;

  if (error == NULL && !reply_has_list (reply, "callbacks", required))
    bad = bad_reply_error ("/callbacks");

  answer (request, reply, error != NULL ? error : bad);
}

static void
get_callbacks_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;

  if (!require_session (self, command, get_callbacks_cb))
    return;

  request_send (
      self, request_new (self, SOUP_METHOD_GET, "/callbacks", NULL, command, get_callbacks_reply));
}

static void
callback_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (GError) bad = NULL;

  if (error == NULL && cx_json_get_string (cx_json_node_get_object (reply), "_id") == NULL)
    bad = bad_reply_error ("/callbacks");

  answer (request, reply, error != NULL ? error : bad);
}

static void
change_callback (CxAgentService *self, CxCommand *command, CxCommandFunc func, const char *action,
                 JsonNode *body)
{
  const char *id = command_string (command, "id");
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  if (!cx_id_is_valid (id))
    {
      cx_command_reject (command,
                         g_error_new (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_INVALID,
                                      _ ("%s needs the callback’s “id”"),
                                      cx_command_get_short_name (command)));
      return;
    }

  if (!require_session (self, command, func))
    return;

  escaped = escape (id);
  path = g_strdup_printf ("/callbacks/%s/%s", escaped, action);
  request_send (self, request_new (self, SOUP_METHOD_POST, path, body, command, callback_reply));
}

static void
complete_callback_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  change_callback (user_data, command, complete_callback_cb, "complete", NULL);
}

static void
reschedule_callback_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  const char *desired_time = command_string (command, "desiredTime");
  JsonObject *object;
  g_autoptr (JsonNode) body = NULL;

  if (desired_time == NULL || desired_time[0] == '\0')
    {
      reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                      _ ("rescheduleCallback needs a “desiredTime” (ISO-8601)"));
      return;
    }

  object = json_object_new ();
  json_object_set_string_member (object, "desiredTime", desired_time);
  body = cx_json_node_new_object (object);
  change_callback (user_data, command, reschedule_callback_cb, "reschedule", body);
}

static void
get_canned_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  static const char *const required[] = { "id", "title", "text", NULL };
  g_autoptr (GError) bad = NULL;

  if (error == NULL && !reply_has_list (reply, "responses", required))
    bad = bad_reply_error ("/canned");

  answer (request, reply, error != NULL ? error : bad);
}

static void
get_canned_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;

  if (!require_session (self, command, get_canned_cb))
    return;

  request_send (self,
                request_new (self, SOUP_METHOD_GET, "/canned", NULL, command, get_canned_reply));
}

typedef struct
{
  const char *name;
  CxCommandFunc func;
} CommandSpec;

static const CommandSpec command_specs[] = {
  { "signIn", sign_in_cb },
  { "signOut", sign_out_cb },
  { "restore", restore_cb },
  { "setState", set_state_cb },
  { "accept", accept_cb },
  { "decline", decline_cb },
  { "send", send_cb },
  { "typing", typing_cb },
  { "end", end_cb },
  { "transfer", transfer_cb },
  { "getChats", get_chats_cb },
  { "getTranscript", get_transcript_cb },
  { "getCallbacks", get_callbacks_cb },
  { "completeCallback", complete_callback_cb },
  { "rescheduleCallback", reschedule_callback_cb },
  { "getCanned", get_canned_cb },
  { "dismiss", dismiss_cb },
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
  close_socket (self);

  /* The customer must not see this agent typing forever. */
  if (self->typing_timers != NULL)
    {
      g_hash_table_iter_init (&iter, self->typing_timers);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          if (self->http != NULL && self->session == SESSION_SIGNED_IN)
            send_typing_stop_detached (self, key);
          g_hash_table_iter_remove (&iter);
        }
    }

  /* No command reaches the service after this. */
  while (self->plugins != NULL && self->plugins->len > 0)
    {
      CxPlugin *plugin = g_ptr_array_index (self->plugins, self->plugins->len - 1);

      if (cx_plugin_get_bus (plugin) != NULL)
        cx_bus_unregister_plugin (cx_plugin_get_bus (plugin), plugin);
      g_ptr_array_remove_index (self->plugins, self->plugins->len - 1);
    }

  error = g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN,
                               _ ("The agent session was closed"));
  if (self->restore_waiters != NULL)
    reject_all (self->restore_waiters, error);
  if (self->sign_out_waiters != NULL)
    reject_all (self->sign_out_waiters, error);
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
  g_clear_pointer (&self->agent, json_object_unref);
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

  properties[PROP_SIGNED_IN] = g_param_spec_boolean ("signed-in", NULL, NULL, FALSE, flags);
  properties[PROP_USERNAME] = g_param_spec_string ("username", NULL, NULL, NULL, flags);
  properties[PROP_STATE] = g_param_spec_string ("state", NULL, NULL, NULL, flags);
  properties[PROP_CONNECTED] = g_param_spec_boolean ("connected", NULL, NULL, FALSE, flags);
  /* The signed-in agent as the server describes it; NULL (empty queues) when signed out. */
  properties[PROP_DISPLAY_NAME] = g_param_spec_string ("display-name", NULL, NULL, NULL, flags);
  properties[PROP_REASON] = g_param_spec_string ("reason", NULL, NULL, NULL, flags);
  properties[PROP_QUEUES] = g_param_spec_boxed ("queues", NULL, NULL, G_TYPE_STRV, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
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
  self->chats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) chat_free);
  self->typing_timers =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) typing_timer_free);
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
  api_path = g_strconcat (path, "cx/1/agent", NULL);
  events_path = g_strconcat (api_path, "/events", NULL);
  ws_scheme = g_ascii_strcasecmp (scheme, "https") == 0 ? "wss" : "ws";

  self->server_url = g_strdup (server_url);
  self->host = g_strdup (g_uri_get_host (uri));
  self->api_base = g_uri_join (G_URI_FLAGS_ENCODED_PATH, scheme, NULL, g_uri_get_host (uri),
                               g_uri_get_port (uri), api_path, NULL, NULL);
  self->events_url = g_uri_join (G_URI_FLAGS_ENCODED_PATH, ws_scheme, NULL, g_uri_get_host (uri),
                                 g_uri_get_port (uri), events_path, NULL, NULL);
  me = g_strconcat (self->api_base, "/me", NULL);
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

  if (has_session_cookie (self))
    begin_restore (self);

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
          g_autoptr (JsonNode) agent = agent_node (self);

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

  plugin = cx_bus_register_plugin (bus, CX_AGENT_SERVICE_NAME, error);
  if (plugin == NULL)
    return NULL;

  if (!cx_plugin_register_events (plugin, event_names, error))
    {
      cx_bus_unregister_plugin (bus, plugin);
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (command_specs); i++)
    if (!cx_plugin_register_command (plugin, command_specs[i].name, command_specs[i].func, self,
                                     NULL, error))
      {
        cx_bus_unregister_plugin (bus, plugin);
        return NULL;
      }

  g_ptr_array_add (self->plugins, g_object_ref (plugin));
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

  return self->session == SESSION_SIGNED_IN ? cx_json_get_string (self->agent, "displayName")
                                            : NULL;
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

  return self->agent != NULL ? cx_json_get_string (self->agent, "username") : NULL;
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
