/* cx-agent-protocol.c: building and parsing the frames of the agent event stream and of the
 * customer push socket. The parser takes raw WebSocket text, so the size, UTF-8 and nesting
 * checks of cx_json_parse() come first. */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-protocol.h"
#include "protocol/cx-protocol-private.h"

/* A member of a customer longer than this (characters) is refused. */
#define CUSTOMER_MAX_CHARS 1024
/* A "messages" frame with more entries than this is refused. */
#define FRAME_MAX_MESSAGES 10000
/* The push socket's first frame is a few ids: anything much larger is not one. */
#define PUSH_HELLO_MAX_SIZE (16 * 1024)

static const char *const event_types[] = {
  "invitation", "invitationWithdrawn", "messages",  "chatEnded",
  "agentState", "callbacksChanged",    "signedOut",
};

static const char *const presences[] = {
  "offline",
  "not_ready",
  "ready",
};

G_STATIC_ASSERT (G_N_ELEMENTS (event_types) == CX_AGENT_EVENT_SIGNED_OUT + 1);
G_STATIC_ASSERT (G_N_ELEMENTS (presences) == CX_AGENT_PRESENCE_READY + 1);

/**
 * cx_agent_event_type_to_string:
 * @type: a frame type
 *
 * Returns: the frame's "type" ("invitation", "agentState", ...)
 */
const char *
cx_agent_event_type_to_string (CxAgentEventType type)
{
  g_return_val_if_fail ((guint) type < G_N_ELEMENTS (event_types), NULL);

  return event_types[type];
}

/**
 * cx_agent_presence_to_string:
 * @presence: an agent state
 *
 * Returns: "offline", "not_ready" or "ready"
 */
const char *
cx_agent_presence_to_string (CxAgentPresence presence)
{
  g_return_val_if_fail ((guint) presence < G_N_ELEMENTS (presences), NULL);

  return presences[presence];
}

/**
 * cx_agent_presence_from_string:
 * @string: (nullable): "offline", "not_ready" or "ready"
 * @presence: (out): the state
 *
 * Returns: %FALSE if @string is no agent state
 */
gboolean
cx_agent_presence_from_string (const char *string, CxAgentPresence *presence)
{
  if (string == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (presences); i++)
    {
      if (g_str_equal (string, presences[i]))
        {
          *presence = (CxAgentPresence) i;
          return TRUE;
        }
    }

  return FALSE;
}

/* Building */

static JsonBuilder *
begin_frame (CxAgentEventType type)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, event_types[type]);

  return builder;
}

