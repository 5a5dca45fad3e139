/* cx-test-server.h: the integration-test harness. Runs the real cxdesk-server as a child process
 * on a free loopback port, with its own database and configuration, and talks to it like the
 * real clients do: GMS form posts for customers, JSON with a session cookie for agents, and
 * WebSockets for the agent event stream and the customer push socket.
 *
 * Every wait iterates the default main context until a condition holds; a generous hang guard
 * fails a wait that never ends, naming its condition (it measures nothing).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Configuration */

typedef struct
{
  guint invitation_timeout_seconds; /* 0: long enough that nothing times out in a test */
  gboolean office_closed_now;       /* callback office hours that exclude the current day */
  guint slot_capacity;              /* 0: 2 */
  guint max_file_size;              /* 0: 64 KiB */
  guint cobrowse_code_seconds;      /* 0: the server's default */
  guint chat_starts_per_minute;     /* 0: the server's default */
} CxTestConfigOptions;

#define CX_TEST_ADA_PASSWORD "ada-correct-horse"
#define CX_TEST_BOB_PASSWORD "bob-battery-staple"
#define CX_TEST_MAX_FILE_SIZE (64 * 1024)

char *cx_test_password_hash (const char *password);
char *cx_test_config_new (const CxTestConfigOptions *options);

/* The server process */

typedef struct _CxTestServer CxTestServer;

CxTestServer *cx_test_server_new (const char *config_json);
/* test-server-abuse: a server started with this open-file limit, and its process id */
CxTestServer *cx_test_server_new_with_fd_limit (const char *config_json, guint soft, guint hard);
GPid cx_test_server_get_pid (CxTestServer *self);
/* PostgreSQL only: a second node on the same schema (free it first). */
CxTestServer *cx_test_server_new_peer (CxTestServer *first);
/* HAProxy in front of @nodes (NULL if haproxy is not installed): used as a server, it is the
 * cluster's one address. Free it before the nodes. */
CxTestServer *cx_test_server_new_haproxy (CxTestServer **nodes, guint n_nodes);
/* Whether the servers run on PostgreSQL (CXDESK_TEST_PG_URL) rather than an SQLite file. */
gboolean cx_test_on_postgresql (void);
const char *cx_test_server_get_url (CxTestServer *self);
char *cx_test_server_url (CxTestServer *self, const char *path_format, ...) G_GNUC_PRINTF (2, 3);
gboolean cx_test_server_is_running (CxTestServer *self);
void cx_test_server_kill9 (CxTestServer *self);
void cx_test_server_restart (CxTestServer *self);
void cx_test_server_stop (CxTestServer *self);
void cx_test_server_free (CxTestServer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxTestServer, cx_test_server_free)

/* A SoupServer in the test: on a free loopback port, answering every path with @callback;
 * *@base_url is "http://127.0.0.1:PORT/". */
SoupServer *cx_test_soup_server_new (SoupServerCallback callback, gpointer user_data,
                                     char **base_url);

/* A forwarder on a fixed loopback port in front of @server: clients keep its address across
 * cx_test_server_restart(); while blocked it hangs up on every new connection. */
typedef struct _CxTestForwarder CxTestForwarder;

CxTestForwarder *cx_test_forwarder_new (CxTestServer *server);
const char *cx_test_forwarder_get_url (CxTestForwarder *self);
void cx_test_forwarder_set_blocked (CxTestForwarder *self, gboolean blocked);
void cx_test_forwarder_free (CxTestForwarder *self);

/* Test cases: each runs in its own process (g_test_trap_subprocess) with its own server, so a
 * failure reports that case and the program goes on with the next. */

typedef struct
{
  CxTestServer *server;
  SoupSession *session; /* a plain session, no cookie jar */
} CxTestFixture;

typedef void (*CxTestFunc) (CxTestFixture *f, gconstpointer data);

void cx_test_add (const char *path, const CxTestConfigOptions *options, gconstpointer data,
                  CxTestFunc func);

/* Waiting */

typedef gboolean (*CxTestCondition) (gpointer data);

/* Iterates the default main context until @done holds. A hang guard (120 s, or
 * CX_TEST_HANG_GUARD_S) fails the test naming the condition; it measures nothing. */
void cx_test_wait_named (const char *name, CxTestCondition done, gpointer data);
#define cx_test_wait(done, ...) cx_test_wait_named (#done, (done), __VA_ARGS__)
void cx_test_pause (guint ms);
/* Waits until *@counter is at least @count. */
void cx_test_wait_at_least (guint *counter, guint count);

