/* cx-webchat-service-private.h: what the files of CxWebChatService share: the instance struct,
 * its limits and states, and the internal functions one part calls in another. Only the
 * cx-webchat-service*.c files include it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "protocol/cx-agent-protocol.h"
#include "protocol/cx-gms-chat.h"
#include "protocol/cx-message.h"
#include "protocol/cx-protocol.h"
#include "services/cx-chat-message.h"
#include "services/cx-service-request.h"
#include "services/cx-transcript-cursor.h"
#include "services/cx-webchat-service.h"

G_BEGIN_DECLS

#define DEFAULT_POLL_RATE_MS 3000
#define MIN_POLL_RATE_MS 1000
#define MAX_POLL_RATE_MS 30000
#define DEFAULT_POLL_EXCEPTION_LIMIT 5
#define DEFAULT_RESTORE_TIMEOUT_MS 60000
#define MIN_RESTORE_TIMEOUT_MS 1000

#define START_LOCK_VALID_MS 2000
#define START_LOCK_REFRESH_MS 500
#define PING_MIN_INTERVAL_MS 1000
/* Transcript entries a restore reads first, and loadEarlier reads each time after. */
#define TRANSCRIPT_PAGE 100
/* getTranscript reads the entries older than those held in pages this large, and at most this
 * many of them (a server that keeps saying there is more cannot keep it reading forever). */
#define TRANSCRIPT_WHOLE_PAGE 1000
#define TRANSCRIPT_WHOLE_MAX_PAGES 200

/* The largest file sendFile reads into memory, whatever the server's limits say. */
#define MAX_UPLOAD_SIZE (32 * 1024 * 1024)

#define COOKIE_SESSION CX_WEBCHAT_COOKIE_PREFIX "session"
#define COOKIE_KEYS CX_WEBCHAT_COOKIE_PREFIX "keys"
#define COOKIE_PING CX_WEBCHAT_COOKIE_PREFIX "ping"
#define COOKIE_INDEX CX_WEBCHAT_COOKIE_PREFIX "index"
#define COOKIE_LOCK CX_WEBCHAT_COOKIE_PREFIX "chatStartLock"
#define COOKIE_OPEN CX_WEBCHAT_COOKIE_PREFIX "open"
#define COOKIE_UNREAD CX_WEBCHAT_COOKIE_PREFIX "unreadMessages"

/* The commander name that may use the private "poll" command. */
#define PRIVATE_COMMANDER CX_WEBCHAT_SERVICE_NAME

typedef enum
{
  STATE_IDLE,      /* no chat */
  STATE_STARTING,  /* startChat: waiting for the start lock, or our start request runs */
  STATE_RESTORING, /* reading the transcript of the chat the cookies name */
  STATE_ACTIVE,    /* in a chat */
} State;

typedef enum
{
  PUSH_UNTRIED,     /* not tried for this chat (or since the server came back) */
  PUSH_ACTIVE,      /* the push socket is the transport of this chat */
  PUSH_UNAVAILABLE, /* it could not open: this chat polls */
} PushState;

/* How a request to GMS ended. */
typedef enum
{
  OUTCOME_OK,
  OUTCOME_CANCELLED, /* the service went away, or the chat ended: touch nothing */
  OUTCOME_REFUSED,   /* a definite answer: the server did not do it (4xx, GMS error) */
  OUTCOME_FAILED,    /* no usable answer: the server may or may not have done it */
} Outcome;

typedef struct
{
  char *text;
  CxCommand *command;
  CxChatMessage *row;   /* its row in the transcript model: the local echo */
  guint first_position; /* the cursor's next position when first sent; 0: never sent */
} Outgoing;

struct _CxWebChatService
{
  GObject parent_instance;

  CxBus *bus;
  CxPlugin *plugin;
  CxHttp *http;
  char *site_url;
  char *data_url;      /* no trailing slash */
  char *push_url_base; /* ws(s)://…/cx/1/chat/{service}; NULL when dataURL has no such form */
  guint poll_rate_ms;
  guint poll_exception_limit;
  guint restore_timeout_ms;
  guint ajax_timeout_ms;
  gboolean push_allowed; /* transport "auto" */

  /* Every request of the current chat (or start). Cancelled, and replaced, when the chat ends;
   * cancelled in dispose. A callback that sees G_IO_ERROR_CANCELLED touches nothing. */
  GCancellable *cancellable;
  gboolean disposed;

  State state;
  char *chat_id;
  char *user_id;
  char *secure_key;
  char *alias;
  CxTranscriptCursor *cursor; /* which entries have been published */
  GPtrArray *transcript;      /* CxMessage, every published entry, in index order */
  GListStore *messages;       /* CxChatMessage: the rows of transcript, the echoes, notices */
  char *agent_name;
  guint last_acked_index;
  guint claimed_index; /* an entry whose row is the echo of a message already off the outbox */
  gboolean agent_typing;
  gint64 last_ping_ms;

  guint generation; /* changes when a chat begins or ends */

  /* Starting and restoring */
  GHashTable *start_form; /* the start request's fields, from the first startChat */
  GPtrArray *start_waiters;
  GPtrArray *restore_waiters;
  GPtrArray *earlier_waiters;    /* loadEarlier, answered by one request */
  GPtrArray *transcript_waiters; /* getTranscript, waiting for the older pages */
  gboolean earlier_in_flight;    /* a request for older entries runs */
  guint earlier_pages;           /* pages read for transcript_waiters so far */
  gboolean start_in_flight;
  guint lock_refresh_id;
  guint lock_wait_id;
  guint cookie_check_id;
  guint restore_timeout_idle_id;
  gulong jar_changed_id;