static JsonNode *
end_frame (JsonBuilder *builder)
{
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static void
add_string (JsonBuilder *builder, const char *member, const char *value)
{
  if (value == NULL)
    return;

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
}

/**
 * cx_agent_event_build_invitation:
 * @chat_id: the chat offered
 * @queue: the queue it waits in
 * @customer: who is asking; its %NULL members are left out
 * @user_data: (nullable): the chat's userData object; %NULL is {}
 * @waiting_since: when the chat was queued, ms since the epoch
 * @expires_at: when the offer lapses, ms since the epoch
 *
 * Returns: (transfer full): `{"type":"invitation", "chatId", "queue", "customer":{"nickname",
 *   "firstName", "lastName", "email", "subject"}, "userData", "waitingSince", "expiresAt"}`
 */
JsonNode *
cx_agent_event_build_invitation (const char *chat_id, const char *queue,
                                 const CxAgentCustomer *customer, JsonNode *user_data,
                                 gint64 waiting_since, gint64 expires_at)
{
  g_autoptr (JsonBuilder) builder = NULL;

  g_return_val_if_fail (chat_id != NULL, NULL);
  g_return_val_if_fail (queue != NULL, NULL);
  g_return_val_if_fail (customer != NULL, NULL);
  g_return_val_if_fail (user_data == NULL || JSON_NODE_HOLDS_OBJECT (user_data), NULL);

  builder = begin_frame (CX_AGENT_EVENT_INVITATION);
  add_string (builder, "chatId", chat_id);
  add_string (builder, "queue", queue);
  json_builder_set_member_name (builder, "customer");
  json_builder_begin_object (builder);
  add_string (builder, "nickname", customer->nickname ? customer->nickname : "");
  add_string (builder, "firstName", customer->first_name);
  add_string (builder, "lastName", customer->last_name);
  add_string (builder, "email", customer->email);
  add_string (builder, "subject", customer->subject);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "userData");
  if (user_data != NULL)
    {
      json_builder_add_value (builder, json_node_copy (user_data));
    }
  else
    {
      json_builder_begin_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_set_member_name (builder, "waitingSince");
  json_builder_add_int_value (builder, waiting_since);
  json_builder_set_member_name (builder, "expiresAt");
  json_builder_add_int_value (builder, expires_at);

  return end_frame (builder);
}

/**
 * cx_agent_event_build_invitation_withdrawn:
 * @chat_id: the chat whose offer is gone
 * @reason: (nullable): why ("accepted elsewhere", "expired", "chat ended"); left out if %NULL
 *
 * Returns: (transfer full): `{"type":"invitationWithdrawn", "chatId", "reason"}`
 */
JsonNode *
cx_agent_event_build_invitation_withdrawn (const char *chat_id, const char *reason)
{
  g_autoptr (JsonBuilder) builder = NULL;

  g_return_val_if_fail (chat_id != NULL, NULL);

  builder = begin_frame (CX_AGENT_EVENT_INVITATION_WITHDRAWN);
  add_string (builder, "chatId", chat_id);
  add_string (builder, "reason", reason);

  return end_frame (builder);
}

/**
 * cx_agent_event_build_messages:
 * @chat_id: the chat
 * @messages: (nullable) (element-type CxMessage): the new entries, in GMS form
 * @next_position: the transcript position after them
 *
 * Returns: (transfer full): `{"type":"messages", "chatId", "messages":[...], "nextPosition"}`
 */
JsonNode *
cx_agent_event_build_messages (const char *chat_id, GPtrArray *messages, guint next_position)
{
  g_autoptr (JsonBuilder) builder = NULL;

  g_return_val_if_fail (chat_id != NULL, NULL);

  builder = begin_frame (CX_AGENT_EVENT_MESSAGES);
  add_string (builder, "chatId", chat_id);
  cx_json_add_messages (builder, messages);
  json_builder_set_member_name (builder, "nextPosition");
  json_builder_add_int_value (builder, next_position);

  return end_frame (builder);
}

/**
 * cx_agent_event_build_chat_ended:
 * @chat_id: the chat
 *
 * Returns: (transfer full): `{"type":"chatEnded", "chatId"}`
 */
JsonNode *
cx_agent_event_build_chat_ended (const char *chat_id)
{
  g_autoptr (JsonBuilder) builder = NULL;

  g_return_val_if_fail (chat_id != NULL, NULL);

  builder = begin_frame (CX_AGENT_EVENT_CHAT_ENDED);
  add_string (builder, "chatId", chat_id);

  return end_frame (builder);
}

/**
 * cx_agent_event_build_agent_state:
 * @state: the agent's state
 * @reason: (nullable): why not ready; left out if %NULL
 *
 * Returns: (transfer full): `{"type":"agentState", "state", "reason"}`
 */
JsonNode *
cx_agent_event_build_agent_state (CxAgentPresence state, const char *reason)
{
  g_autoptr (JsonBuilder) builder = NULL;

  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (presences), NULL);

  builder = begin_frame (CX_AGENT_EVENT_AGENT_STATE);
  add_string (builder, "state", presences[state]);
  add_string (builder, "reason", reason);

  return end_frame (builder);
}

/**
 * cx_agent_event_build_callbacks_changed:
 *
 * Returns: (transfer full): `{"type":"callbacksChanged"}`
 */
JsonNode *
cx_agent_event_build_callbacks_changed (void)
{
  g_autoptr (JsonBuilder) builder = begin_frame (CX_AGENT_EVENT_CALLBACKS_CHANGED);

  return end_frame (builder);
}

/**
 * cx_agent_event_build_signed_out:
 *
 * Returns: (transfer full): `{"type":"signedOut"}`
 */
JsonNode *
cx_agent_event_build_signed_out (void)
{
  g_autoptr (JsonBuilder) builder = begin_frame (CX_AGENT_EVENT_SIGNED_OUT);

  return end_frame (builder);
}

/* Parsing */

static gboolean
member_text (JsonObject *object, const char *member, gboolean required, char **out, GError **error)
{
  const char *value;

  if (!cx_json_member_string (object, member, required, CX_TEXT_SINGLE_LINE, &value, error))
    return FALSE;

  *out = g_strdup (value);
  return TRUE;
}

