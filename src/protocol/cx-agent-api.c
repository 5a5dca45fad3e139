/* cx-agent-api.c: the /cx/1 agent REST API's routes, error shape, request bodies and the
 * wait-time query (cx-agent-api.h), and the helpers its replies (cx-agent-api-replies.c) share:
 * one builder and one strict parser per body. Builders take what the other side's parser accepts;
 * parsers check every member's type, identifiers with cx_id_is_valid(), text for UTF-8, control
 * characters and length, and lists for their count, before anything is copied. */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-api.h"
#include "protocol/cx-agent-api-private.h"

/* Routes */

typedef struct
{
  const char *method;
  const char *collection; /* the first segment */
  const char *action;     /* the third, after the id; NULL: the route has no id */
} Route;

static const Route routes[] = {
  [CX_AGENT_ROUTE_SIGN_IN] = { "POST", "session", NULL },
  [CX_AGENT_ROUTE_SIGN_OUT] = { "DELETE", "session", NULL },
  [CX_AGENT_ROUTE_ME] = { "GET", "me", NULL },
  [CX_AGENT_ROUTE_STATE] = { "PUT", "state", NULL },
  [CX_AGENT_ROUTE_EVENTS] = { "GET", "events", NULL },
  [CX_AGENT_ROUTE_INVITATIONS] = { "GET", "invitations", NULL },
  [CX_AGENT_ROUTE_ACCEPT] = { "POST", "invitations", "accept" },
  [CX_AGENT_ROUTE_DECLINE] = { "POST", "invitations", "decline" },
  [CX_AGENT_ROUTE_CHATS] = { "GET", "chats", NULL },
  [CX_AGENT_ROUTE_MESSAGES] = { "GET", "chats", "messages" },
  [CX_AGENT_ROUTE_SEND] = { "POST", "chats", "send" },
  [CX_AGENT_ROUTE_TYPING] = { "POST", "chats", "typing" },
  [CX_AGENT_ROUTE_END] = { "POST", "chats", "end" },
  [CX_AGENT_ROUTE_TRANSFER] = { "POST", "chats", "transfer" },
  [CX_AGENT_ROUTE_CALLBACKS] = { "GET", "callbacks", NULL },
  [CX_AGENT_ROUTE_COMPLETE_CALLBACK] = { "POST", "callbacks", "complete" },
  [CX_AGENT_ROUTE_RESCHEDULE_CALLBACK] = { "POST", "callbacks", "reschedule" },
  [CX_AGENT_ROUTE_CANNED] = { "GET", "canned", NULL },
};

G_STATIC_ASSERT (G_N_ELEMENTS (routes) == CX_AGENT_ROUTE_CANNED + 1);

/**
 * cx_agent_route_method:
 * @route: a route
 *
 * Returns: its HTTP method ("GET", "POST", "PUT", "DELETE")
 */
const char *
cx_agent_route_method (CxAgentRoute route)
{
  g_return_val_if_fail ((guint) route < G_N_ELEMENTS (routes), NULL);

  return routes[route].method;
}

/**
 * cx_agent_route_has_id:
 * @route: a route
 *
 * Returns: whether its path names a chat or callback
 */
gboolean
cx_agent_route_has_id (CxAgentRoute route)
{
  g_return_val_if_fail ((guint) route < G_N_ELEMENTS (routes), FALSE);

  return routes[route].action != NULL;
}

/**
 * cx_agent_route_path:
 * @route: a route
 * @id: (nullable): the chat or callback id, for a route that has one (escaped here)
 *
 * Returns: (transfer full): the path under %CX_AGENT_API_PREFIX, starting with "/"
 */
