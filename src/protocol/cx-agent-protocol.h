/* cx-agent-protocol.h: the JSON frames of cxdesk-server's WebSockets: the agent event stream
 * (server to agent) and the customer push socket (its first frame, client to server; after it
 * the server pushes "messages" and "chatEnded" frames, the same as the agent's). Every frame is
 * a JSON object with a "type" member. */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "protocol/cx-message.h"
#include "protocol/cx-protocol.h"

G_BEGIN_DECLS

/* A frame larger than this is refused. */
#define CX_AGENT_FRAME_MAX_SIZE (1024 * 1024)

/**
 * CxAgentEventType:
 * @CX_AGENT_EVENT_INVITATION: "invitation": a chat is offered to the agent
 * @CX_AGENT_EVENT_INVITATION_WITHDRAWN: "invitationWithdrawn": the offer is gone
 * @CX_AGENT_EVENT_MESSAGES: "messages": new transcript entries of a chat
 * @CX_AGENT_EVENT_CHAT_ENDED: "chatEnded"
 * @CX_AGENT_EVENT_AGENT_STATE: "agentState": the agent's state changed (maybe elsewhere)
 * @CX_AGENT_EVENT_CALLBACKS_CHANGED: "callbacksChanged": reload the callback list
 * @CX_AGENT_EVENT_SIGNED_OUT: "signedOut": the session is over
 */
typedef enum
{
  CX_AGENT_EVENT_INVITATION,
  CX_AGENT_EVENT_INVITATION_WITHDRAWN,
  CX_AGENT_EVENT_MESSAGES,
  CX_AGENT_EVENT_CHAT_ENDED,
  CX_AGENT_EVENT_AGENT_STATE,
  CX_AGENT_EVENT_CALLBACKS_CHANGED,
  CX_AGENT_EVENT_SIGNED_OUT,
} CxAgentEventType;

/**
 * CxAgentPresence:
 * @CX_AGENT_PRESENCE_OFFLINE: "offline"
 * @CX_AGENT_PRESENCE_NOT_READY: "not_ready"
 * @CX_AGENT_PRESENCE_READY: "ready"
 *
 * The agent state on the wire; the values match the store's CxAgentState, so a cast converts.
 */
typedef enum
{
  CX_AGENT_PRESENCE_OFFLINE,
  CX_AGENT_PRESENCE_NOT_READY,
  CX_AGENT_PRESENCE_READY,
} CxAgentPresence;

/**
 * CxAgentCustomer:
 * @nickname: never %NULL in a parsed event
 * @first_name: (nullable):
 * @last_name: (nullable):
 * @email: (nullable):
 * @subject: (nullable):
 */
typedef struct
{
  char *nickname;
  char *first_name;
  char *last_name;
  char *email;
  char *subject;
} CxAgentCustomer;

gboolean cx_agent_customer_parse (JsonObject *object, gboolean nickname_required,
                                  CxAgentCustomer *customer, GError **error);
void cx_agent_customer_clear (CxAgentCustomer *customer);

/**
 * CxAgentEvent:
 * @type: which frame
 * @chat_id: invitation, invitationWithdrawn, messages, chatEnded; %NULL otherwise
 * @queue: invitation: the queue the chat waits in
 * @customer: invitation: who is asking
 * @user_data: invitation: a JSON object, never %NULL there
 * @waiting_since: invitation: when the chat was queued, ms since the epoch
 * @expires_at: invitation: when the offer lapses, ms since the epoch
 * @reason: (nullable): invitationWithdrawn, agentState
 * @messages: (element-type CxMessage): messages: never %NULL there
 * @next_position: messages: the next transcript position
 * @state: agentState
 */
typedef struct
{
  CxAgentEventType type;
  char *chat_id;
  char *queue;
  CxAgentCustomer customer;
  JsonNode *user_data;
  gint64 waiting_since;
  gint64 expires_at;
  char *reason;
  GPtrArray *messages;
  guint next_position;
  CxAgentPresence state;
} CxAgentEvent;

const char *cx_agent_event_type_to_string (CxAgentEventType type);
const char *cx_agent_presence_to_string (CxAgentPresence presence);
gboolean cx_agent_presence_from_string (const char *string, CxAgentPresence *presence);

JsonNode *cx_agent_event_build_invitation (const char *chat_id, const char *queue,
                                           const CxAgentCustomer *customer, JsonNode *user_data,
                                           gint64 waiting_since, gint64 expires_at);
JsonNode *cx_agent_event_build_invitation_withdrawn (const char *chat_id, const char *reason);
JsonNode *cx_agent_event_build_messages (const char *chat_id, GPtrArray *messages,
                                         guint next_position);
JsonNode *cx_agent_event_build_chat_ended (const char *chat_id);
JsonNode *cx_agent_event_build_agent_state (CxAgentPresence state, const char *reason);
JsonNode *cx_agent_event_build_callbacks_changed (void);
JsonNode *cx_agent_event_build_signed_out (void);

gboolean cx_agent_event_parse (const char *text, gsize len, CxAgentEvent **out, GError **error);
gboolean cx_agent_event_from_json (JsonNode *root, CxAgentEvent **out, GError **error);
void cx_agent_event_free (CxAgentEvent *event);

/**
 * CxPushHello:
 * @secure_key: never %NULL
 * @user_id: never %NULL
 * @alias: never %NULL
 * @transcript_position: the first index the client still needs (0 and 1: everything)
 *
 * The first frame of the customer push socket: the same credentials as a GMS request.
 */
typedef struct
{
  char *secure_key;
  char *user_id;
  char *alias;
  guint transcript_position;
} CxPushHello;

JsonNode *cx_push_hello_build (const char *secure_key, const char *user_id, const char *alias,
                               guint transcript_position);
gboolean cx_push_hello_parse (const char *text, gsize len, CxPushHello **out, GError **error);
void cx_push_hello_free (CxPushHello *hello);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxAgentEvent, cx_agent_event_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxPushHello, cx_push_hello_free)

G_END_DECLS