/* A member of a customer: one line of at most CUSTOMER_MAX_CHARS characters, empty allowed. */
static gboolean
customer_text (JsonObject *object, const char *member, gboolean required, char **out,
               GError **error)
{
  const char *value;

  if (!cx_json_member_string (object, member, required, CX_TEXT_SINGLE_LINE, &value, error))
    return FALSE;
  if (value != NULL &&
      !cx_text_validate (member, value, CX_TEXT_SINGLE_LINE | CX_TEXT_ALLOW_EMPTY,
                         CUSTOMER_MAX_CHARS, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                         CX_PROTOCOL_ERROR_TOO_LARGE, error))
    return FALSE;

  *out = g_strdup (value);
  return TRUE;
}

/**
 * cx_agent_customer_parse:
 * @object: a "customer" object (of an invitation frame, or of a chat of the agent API)
 * @nickname_required: whether "nickname" must be there
 * @customer: (out caller-allocates): the customer; clear it with cx_agent_customer_clear(), even
 *   after a failure
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
cx_agent_customer_parse (JsonObject *object, gboolean nickname_required, CxAgentCustomer *customer,
                         GError **error)
{
  return customer_text (object, "nickname", nickname_required, &customer->nickname, error) &&
         customer_text (object, "firstName", FALSE, &customer->first_name, error) &&
         customer_text (object, "lastName", FALSE, &customer->last_name, error) &&
         customer_text (object, "email", FALSE, &customer->email, error) &&
         customer_text (object, "subject", FALSE, &customer->subject, error);
}

/**
 * cx_agent_customer_clear:
 * @customer: a customer whose members are owned
 */
void
cx_agent_customer_clear (CxAgentCustomer *customer)
{
  g_clear_pointer (&customer->nickname, g_free);
  g_clear_pointer (&customer->first_name, g_free);
  g_clear_pointer (&customer->last_name, g_free);
  g_clear_pointer (&customer->email, g_free);
  g_clear_pointer (&customer->subject, g_free);
}

static gboolean
parse_invitation (JsonObject *object, CxAgentEvent *event, GError **error)
{
  JsonNode *customer_node;
  JsonObject *customer;
  JsonNode *user_data;

  if (!cx_json_member_id (object, "chatId", TRUE, &event->chat_id, error) ||
      !cx_json_member_id (object, "queue", TRUE, &event->queue, error) ||
      !cx_json_member_object (object, "customer", TRUE, &customer_node, error))
    return FALSE;

  customer = json_node_get_object (customer_node);
  if (!cx_agent_customer_parse (customer, TRUE, &event->customer, error))
    return FALSE;

  if (!cx_json_member_object (object, "userData", FALSE, &user_data, error))
    return FALSE;
  if (user_data != NULL)
    {
      event->user_data = json_node_copy (user_data);
    }
  else
    {
      event->user_data = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (event->user_data, json_object_new ());
    }

  return cx_json_member_int (object, "waitingSince", TRUE, 0, G_MAXINT64, &event->waiting_since,
                             error) &&
         cx_json_member_int (object, "expiresAt", TRUE, 0, G_MAXINT64, &event->expires_at, error);
}

/**
 * cx_json_add_messages:
 * @builder: a builder inside an object
 * @messages: (nullable) (element-type CxMessage): the entries; %NULL is []
 *
 * Adds `"messages": [...]`, each entry in its GMS form. Shared by the frames, the GMS replies
 * and the agent API's replies.
 */
void
cx_json_add_messages (JsonBuilder *builder, GPtrArray *messages)
{
  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  for (guint i = 0; messages != NULL && i < messages->len; i++)
    json_builder_add_value (builder, cx_message_to_json (g_ptr_array_index (messages, i)));
  json_builder_end_array (builder);
}

/**
 * cx_json_messages_parse:
 * @array: a JSON array of GMS transcript entries
 * @max: how many entries are too many
 * @out: (out) (transfer full) (element-type CxMessage): the entries
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Entries of a type a newer server invented are skipped; anything else malformed fails the
 * whole array. Shared by the event frames and the agent API's replies.
 */
