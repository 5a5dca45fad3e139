/* cx-agent-api.c: the /cx/1 agent REST API's routes and bodies (cx-agent-api.h): one builder and
 * one strict parser per body. Builders take what the other side's parser accepts; parsers check
 * every member's type, identifiers with cx_id_is_valid(), text for UTF-8, control characters
 * and length, and lists for their count, before anything is copied. */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-api.h"
#include "protocol/cx-protocol-private.h"

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

static const char *const chat_states[] = { "waiting", "active", "ended" };

G_STATIC_ASSERT (G_N_ELEMENTS (chat_states) == CX_AGENT_CHAT_ENDED + 1);

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

/* Helpers */

static void
begin_object (JsonBuilder **builder)
{
  *builder = json_builder_new ();
  json_builder_begin_object (*builder);
}

static JsonNode *
end_object (JsonBuilder *builder)
{
  g_autoptr (JsonBuilder) owned = builder;

  json_builder_end_object (owned);
  return json_builder_get_root (owned);
}

static void
add_string (JsonBuilder *builder, const char *member, const char *value)
{
  if (value == NULL)
    return;

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
}

static void
add_int (JsonBuilder *builder, const char *member, gint64 value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_int_value (builder, value);
}

/* A string member, with the parsers' rules: @flags (CX_TEXT_ALLOW_EMPTY or not), at most
 * @max_chars characters (0: no limit). */
static gboolean
member_text (JsonObject *object, const char *member, gboolean required, CxTextFlags flags,
             gsize max_chars, char **out, GError **error)
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
static gboolean
member_list (JsonObject *object, const char *member, guint max, JsonArray **out, GError **error)
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

static gboolean
fail_invalid (GError **error, const char *message)
{
  g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, message);
  return FALSE;
}

/* The list @member of a reply: at most @max elements, each parsed by @parse_item (which may set
 * its out even when it fails: that is freed with @free_item); one bad element fails the reply,
 * its position in the error. */
typedef gboolean (*ParseItem) (JsonNode *node, gpointer *out, GError **error);