char *
cx_agent_route_path (CxAgentRoute route, const char *id)
{
  g_autofree char *escaped = NULL;

  g_return_val_if_fail ((guint) route < G_N_ELEMENTS (routes), NULL);
  g_return_val_if_fail (routes[route].action == NULL || cx_id_is_valid (id), NULL);

  if (routes[route].action == NULL)
    return g_strconcat ("/", routes[route].collection, NULL);

  escaped = g_uri_escape_string (id, NULL, FALSE);
  return g_strconcat ("/", routes[route].collection, "/", escaped, "/", routes[route].action, NULL);
}

/**
 * cx_agent_route_messages_path:
 * @chat_id: the chat
 * @from: the first transcript index wanted, 1 or more
 *
 * Returns: (transfer full): "/chats/{chatId}/messages?from=N"
 */
char *
cx_agent_route_messages_path (const char *chat_id, guint from)
{
  g_autofree char *path = cx_agent_route_path (CX_AGENT_ROUTE_MESSAGES, chat_id);

  g_return_val_if_fail (path != NULL, NULL);

  return g_strdup_printf ("%s?from=%u", path, MAX (from, 1));
}

/**
 * cx_agent_route_parse:
 * @method: the request's method
 * @path: the request's path under %CX_AGENT_API_PREFIX ("/chats/abc/send"), still
 *   percent-encoded
 * @route: (out): the route
 * @id: (out) (transfer full) (optional): the decoded, valid id of a route that has one, else
 *   %NULL
 *
 * Returns: whether @method and @path are a route of the agent API with a valid id (else: 404)
 */
gboolean
cx_agent_route_parse (const char *method, const char *path, CxAgentRoute *route, char **id)
{
  g_auto (GStrv) parts = NULL;
  g_autofree char *decoded = NULL;
  guint n;

  g_return_val_if_fail (route != NULL, FALSE);

  if (id != NULL)
    *id = NULL;
  if (method == NULL || path == NULL || path[0] != '/')
    return FALSE;

  parts = g_strsplit (path + 1, "/", 4);
  n = g_strv_length (parts);
  if (n != 1 && n != 3)
    return FALSE;

  if (n == 3)
    {
      /* No "/" may hide in the id, escaped or not. */
      decoded = g_uri_unescape_string (parts[1], "/");
      if (!cx_id_is_valid (decoded))
        return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      const Route *candidate = &routes[i];

      if (!g_str_equal (candidate->method, method) ||
          !g_str_equal (candidate->collection, parts[0]) ||
          (candidate->action == NULL) != (n == 1) ||
          (n == 3 && !g_str_equal (candidate->action, parts[2])))
        continue;

      *route = (CxAgentRoute) i;
      if (id != NULL)
        *id = g_steal_pointer (&decoded);
      return TRUE;
    }

  return FALSE;
}

/**
 * cx_agent_route_parse_from:
 * @query: (nullable): the decoded query of GET /chats/{chatId}/messages
 * @from: (out): its "from", 1 if absent
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Returns: %FALSE if "from" is not a transcript index from 1 to 2³²-1
 */
gboolean
cx_agent_route_parse_from (GHashTable *query, guint *from, GError **error)
{
  const char *text = query != NULL ? g_hash_table_lookup (query, "from") : NULL;
  guint64 value = 1;

  if (text != NULL && (!cx_parse_uint (text, G_MAXUINT, &value) || value == 0))
    {
      g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("“from” must be a transcript index, 1 or more"));
      return FALSE;
    }

  *from = (guint) value;
  return TRUE;
}

/* Helpers, shared with cx-agent-api-replies.c (cx-agent-api-private.h) */

void
cx_agent_api_begin (JsonBuilder **builder)
{
  *builder = json_builder_new ();
  json_builder_begin_object (*builder);
}

JsonNode *
cx_agent_api_end (JsonBuilder *builder)
{
  g_autoptr (JsonBuilder) owned = builder;

  json_builder_end_object (owned);
  return json_builder_get_root (owned);
}

void
cx_agent_api_add_string (JsonBuilder *builder, const char *member, const char *value)
{
  if (value == NULL)
    return;

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
}