/* Conditions for cx_test_wait(): *data (a pointer variable) is set, or NULL; *data (a gboolean)
 * is TRUE. */
gboolean cx_test_pointer_is_set (gpointer data);
gboolean cx_test_pointer_is_null (gpointer data);
gboolean cx_test_flag_is_set (gpointer data);
/* The caller holds the last reference to the GObject @data. */
gboolean cx_test_has_one_ref (gpointer data);
/* Waits until the caller holds the last reference to @object, then finalizes it. */
void cx_test_finalize_when_unwound (gpointer object);
/* An async call's callback that keeps its result in the GAsyncResult * at @user_data, which a
 * cx_test_wait (cx_test_pointer_is_set, &result) then waits for. */
void cx_test_store_result_cb (GObject *source, GAsyncResult *result, gpointer user_data);

/* HTTP */

typedef struct
{
  guint status; /* 0: transport error, see error */
  GError *error;
  GBytes *body;
  JsonNode *json; /* NULL unless the body parses as JSON */
  SoupMessageHeaders *headers;
} CxTestReply;

void cx_test_reply_free (CxTestReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxTestReply, cx_test_reply_free)

SoupSession *cx_test_session_new (gboolean with_cookie_jar);
/* Counts in *@count the requests @session queues from now on; returns the handler id, for
 * g_signal_handler_disconnect(). */
gulong cx_test_count_requests (SoupSession *session, guint *count);

CxTestReply *cx_test_send (SoupSession *session, SoupMessage *msg);
CxTestReply *cx_test_request (SoupSession *session, const char *method, const char *url,
                              const char *content_type, GBytes *body);
CxTestReply *cx_test_get (SoupSession *session, const char *url);
CxTestReply *cx_test_post_form (SoupSession *session, const char *url, ...) G_GNUC_NULL_TERMINATED;
CxTestReply *cx_test_post_formv (SoupSession *session, const char *url, const char *const *fields);
CxTestReply *cx_test_json (SoupSession *session, const char *method, const char *url,
                           const char *json_body);
char *cx_test_form_encode (const char *const *fields);

JsonObject *cx_test_reply_object (CxTestReply *reply);
JsonArray *cx_test_reply_array (CxTestReply *reply);
const char *cx_test_reply_text (CxTestReply *reply);

void cx_test_assert_gms_error (CxTestReply *reply, guint status);
void cx_test_assert_cx_error (CxTestReply *reply, guint status);
void cx_test_assert_healthy (CxTestServer *server);

/* JSON reading, strict about presence, loose about string/number where the spec is silent */

const char *cx_test_object_string (JsonObject *object, const char *member);
gint64 cx_test_object_int (JsonObject *object, const char *member);
gint64 cx_test_object_loose_int (JsonObject *object, const char *member);
char *cx_test_object_loose_string (JsonObject *object, const char *member);
const char *cx_test_message_text (JsonObject *message);
const char *cx_test_message_from_type (JsonObject *message);
char *cx_test_message_summary (JsonObject *message);

/* WebSockets */

typedef struct
{
  SoupMessage *msg;
  SoupWebsocketConnection *conn;
  GError *error;
  gboolean connect_done;
  GQueue frames;         /* JsonObject: every frame received and not yet taken */
  GPtrArray *all_frames; /* JsonObject: every frame received, for transcripts */
  gboolean closed;
  gushort close_code;
} CxTestSocket;

CxTestSocket *cx_test_socket_connect (SoupSession *session, const char *url);
/* The same with one more request header (@header NULL: none), e.g. Authorization. */
CxTestSocket *cx_test_socket_connect_with (SoupSession *session, const char *url,
                                           const char *header, const char *value);
void cx_test_socket_send (CxTestSocket *self, const char *text);
JsonObject *cx_test_socket_take (CxTestSocket *self, const char *type, const char *chat_id);
JsonObject *cx_test_socket_peek (CxTestSocket *self, const char *type, const char *chat_id);
JsonObject *cx_test_socket_wait (CxTestSocket *self, const char *type, const char *chat_id);
void cx_test_socket_wait_closed (CxTestSocket *self);
void cx_test_socket_free (CxTestSocket *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxTestSocket, cx_test_socket_free)

/* Customers (GMS Chat API v2) */