static gboolean
parse_list (JsonNode *root, const char *member, guint max, ParseItem parse_item,
            GDestroyNotify free_item, GPtrArray **out, GError **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (free_item);
  JsonObject *object = cx_json_root_object (root, "reply", error);
  JsonArray *array;

  *out = NULL;
  if (object == NULL || !member_list (object, member, max, &array, error))
    return FALSE;

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autoptr (GError) local_error = NULL;
      gpointer item = NULL;
      gboolean ok = parse_item (json_array_get_element (array, i), &item, &local_error);

      if (item != NULL)
        g_ptr_array_add (list, item);
      if (!ok)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "“%s” %u: ", member,
                                      i + 1);
          return FALSE;
        }
    }

  *out = g_steal_pointer (&list);
  return TRUE;
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

  begin_object (&builder);
  add_string (builder, "error", message);
  return end_object (builder);
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
      !member_text (object, "error", TRUE, CX_TEXT_MULTI_LINE, 4096, &message, NULL))
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

  begin_object (&builder);
  add_string (builder, "username", username);
  add_string (builder, "password", password);
  return end_object (builder);
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
      !member_text (object, "password", TRUE, CX_TEXT_MULTI_LINE | CX_TEXT_ALLOW_EMPTY,
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

  begin_object (&builder);
  add_string (builder, "state", cx_agent_presence_to_string (state));
  add_string (builder, "reason", reason);
  return end_object (builder);
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
    return fail_invalid (error, _ ("“state” must be ready, not_ready or offline"));

  return member_text (object, "reason", FALSE, CX_TEXT_SINGLE_LINE | CX_TEXT_ALLOW_EMPTY,
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

  begin_object (&builder);
  add_string (builder, "text", text);
  return end_object (builder);
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
         member_text (object, "text", TRUE, CX_TEXT_MULTI_LINE,
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

  begin_object (&builder);
  json_builder_set_member_name (builder, "typing");
  json_builder_add_boolean_value (builder, typing);
  return end_object (builder);
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
    return fail_invalid (error, _ ("“typing” must be true or false"));
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

  begin_object (&builder);
  add_string (builder, "queue", queue);
  add_string (builder, "agent", agent);
  return end_object (builder);
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
      return fail_invalid (error, _ ("A transfer needs either “queue” or “agent”"));
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

  begin_object (&builder);
  add_string (builder, "desiredTime", text);
  return end_object (builder);
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
    return fail_invalid (error, _ ("“desiredTime” must be an ISO-8601 time"));
  return TRUE;
}

/* Replies: the agent */

/**
 * cx_agent_info_build:
 * @agent: the agent
 *
 * Returns: (transfer full): `{"username", "displayName", "state", "reason" (null when none),
 *   "capacity", "load", "queues"}`
 */
JsonNode *
cx_agent_info_build (const CxAgentInfo *agent)
{
  JsonBuilder *builder;

  g_return_val_if_fail (agent != NULL && agent->username != NULL, NULL);

  begin_object (&builder);
  add_string (builder, "username", agent->username);
  add_string (builder, "displayName",
              agent->display_name != NULL ? agent->display_name : agent->username);
  add_string (builder, "state", cx_agent_presence_to_string (agent->state));
  json_builder_set_member_name (builder, "reason");
  if (agent->reason != NULL)
    json_builder_add_string_value (builder, agent->reason);
  else
    json_builder_add_null_value (builder);
  add_int (builder, "capacity", agent->capacity);
  add_int (builder, "load", agent->load);
  json_builder_set_member_name (builder, "queues");
  json_builder_begin_array (builder);
  for (guint i = 0; agent->queues != NULL && agent->queues[i] != NULL; i++)
    json_builder_add_string_value (builder, agent->queues[i]);
  json_builder_end_array (builder);
  return end_object (builder);
}

/**
 * cx_agent_info_parse:
 * @root: the reply of POST /session, GET /me or PUT /state
 * @out: (out) (transfer full): the agent
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * "username" an identifier, "displayName" a line of at most %CX_AGENT_API_MAX_NAME characters,
 * "state" an agent state, "reason" optional, "capacity" and "load" optional counts, "queues"
 * optional, at most %CX_AGENT_API_MAX_QUEUES identifiers.
 *
 * Returns: %TRUE with @out set, or %FALSE with @error set
 */
gboolean
cx_agent_info_parse (JsonNode *root, CxAgentInfo **out, GError **error)
{
  g_autoptr (CxAgentInfo) agent = g_new0 (CxAgentInfo, 1);
  g_autoptr (GStrvBuilder) queues = g_strv_builder_new ();
  JsonObject *object = cx_json_root_object (root, "agent", error);
  JsonArray *array = NULL;
  const char *state = NULL;
  gint64 capacity = 0, load = 0;

  *out = NULL;
  if (object == NULL || !cx_json_member_id (object, "username", TRUE, &agent->username, error) ||
      !member_text (object, "displayName", TRUE, CX_TEXT_SINGLE_LINE, CX_AGENT_API_MAX_NAME,
                    &agent->display_name, error) ||
      !cx_json_member_string (object, "state", TRUE, CX_TEXT_SINGLE_LINE, &state, error))
    return FALSE;
  if (!cx_agent_presence_from_string (state, &agent->state))
    return fail_invalid (error, _ ("“state” must be ready, not_ready or offline"));
  if (!member_text (object, "reason", FALSE, CX_TEXT_SINGLE_LINE | CX_TEXT_ALLOW_EMPTY,
                    CX_AGENT_API_MAX_REASON, &agent->reason, error) ||
      !cx_json_member_int (object, "capacity", FALSE, 0, G_MAXINT, &capacity, error) ||
      !cx_json_member_int (object, "load", FALSE, 0, G_MAXINT, &load, error) ||
      !cx_json_member_array (object, "queues", FALSE, &array, error))
    return FALSE;
  agent->capacity = (guint) capacity;
  agent->load = (guint) load;

  if (array != NULL && json_array_get_length (array) > CX_AGENT_API_MAX_QUEUES)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                   _ ("“%s” has more than %u entries"), "queues", CX_AGENT_API_MAX_QUEUES);
      return FALSE;
    }
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING ||
          !cx_id_is_valid (json_node_get_string (node)))
        return fail_invalid (error, _ ("“queues” must be a list of queue names"));
      g_strv_builder_add (queues, json_node_get_string (node));
    }
  agent->queues = g_strv_builder_end (queues);

  *out = g_steal_pointer (&agent);
  return TRUE;
}