void
cx_agent_api_add_int (JsonBuilder *builder, const char *member, gint64 value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_int_value (builder, value);
}

/* A string member, with the parsers' rules: @flags (CX_TEXT_ALLOW_EMPTY or not), at most
 * @max_chars characters (0: no limit). */
gboolean
cx_agent_api_member_text (JsonObject *object, const char *member, gboolean required,
                          CxTextFlags flags, gsize max_chars, char **out, GError **error)
{
  const char *value;

  *out = NULL;
  if (!cx_json_member_string (object, member, required, flags, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  if (!cx_text_validate (member, value, flags, max_chars, CX_PROTOCOL_ERROR,
                         CX_PROTOCOL_ERROR_INVALID, CX_PROTOCOL_ERROR_TOO_LARGE, error))
    return FALSE;

  *out = g_strdup (value);
  return TRUE;
}

/* A required array member of at most @max elements. */
gboolean
cx_agent_api_member_list (JsonObject *object, const char *member, guint max, JsonArray **out,
                          GError **error)
{
  if (!cx_json_member_array (object, member, TRUE, out, error))
    return FALSE;

  if (json_array_get_length (*out) > max)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                   _ ("“%s” has more than %u entries"), member, max);
      return FALSE;
    }
  return TRUE;
}

gboolean
cx_agent_api_fail_invalid (GError **error, const char *message)
{
  g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, message);
  return FALSE;
}

/* Errors */

/**
 * cx_agent_api_build_error:
 * @message: what went wrong, for people
 *
 * Returns: (transfer full): `{"error": message}`, every /cx/1 error reply
 */
JsonNode *
cx_agent_api_build_error (const char *message)
{
  JsonBuilder *builder;

  g_return_val_if_fail (message != NULL, NULL);

  cx_agent_api_begin (&builder);
  cx_agent_api_add_string (builder, "error", message);
  return cx_agent_api_end (builder);
}

/**
 * cx_agent_api_parse_error:
 * @root: (nullable): an error reply's JSON tree
 *
 * Returns: (transfer full) (nullable): its message, if it has a valid one
 */
char *
cx_agent_api_parse_error (JsonNode *root)
{
  JsonObject *object = cx_json_root_object (root, "reply", NULL);
  char *message = NULL;

  if (object == NULL ||
      !cx_agent_api_member_text (object, "error", TRUE, CX_TEXT_MULTI_LINE, 4096, &message, NULL))
    return NULL;
  return message;
}

/* Requests */

/**
 * cx_agent_sign_in_build:
 * @username: the agent's user name
 * @password: the password
 *
 * Returns: (transfer full): `{"username", "password"}`, the body of POST /session
 */
