/* cx-agent-conversation.c: CxAgentConversation, one chat as the agent's windows show it: the
 * customer, the queue, the status, the transcript and the customer's typing. The UI reads it and
 * binds its properties; only the agent service changes it, through
 * cx-agent-conversation-private.h, and notifies what changed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-service"

#include "config.h"

#include "services/cx-agent-conversation-private.h"

G_DEFINE_ENUM_TYPE (CxAgentConversationStatus, cx_agent_conversation_status,
                    G_DEFINE_ENUM_VALUE (CX_AGENT_CONVERSATION_INVITED, "invited"),
                    G_DEFINE_ENUM_VALUE (CX_AGENT_CONVERSATION_ACTIVE, "active"),
                    G_DEFINE_ENUM_VALUE (CX_AGENT_CONVERSATION_LEFT, "left"),
                    G_DEFINE_ENUM_VALUE (CX_AGENT_CONVERSATION_ENDED, "ended"))

G_DEFINE_FINAL_TYPE (CxAgentConversation, cx_agent_conversation, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CHAT_ID,
  PROP_QUEUE,
  PROP_STATUS,
  PROP_NICKNAME,
  PROP_SUBJECT,
  PROP_CUSTOMER_TYPING,
  PROP_CUSTOMER_TYPING_TEXT,
  PROP_N_MESSAGES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
cx_agent_conversation_finalize (GObject *object)
{
  CxAgentConversation *self = CX_AGENT_CONVERSATION (object);

  g_free (self->chat_id);
  g_free (self->queue);
  g_clear_pointer (&self->customer, json_object_unref);
  g_clear_pointer (&self->user_data, json_node_unref);
  g_clear_pointer (&self->messages, g_ptr_array_unref);
  g_clear_pointer (&self->cursor, cx_transcript_cursor_free);
  g_free (self->customer_typing_text);

  G_OBJECT_CLASS (cx_agent_conversation_parent_class)->finalize (object);
}

static void
cx_agent_conversation_get_property (GObject *object, guint prop_id, GValue *value,
                                    GParamSpec *pspec)
{
  CxAgentConversation *self = CX_AGENT_CONVERSATION (object);

  switch (prop_id)
    {
      case PROP_CHAT_ID:
        g_value_set_string (value, self->chat_id);
        break;

      case PROP_QUEUE:
        g_value_set_string (value, self->queue);
        break;

      case PROP_STATUS:
        g_value_set_enum (value, self->status);
        break;

      case PROP_NICKNAME:
        g_value_set_string (value, cx_agent_conversation_get_nickname (self));
        break;

      case PROP_SUBJECT:
        g_value_set_string (value, cx_agent_conversation_get_subject (self));
        break;

      case PROP_CUSTOMER_TYPING:
        g_value_set_boolean (value, self->customer_typing);
        break;

      case PROP_CUSTOMER_TYPING_TEXT:
        g_value_set_string (value, self->customer_typing_text);
        break;

      case PROP_N_MESSAGES:
        g_value_set_uint (value, self->messages->len);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_agent_conversation_class_init (CxAgentConversationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = cx_agent_conversation_finalize;
  object_class->get_property = cx_agent_conversation_get_property;

  properties[PROP_CHAT_ID] = g_param_spec_string ("chat-id", NULL, NULL, NULL, flags);
  properties[PROP_QUEUE] = g_param_spec_string ("queue", NULL, NULL, NULL, flags);
  properties[PROP_STATUS] =
      g_param_spec_enum ("status", NULL, NULL, CX_TYPE_AGENT_CONVERSATION_STATUS,
                         CX_AGENT_CONVERSATION_INVITED, flags);
  properties[PROP_NICKNAME] = g_param_spec_string ("nickname", NULL, NULL, NULL, flags);
  properties[PROP_SUBJECT] = g_param_spec_string ("subject", NULL, NULL, NULL, flags);
  properties[PROP_CUSTOMER_TYPING] =
      g_param_spec_boolean ("customer-typing", NULL, NULL, FALSE, flags);
  properties[PROP_CUSTOMER_TYPING_TEXT] =
      g_param_spec_string ("customer-typing-text", NULL, NULL, NULL, flags);
  properties[PROP_N_MESSAGES] =
      g_param_spec_uint ("n-messages", NULL, NULL, 0, G_MAXUINT, 0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cx_agent_conversation_init (CxAgentConversation *self)
{
  self->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  self->cursor = cx_transcript_cursor_new ();
  self->customer = json_object_new ();
  self->user_data = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (self->user_data, json_object_new ());
}

CxAgentConversation *
_cx_agent_conversation_new (const char *chat_id, CxAgentConversationStatus status)
{
  CxAgentConversation *self = g_object_new (CX_TYPE_AGENT_CONVERSATION, NULL);

  self->chat_id = g_strdup (chat_id);
  self->status = status;
  return self;
}

void
_cx_agent_conversation_set_status (CxAgentConversation *self, CxAgentConversationStatus status)
{
  if (self->status == status)
    return;

  self->status = status;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}

void
_cx_agent_conversation_set_queue (CxAgentConversation *self, const char *queue)
{
  if (queue == NULL || g_strcmp0 (self->queue, queue) == 0)
    return;

  g_free (self->queue);
  self->queue = g_strdup (queue);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUEUE]);
}

/* Takes @customer, a validated {nickname, firstName, lastName, email, subject} of strings. */
void
_cx_agent_conversation_take_customer (CxAgentConversation *self, JsonObject *customer)
{
  g_autofree char *old_nickname = g_strdup (cx_agent_conversation_get_nickname (self));
  g_autofree char *old_subject = g_strdup (cx_agent_conversation_get_subject (self));

  json_object_unref (self->customer);
  self->customer = customer;

  if (g_strcmp0 (old_nickname, cx_agent_conversation_get_nickname (self)) != 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NICKNAME]);
  if (g_strcmp0 (old_subject, cx_agent_conversation_get_subject (self)) != 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUBJECT]);
}

