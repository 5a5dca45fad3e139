/* cx-chat-message.c: one row of the chat panel's transcript.
 *
 * A transcript entry from the server becomes at most one row, worded here in the customer's
 * language where the server's wording is for a plain GMS client (joins, leaves, the queue
 * position). Text from the network is kept exactly as it came: the row shows it with
 * gtk_label_set_text(), never as markup.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-chat-message"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "services/cx-chat-message.h"

struct _CxChatMessage
{
  GObject parent_instance;

  CxChatMessageKind kind;
  char *sender;
  char *text;
  gint64 time;
  guint serial;
  guint index;
  CxChatMessageStatus status;
  char *error;
};

G_DEFINE_FINAL_TYPE (CxChatMessage, cx_chat_message, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (CxChatMessageKind, cx_chat_message_kind,
                    G_DEFINE_ENUM_VALUE (CX_CHAT_MESSAGE_OWN, "own"),
                    G_DEFINE_ENUM_VALUE (CX_CHAT_MESSAGE_AGENT, "agent"),
                    G_DEFINE_ENUM_VALUE (CX_CHAT_MESSAGE_SYSTEM, "system"),
                    G_DEFINE_ENUM_VALUE (CX_CHAT_MESSAGE_EVENT, "event"))

G_DEFINE_ENUM_TYPE (CxChatMessageStatus, cx_chat_message_status,
                    G_DEFINE_ENUM_VALUE (CX_CHAT_MESSAGE_STATUS_NONE, "none"),
                    G_DEFINE_ENUM_VALUE (CX_CHAT_MESSAGE_STATUS_SENDING, "sending"),
                    G_DEFINE_ENUM_VALUE (CX_CHAT_MESSAGE_STATUS_SENT, "sent"),
                    G_DEFINE_ENUM_VALUE (CX_CHAT_MESSAGE_STATUS_FAILED, "failed"),
                    G_DEFINE_ENUM_VALUE (CX_CHAT_MESSAGE_STATUS_UNCERTAIN, "uncertain"))

enum
{
  PROP_0,
  PROP_KIND,
  PROP_SENDER,
  PROP_TEXT,
  PROP_TIME,
  PROP_SERIAL,
  PROP_INDEX,
  PROP_STATUS,
  PROP_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
cx_chat_message_finalize (GObject *object)
{
  CxChatMessage *self = CX_CHAT_MESSAGE (object);

  g_free (self->sender);
  g_free (self->text);
  g_free (self->error);

  G_OBJECT_CLASS (cx_chat_message_parent_class)->finalize (object);
}

static void
cx_chat_message_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxChatMessage *self = CX_CHAT_MESSAGE (object);

  switch (prop_id)
    {
      case PROP_KIND:
        g_value_set_enum (value, self->kind);
        break;

      case PROP_SENDER:
        g_value_set_string (value, self->sender);
        break;

      case PROP_TEXT:
        g_value_set_string (value, self->text);
        break;

      case PROP_TIME:
        g_value_set_int64 (value, self->time);
        break;

      case PROP_SERIAL:
        g_value_set_uint (value, self->serial);
        break;

      case PROP_INDEX:
        g_value_set_uint (value, self->index);
        break;

      case PROP_STATUS:
        g_value_set_enum (value, self->status);
        break;

      case PROP_ERROR:
        g_value_set_string (value, self->error);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_chat_message_class_init (CxChatMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cx_chat_message_finalize;
  object_class->get_property = cx_chat_message_get_property;

  properties[PROP_KIND] =
      g_param_spec_enum ("kind", NULL, NULL, CX_TYPE_CHAT_MESSAGE_KIND, CX_CHAT_MESSAGE_SYSTEM,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SENDER] =
      g_param_spec_string ("sender", NULL, NULL, NULL,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_TEXT] =
      g_param_spec_string ("text", NULL, NULL, NULL,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_TIME] =
      g_param_spec_int64 ("time", NULL, NULL, 0, G_MAXINT64, 0,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SERIAL] =
      g_param_spec_uint ("serial", NULL, NULL, 0, G_MAXUINT, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_INDEX] =
      g_param_spec_uint ("index", NULL, NULL, 0, G_MAXUINT, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_STATUS] = g_param_spec_enum (
      "status", NULL, NULL, CX_TYPE_CHAT_MESSAGE_STATUS, CX_CHAT_MESSAGE_STATUS_NONE,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_ERROR] =
      g_param_spec_string ("error", NULL, NULL, NULL,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cx_chat_message_init (CxChatMessage *self)
{
  static guint next_serial = 1;

  /* A handle for actions on this row (retry), unique in the process. */
  self->serial = next_serial++;
}