/**
 * cx_agent_info_copy:
 * @agent: an agent
 *
 * Returns: (transfer full): a copy
 */
CxAgentInfo *
cx_agent_info_copy (const CxAgentInfo *agent)
{
  CxAgentInfo *copy = g_new0 (CxAgentInfo, 1);

  copy->username = g_strdup (agent->username);
  copy->display_name = g_strdup (agent->display_name);
  copy->state = agent->state;
  copy->reason = g_strdup (agent->reason);
  copy->capacity = agent->capacity;
  copy->load = agent->load;
  copy->queues = agent->queues != NULL ? g_strdupv (agent->queues) : g_new0 (char *, 1);
  return copy;
}

/**
 * cx_agent_info_free:
 * @agent: (nullable) (transfer full): an agent
 */
void
cx_agent_info_free (CxAgentInfo *agent)
{
  if (agent == NULL)
    return;

  g_free (agent->username);
  g_free (agent->display_name);
  g_free (agent->reason);
  g_strfreev (agent->queues);
  g_free (agent);
}

/* Replies: chats */

static void
add_customer (JsonBuilder *builder, const CxAgentCustomer *customer)
{
  json_builder_set_member_name (builder, "customer");
  json_builder_begin_object (builder);
  add_string (builder, "nickname", customer->nickname);
  add_string (builder, "firstName", customer->first_name);
  add_string (builder, "lastName", customer->last_name);
  add_string (builder, "email", customer->email);
  add_string (builder, "subject", customer->subject);
  json_builder_end_object (builder);
}

/**
 * cx_agent_chat_build:
 * @chat: the chat; its %NULL strings are left out, %NULL @user_data is {}
 *
 * Returns: (transfer full): `{"chatId", "service", "queue", "state", "customer":{"nickname",
 *   "firstName", "lastName", "email", "subject"}, "userData", "createdAt", "acceptedAt",
 *   "nextPosition", "messages":[…]}`
 */
JsonNode *
cx_agent_chat_build (const CxAgentChat *chat)
{
  JsonBuilder *builder;

  g_return_val_if_fail (chat != NULL && chat->chat_id != NULL, NULL);
  g_return_val_if_fail ((guint) chat->state < G_N_ELEMENTS (chat_states), NULL);

  begin_object (&builder);
  add_string (builder, "chatId", chat->chat_id);
  add_string (builder, "service", chat->service);
  add_string (builder, "queue", chat->queue);
  add_string (builder, "state", chat_states[chat->state]);
  add_customer (builder, &chat->customer);
  json_builder_set_member_name (builder, "userData");
  if (chat->user_data != NULL && JSON_NODE_HOLDS_OBJECT (chat->user_data))
    json_builder_add_value (builder, json_node_copy (chat->user_data));
  else
    {
      json_builder_begin_object (builder);
      json_builder_end_object (builder);
    }
  add_int (builder, "createdAt", chat->created_at);
  add_int (builder, "acceptedAt", chat->accepted_at);
  add_int (builder, "nextPosition", chat->next_position);
  cx_json_add_messages (builder, chat->messages);
  return end_object (builder);
}

static gboolean
parse_customer (JsonObject *object, CxAgentCustomer *customer, GError **error)
{
  JsonNode *node = NULL;

  if (!cx_json_member_object (object, "customer", FALSE, &node, error))
    return FALSE;
  return node == NULL ||
         cx_agent_customer_parse (json_node_get_object (node), FALSE, customer, error);
}

/**
 * cx_agent_chat_parse:
 * @root: a chat object (the reply of accept, an element of GET /chats)
 * @out: (out) (transfer full): the chat
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * "chatId" an identifier, "state" waiting, active or ended, "nextPosition" an index, "messages"
 * at most %CX_AGENT_API_MAX_MESSAGES valid entries; "service", "queue" identifiers, "customer"
 * lines, "userData" an object, "createdAt", "acceptedAt" times, each optional.
 *
 * Returns: %TRUE with @out set, or %FALSE with @error set
 */
