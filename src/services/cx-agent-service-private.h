/* cx-agent-service-private.h: what the files of CxAgentService share: the instance struct, the
 * per-chat and per-request records, and the functions one part calls in another.
 *
 *   cx-agent-service.c          the class, attach/detach, properties, the command table,
 *                               shared helpers (publishing, route requests), callbacks and canned
 *   cx-agent-service-request.c  requests to /cx/1/agent and their errors
 *   cx-agent-service-session.c  sign-in, restore, sign-out, the agent's state
 *   cx-agent-service-socket.c   the event socket, its backoff and the resync after it
 *   cx-agent-service-chats.c    chats, transcripts, invitations, typing and their commands
 *
 * Every path, request body and reply of the agent API is built and parsed by
 * protocol/cx-agent-api.h, the same code the server uses; nothing here writes or reads that JSON
 * by hand.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib/gi18n-lib.h>
#include <string.h>

#include "protocol/cx-agent-api.h"
#include "protocol/cx-agent-protocol.h"
#include "protocol/cx-protocol.h"
#include "services/cx-agent-conversation-private.h"
#include "services/cx-agent-service.h"
#include "services/cx-service-request.h"

G_BEGIN_DECLS

/* The timings every service shares. */
#define TYPING_IDLE_MS CX_SERVICE_TYPING_IDLE_MS
#define FIRST_RETRY_MS CX_SERVICE_FIRST_RETRY_MS

typedef enum
{
  SESSION_SIGNED_OUT,
  SESSION_SIGNING_IN, /* signIn or restore under way */
  SESSION_SIGNED_IN,
  SESSION_SIGNING_OUT, /* our DELETE of the session is under way */
} Session;

/* What this window knows of one chat besides its conversation object. */
typedef struct
{
  CxAgentConversation *conversation;
  GPtrArray *pending; /* CxMessage from push frames, not applied yet */
  gboolean pending_end;
  /* While any of these holds, push frames wait in pending. */
  gboolean syncing; /* the (re)connection sync has not brought this chat yet */
  gboolean fetching;
  gboolean accepting;
  gboolean invite_mark; /* invited when the sync began: withdrawn if the sync does not list it */
  guint last_fetch_from;
} Chat;

typedef struct
{
  CxCommand *command;
  CxCommandFunc func;
} Deferred;

typedef struct
{
  CxAgentService *self;
  char *chat_id;
  guint id;
} TypingTimer;

struct _CxAgentService
{
  GObject parent_instance;

  GPtrArray *plugins; /* CxPlugin: the "AgentService" of each attached window's bus */
  guint greet_id;     /* tells newly attached buses that the session is signed in */
  CxHttp *http;
  char *server_url;
  char *api_base;   /* http(s)://host[:port]/…/cx/1/agent, no trailing slash */
  char *events_url; /* ws(s)://host[:port]/…/cx/1/agent/events */
  GUri *me_uri;     /* where the session cookie applies */
  char *host;

  /* Every request; cancelled only in dispose. Replies check the session generation. */
  GCancellable *cancellable;
  gboolean disposed;

  /* The session */
  Session session;
  guint generation;   /* changes when a session begins or ends */
  CxAgentInfo *agent; /* as the server said, with the state and reason of later frames */
  CxAgentPresence state;
  char *reason;
  char **queues;               /* of the agent, as the server says; never NULL */
  GPtrArray *restore_waiters;  /* CxCommand */
  GPtrArray *sign_out_waiters; /* CxCommand */
  GArray *deferred;            /* Deferred: commands that came while signing in */

  /* The event socket */
  SoupWebsocketConnection *socket;
  gboolean socket_connecting;
  guint connecting_generation;
  gboolean connected; /* open, and synchronised */
  gboolean lost;      /* connectionLost published, connectionRestored not yet */
  guint retry_delay_ms;
  guint retry_id;
  guint sync_id;
  guint sync_pending;
  guint malformed_frames;

  GHashTable *chats; /* chat id → Chat */
  GListStore *conversations;
  GHashTable *typing_timers; /* chat id → TypingTimer */
};

enum
{
  PROP_0,
  PROP_SIGNED_IN,
  PROP_USERNAME,
  PROP_STATE,
  PROP_CONNECTED,
  PROP_DISPLAY_NAME,
  PROP_REASON,
  PROP_QUEUES,
  N_PROPS
};

typedef struct _Request Request;

/* Called with the reply (NULL when the server answered with no body), or with @error. */
typedef void (*ReplyFunc) (CxAgentService *self, Request *request, JsonNode *reply,
                           const GError *error);