  /* Transport */
  gboolean polling_enabled; /* startPoll / stopPoll */
  PushState push_state;
  SoupWebsocketConnection *socket;
  gboolean socket_connecting;
  gboolean socket_had_frame;
  guint tick_id; /* the next poll, or the next ping refresh while on the push socket */
  gboolean refresh_in_flight;
  GPtrArray *poll_waiters;
  guint failures; /* consecutive failed exchanges */
  gboolean offline;
  gboolean recovering;  /* offline, but a probe succeeded: the queue is being sent */
  guint retry_delay_ms; /* the last wait before a probe; 0: none yet */
  guint retry_id;

  /* Sending */
  GQueue outbox; /* Outgoing */
  gboolean send_in_flight;
  gboolean outbox_blocked;         /* an uncertain send: wait for a fresh transcript */
  gboolean refresh_predates_block; /* the refresh under way was asked before that failure */

  /* Typing */
  gboolean typing;
  guint typing_timeout_id;

  /* Ending */
  GPtrArray *end_waiters;
  gboolean end_in_flight;
  gboolean push_ended;           /* the push socket said the chat is over: read the rest */
  gboolean refresh_predates_end; /* the refresh under way was asked before that */
};

/* A file to upload with a request: its name, type and bytes. */
typedef struct
{
  const char *name;
  const char *content_type;
  GBytes *bytes;
} Upload;

/* cx-webchat-service.c */
gint64 _cx_webchat_service_now_ms (void);
void _cx_webchat_service_outgoing_free (Outgoing *outgoing);
JsonNode *_cx_webchat_service_chat_id_node (const char *chat_id);
JsonArray *_cx_webchat_service_messages_to_array (GPtrArray *messages, guint from);
GPtrArray *_cx_webchat_service_rows_for (CxWebChatService *self, GPtrArray *entries,
                                         gboolean newest);
void _cx_webchat_service_clear_rows (CxWebChatService *self);
void _cx_webchat_service_outgoing_fail (Outgoing *outgoing, GError *error);
void _cx_webchat_service_publish (CxWebChatService *self, const char *event, JsonNode *data);
void _cx_webchat_service_publish_error (CxWebChatService *self, const char *message);
void _cx_webchat_service_resolve_all (GPtrArray *commands, JsonNode *result);
void _cx_webchat_service_reject_all (GPtrArray *commands, const GError *error);
gboolean _cx_webchat_service_still_in_chat (CxWebChatService *self, guint generation);
void _cx_webchat_service_receive_messages (CxWebChatService *self, GPtrArray *messages,
                                           gboolean strict);
void _cx_webchat_service_handle_reply (CxWebChatService *self, CxGmsReply *reply);

/* cx-webchat-service-session.c */
void _cx_webchat_service_set_cookie_int (CxWebChatService *self, const char *name, gint64 value);
void _cx_webchat_service_touch_ping (CxWebChatService *self);
void _cx_webchat_service_end_session (CxWebChatService *self, gboolean delete_cookies,
                                      const char *error_message);
void _cx_webchat_service_end_chat_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_webchat_service_save_panel_state_cb (CxPlugin *plugin, CxCommand *command,
                                              gpointer user_data);
void _cx_webchat_service_restore_from_cookies (CxWebChatService *self);
void _cx_webchat_service_jar_changed_cb (SoupCookieJar *jar, SoupCookie *old_cookie,
                                         SoupCookie *new_cookie, gpointer user_data);
void _cx_webchat_service_start_chat_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_webchat_service_restore_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_webchat_service_load_earlier_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_webchat_service_get_transcript_cb (CxPlugin *plugin, CxCommand *command,
                                            gpointer user_data);

/* cx-webchat-service-transport.c */
void _cx_webchat_service_maybe_back_online (CxWebChatService *self);
void _cx_webchat_service_exchange_succeeded (CxWebChatService *self);
void _cx_webchat_service_exchange_failed (CxWebChatService *self, const GError *error);
void _cx_webchat_service_poll_now (CxWebChatService *self);
void _cx_webchat_service_start_transport (CxWebChatService *self);
void _cx_webchat_service_close_socket (CxWebChatService *self);
void _cx_webchat_service_poll_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_webchat_service_start_poll_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_webchat_service_stop_poll_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);

/* cx-webchat-service-outbox.c */
void _cx_webchat_service_pump_outbox (CxWebChatService *self);
void _cx_webchat_service_send_message_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_webchat_service_send_typing_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);

/* cx-webchat-service-files.c */
void _cx_webchat_service_get_file_limits_cb (CxPlugin *plugin, CxCommand *command,
                                             gpointer user_data);
void _cx_webchat_service_send_file_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);

/* cx-webchat-service-gms.c */
GHashTable *_cx_webchat_service_new_form (void);
void _cx_webchat_service_form_add (GHashTable *form, const char *name, const char *value);
void _cx_webchat_service_form_add_uint (GHashTable *form, const char *name, guint value);
void _cx_webchat_service_gms_post_full_async (CxWebChatService *self, const char *op,
                                              GHashTable *form, CxCommand *command,
                                              const Upload *upload, GAsyncReadyCallback callback);
void _cx_webchat_service_gms_post_async (CxWebChatService *self, const char *op, GHashTable *form,
                                         CxCommand *command, GAsyncReadyCallback callback);
CxGmsReply *_cx_webchat_service_gms_post_finish (GAsyncResult *result, Outcome *outcome,
                                                 CxCommand **command, GError **error);

G_END_DECLS