gboolean
cx_agent_chat_parse (JsonNode *root, CxAgentChat **out, GError **error)
{
  g_autoptr (CxAgentChat) chat = g_new0 (CxAgentChat, 1);
  JsonObject *object = cx_json_root_object (root, "chat", error);
  JsonNode *user_data = NULL;
  JsonArray *messages = NULL;
  const char *state = NULL;
  gint64 next_position = 0;
  gboolean known = FALSE;

  *out = NULL;
  if (object == NULL || !cx_json_member_id (object, "chatId", TRUE, &chat->chat_id, error) ||
      !cx_json_member_id (object, "service", FALSE, &chat->service, error) ||
      !cx_json_member_id (object, "queue", FALSE, &chat->queue, error) ||
      !cx_json_member_string (object, "state", TRUE, CX_TEXT_SINGLE_LINE, &state, error))
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (chat_states) && !known; i++)
    if (g_str_equal (state, chat_states[i]))
      {
        chat->state = (CxAgentChatState) i;
        known = TRUE;
      }
  if (!known)
    return fail_invalid (error, _ ("“state” must be waiting, active or ended"));

  if (!parse_customer (object, &chat->customer, error) ||
      !cx_json_member_object (object, "userData", FALSE, &user_data, error) ||
      !cx_json_member_int (object, "createdAt", FALSE, 0, G_MAXINT64, &chat->created_at, error) ||
      !cx_json_member_int (object, "acceptedAt", FALSE, 0, G_MAXINT64, &chat->accepted_at, error) ||
      !cx_json_member_int (object, "nextPosition", TRUE, 0, G_MAXUINT, &next_position, error) ||
      !member_list (object, "messages", CX_AGENT_API_MAX_MESSAGES, &messages, error) ||
      !cx_json_messages_parse (messages, CX_AGENT_API_MAX_MESSAGES, &chat->messages, error))
    return FALSE;
  chat->next_position = (guint) next_position;
  chat->user_data =
      user_data != NULL ? json_node_copy (user_data) : cx_json_node_new_object (json_object_new ());

  *out = g_steal_pointer (&chat);
  return TRUE;
}

/**
 * cx_agent_chat_free:
 * @chat: (nullable) (transfer full): a chat
 */
void
cx_agent_chat_free (CxAgentChat *chat)
{
  if (chat == NULL)
    return;

  g_free (chat->chat_id);
  g_free (chat->service);
  g_free (chat->queue);
  cx_agent_customer_clear (&chat->customer);
  g_clear_pointer (&chat->user_data, json_node_unref);
  g_clear_pointer (&chat->messages, g_ptr_array_unref);
  g_free (chat);
}

/* {"member": [built elements]} from a list of JSON nodes (taken). */
static JsonNode *
build_list (const char *member, GPtrArray *nodes)
{
  JsonBuilder *builder;

  begin_object (&builder);
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; i < nodes->len; i++)
    json_builder_add_value (builder, g_ptr_array_index (nodes, i));
  json_builder_end_array (builder);
  g_ptr_array_set_free_func (nodes, NULL);
  return end_object (builder);
}

/**
 * cx_agent_chats_build:
 * @chats: (element-type JsonNode): chat objects (cx_agent_chat_build()), taken
 *
 * Returns: (transfer full): `{"chats":[chat]}`, the reply of GET /chats
 */
JsonNode *
cx_agent_chats_build (GPtrArray *chats)
{
  return build_list ("chats", chats);
}

/**
 * cx_agent_chats_parse:
 * @root: the reply of GET /chats
 * @chats: (out) (transfer full) (element-type CxAgentChat): at most %CX_AGENT_API_MAX_CHATS
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Returns: %TRUE with @chats set, or %FALSE with @error set (one bad chat fails the reply)
 */
static gboolean
parse_chat_item (JsonNode *node, gpointer *out, GError **error)
{
  return cx_agent_chat_parse (node, (CxAgentChat **) out, error);
}

gboolean
cx_agent_chats_parse (JsonNode *root, GPtrArray **chats, GError **error)
{
  return parse_list (root, "chats", CX_AGENT_API_MAX_CHATS, parse_chat_item,
                     (GDestroyNotify) cx_agent_chat_free, chats, error);
}

/**
 * cx_agent_invitations_build:
 * @frames: (element-type JsonNode): invitation frames (cx_agent_event_build_invitation()), taken
 *
 * Returns: (transfer full): `{"invitations":[frame]}`, the reply of GET /invitations
 */
JsonNode *
cx_agent_invitations_build (GPtrArray *frames)
{
  return build_list ("invitations", frames);
}

