/* cx-agent-conversation.h: CxAgentConversation, one chat as the agent's windows show it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "protocol/cx-message.h"

G_BEGIN_DECLS

/**
 * CxAgentConversationStatus:
 * @CX_AGENT_CONVERSATION_INVITED: offered to the agent, not accepted yet
 * @CX_AGENT_CONVERSATION_ACTIVE: the agent is in the chat
 * @CX_AGENT_CONVERSATION_LEFT: the agent left a chat that goes on (a transfer)
 * @CX_AGENT_CONVERSATION_ENDED: the chat is over
 */
typedef enum
{
  CX_AGENT_CONVERSATION_INVITED,
  CX_AGENT_CONVERSATION_ACTIVE,
  CX_AGENT_CONVERSATION_LEFT,
  CX_AGENT_CONVERSATION_ENDED,
} CxAgentConversationStatus;

GType cx_agent_conversation_status_get_type (void) G_GNUC_CONST;
#define CX_TYPE_AGENT_CONVERSATION_STATUS (cx_agent_conversation_status_get_type ())

/* One chat as a window shows it: an item of cx_agent_service_get_conversations(). Read-only for
 * the UI; the service updates it and notifies its properties. */
#define CX_TYPE_AGENT_CONVERSATION (cx_agent_conversation_get_type ())

G_DECLARE_FINAL_TYPE (CxAgentConversation, cx_agent_conversation, CX, AGENT_CONVERSATION, GObject)

const char *cx_agent_conversation_get_chat_id (CxAgentConversation *self);
const char *cx_agent_conversation_get_queue (CxAgentConversation *self);
CxAgentConversationStatus cx_agent_conversation_get_status (CxAgentConversation *self);
const char *cx_agent_conversation_get_nickname (CxAgentConversation *self);
const char *cx_agent_conversation_get_subject (CxAgentConversation *self);
JsonObject *cx_agent_conversation_get_customer (CxAgentConversation *self);
JsonNode *cx_agent_conversation_get_user_data (CxAgentConversation *self);
gint64 cx_agent_conversation_get_waiting_since (CxAgentConversation *self);
gint64 cx_agent_conversation_get_expires_at (CxAgentConversation *self);
gboolean cx_agent_conversation_get_customer_typing (CxAgentConversation *self);
const char *cx_agent_conversation_get_customer_typing_text (CxAgentConversation *self);
guint cx_agent_conversation_get_n_messages (CxAgentConversation *self);
CxMessage *cx_agent_conversation_get_message (CxAgentConversation *self, guint position);

G_END_DECLS