/**
 * cx_chat_message_new:
 * @kind: what the row is
 * @sender: (nullable): who wrote it, as shown
 * @text: what it says, plain text
 * @utc_time_ms: when, in milliseconds since the epoch
 *
 * Returns: (transfer full): a new row
 */
CxChatMessage *
cx_chat_message_new (CxChatMessageKind kind, const char *sender, const char *text,
                     gint64 utc_time_ms)
{
  CxChatMessage *self = g_object_new (CX_TYPE_CHAT_MESSAGE, NULL);

  self->kind = kind;
  self->sender = g_strdup (sender);
  self->text = g_strdup (text != NULL ? text : "");
  self->time = utc_time_ms;
  return self;
}

static gboolean
queue_position (const CxMessage *message, guint *position)
{
  JsonObject *object;
  JsonNode *node;
  gint64 value;

  if (message->user_data == NULL || !JSON_NODE_HOLDS_OBJECT (message->user_data))
    return FALSE;

  object = json_node_get_object (message->user_data);
  node = json_object_get_member (object, "queuePosition");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  /* GMS user data is often text: accept "3" as well as 3. */
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    value = json_node_get_int (node);
  else if (json_node_get_value_type (node) != G_TYPE_STRING ||
           !g_ascii_string_to_signed (json_node_get_string (node), 10, 1, G_MAXUINT32, &value,
                                      NULL))
    return FALSE;

  if (value < 1 || value > G_MAXUINT32)
    return FALSE;

  *position = (guint) value;
  return TRUE;
}

static const char *
nickname_or (const CxMessage *message, const char *fallback)
{
  if (message->from_nickname != NULL && message->from_nickname[0] != '\0')
    return message->from_nickname;
  return fallback;
}