typedef struct
{
  CxTestServer *server;
  SoupSession *session;
  char *service;
  char *chat_id;
  char *user_id;
  char *secure_key;
  char *alias;
  JsonNode *user_id_node; /* as the server sent them, for the push socket's first frame */
  JsonNode *alias_node;
  gint64 next_position;
  GPtrArray *transcript; /* JsonObject, index order, from refresh */
  gboolean ended;
} CxTestCustomer;

CxTestCustomer *cx_test_customer_start (CxTestServer *server, const char *service,
                                        const char *nickname);
CxTestCustomer *cx_test_customer_copy_keys (CxTestCustomer *other);
CxTestReply *cx_test_customer_call (CxTestCustomer *self, const char *op,
                                    ...) G_GNUC_NULL_TERMINATED;
CxTestReply *cx_test_customer_callv (CxTestCustomer *self, const char *op,
                                     const char *const *fields);
void cx_test_customer_send (CxTestCustomer *self, const char *text);
void cx_test_customer_poll (CxTestCustomer *self);
/* The first of @messages (JsonObject, transcript entries) that is @type, from @from_type and
 * says @text (each NULL: any), or NULL; how many of them say @text. */
JsonObject *cx_test_messages_find (GPtrArray *messages, const char *type, const char *from_type,
                                   const char *text);
guint cx_test_messages_count_text (GPtrArray *messages, const char *text);
JsonObject *cx_test_customer_find (CxTestCustomer *self, gint64 from_index, const char *type,
                                   const char *from_type, const char *text);
JsonObject *cx_test_customer_poll_until (CxTestCustomer *self, gint64 from_index, const char *type,
                                         const char *from_type, const char *text);
void cx_test_customer_poll_until_ended (CxTestCustomer *self);
gint64 cx_test_customer_queue_position (JsonObject *notice);
CxTestSocket *cx_test_customer_push_socket (CxTestCustomer *self, gint64 position);
GPtrArray *cx_test_push_transcript (CxTestSocket *socket);
GPtrArray *cx_test_transcript_summaries (GPtrArray *messages);
void cx_test_assert_contiguous (GPtrArray *messages, gint64 first_index);
void cx_test_customer_free (CxTestCustomer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxTestCustomer, cx_test_customer_free)

/* Agents (/cx/1) */

typedef struct
{
  CxTestServer *server;
  SoupSession *session; /* with its own cookie jar, as the agent app has */
  char *username;
  CxTestSocket *events;
} CxTestAgent;

CxTestAgent *cx_test_agent_new (CxTestServer *server, const char *username);
CxTestAgent *cx_test_agent_sign_in (CxTestServer *server, const char *username,
                                    const char *password);
CxTestReply *cx_test_agent_call (CxTestAgent *self, const char *method, const char *path,
                                 const char *json_body);
void cx_test_agent_connect_events (CxTestAgent *self);
/* Signed in, its event socket connected, and ready. */
CxTestAgent *cx_test_agent_ready (CxTestServer *server, const char *username, const char *password);
/* Waits for the invitation to @chat_id and accepts it. */
void cx_test_agent_take (CxTestAgent *self, const char *chat_id);
void cx_test_agent_typing (CxTestAgent *self, const char *chat_id, gboolean typing);
/* The callback @id in the agent's list (a new reference), or NULL. */
JsonObject *cx_test_agent_find_callback (CxTestAgent *self, const char *id);
void cx_test_agent_set_state (CxTestAgent *self, const char *state);
JsonObject *cx_test_agent_wait_invitation (CxTestAgent *self, const char *chat_id);
JsonObject *cx_test_agent_accept (CxTestAgent *self, const char *chat_id);
gint64 cx_test_agent_send (CxTestAgent *self, const char *chat_id, const char *text);
char *cx_test_agent_cookie (CxTestAgent *self);
void cx_test_agent_barrier (CxTestAgent *self);
void cx_test_agent_free (CxTestAgent *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxTestAgent, cx_test_agent_free)

/* A message in an agent `messages` frame */
JsonObject *cx_test_frames_find_message (CxTestSocket *socket, const char *chat_id,
                                         const char *type, const char *text);
JsonObject *cx_test_agent_wait_message (CxTestAgent *self, const char *chat_id, const char *type,
                                        const char *text);

/* Time */
char *cx_test_iso8601 (GDateTime *time);
GDateTime *cx_test_tomorrow_at (int hour, int minute);

G_END_DECLS
