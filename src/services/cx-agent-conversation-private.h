/* cx-agent-conversation-private.h: what the agent service (cx-agent-service.c) may do to a
 * CxAgentConversation that the UI may not: its fields, and the setters that notify. */
#pragma once

#include "services/cx-agent-conversation.h"
#include "services/cx-transcript-cursor.h"

G_BEGIN_DECLS

struct _CxAgentConversation
{
  GObject parent_instance;

  char *chat_id;
  char *queue;
  CxAgentConversationStatus status;
  JsonObject *customer;
  JsonNode *user_data;
  gint64 waiting_since;
  gint64 expires_at;
  CxTranscriptCursor *cursor; /* which entries messages holds */
  GPtrArray *messages;        /* CxMessage, index order */
  gboolean customer_typing;
  char *customer_typing_text;
};

CxAgentConversation *_cx_agent_conversation_new (const char *chat_id,
                                                 CxAgentConversationStatus status);
void _cx_agent_conversation_set_status (CxAgentConversation *self,
                                        CxAgentConversationStatus status);
void _cx_agent_conversation_set_queue (CxAgentConversation *self, const char *queue);
void _cx_agent_conversation_take_customer (CxAgentConversation *self, JsonObject *customer);
void _cx_agent_conversation_set_user_data (CxAgentConversation *self, JsonNode *user_data);
void _cx_agent_conversation_set_typing (CxAgentConversation *self, gboolean typing,
                                        const char *text);
void _cx_agent_conversation_append (CxAgentConversation *self, GPtrArray *messages);
GPtrArray *_cx_agent_conversation_accept (CxAgentConversation *self, GPtrArray *messages,
                                          guint complete_from, guint complete_next,
                                          GPtrArray **after_gap);
guint _cx_agent_conversation_get_next_position (CxAgentConversation *self);

G_END_DECLS