void
_cx_agent_conversation_set_user_data (CxAgentConversation *self, JsonNode *user_data)
{
  if (user_data == NULL || !JSON_NODE_HOLDS_OBJECT (user_data))
    return;

  json_node_unref (self->user_data);
  self->user_data = json_node_copy (user_data);
}

void
_cx_agent_conversation_set_typing (CxAgentConversation *self, gboolean typing, const char *text)
{
  const char *new_text = typing ? text : NULL;

  if (self->customer_typing != typing)
    {
      self->customer_typing = typing;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CUSTOMER_TYPING]);
    }

  if (g_strcmp0 (self->customer_typing_text, new_text) != 0)
    {
      g_free (self->customer_typing_text);
      self->customer_typing_text = g_strdup (new_text);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CUSTOMER_TYPING_TEXT]);
    }
}

void
_cx_agent_conversation_append (CxAgentConversation *self, GPtrArray *messages)
{
  if (messages->len == 0)
    return;

  for (guint i = 0; i < messages->len; i++)
    g_ptr_array_add (self->messages, cx_message_ref (g_ptr_array_index (messages, i)));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_MESSAGES]);
}

/* Which of @messages are new to the transcript, in index order (cx_transcript_cursor_accept()):
 * the service publishes them, then appends them. */
GPtrArray *
_cx_agent_conversation_accept (CxAgentConversation *self, GPtrArray *messages, guint complete_from,
                               guint complete_next, GPtrArray **after_gap)
{
  return cx_transcript_cursor_accept (self->cursor, messages, complete_from, complete_next,
                                      after_gap);
}

/* The transcript index expected next: every entry below it has been accepted. */
guint
_cx_agent_conversation_get_next_position (CxAgentConversation *self)
{
  return cx_transcript_cursor_get_next_position (self->cursor);
}

const char *
cx_agent_conversation_get_chat_id (CxAgentConversation *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (self), NULL);

  return self->chat_id;
}

/**
 * cx_agent_conversation_get_queue:
 *
 * Returns: (nullable): the queue the chat came from
 */
const char *
cx_agent_conversation_get_queue (CxAgentConversation *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (self), NULL);

  return self->queue;
}

CxAgentConversationStatus
cx_agent_conversation_get_status (CxAgentConversation *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (self), CX_AGENT_CONVERSATION_ENDED);

  return self->status;
}

/**
 * cx_agent_conversation_get_nickname:
 *
 * Returns: (nullable): the customer's nickname, plain text (never markup)
 */
const char *
cx_agent_conversation_get_nickname (CxAgentConversation *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (self), NULL);

  return json_object_get_string_member_with_default (self->customer, "nickname", NULL);
}

/**
 * cx_agent_conversation_get_subject:
 *
 * Returns: (nullable): the subject the customer gave, plain text
 */
const char *
cx_agent_conversation_get_subject (CxAgentConversation *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (self), NULL);

  return json_object_get_string_member_with_default (self->customer, "subject", NULL);
}

/**
 * cx_agent_conversation_get_customer:
 *
 * Returns: (transfer none): {nickname, firstName, lastName, email, subject}, each member
 *   present only when known
 */
JsonObject *
cx_agent_conversation_get_customer (CxAgentConversation *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (self), NULL);

  return self->customer;
}

/**
 * cx_agent_conversation_get_user_data:
 *
 * Returns: (transfer none): the chat's user data, a JSON object
 */
JsonNode *
cx_agent_conversation_get_user_data (CxAgentConversation *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (self), NULL);

  return self->user_data;
}

/* Milliseconds since the epoch; 0 when unknown. */
gint64
cx_agent_conversation_get_waiting_since (CxAgentConversation *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (self), 0);

  return self->waiting_since;
}

/* Milliseconds since the epoch; 0 when unknown or not invited. */
gint64
cx_agent_conversation_get_expires_at (CxAgentConversation *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (self), 0);

  return self->expires_at;
}

gboolean
cx_agent_conversation_get_customer_typing (CxAgentConversation *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (self), FALSE);

  return self->customer_typing;
}

/**
 * cx_agent_conversation_get_customer_typing_text:
 *
 * Returns: (nullable): what the customer is typing, when their client sends a preview
 */
const char *
cx_agent_conversation_get_customer_typing_text (CxAgentConversation *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (self), NULL);

  return self->customer_typing_text;
}

guint
cx_agent_conversation_get_n_messages (CxAgentConversation *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (self), 0);

  return self->messages->len;
}

/**
 * cx_agent_conversation_get_message:
 * @position: from 0 to cx_agent_conversation_get_n_messages() - 1
 *
 * Returns: (transfer none): the transcript entry at @position (index order)
 */
CxMessage *
cx_agent_conversation_get_message (CxAgentConversation *self, guint position)
{
  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (self), NULL);
  g_return_val_if_fail (position < self->messages->len, NULL);

  return g_ptr_array_index (self->messages, position);
}
