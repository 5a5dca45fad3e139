/* cx-agent-api.h: the wire format of cxdesk-server's /cx/1 agent REST API (src/server/API.md):
 * its paths, the session cookie, and for each request and reply body one function that builds
 * it and one that parses it strictly (types, identifiers, UTF-8, lengths, counts). The server
 * parses requests and builds replies; CxAgentService builds requests and parses replies. The
 * frames of the event socket are cx-agent-protocol.h's. No I/O here.
 *
 * Every parser takes the body's JSON tree (cx_json_parse() has checked size, UTF-8 and depth),
 * ignores members it does not know, treats a null member as absent, and fails with a
 * %CX_PROTOCOL_ERROR. */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "protocol/cx-agent-protocol.h"
#include "protocol/cx-gms-callback.h"
#include "protocol/cx-message.h"
#include "protocol/cx-protocol.h"

G_BEGIN_DECLS

/* The session cookie the server sets at sign-in, and the path it is scoped to. */
#define CX_AGENT_API_COOKIE "cxdesk_agent"
#define CX_AGENT_API_COOKIE_PATH "/cx/1"
/* Every route below is under this prefix (relative to the server's base address). */
#define CX_AGENT_API_PREFIX "/cx/1/agent"
/* The public estimated-wait-time path, beside the agent API. */
#define CX_AGENT_API_EWT_PATH "/cx/1/ewt"

/* The largest reply body a client should read (cx_json_parse()). */
#define CX_AGENT_API_MAX_REPLY_SIZE (256 * 1024 * 1024)
/* Counts a parser refuses beyond. */
#define CX_AGENT_API_MAX_CHATS 1000
#define CX_AGENT_API_MAX_INVITATIONS 1000
#define CX_AGENT_API_MAX_MESSAGES 100000
#define CX_AGENT_API_MAX_CALLBACKS 10000
#define CX_AGENT_API_MAX_CANNED 1000
#define CX_AGENT_API_MAX_QUEUES 256
/* Lengths, in characters. */
#define CX_AGENT_API_MAX_PASSWORD 1024
#define CX_AGENT_API_MAX_REASON 128
#define CX_AGENT_API_MAX_NAME 1024
#define CX_AGENT_API_MAX_TEXT (1024 * 1024)

/**
 * CxAgentRoute:
 * @CX_AGENT_ROUTE_SIGN_IN: POST /session
 * @CX_AGENT_ROUTE_SIGN_OUT: DELETE /session
 * @CX_AGENT_ROUTE_ME: GET /me
 * @CX_AGENT_ROUTE_STATE: PUT /state
 * @CX_AGENT_ROUTE_EVENTS: GET /events, the WebSocket
 * @CX_AGENT_ROUTE_INVITATIONS: GET /invitations
 * @CX_AGENT_ROUTE_ACCEPT: POST /invitations/{chatId}/accept
 * @CX_AGENT_ROUTE_DECLINE: POST /invitations/{chatId}/decline
 * @CX_AGENT_ROUTE_CHATS: GET /chats
 * @CX_AGENT_ROUTE_MESSAGES: GET /chats/{chatId}/messages (?from=N)
 * @CX_AGENT_ROUTE_SEND: POST /chats/{chatId}/send
 * @CX_AGENT_ROUTE_TYPING: POST /chats/{chatId}/typing
 * @CX_AGENT_ROUTE_END: POST /chats/{chatId}/end
 * @CX_AGENT_ROUTE_TRANSFER: POST /chats/{chatId}/transfer
 * @CX_AGENT_ROUTE_CALLBACKS: GET /callbacks
 * @CX_AGENT_ROUTE_COMPLETE_CALLBACK: POST /callbacks/{id}/complete
 * @CX_AGENT_ROUTE_RESCHEDULE_CALLBACK: POST /callbacks/{id}/reschedule
 * @CX_AGENT_ROUTE_CANNED: GET /canned
 *
 * The routes of the agent API, each a method and a path under %CX_AGENT_API_PREFIX.
 */
