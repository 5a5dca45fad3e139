/* cx-message.c: CxMessage, one transcript entry, and its GMS JSON form. The struct is the public
 * one of cx-message.h; the reference count lives in the GRcBox header in front of it. */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "protocol/cx-message.h"
#include "protocol/cx-protocol-private.h"

G_DEFINE_BOXED_TYPE (CxMessage, cx_message, cx_message_ref, cx_message_unref)

/* Indexed by CxMessageType and CxPartyType: GMS's names. */
static const char *const message_types[] = {
  "Message", "ParticipantJoined", "ParticipantLeft", "TypingStarted", "TypingStopped", "Notice",
  "PushUrl", "FileUploaded",      "FileDeleted",     "CustomNotice",  "IdleAlert",     "IdleClose",
};

static const char *const party_types[] = {
  "Client",
  "Agent",
  "Supervisor",
  "External",
};

G_STATIC_ASSERT (G_N_ELEMENTS (message_types) == CX_MESSAGE_IDLE_CLOSE + 1);
G_STATIC_ASSERT (G_N_ELEMENTS (party_types) == CX_PARTY_EXTERNAL + 1);

/**
 * cx_message_new:
 * @type: what kind of entry
 * @from_type: who sent it
 * @from_nickname: (nullable): the sender's display name; %NULL is ""
 * @from_participant_id: (nullable): the sender's participant id; %NULL is ""
 * @text: (nullable): the text, plain UTF-8, kept byte for byte
 * @utc_time: milliseconds since the epoch
 * @user_data: (nullable): a JSON object, referenced (do not change it afterwards)
 *
 * Creates a message with index 0: the store gives it its index when it appends it.
 *
 * Returns: (transfer full): a new message
 */
CxMessage *
cx_message_new (CxMessageType type, CxPartyType from_type, const char *from_nickname,
                const char *from_participant_id, const char *text, gint64 utc_time,
                JsonNode *user_data)
{
  CxMessage *message;

  g_return_val_if_fail ((guint) type < G_N_ELEMENTS (message_types), NULL);
  g_return_val_if_fail ((guint) from_type < G_N_ELEMENTS (party_types), NULL);
  g_return_val_if_fail (user_data == NULL || JSON_NODE_HOLDS_OBJECT (user_data), NULL);

  message = g_atomic_rc_box_new0 (CxMessage);
  message->type = type;
  message->from_type = from_type;
  message->from_nickname = g_strdup (from_nickname ? from_nickname : "");
  message->from_participant_id = g_strdup (from_participant_id ? from_participant_id : "");
  message->text = g_strdup (text);
  message->utc_time = utc_time;
  message->user_data = user_data ? json_node_ref (user_data) : NULL;

  return message;
}

/**
 * cx_message_ref:
 * @message: a message
 *
 * Returns: (transfer full): @message
 */
CxMessage *
cx_message_ref (CxMessage *message)
{
  g_return_val_if_fail (message != NULL, NULL);

  return g_atomic_rc_box_acquire (message);
}

static void
message_clear (CxMessage *message)
{
  g_free (message->from_nickname);
  g_free (message->from_participant_id);
  g_free (message->text);
  g_clear_pointer (&message->user_data, json_node_unref);
}

/**
 * cx_message_unref:
 * @message: (transfer full): a message
 */
void
cx_message_unref (CxMessage *message)
{
  g_return_if_fail (message != NULL);

  g_atomic_rc_box_release_full (message, (GDestroyNotify) message_clear);
}

/**
 * cx_message_type_to_string:
 * @type: a message type
 *
 * Returns: GMS's name of @type ("Message", "ParticipantJoined", ...)
 */
const char *
cx_message_type_to_string (CxMessageType type)
{
  g_return_val_if_fail ((guint) type < G_N_ELEMENTS (message_types), NULL);

  return message_types[type];
}

/**
 * cx_message_type_from_string:
 * @string: (nullable): a GMS message type name, case-sensitive
 * @type: (out): the type
 *
 * Returns: %FALSE if @string names no message type
 */
gboolean
cx_message_type_from_string (const char *string, CxMessageType *type)
{
  if (string == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (message_types); i++)
    {
      if (g_str_equal (string, message_types[i]))
        {
          *type = (CxMessageType) i;
          return TRUE;
        }
    }

  return FALSE;
}

/**
 * cx_party_type_to_string:
 * @type: a party type
 *
 * Returns: GMS's name of @type ("Client", "Agent", "Supervisor", "External")
 */
const char *
cx_party_type_to_string (CxPartyType type)
{
  g_return_val_if_fail ((guint) type < G_N_ELEMENTS (party_types), NULL);

  return party_types[type];
}

/**
 * cx_party_type_from_string:
 * @string: (nullable): a GMS party type name, case-sensitive
 * @type: (out): the type
 *
 * Returns: %FALSE if @string names no party type
 */
gboolean
cx_party_type_from_string (const char *string, CxPartyType *type)
{
  if (string == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (party_types); i++)
    {
      if (g_str_equal (string, party_types[i]))
        {
          *type = (CxPartyType) i;
          return TRUE;
        }
    }

  return FALSE;
}