gboolean
cx_json_messages_parse (JsonArray *array, guint max, GPtrArray **out, GError **error)
{
  g_autoptr (GPtrArray) messages = NULL;
  guint length = json_array_get_length (array);

  *out = NULL;
  if (length > max)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                   _ ("There are more than %u messages"), max);
      return FALSE;
    }

  messages = g_ptr_array_new_full (length, (GDestroyNotify) cx_message_unref);
  for (guint i = 0; i < length; i++)
    {
      g_autoptr (GError) local_error = NULL;
      CxMessage *message = cx_message_from_json (json_array_get_element (array, i), &local_error);

      if (message != NULL)
        {
          g_ptr_array_add (messages, message);
        }
      else if (!g_error_matches (local_error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_UNKNOWN_TYPE))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _ ("Message %u: "),
                                      i + 1);
          return FALSE;
        }
    }

  *out = g_steal_pointer (&messages);
  return TRUE;
}

static gboolean
parse_messages (JsonObject *object, CxAgentEvent *event, GError **error)
{
  JsonArray *messages;
  gint64 next_position = 0;

  if (!cx_json_member_id (object, "chatId", TRUE, &event->chat_id, error) ||
      !cx_json_member_array (object, "messages", TRUE, &messages, error) ||
      !cx_json_member_int (object, "nextPosition", TRUE, 0, G_MAXUINT, &next_position, error))
    return FALSE;
  event->next_position = (guint) next_position;

  return cx_json_messages_parse (messages, FRAME_MAX_MESSAGES, &event->messages, error);
}

/**
 * cx_agent_event_parse:
 * @text: a WebSocket text frame, not necessarily nul-terminated
 * @len: its length in bytes
 * @out: (out) (transfer full): the event
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Parses and validates one frame of the agent event stream or of the customer push socket.
 * Refused: more than %CX_AGENT_FRAME_MAX_SIZE bytes, invalid UTF-8, anything but a JSON object,
 * a missing or unknown "type" (%CX_PROTOCOL_ERROR_UNKNOWN_TYPE), a member of the type's set
 * that is missing or of the wrong type, identifiers that are empty, longer than 256 bytes or
 * contain control characters, negative times, invalid messages. Unknown members are ignored.
 *
 * Returns: %TRUE with @out set, or %FALSE with @error set
 */
gboolean
cx_agent_event_parse (const char *text, gsize len, CxAgentEvent **out, GError **error)
{
  g_autoptr (JsonNode) root = NULL;

  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out = NULL;

  root = cx_json_parse (text, len, CX_AGENT_FRAME_MAX_SIZE, error);
  if (root == NULL)
    return FALSE;

  return cx_agent_event_from_json (root, out, error);
}

/**
 * cx_agent_event_from_json:
 * @root: a frame's JSON tree
 * @out: (out) (transfer full): the event
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * cx_agent_event_parse() for a frame that is already a JSON tree (an element of the agent
 * API's invitation list).
 *
 * Returns: %TRUE with @out set, or %FALSE with @error set
 */
gboolean
cx_agent_event_from_json (JsonNode *root, CxAgentEvent **out, GError **error)
{
  g_autoptr (CxAgentEvent) event = NULL;
  JsonObject *object;
  const char *type;
  const char *state;
  gboolean known = FALSE;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out = NULL;

  object = cx_json_root_object (root, "frame", error);
  if (object == NULL)
    return FALSE;

  if (!cx_json_member_string (object, "type", TRUE, CX_TEXT_SINGLE_LINE, &type, error))
    return FALSE;

  event = g_new0 (CxAgentEvent, 1);
  for (guint i = 0; i < G_N_ELEMENTS (event_types) && !known; i++)
    {
      if (g_str_equal (type, event_types[i]))
        {
          event->type = (CxAgentEventType) i;
          known = TRUE;
        }
    }
  if (!known)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_UNKNOWN_TYPE,
                   _ ("“%.64s” is not a known frame type"), type);
      return FALSE;
    }

  switch (event->type)
    {
      case CX_AGENT_EVENT_INVITATION:
        if (!parse_invitation (object, event, error))
          return FALSE;
        break;

      case CX_AGENT_EVENT_INVITATION_WITHDRAWN:
        if (!cx_json_member_id (object, "chatId", TRUE, &event->chat_id, error) ||
            !member_text (object, "reason", FALSE, &event->reason, error))
          return FALSE;
        break;

      case CX_AGENT_EVENT_MESSAGES:
        if (!parse_messages (object, event, error))
          return FALSE;
        break;

      case CX_AGENT_EVENT_CHAT_ENDED:
        if (!cx_json_member_id (object, "chatId", TRUE, &event->chat_id, error))
          return FALSE;
        break;

      case CX_AGENT_EVENT_AGENT_STATE:
        if (!cx_json_member_string (object, "state", TRUE, CX_TEXT_SINGLE_LINE, &state, error))
          return FALSE;
        if (!cx_agent_presence_from_string (state, &event->state))
          {
            g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                         _ ("“%s” is not a known agent state"), "state");
            return FALSE;
          }
        if (!member_text (object, "reason", FALSE, &event->reason, error))
          return FALSE;
        break;

      case CX_AGENT_EVENT_CALLBACKS_CHANGED:
      case CX_AGENT_EVENT_SIGNED_OUT:
      default:
        break;
    }

  *out = g_steal_pointer (&event);
  return TRUE;
}