struct _Request
{
  CxServiceRequest base; /* the message, the command, the cancellable */
  CxAgentService *self;  /* not a reference: valid unless the service is gone */
  ReplyFunc func;
  char *chat_id;
  guint generation;
  guint sync_id;
  guint from;
  gboolean signing_in;          /* a 401 is a wrong password, not a lost session */
  gboolean ends_chat;           /* end, not transfer */
  const char *conflict_message; /* what a 409 means for this request */
};

extern GParamSpec *_cx_agent_service_properties[N_PROPS];

void _cx_agent_service_accept_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
JsonNode *_cx_agent_service_agent_node (CxAgentService *self);
void _cx_agent_service_answer (Request *request, JsonNode *reply, const GError *error);
void _cx_agent_service_apply_chat (CxAgentService *self, const CxAgentChat *chat);
GError *_cx_agent_service_bad_reply_error (const char *what);
void _cx_agent_service_begin_restore (CxAgentService *self);
void _cx_agent_service_chat_flush (CxAgentService *self, const char *chat_id);
void _cx_agent_service_chat_free (Chat *chat);
gboolean _cx_agent_service_chat_is_held (Chat *chat);
Chat *_cx_agent_service_chat_new (CxAgentService *self, const char *chat_id,
                                  CxAgentConversationStatus status);
void _cx_agent_service_chat_receive (CxAgentService *self, const char *chat_id, GPtrArray *messages,
                                     guint complete_from, guint complete_next);
void _cx_agent_service_chat_set_status (CxAgentService *self, const char *chat_id,
                                        CxAgentConversationStatus status);
void _cx_agent_service_close_socket (CxAgentService *self);
const char *_cx_agent_service_command_chat_id (CxCommand *command);
JsonObject *_cx_agent_service_command_object (CxCommand *command);
const char *_cx_agent_service_command_string (CxCommand *command, const char *member);
void _cx_agent_service_connect_events (CxAgentService *self);
void _cx_agent_service_connection_failed (CxAgentService *self);
JsonObject *_cx_agent_service_customer_from_event (const CxAgentCustomer *event_customer);
void _cx_agent_service_decline_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_agent_service_dismiss_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_agent_service_end_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_agent_service_get_chats_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_agent_service_get_transcript_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_agent_service_handle_invitation (CxAgentService *self, const CxAgentEvent *event);
gboolean _cx_agent_service_has_session_cookie (CxAgentService *self);
Chat *_cx_agent_service_lookup_chat (CxAgentService *self, const char *chat_id);
JsonArray *_cx_agent_service_messages_to_array (GPtrArray *messages);
void _cx_agent_service_publish (CxAgentService *self, const char *event, JsonNode *data);
void _cx_agent_service_publish_chat_id (CxAgentService *self, const char *event,
                                        const char *chat_id);
void _cx_agent_service_publish_empty (CxAgentService *self, const char *event);
void _cx_agent_service_publish_error (CxAgentService *self, const char *message);
void _cx_agent_service_reject_all (GPtrArray *commands, const GError *error);
void _cx_agent_service_reject_literal (CxCommand *command, CxAgentServiceError code,
                                       const char *message);
void _cx_agent_service_reject_not_signed_in (CxCommand *command);
void _cx_agent_service_request_done_cb (GObject *source, GAsyncResult *result, gpointer user_data);
Request *_cx_agent_service_route_request (CxAgentService *self, CxAgentRoute route, const char *id,
                                          JsonNode *body, CxCommand *command, ReplyFunc func);
Request *_cx_agent_service_request_new (CxAgentService *self, const char *method, const char *path,
                                        JsonNode *body, CxCommand *command, ReplyFunc func);
void _cx_agent_service_request_send (CxAgentService *self, Request *request);
gboolean _cx_agent_service_require_session (CxAgentService *self, CxCommand *command,
                                            CxCommandFunc func);
void _cx_agent_service_resolve_all (GPtrArray *commands, JsonNode *result);
void _cx_agent_service_restore_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_agent_service_send_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_agent_service_send_typing_stop_detached (CxAgentService *self, const char *chat_id);
void _cx_agent_service_session_ended (CxAgentService *self);
void _cx_agent_service_session_rejected (CxAgentService *self, guint generation);
void _cx_agent_service_set_connected (CxAgentService *self, gboolean connected);
void _cx_agent_service_set_state_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_agent_service_sign_in_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_agent_service_sign_out_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_agent_service_transfer_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_agent_service_typing_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_agent_service_typing_timer_free (TypingTimer *timer);
void _cx_agent_service_update_state (CxAgentService *self, CxAgentPresence state,
                                     const char *reason);
void _cx_agent_service_withdraw_invitation (CxAgentService *self, const char *chat_id,
                                            const char *reason);

G_END_DECLS