/**
 * cx_message_to_json:
 * @message: a message
 *
 * Builds GMS's form, members in this order: `{"from":{"nickname", "participantId", "type"},
 * "index", "type", "text", "utcTime", "userData"}`; "text" and "userData" are left out when
 * %NULL. The text is copied as is: the protocol never escapes or interprets it.
 *
 * Returns: (transfer full): a JSON object node
 */
JsonNode *
cx_message_to_json (const CxMessage *message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (message != NULL, NULL);

  json_builder_begin_object (builder);

  json_builder_set_member_name (builder, "from");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "nickname");
  json_builder_add_string_value (builder, message->from_nickname ? message->from_nickname : "");
  json_builder_set_member_name (builder, "participantId");
  json_builder_add_string_value (builder,
                                 message->from_participant_id ? message->from_participant_id : "");
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, cx_party_type_to_string (message->from_type));
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "index");
  json_builder_add_int_value (builder, message->index);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, cx_message_type_to_string (message->type));
  if (message->text != NULL)
    {
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, message->text);
    }
  json_builder_set_member_name (builder, "utcTime");
  json_builder_add_int_value (builder, message->utc_time);
  if (message->user_data != NULL)
    {
      json_builder_set_member_name (builder, "userData");
      /* A new node over the same object: the message's own node keeps no parent. */
      json_builder_add_value (builder, json_node_copy (message->user_data));
    }

  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* GMS sends participantId as a number; CX Desk as a string. Both are kept as a string. */
static gboolean
read_participant_id (JsonObject *from, char **out, GError **error)
{
  JsonNode *node = json_object_get_member (from, "participantId");
  const char *value;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      *out = g_strdup ("");
      return TRUE;
    }

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      *out = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
      return TRUE;
    }

  if (!cx_json_member_string (from, "participantId", FALSE, CX_TEXT_SINGLE_LINE, &value, error))
    return FALSE;

  if (strlen (value) > CX_ID_MAX_BYTES)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                   _ ("“%s” is longer than %u bytes"), "participantId", CX_ID_MAX_BYTES);
      return FALSE;
    }

  *out = g_strdup (value);
  return TRUE;
}

/**
 * cx_message_from_json:
 * @node: (nullable): a GMS message object
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Reads and validates a GMS message: "from" an object with a known party "type", optional
 * string "nickname", string or integer "participantId"; "index" an integer from 1; "type" a
 * known message type (%CX_PROTOCOL_ERROR_UNKNOWN_TYPE otherwise, so a reader can skip entries
 * a newer server invented); "text" absent, null or a string without control characters other
 * than tab and line breaks; "utcTime" an integer from 0; "userData" absent, null or an object.
 * Every string must be valid UTF-8. Unknown members are ignored.
 *
 * Returns: (transfer full): the message, or %NULL with @error set
 */
CxMessage *
cx_message_from_json (JsonNode *node, GError **error)
{
  g_autoptr (CxMessage) message = NULL;
  JsonObject *object;
  JsonObject *from;
  JsonNode *from_node;
  JsonNode *user_data;
  const char *nickname;
  const char *party;
  const char *type;
  const char *text;
  gint64 index = 0;
  gint64 utc_time = 0;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  object = cx_json_root_object (node, "message", error);
  if (object == NULL)
    return NULL;

  message = g_atomic_rc_box_new0 (CxMessage);

  if (!cx_json_member_object (object, "from", TRUE, &from_node, error))
    return NULL;
  from = json_node_get_object (from_node);
  if (!cx_json_member_string (from, "nickname", FALSE, CX_TEXT_SINGLE_LINE, &nickname, error))
    return NULL;
  message->from_nickname = g_strdup (nickname ? nickname : "");
  if (!read_participant_id (from, &message->from_participant_id, error))
    return NULL;
  if (!cx_json_member_string (from, "type", TRUE, CX_TEXT_SINGLE_LINE, &party, error))
    return NULL;
  if (!cx_party_type_from_string (party, &message->from_type))
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_UNKNOWN_TYPE,
                   _ ("“%s” is not a known party type"), "from.type");
      return NULL;
    }

  if (!cx_json_member_int (object, "index", TRUE, 1, G_MAXUINT, &index, error))
    return NULL;
  message->index = (guint) index;

  if (!cx_json_member_string (object, "type", TRUE, CX_TEXT_SINGLE_LINE, &type, error))
    return NULL;
  if (!cx_message_type_from_string (type, &message->type))
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_UNKNOWN_TYPE,
                   _ ("“%s” is not a known message type"), "type");
      return NULL;
    }

  if (!cx_json_member_string (object, "text", FALSE, CX_TEXT_MULTI_LINE, &text, error))
    return NULL;
  message->text = g_strdup (text);

  if (!cx_json_member_int (object, "utcTime", TRUE, 0, G_MAXINT64, &utc_time, error))
    return NULL;
  message->utc_time = utc_time;

  if (!cx_json_member_object (object, "userData", FALSE, &user_data, error))
    return NULL;
  /* A new node over the same object, so the message does not hold the caller's tree. */
  message->user_data = user_data ? json_node_copy (user_data) : NULL;

  return g_steal_pointer (&message);
}