typedef enum
{
  CX_AGENT_ROUTE_SIGN_IN,
  CX_AGENT_ROUTE_SIGN_OUT,
  CX_AGENT_ROUTE_ME,
  CX_AGENT_ROUTE_STATE,
  CX_AGENT_ROUTE_EVENTS,
  CX_AGENT_ROUTE_INVITATIONS,
  CX_AGENT_ROUTE_ACCEPT,
  CX_AGENT_ROUTE_DECLINE,
  CX_AGENT_ROUTE_CHATS,
  CX_AGENT_ROUTE_MESSAGES,
  CX_AGENT_ROUTE_SEND,
  CX_AGENT_ROUTE_TYPING,
  CX_AGENT_ROUTE_END,
  CX_AGENT_ROUTE_TRANSFER,
  CX_AGENT_ROUTE_CALLBACKS,
  CX_AGENT_ROUTE_COMPLETE_CALLBACK,
  CX_AGENT_ROUTE_RESCHEDULE_CALLBACK,
  CX_AGENT_ROUTE_CANNED,
} CxAgentRoute;

const char *cx_agent_route_method (CxAgentRoute route);
gboolean cx_agent_route_has_id (CxAgentRoute route);
char *cx_agent_route_path (CxAgentRoute route, const char *id);
char *cx_agent_route_messages_path (const char *chat_id, guint from);
gboolean cx_agent_route_parse (const char *method, const char *path, CxAgentRoute *route,
                               char **id);
gboolean cx_agent_route_parse_from (GHashTable *query, guint *from, GError **error);

/* Errors: {"error": message} */
JsonNode *cx_agent_api_build_error (const char *message);
char *cx_agent_api_parse_error (JsonNode *root);

/* Requests (client builds, server parses) */

/**
 * CxAgentSignIn:
 * @username: never %NULL: an identifier (cx_id_is_valid())
 * @password: never %NULL; may be empty
 */
typedef struct
{
  char *username;
  char *password;
} CxAgentSignIn;

JsonNode *cx_agent_sign_in_build (const char *username, const char *password);
gboolean cx_agent_sign_in_parse (JsonNode *root, CxAgentSignIn **out, GError **error);
void cx_agent_sign_in_free (CxAgentSignIn *sign_in);

JsonNode *cx_agent_state_request_build (CxAgentPresence state, const char *reason);
gboolean cx_agent_state_request_parse (JsonNode *root, CxAgentPresence *state, char **reason,
                                       GError **error);

JsonNode *cx_agent_send_build (const char *text);
gboolean cx_agent_send_parse (JsonNode *root, guint max_chars, char **text, GError **error);

JsonNode *cx_agent_typing_build (gboolean typing);
gboolean cx_agent_typing_parse (JsonNode *root, gboolean *typing, GError **error);

JsonNode *cx_agent_transfer_build (const char *queue, const char *agent);
gboolean cx_agent_transfer_parse (JsonNode *root, char **queue, char **agent, GError **error);

JsonNode *cx_agent_reschedule_build (gint64 desired_time);
gboolean cx_agent_reschedule_parse (JsonNode *root, gint64 *desired_time, GError **error);

/* Replies (server builds, client parses) */

/**
 * CxAgentInfo:
 * @username: never %NULL in a parsed reply: an identifier
 * @display_name: never %NULL in a parsed reply
 * @state: the agent's state
 * @reason: (nullable): why not ready
 * @capacity: concurrent chats
 * @load: open chats now
 * @queues: (array zero-terminated=1): the queues served, never %NULL in a parsed reply (empty:
 *   every queue)
 *
 * The agent, as `/session`, `/me` and `/state` answer it.
 */
typedef struct
{
  char *username;
  char *display_name;
  CxAgentPresence state;
  char *reason;
  guint capacity;
  guint load;
  char **queues;
} CxAgentInfo;

JsonNode *cx_agent_info_build (const CxAgentInfo *agent);
gboolean cx_agent_info_parse (JsonNode *root, CxAgentInfo **out, GError **error);
CxAgentInfo *cx_agent_info_copy (const CxAgentInfo *agent);
void cx_agent_info_free (CxAgentInfo *agent);