/**
 * cx_agent_event_free:
 * @event: (nullable) (transfer full): an event
 */
void
cx_agent_event_free (CxAgentEvent *event)
{
  if (event == NULL)
    return;

  g_free (event->chat_id);
  g_free (event->queue);
  cx_agent_customer_clear (&event->customer);
  g_clear_pointer (&event->user_data, json_node_unref);
  g_free (event->reason);
  g_clear_pointer (&event->messages, g_ptr_array_unref);
  g_free (event);
}

/* The customer push socket */

/**
 * cx_push_hello_build:
 * @secure_key: the chat's secure key
 * @user_id: the customer's user id
 * @alias: the GMS alias
 * @transcript_position: the first transcript index the client still needs
 *
 * Returns: (transfer full): `{"secureKey", "userId", "alias", "transcriptPosition"}`
 */
JsonNode *
cx_push_hello_build (const char *secure_key, const char *user_id, const char *alias,
                     guint transcript_position)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (secure_key != NULL, NULL);
  g_return_val_if_fail (user_id != NULL, NULL);
  g_return_val_if_fail (alias != NULL, NULL);

  json_builder_begin_object (builder);
  add_string (builder, "secureKey", secure_key);
  add_string (builder, "userId", user_id);
  add_string (builder, "alias", alias);
  json_builder_set_member_name (builder, "transcriptPosition");
  json_builder_add_int_value (builder, transcript_position);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/**
 * cx_push_hello_parse:
 * @text: the socket's first text frame, not necessarily nul-terminated
 * @len: its length in bytes
 * @out: (out) (transfer full): the credentials
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Validates the push socket's first frame: at most 16 KiB of JSON, "secureKey", "userId" and
 * "alias" non-empty single-line strings of at most 256 bytes, "transcriptPosition" an integer
 * from 0 to 2³²-1 (optional, default 1). Checking the credentials against the chat is the
 * server's job.
 *
 * Returns: %TRUE with @out set, or %FALSE with @error set
 */
gboolean
cx_push_hello_parse (const char *text, gsize len, CxPushHello **out, GError **error)
{
  g_autoptr (CxPushHello) hello = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object;
  gint64 position = 1;

  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out = NULL;

  root = cx_json_parse (text, len, PUSH_HELLO_MAX_SIZE, error);
  if (root == NULL)
    return FALSE;

  object = cx_json_root_object (root, "frame", error);
  if (object == NULL)
    return FALSE;

  hello = g_new0 (CxPushHello, 1);
  if (!cx_json_member_id (object, "secureKey", TRUE, &hello->secure_key, error) ||
      !cx_json_member_id (object, "userId", TRUE, &hello->user_id, error) ||
      !cx_json_member_id (object, "alias", TRUE, &hello->alias, error) ||
      !cx_json_member_int (object, "transcriptPosition", FALSE, 0, G_MAXUINT, &position, error))
    return FALSE;
  hello->transcript_position = (guint) position;

  *out = g_steal_pointer (&hello);
  return TRUE;
}

/**
 * cx_push_hello_free:
 * @hello: (nullable) (transfer full): credentials
 */
void
cx_push_hello_free (CxPushHello *hello)
{
  if (hello == NULL)
    return;

  g_free (hello->secure_key);
  g_free (hello->user_id);
  g_free (hello->alias);
  g_free (hello);
}