static const char *
user_data_string (const CxMessage *message, const char *member)
{
  JsonNode *node;

  if (message->user_data == NULL || !JSON_NODE_HOLDS_OBJECT (message->user_data))
    return NULL;

  node = json_object_get_member (json_node_get_object (message->user_data), member);
  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

/**
 * cx_chat_message_new_from_transcript:
 * @message: a transcript entry
 *
 * Returns: (transfer full) (nullable): the row for @message, or %NULL for entries that are not
 *   shown as rows (typing started and stopped, empty notices)
 */
CxChatMessage *
cx_chat_message_new_from_transcript (const CxMessage *message)
{
  g_autofree char *text = NULL;
  CxChatMessageKind kind;
  const char *sender = NULL;
  const char *name;
  gboolean client = message->from_type == CX_PARTY_CLIENT;
  gboolean staff =
      message->from_type == CX_PARTY_AGENT || message->from_type == CX_PARTY_SUPERVISOR;
  guint position;
  CxChatMessage *self;

  switch (message->type)
    {
      case CX_MESSAGE_TEXT:
        if (client)
          {
            kind = CX_CHAT_MESSAGE_OWN;
            sender = _ ("You");
          }
        else if (staff)
          {
            kind = CX_CHAT_MESSAGE_AGENT;
            sender = nickname_or (message, _ ("Agent"));
          }
        else
          {
            kind = CX_CHAT_MESSAGE_SYSTEM;
          }
        text = g_strdup (message->text);
        break;

      case CX_MESSAGE_PARTICIPANT_JOINED:
        kind = CX_CHAT_MESSAGE_EVENT;
        name = nickname_or (message, _ ("Someone"));
        if (client)
          text = g_strdup (_ ("Chat started"));
        else
          /* Translators: %s is the name of an agent */
          text = g_strdup_printf (_ ("%s joined the chat"), name);
        break;

      case CX_MESSAGE_PARTICIPANT_LEFT:
        kind = CX_CHAT_MESSAGE_EVENT;
        name = nickname_or (message, _ ("Someone"));
        if (client)
          text = g_strdup (_ ("You left the chat"));
        else
          /* Translators: %s is the name of an agent */
          text = g_strdup_printf (_ ("%s left the chat"), name);
        break;

      case CX_MESSAGE_NOTICE:
        kind = CX_CHAT_MESSAGE_SYSTEM;
        if (queue_position (message, &position))
          /* Translators: the customer's place in the queue for an agent, 1 = next */
          text = g_strdup_printf (_ ("You are number %u in the queue"), position);
        else
          text = g_strdup (message->text);
        break;

      case CX_MESSAGE_FILE_UPLOADED:
        {
          const char *file = user_data_string (message, "file-name");

          kind = CX_CHAT_MESSAGE_EVENT;
          name = client ? _ ("You") : nickname_or (message, _ ("Someone"));
          if (file == NULL)
            file = message->text != NULL && message->text[0] != '\0' ? message->text : "?";
          /* Translators: "Ada sent a file: invoice.pdf" */
          text = g_strdup_printf (_ ("%s sent a file: %s"), name, file);
        }
        break;

      case CX_MESSAGE_IDLE_CLOSE:
        kind = CX_CHAT_MESSAGE_SYSTEM;
        if (message->text != NULL && message->text[0] != '\0')
          text = g_strdup (message->text);
        else
          text = g_strdup (_ ("The chat was closed because nobody wrote for a while"));
        break;

      case CX_MESSAGE_PUSH_URL:
      case CX_MESSAGE_CUSTOM_NOTICE:
      case CX_MESSAGE_IDLE_ALERT:
      case CX_MESSAGE_FILE_DELETED:
        kind = CX_CHAT_MESSAGE_SYSTEM;
        text = g_strdup (message->text);
        break;

      case CX_MESSAGE_TYPING_STARTED:
      case CX_MESSAGE_TYPING_STOPPED:
      default:
        return NULL;
    }

  if (text == NULL || text[0] == '\0')
    return NULL;

  self = cx_chat_message_new (kind, sender, text, message->utc_time);
  self->index = message->index;
  if (kind == CX_CHAT_MESSAGE_OWN)
    self->status = CX_CHAT_MESSAGE_STATUS_SENT;
  return self;
}

CxChatMessageKind
cx_chat_message_get_kind (CxChatMessage *self)
{
  g_return_val_if_fail (CX_IS_CHAT_MESSAGE (self), CX_CHAT_MESSAGE_SYSTEM);

  return self->kind;
}

/**
 * cx_chat_message_get_sender:
 *
 * Returns: (nullable): who wrote it, as shown; %NULL for notices and events
 */
const char *
cx_chat_message_get_sender (CxChatMessage *self)
{
  g_return_val_if_fail (CX_IS_CHAT_MESSAGE (self), NULL);

  return self->sender;
}

const char *
cx_chat_message_get_text (CxChatMessage *self)
{
  g_return_val_if_fail (CX_IS_CHAT_MESSAGE (self), NULL);

  return self->text;
}

gint64
cx_chat_message_get_time (CxChatMessage *self)
{
  g_return_val_if_fail (CX_IS_CHAT_MESSAGE (self), 0);

  return self->time;
}

guint
cx_chat_message_get_serial (CxChatMessage *self)
{
  g_return_val_if_fail (CX_IS_CHAT_MESSAGE (self), 0);

  return self->serial;
}

/**
 * cx_chat_message_get_index:
 *
 * Returns: the transcript index, from 1; 0 for a message of the customer's not stored yet
 */
guint
cx_chat_message_get_index (CxChatMessage *self)
{
  g_return_val_if_fail (CX_IS_CHAT_MESSAGE (self), 0);

  return self->index;
}

void
cx_chat_message_set_index (CxChatMessage *self, guint index)
{
  g_return_if_fail (CX_IS_CHAT_MESSAGE (self));

  if (self->index == index)
    return;

  self->index = index;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INDEX]);
}

CxChatMessageStatus
cx_chat_message_get_status (CxChatMessage *self)
{
  g_return_val_if_fail (CX_IS_CHAT_MESSAGE (self), CX_CHAT_MESSAGE_STATUS_NONE);

  return self->status;
}

void
cx_chat_message_set_status (CxChatMessage *self, CxChatMessageStatus status)
{
  g_return_if_fail (CX_IS_CHAT_MESSAGE (self));

  if (self->status == status)
    return;

  self->status = status;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}

/**
 * cx_chat_message_get_error:
 *
 * Returns: (nullable): why a failed message was not sent
 */
const char *
cx_chat_message_get_error (CxChatMessage *self)
{
  g_return_val_if_fail (CX_IS_CHAT_MESSAGE (self), NULL);

  return self->error;
}

void
cx_chat_message_set_error (CxChatMessage *self, const char *error)
{
  g_return_if_fail (CX_IS_CHAT_MESSAGE (self));

  if (g_strcmp0 (self->error, error) == 0)
    return;

  g_free (self->error);
  self->error = g_strdup (error);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}