/**
 * cx_agent_invitations_parse:
 * @root: the reply of GET /invitations
 * @invitations: (out) (transfer full) (element-type CxAgentEvent): invitation events, at most
 *   %CX_AGENT_API_MAX_INVITATIONS
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Returns: %TRUE with @invitations set, or %FALSE with @error set
 */
static gboolean
parse_invitation_item (JsonNode *node, gpointer *out, GError **error)
{
  CxAgentEvent *event = NULL;

  if (!cx_agent_event_from_json (node, &event, error))
    return FALSE;
  *out = event;
  if (event->type != CX_AGENT_EVENT_INVITATION)
    return fail_invalid (error, _ ("“invitations” holds something else"));
  return TRUE;
}

gboolean
cx_agent_invitations_parse (JsonNode *root, GPtrArray **invitations, GError **error)
{
  return parse_list (root, "invitations", CX_AGENT_API_MAX_INVITATIONS, parse_invitation_item,
                     (GDestroyNotify) cx_agent_event_free, invitations, error);
}

/**
 * cx_agent_messages_build:
 * @chat_id: the chat
 * @messages: (element-type CxMessage): entries from the index asked for
 * @next_position: the transcript position after the last entry the chat has
 *
 * Returns: (transfer full): `{"type":"messages", "chatId", "messages":[…], "nextPosition"}`,
 *   the reply of GET /chats/{chatId}/messages: the same object as the "messages" event frame
 */
JsonNode *
cx_agent_messages_build (const char *chat_id, GPtrArray *messages, guint next_position)
{
  return cx_agent_event_build_messages (chat_id, messages, next_position);
}

/**
 * cx_agent_messages_parse:
 * @root: the reply of GET /chats/{chatId}/messages
 * @messages: (out) (transfer full) (element-type CxMessage): at most
 *   %CX_AGENT_API_MAX_MESSAGES
 * @next_position: (out): "nextPosition"
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Returns: %TRUE with @messages set, or %FALSE with @error set
 */
gboolean
cx_agent_messages_parse (JsonNode *root, GPtrArray **messages, guint *next_position, GError **error)
{
  JsonObject *object = cx_json_root_object (root, "reply", error);
  JsonArray *array;
  gint64 next = 0;

  *messages = NULL;
  if (object == NULL ||
      !member_list (object, "messages", CX_AGENT_API_MAX_MESSAGES, &array, error) ||
      !cx_json_member_int (object, "nextPosition", TRUE, 0, G_MAXUINT, &next, error) ||
      !cx_json_messages_parse (array, CX_AGENT_API_MAX_MESSAGES, messages, error))
    return FALSE;

  *next_position = (guint) next;
  return TRUE;
}

/**
 * cx_agent_send_reply_build:
 * @index: the transcript index the message got
 *
 * Returns: (transfer full): `{"index"}`
 */
JsonNode *
cx_agent_send_reply_build (guint index)
{
  JsonBuilder *builder;

  begin_object (&builder);
  add_int (builder, "index", index);
  return end_object (builder);
}

/**
 * cx_agent_send_reply_parse:
 * @root: the reply of POST /chats/{chatId}/send
 * @index: (out): "index", 1 or more
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
cx_agent_send_reply_parse (JsonNode *root, guint *index, GError **error)
{
  JsonObject *object = cx_json_root_object (root, "reply", error);
  gint64 value = 0;

  if (object == NULL || !cx_json_member_int (object, "index", TRUE, 1, G_MAXUINT, &value, error))
    return FALSE;

  *index = (guint) value;
  return TRUE;
}

/* Replies: callbacks and canned responses */

/**
 * cx_agent_callbacks_build:
 * @callbacks: (element-type JsonNode): callback objects (cx_callback_build_object()), taken
 *
 * Returns: (transfer full): `{"callbacks":[callback]}`, the reply of GET /callbacks
 */
JsonNode *
cx_agent_callbacks_build (GPtrArray *callbacks)
{
  return build_list ("callbacks", callbacks);
}

/**
 * cx_agent_callbacks_parse:
 * @root: the reply of GET /callbacks
 * @callbacks: (out) (transfer full) (element-type CxCallbackInfo): at most
 *   %CX_AGENT_API_MAX_CALLBACKS, each checked by cx_callback_parse_object()
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Returns: %TRUE with @callbacks set, or %FALSE with @error set
 */