JsonNode *
cx_agent_sign_in_build (const char *username, const char *password)
{
  JsonBuilder *builder;

  g_return_val_if_fail (username != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  cx_agent_api_begin (&builder);
  cx_agent_api_add_string (builder, "username", username);
  cx_agent_api_add_string (builder, "password", password);
  return cx_agent_api_end (builder);
}

/**
 * cx_agent_sign_in_parse:
 * @root: the body
 * @out: (out) (transfer full): the credentials
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * "username" an identifier, "password" a string of at most %CX_AGENT_API_MAX_PASSWORD
 * characters (empty is a wrong password, not a malformed request).
 *
 * Returns: %TRUE with @out set, or %FALSE with @error set
 */
gboolean
cx_agent_sign_in_parse (JsonNode *root, CxAgentSignIn **out, GError **error)
{
  g_autoptr (CxAgentSignIn) sign_in = g_new0 (CxAgentSignIn, 1);
  JsonObject *object = cx_json_root_object (root, "body", error);

  *out = NULL;
  if (object == NULL || !cx_json_member_id (object, "username", TRUE, &sign_in->username, error) ||
      !cx_agent_api_member_text (object, "password", TRUE, CX_TEXT_MULTI_LINE | CX_TEXT_ALLOW_EMPTY,
                                 CX_AGENT_API_MAX_PASSWORD, &sign_in->password, error))
    return FALSE;

  *out = g_steal_pointer (&sign_in);
  return TRUE;
}

/**
 * cx_agent_sign_in_free:
 * @sign_in: (nullable) (transfer full): credentials; the password is wiped
 */
void
cx_agent_sign_in_free (CxAgentSignIn *sign_in)
{
  if (sign_in == NULL)
    return;

  g_free (sign_in->username);
  if (sign_in->password != NULL)
    memset (sign_in->password, 0, strlen (sign_in->password));
  g_free (sign_in->password);
  g_free (sign_in);
}

/**
 * cx_agent_state_request_build:
 * @state: the state wanted
 * @reason: (nullable): why not ready; left out if %NULL
 *
 * Returns: (transfer full): `{"state", "reason"}`, the body of PUT /state
 */
JsonNode *
cx_agent_state_request_build (CxAgentPresence state, const char *reason)
{
  JsonBuilder *builder;

  cx_agent_api_begin (&builder);
  cx_agent_api_add_string (builder, "state", cx_agent_presence_to_string (state));
  cx_agent_api_add_string (builder, "reason", reason);
  return cx_agent_api_end (builder);
}

/**
 * cx_agent_state_request_parse:
 * @root: the body
 * @state: (out): "ready", "not_ready" or "offline"
 * @reason: (out) (transfer full) (nullable): a single line of at most
 *   %CX_AGENT_API_MAX_REASON characters, or %NULL
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
cx_agent_state_request_parse (JsonNode *root, CxAgentPresence *state, char **reason, GError **error)
{
  JsonObject *object = cx_json_root_object (root, "body", error);
  const char *text = NULL;

  *reason = NULL;
  if (object == NULL)
    return FALSE;
  if (!cx_json_member_string (object, "state", FALSE, CX_TEXT_SINGLE_LINE, &text, NULL) ||
      !cx_agent_presence_from_string (text, state))
    return cx_agent_api_fail_invalid (error, _ ("“state” must be ready, not_ready or offline"));

  return cx_agent_api_member_text (object, "reason", FALSE,
                                   CX_TEXT_SINGLE_LINE | CX_TEXT_ALLOW_EMPTY,
                                   CX_AGENT_API_MAX_REASON, reason, error);
}

/**
 * cx_agent_send_build:
 * @text: the message
 *
 * Returns: (transfer full): `{"text"}`, the body of POST /chats/{chatId}/send
 */
JsonNode *
cx_agent_send_build (const char *text)
{
  JsonBuilder *builder;

  g_return_val_if_fail (text != NULL, NULL);

  cx_agent_api_begin (&builder);
  cx_agent_api_add_string (builder, "text", text);
  return cx_agent_api_end (builder);
}

/**
 * cx_agent_send_parse:
 * @root: the body
 * @max_chars: the server's message limit (0: %CX_AGENT_API_MAX_TEXT)
 * @text: (out) (transfer full): non-empty text, tabs and line breaks allowed
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
cx_agent_send_parse (JsonNode *root, guint max_chars, char **text, GError **error)
{
  JsonObject *object = cx_json_root_object (root, "body", error);

  *text = NULL;
  return object != NULL &&
         cx_agent_api_member_text (object, "text", TRUE, CX_TEXT_MULTI_LINE,
                                   max_chars > 0 ? max_chars : CX_AGENT_API_MAX_TEXT, text, error);
}

/**
 * cx_agent_typing_build:
 * @typing: whether the agent is typing
 *
 * Returns: (transfer full): `{"typing"}`, the body of POST /chats/{chatId}/typing
 */
JsonNode *
cx_agent_typing_build (gboolean typing)
{
  JsonBuilder *builder;

  cx_agent_api_begin (&builder);
  json_builder_set_member_name (builder, "typing");
  json_builder_add_boolean_value (builder, typing);
  return cx_agent_api_end (builder);
}

/**
 * cx_agent_typing_parse:
 * @root: the body
 * @typing: (out): "typing", a boolean
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
cx_agent_typing_parse (JsonNode *root, gboolean *typing, GError **error)
{
  JsonObject *object = cx_json_root_object (root, "body", error);

  if (object == NULL)
    return FALSE;
  if (!cx_json_member_boolean (object, "typing", TRUE, typing, NULL))
    return cx_agent_api_fail_invalid (error, _ ("“typing” must be true or false"));
  return TRUE;
}

/**
 * cx_agent_transfer_build:
 * @queue: (nullable): the queue to transfer to
 * @agent: (nullable): or the agent
 *
 * Exactly one of @queue and @agent.
 *
 * Returns: (transfer full): `{"queue"}` or `{"agent"}`, the body of POST
 *   /chats/{chatId}/transfer
 */
JsonNode *
cx_agent_transfer_build (const char *queue, const char *agent)
{
  JsonBuilder *builder;

  g_return_val_if_fail ((queue == NULL) != (agent == NULL), NULL);

  cx_agent_api_begin (&builder);
  cx_agent_api_add_string (builder, "queue", queue);
  cx_agent_api_add_string (builder, "agent", agent);
  return cx_agent_api_end (builder);
}

/**
 * cx_agent_transfer_parse:
 * @root: the body
 * @queue: (out) (transfer full) (nullable): an identifier, or %NULL
 * @agent: (out) (transfer full) (nullable): an identifier, or %NULL
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Returns: %TRUE with exactly one of @queue and @agent set, or %FALSE with @error set
 */
gboolean
cx_agent_transfer_parse (JsonNode *root, char **queue, char **agent, GError **error)
{
  JsonObject *object = cx_json_root_object (root, "body", error);

  *queue = *agent = NULL;
  if (object == NULL || !cx_json_member_id (object, "queue", FALSE, queue, error) ||
      !cx_json_member_id (object, "agent", FALSE, agent, error))
    {
      g_clear_pointer (queue, g_free);
      return FALSE;
    }

  if ((*queue == NULL) == (*agent == NULL))
    {
      g_clear_pointer (queue, g_free);
      g_clear_pointer (agent, g_free);
      return cx_agent_api_fail_invalid (error, _ ("A transfer needs either “queue” or “agent”"));
    }
  return TRUE;
}

/**
 * cx_agent_reschedule_build:
 * @desired_time: the new time, ms since the epoch
 *
 * Returns: (transfer full): `{"desiredTime": ISO-8601}`, the body of POST
 *   /callbacks/{id}/reschedule
 */
JsonNode *
cx_agent_reschedule_build (gint64 desired_time)
{
  g_autofree char *text = cx_iso8601_format (desired_time);
  JsonBuilder *builder;

  g_return_val_if_fail (text != NULL, NULL);

  cx_agent_api_begin (&builder);
  cx_agent_api_add_string (builder, "desiredTime", text);
  return cx_agent_api_end (builder);
}

/**
 * cx_agent_reschedule_parse:
 * @root: the body
 * @desired_time: (out): "desiredTime", an ISO-8601 time, as ms since the epoch
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
cx_agent_reschedule_parse (JsonNode *root, gint64 *desired_time, GError **error)
{
  JsonObject *object = cx_json_root_object (root, "body", error);
  const char *text = NULL;

  if (object == NULL)
    return FALSE;
  if (!cx_json_member_string (object, "desiredTime", TRUE, CX_TEXT_SINGLE_LINE, &text, NULL) ||
      !cx_iso8601_parse (text, desired_time, NULL))
    return cx_agent_api_fail_invalid (error, _ ("“desiredTime” must be an ISO-8601 time"));
  return TRUE;
}

/* The wait-time estimate */

/**
 * cx_agent_ewt_query_build:
 * @queues: the queues asked about
 *
 * Returns: (transfer full): the query of GET %CX_AGENT_API_EWT_PATH, "queue=a&queue=b" (escaped),
 *   without the "?"
 */
char *
cx_agent_ewt_query_build (const char *const *queues)
{
  GString *query = g_string_new (NULL);

  for (guint i = 0; queues != NULL && queues[i] != NULL; i++)
    {
      g_autofree char *escaped = g_uri_escape_string (queues[i], NULL, FALSE);

      g_string_append_printf (query, "%squeue=%s", i == 0 ? "" : "&", escaped);
    }
  return g_string_free (query, FALSE);
}

/**
 * cx_agent_ewt_query_parse:
 * @query: (nullable): the request's raw query (still percent-encoded)
 * @queues: (out) (transfer full): its "queue" values, decoded, in order
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * "queue" may repeat (a hash table of the query would keep one), at most
 * %CX_AGENT_API_MAX_QUEUES times; each must decode to an identifier. Other parameters are
 * ignored.
 *
 * Returns: %TRUE with @queues set, or %FALSE with @error set
 */
gboolean
cx_agent_ewt_query_parse (const char *query, char ***queues, GError **error)
{
  g_auto (GStrv) pairs = g_strsplit (query != NULL ? query : "", "&", 0);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  guint count = 0;

  *queues = NULL;
  for (guint i = 0; pairs[i] != NULL; i++)
    {
      g_autofree char *name = NULL;

      if (!g_str_has_prefix (pairs[i], "queue="))
        continue;
      if (++count > CX_AGENT_API_MAX_QUEUES)
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                       _ ("“%s” has more than %u entries"), "queue", CX_AGENT_API_MAX_QUEUES);
          return FALSE;
        }
      name = g_uri_unescape_string (pairs[i] + strlen ("queue="), NULL);
      if (!cx_id_is_valid (name))
        return cx_agent_api_fail_invalid (error, _ ("A “queue” is not a queue name"));
      g_strv_builder_add (builder, name);
    }

  *queues = g_strv_builder_end (builder);
  return TRUE;
}