/**
 * CxAgentChatState:
 * @CX_AGENT_CHAT_WAITING: "waiting": queued, or being transferred
 * @CX_AGENT_CHAT_ACTIVE: "active"
 * @CX_AGENT_CHAT_ENDED: "ended"
 */
typedef enum
{
  CX_AGENT_CHAT_WAITING,
  CX_AGENT_CHAT_ACTIVE,
  CX_AGENT_CHAT_ENDED,
} CxAgentChatState;

/**
 * CxAgentChat:
 * @chat_id: never %NULL in a parsed reply
 * @service: (nullable):
 * @queue: (nullable):
 * @state: the chat's state
 * @customer: its members are %NULL when absent (nickname too)
 * @user_data: a JSON object, never %NULL in a parsed reply
 * @created_at: ms since the epoch
 * @accepted_at: ms since the epoch, 0 if never
 * @next_position: the transcript position after @messages
 * @messages: (element-type CxMessage): the whole transcript, never %NULL in a parsed reply;
 *   entries of a type this version does not know are skipped
 *
 * A chat as the agent sees it (API.md "A chat").
 */
typedef struct
{
  char *chat_id;
  char *service;
  char *queue;
  CxAgentChatState state;
  CxAgentCustomer customer;
  JsonNode *user_data;
  gint64 created_at;
  gint64 accepted_at;
  guint next_position;
  GPtrArray *messages;
} CxAgentChat;

JsonNode *cx_agent_chat_build (const CxAgentChat *chat);
gboolean cx_agent_chat_parse (JsonNode *root, CxAgentChat **out, GError **error);
void cx_agent_chat_free (CxAgentChat *chat);

JsonNode *cx_agent_chats_build (GPtrArray *chats);
gboolean cx_agent_chats_parse (JsonNode *root, GPtrArray **chats, GError **error);

JsonNode *cx_agent_invitations_build (GPtrArray *frames);
gboolean cx_agent_invitations_parse (JsonNode *root, GPtrArray **invitations, GError **error);

JsonNode *cx_agent_messages_build (const char *chat_id, GPtrArray *messages, guint next_position);
gboolean cx_agent_messages_parse (JsonNode *root, GPtrArray **messages, guint *next_position,
                                  GError **error);

JsonNode *cx_agent_send_reply_build (guint index);
gboolean cx_agent_send_reply_parse (JsonNode *root, guint *index, GError **error);

JsonNode *cx_agent_callbacks_build (GPtrArray *callbacks);
gboolean cx_agent_callbacks_parse (JsonNode *root, GPtrArray **callbacks, GError **error);

/**
 * CxAgentCanned:
 * @id: never %NULL: an identifier
 * @title: never %NULL
 * @text: never %NULL; may span lines
 */
typedef struct
{
  char *id;
  char *title;
  char *text;
} CxAgentCanned;

JsonNode *cx_agent_canned_build (GPtrArray *responses);
gboolean cx_agent_canned_parse (JsonNode *root, GPtrArray **responses, GError **error);
void cx_agent_canned_free (CxAgentCanned *canned);

/* The public wait-time estimate, GET %CX_AGENT_API_EWT_PATH?queue=a&queue=b: seconds, -1 when
 * unknown. */
#define CX_AGENT_API_MAX_EWT_SECONDS G_MAXINT32

char *cx_agent_ewt_query_build (const char *const *queues);
gboolean cx_agent_ewt_query_parse (const char *query, char ***queues, GError **error);
JsonNode *cx_agent_ewt_build (const char *const *queues, const gint64 *seconds);
gboolean cx_agent_ewt_parse (JsonNode *root, const char *const *queues, gint64 *seconds,
                             GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxAgentSignIn, cx_agent_sign_in_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxAgentInfo, cx_agent_info_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxAgentChat, cx_agent_chat_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxAgentCanned, cx_agent_canned_free)

G_END_DECLS