static gboolean
parse_callback_item (JsonNode *node, gpointer *out, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (cx_callback_parse_object (node, (CxCallbackInfo **) out, &local_error))
    return TRUE;
  /* The callback parser speaks CX_CALLBACK_ERROR; this API, CX_PROTOCOL_ERROR. */
  return fail_invalid (error, local_error->message);
}

gboolean
cx_agent_callbacks_parse (JsonNode *root, GPtrArray **callbacks, GError **error)
{
  return parse_list (root, "callbacks", CX_AGENT_API_MAX_CALLBACKS, parse_callback_item,
                     (GDestroyNotify) cx_callback_info_free, callbacks, error);
}

/**
 * cx_agent_canned_build:
 * @responses: (element-type CxAgentCanned): the canned responses
 *
 * Returns: (transfer full): `{"responses":[{"id", "title", "text"}]}`, the reply of GET /canned
 */
JsonNode *
cx_agent_canned_build (GPtrArray *responses)
{
  JsonBuilder *builder;

  begin_object (&builder);
  json_builder_set_member_name (builder, "responses");
  json_builder_begin_array (builder);
  for (guint i = 0; responses != NULL && i < responses->len; i++)
    {
      const CxAgentCanned *canned = g_ptr_array_index (responses, i);

      json_builder_begin_object (builder);
      add_string (builder, "id", canned->id);
      add_string (builder, "title", canned->title);
      add_string (builder, "text", canned->text);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  return end_object (builder);
}

/**
 * cx_agent_canned_parse:
 * @root: the reply of GET /canned
 * @responses: (out) (transfer full) (element-type CxAgentCanned): at most
 *   %CX_AGENT_API_MAX_CANNED
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Each response: "id" an identifier, "title" a line of at most %CX_AGENT_API_MAX_NAME
 * characters, "text" of at most %CX_AGENT_API_MAX_TEXT, line breaks allowed.
 *
 * Returns: %TRUE with @responses set, or %FALSE with @error set
 */
static gboolean
parse_canned_item (JsonNode *node, gpointer *out, GError **error)
{
  JsonObject *item = cx_json_root_object (node, "response", error);
  CxAgentCanned *canned = g_new0 (CxAgentCanned, 1);

  *out = canned;
  return item != NULL && cx_json_member_id (item, "id", TRUE, &canned->id, error) &&
         member_text (item, "title", TRUE, CX_TEXT_SINGLE_LINE, CX_AGENT_API_MAX_NAME,
                      &canned->title, error) &&
         member_text (item, "text", TRUE, CX_TEXT_MULTI_LINE, CX_AGENT_API_MAX_TEXT, &canned->text,
                      error);
}

gboolean
cx_agent_canned_parse (JsonNode *root, GPtrArray **responses, GError **error)
{
  return parse_list (root, "responses", CX_AGENT_API_MAX_CANNED, parse_canned_item,
                     (GDestroyNotify) cx_agent_canned_free, responses, error);
}

/**
 * cx_agent_canned_free:
 * @canned: (nullable) (transfer full): a canned response
 */
void
cx_agent_canned_free (CxAgentCanned *canned)
{
  if (canned == NULL)
    return;

  g_free (canned->id);
  g_free (canned->title);
  g_free (canned->text);
  g_free (canned);
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
        return fail_invalid (error, _ ("A “queue” is not a queue name"));
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

  begin_object (&builder);
  json_builder_set_member_name (builder, "ewt");
  json_builder_begin_object (builder);
  for (guint i = 0; queues != NULL && queues[i] != NULL; i++)
    add_int (builder, queues[i], CLAMP (seconds[i], -1, CX_AGENT_API_MAX_EWT_SECONDS));
  json_builder_end_object (builder);
  return end_object (builder);
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
  JsonObject *object = cx_json_root_object (root, "reply", error);
  JsonNode *ewt = NULL;

  if (object == NULL || !cx_json_member_object (object, "ewt", TRUE, &ewt, error))
    return FALSE;

  for (guint i = 0; queues != NULL && queues[i] != NULL; i++)
    if (!cx_json_member_int (json_node_get_object (ewt), queues[i], TRUE, -1,
                             CX_AGENT_API_MAX_EWT_SECONDS, &seconds[i], error))
      return FALSE;
  return TRUE;
}
