/* cx-agent-api-replies.c: the /cx/1 agent REST API's replies (cx-agent-api.h): the agent, chats,
 * invitations, transcripts, the send index, callbacks and canned responses. The server builds
 * them, CxAgentService parses them; each parser checks types, ids, text and counts before
 * anything is copied. */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-api-private.h"

static const char *const chat_states[] = { "waiting", "active", "ended" };

G_STATIC_ASSERT (G_N_ELEMENTS (chat_states) == CX_AGENT_CHAT_ENDED + 1);

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
  if (object == NULL || !cx_agent_api_member_list (object, member, max, &array, error))
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

  cx_agent_api_begin (&builder);
  cx_agent_api_add_string (builder, "username", agent->username);
  cx_agent_api_add_string (builder, "displayName",
                           agent->display_name != NULL ? agent->display_name : agent->username);
  cx_agent_api_add_string (builder, "state", cx_agent_presence_to_string (agent->state));
  json_builder_set_member_name (builder, "reason");
  if (agent->reason != NULL)
    json_builder_add_string_value (builder, agent->reason);
  else
    json_builder_add_null_value (builder);
  cx_agent_api_add_int (builder, "capacity", agent->capacity);
  cx_agent_api_add_int (builder, "load", agent->load);
  json_builder_set_member_name (builder, "queues");
  json_builder_begin_array (builder);
  for (guint i = 0; agent->queues != NULL && agent->queues[i] != NULL; i++)
    json_builder_add_string_value (builder, agent->queues[i]);
  json_builder_end_array (builder);
  return cx_agent_api_end (builder);
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
      !cx_agent_api_member_text (object, "displayName", TRUE, CX_TEXT_SINGLE_LINE,
                                 CX_AGENT_API_MAX_NAME, &agent->display_name, error) ||
      !cx_json_member_string (object, "state", TRUE, CX_TEXT_SINGLE_LINE, &state, error))
    return FALSE;
  if (!cx_agent_presence_from_string (state, &agent->state))
    return cx_agent_api_fail_invalid (error, _ ("“state” must be ready, not_ready or offline"));
  if (!cx_agent_api_member_text (object, "reason", FALSE, CX_TEXT_SINGLE_LINE | CX_TEXT_ALLOW_EMPTY,
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
        return cx_agent_api_fail_invalid (error, _ ("“queues” must be a list of queue names"));
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
  cx_agent_api_add_string (builder, "nickname", customer->nickname);
  cx_agent_api_add_string (builder, "firstName", customer->first_name);
  cx_agent_api_add_string (builder, "lastName", customer->last_name);
  cx_agent_api_add_string (builder, "email", customer->email);
  cx_agent_api_add_string (builder, "subject", customer->subject);
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

  cx_agent_api_begin (&builder);
  cx_agent_api_add_string (builder, "chatId", chat->chat_id);
  cx_agent_api_add_string (builder, "service", chat->service);
  cx_agent_api_add_string (builder, "queue", chat->queue);
  cx_agent_api_add_string (builder, "state", chat_states[chat->state]);
  add_customer (builder, &chat->customer);
  json_builder_set_member_name (builder, "userData");
  if (chat->user_data != NULL && JSON_NODE_HOLDS_OBJECT (chat->user_data))
    json_builder_add_value (builder, json_node_copy (chat->user_data));
  else
    {
      json_builder_begin_object (builder);
      json_builder_end_object (builder);
    }
  cx_agent_api_add_int (builder, "createdAt", chat->created_at);
  cx_agent_api_add_int (builder, "acceptedAt", chat->accepted_at);
  cx_agent_api_add_int (builder, "nextPosition", chat->next_position);
  cx_json_add_messages (builder, chat->messages);
  return cx_agent_api_end (builder);
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
    return cx_agent_api_fail_invalid (error, _ ("“state” must be waiting, active or ended"));

  if (!parse_customer (object, &chat->customer, error) ||
      !cx_json_member_object (object, "userData", FALSE, &user_data, error) ||
      !cx_json_member_int (object, "createdAt", FALSE, 0, G_MAXINT64, &chat->created_at, error) ||
      !cx_json_member_int (object, "acceptedAt", FALSE, 0, G_MAXINT64, &chat->accepted_at, error) ||
      !cx_json_member_int (object, "nextPosition", TRUE, 0, G_MAXUINT, &next_position, error) ||
      !cx_agent_api_member_list (object, "messages", CX_AGENT_API_MAX_MESSAGES, &messages, error) ||
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

  cx_agent_api_begin (&builder);
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; i < nodes->len; i++)
    json_builder_add_value (builder, g_ptr_array_index (nodes, i));
  json_builder_end_array (builder);
  g_ptr_array_set_free_func (nodes, NULL);
  return cx_agent_api_end (builder);
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
    return cx_agent_api_fail_invalid (error, _ ("“invitations” holds something else"));
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
      !cx_agent_api_member_list (object, "messages", CX_AGENT_API_MAX_MESSAGES, &array, error) ||
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

  cx_agent_api_begin (&builder);
  cx_agent_api_add_int (builder, "index", index);
  return cx_agent_api_end (builder);
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
  return cx_agent_api_fail_invalid (error, local_error->message);
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

  cx_agent_api_begin (&builder);
  json_builder_set_member_name (builder, "responses");
  json_builder_begin_array (builder);
  for (guint i = 0; responses != NULL && i < responses->len; i++)
    {
      const CxAgentCanned *canned = g_ptr_array_index (responses, i);

      json_builder_begin_object (builder);
      cx_agent_api_add_string (builder, "id", canned->id);
      cx_agent_api_add_string (builder, "title", canned->title);
      cx_agent_api_add_string (builder, "text", canned->text);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  return cx_agent_api_end (builder);
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
         cx_agent_api_member_text (item, "title", TRUE, CX_TEXT_SINGLE_LINE, CX_AGENT_API_MAX_NAME,
                                   &canned->title, error) &&
         cx_agent_api_member_text (item, "text", TRUE, CX_TEXT_MULTI_LINE, CX_AGENT_API_MAX_TEXT,
                                   &canned->text, error);
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