/**
 * cx_agent_ewt_build:
 * @queues: the queues
 * @seconds: (array): the estimate of each, -1 when unknown
 *
 * Returns: (transfer full): `{"ewt": {queue: seconds}}`
 */
JsonNode *
cx_agent_ewt_build (const char *const *queues, const gint64 *seconds)
{
  JsonBuilder *builder;

  cx_agent_api_begin (&builder);
  json_builder_set_member_name (builder, "ewt");
  json_builder_begin_object (builder);
  for (guint i = 0; queues != NULL && queues[i] != NULL; i++)
    cx_agent_api_add_int (builder, queues[i], CLAMP (seconds[i], -1, CX_AGENT_API_MAX_EWT_SECONDS));
  json_builder_end_object (builder);
  return cx_agent_api_end (builder);
}

/**
 * cx_agent_ewt_parse:
 * @root: the reply of GET %CX_AGENT_API_EWT_PATH
 * @queues: the queues asked about
 * @seconds: (out caller-allocates) (array): the estimate of each, from -1 (unknown) to
 *   %CX_AGENT_API_MAX_EWT_SECONDS
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Returns: %TRUE with an estimate for every queue asked about, or %FALSE with @error set
 */
gboolean
cx_agent_ewt_parse (JsonNode *root, const char *const *queues, gint64 *seconds, GError **error)
{
  JsonObject *object = cx_json_root_object (root, "ewt reply", error);
  JsonNode *ewt = NULL;

  if (object == NULL || !cx_json_member_object (object, "ewt", TRUE, &ewt, error))
    return FALSE;

  for (guint i = 0; queues != NULL && queues[i] != NULL; i++)
    if (!cx_json_member_int (json_node_get_object (ewt), queues[i], TRUE, -1,
                             CX_AGENT_API_MAX_EWT_SECONDS, &seconds[i], error))
      return FALSE;
  return TRUE;
}
