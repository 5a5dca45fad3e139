/* cx-server-private.h: what the parts of cxdesk-server share (cx-server.c, cx-server-gms.c,
 * cx-server-agent{,-session,-socket}.c, cx-server-routing.c, cx-server-callback.c, …). */
#pragma once

#include "server/cx-server.h"

G_BEGIN_DECLS

/* How long an agent's session lives (its cookie is CX_AGENT_API_COOKIE, protocol/). */
#define CX_SESSION_LIFETIME_MS (12 * 3600 * G_GINT64_CONSTANT (1000))
/* The participant every system notice comes from. */
#define CX_SYSTEM_NICKNAME "System"
#define CX_SYSTEM_PARTICIPANT "system"

/* The connection layer (cx-server-net.c, issue 9). */
typedef struct _CxNet CxNet;

typedef struct
{
  double tokens;
  gint64 last; /* monotonic µs */
} CxRateBucket;

struct _CxServer
{
  GObject parent_instance;

  CxServerConfig *config;
  CxStore *store;
  SoupServer *soup;
  guint port;

  /* Sockets: these are local to this process by nature (DESIGN.md). */
  GHashTable *agent_sockets;            /* username -> GPtrArray of SoupWebsocketConnection */
  GHashTable *customer_sockets;         /* chat id -> GPtrArray of CustomerSocket */
  GHashTable *pending_customer_sockets; /* SoupWebsocketConnection -> CustomerSocket, before
                                         * its first frame */

  /* Timers and caches derived from the store, rebuilt from it at start. */
  GHashTable *invitation_timers;  /* chat id -> GSource id */
  GHashTable *notified_positions; /* chat id -> GUINT position last told to the customer */
  GHashTable *queues_to_renumber; /* queue names whose positions may have changed */
  guint renumber_id;
  guint sweep_id;
  GHashTable *rate_buckets;    /* chat id -> CxRateBucket */
  GHashTable *typing_previews; /* chat id -> the customer's last typing preview */

  /* Access rules (issue 9: cx-server-agent-session.c, cx-server-agent-socket.c). In memory by
   * design: see API.md "Signing in" and "Agents who vanish". */
  GHashTable *sign_in_users;     /* username -> sign-in failures (configured agents only) */
  GHashTable *sign_in_addresses; /* client address -> sign-in failures */
  GHashTable *grace_timers;      /* username -> GSource id: the agent's sockets are all gone */
  gboolean grace_stopped;        /* shutting down: arm no more grace timers */
  guint liveness_id;             /* closes agent sockets whose peer stopped answering pings */
  /* Group commit (cx-server-commit.c) */
  struct _CxServerCommit *commit;
  /* The connection layer: accept loop, connection cap and timeouts (cx-server-net.c). */
  CxNet *net;
  /* Events between the nodes of one PostgreSQL database (cx-server-cluster.c); NULL on
   * SQLite. */
  struct _CxServerCluster *cluster;
};

gint64 _cx_server_now (void);
char *_cx_server_random_token (gsize bytes);
char *_cx_server_hash_token (const char *token);
gboolean _cx_server_equal_secret (const char *a, const char *b);

/* Replies */
void _cx_server_reply_json (SoupServerMessage *msg, guint status, JsonNode *node);
void _cx_server_reply_error (SoupServerMessage *msg, guint status, const char *format, ...)
    G_GNUC_PRINTF (3, 4);
void _cx_server_reply_internal (SoupServerMessage *msg, const GError *error);
JsonNode *_cx_server_read_json_body (SoupServerMessage *msg, GError **error);

/* Chats: every message goes through here, so that it is committed before it is pushed. */
gboolean _cx_server_append (CxServer *self, const CxChat *chat, GPtrArray *messages,
                            const CxChat *update, GError **error);
gboolean _cx_server_append_one (CxServer *self, const CxChat *chat, CxMessage *message,
                                const CxChat *update, GError **error);
/* Group commit (cx-server-commit.c): the writes of a main-loop turn in one transaction and one
 * sync; the replies of the requests that wrote wait for it. */
typedef struct _CxServerCommit CxServerCommit;
void _cx_server_commit_init (CxServer *self);
void _cx_server_commit_flush (CxServer *self);
void _cx_server_commit_free (CxServer *self);
gboolean _cx_server_commit_defer_close (CxServer *self, const char *chat_id);
CxMessage *_cx_server_system_notice (const char *text, JsonNode *user_data);
CxMessage *_cx_server_agent_message (CxServer *self, const char *username, CxMessageType type,
                                     const char *text);

/* Pushes an append to this node's sockets only (cx-server-commit.c). */
void _cx_server_push_append (CxServer *self, const CxChat *chat, GPtrArray *messages,
                             const CxChat *update);

/* Events between nodes (cx-server-cluster.c): no-ops on SQLite. */
typedef struct _CxServerCluster CxServerCluster;
void _cx_server_cluster_init (CxServer *self);
void _cx_server_cluster_free (CxServer *self);
gboolean _cx_server_cluster_active (CxServer *self);
void _cx_server_cluster_note (CxServer *self, const char *kind, ...) G_GNUC_NULL_TERMINATED;

/* Agents: the REST handlers (cx-server-agent.c) */
void _cx_server_agent_init (CxServer *self);
JsonNode *_cx_server_invitation_frame (CxServer *self, const CxInvitation *invitation);

/* Agents: sessions and access rules (cx-server-agent-session.c, issue 9) */
void _cx_server_agent_session_init (CxServer *self);
void _cx_server_agent_session_free (CxServer *self);
void _cx_server_agent_sign_in (CxServer *self, SoupServerMessage *msg);
void _cx_server_agent_sign_out (CxServer *self, SoupServerMessage *msg, CxAgent *agent,
                                const char *token_hash);
JsonNode *_cx_server_agent_to_json (const CxAgent *agent);
/* The origin rule, for the agent API and the callback API's agent-only calls
 * (cx-server-callback.c). */
gboolean _cx_server_agent_request_allowed (CxServer *self, SoupServerMessage *msg);
gboolean _cx_server_agent_content_type_allowed (SoupServerMessage *msg);
CxAgent *_cx_server_session_agent (CxServer *self, SoupServerMessage *msg, char **token_hash_out);

/* Agents: event sockets, liveness and grace time (cx-server-agent-socket.c, issue 9) */
void _cx_server_agent_socket_init (CxServer *self);
void _cx_server_agent_socket_stop (CxServer *self);
void _cx_server_send_to_agent (CxServer *self, const char *username, JsonNode *frame);
void _cx_server_send_to_all_agents_here (CxServer *self, JsonNode *frame);
void _cx_server_push_agent_state (CxServer *self, const CxAgent *agent);
void _cx_server_push_agent_state_here (CxServer *self, const CxAgent *agent);
/* callbacks changed, to every agent on every node */
void _cx_server_push_callbacks_changed (CxServer *self);
/* invitation withdrawn, to the agent's sockets on every node */
void _cx_server_send_withdrawn (CxServer *self, const char *chat_id, const char *agent,
                                const char *reason);
gboolean _cx_server_sign_out_sockets (CxServer *self, const char *username, const char *token_hash);
void _cx_server_agent_sockets_gone (CxServer *self, const char *username);
void _cx_server_agent_socket_back (CxServer *self, const char *username);
void _cx_server_agent_events_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
                                 SoupWebsocketConnection *conn, gpointer user_data);
void _cx_server_access_free (CxServer *self);

/* One-shot timers by key (cx-server-routing.c): invitations' expiries, agents' grace times. The
 * table maps each key to its GSource id; a timer's function gets its CxServerTimer, removes its
 * key from the table, and returns G_SOURCE_REMOVE. */
typedef struct
{
  CxServer *server;
  GHashTable *table;
  char *key;   /* chat id or user name */
  char *agent; /* (nullable) the agent an invitation went to */
} CxServerTimer;

void _cx_server_timer_start (CxServer *self, GHashTable *table, const char *key, const char *agent,
                             guint delay_ms, GSourceFunc func);
gboolean _cx_server_timer_cancel (GHashTable *table, const char *key);
void _cx_server_timer_cancel_all (GHashTable *table);

/* Customers (cx-server-gms.c) */
void _cx_server_gms_init (CxServer *self);
void _cx_server_push_to_customers (CxServer *self, const CxChat *chat, GPtrArray *messages);
void _cx_server_close_customer_sockets (CxServer *self, const char *chat_id);
void _cx_server_close_customer_sockets_here (CxServer *self, const char *chat_id);
void _cx_server_customer_socket_free (gpointer data);
/* issue 9 item 5: writes the customer rate limits to the store (cx_server_shutdown). */
void _cx_server_gms_shutdown (CxServer *self);

/* Co-browse relay (cx-server-cobrowse.c, issue 11) */
void _cx_server_cobrowse_init (CxServer *self);
void _cx_server_cobrowse_shutdown (CxServer *self);

/* Callbacks (cx-server-callback.c) */
void _cx_server_callback_init (CxServer *self);
JsonNode *_cx_server_callback_to_json (const CxCallback *callback);
gboolean _cx_server_callback_slot (CxServer *self, gint64 time, gint64 *slot_start,
                                   gint64 *slot_end, GError **error);

/* Routing (cx-server-routing.c) */
void _cx_server_routing_init (CxServer *self);
void _cx_server_routing_shutdown (CxServer *self);
void _cx_server_route (CxServer *self, const char *chat_id);
void _cx_server_route_queue (CxServer *self, const char *queue);
void _cx_server_route_all (CxServer *self);
void _cx_server_queue_changed (CxServer *self, const char *queue);
void _cx_server_arm_invitation (CxServer *self, const CxInvitation *invitation);
void _cx_server_send_invitation (CxServer *self, const CxInvitation *invitation);
void _cx_server_cancel_invitation_timer (CxServer *self, const char *chat_id);
void _cx_server_withdraw_invitation (CxServer *self, const char *chat_id, const char *reason);
gint64 _cx_server_ewt (CxServer *self, const char *queue);

/* The connection layer (cx-server-net.c, issue 9 items 2, 4, 7, 8, 16) */
gboolean _cx_server_net_listen (CxServer *self, GSocket *socket, GError **error);
void _cx_server_net_stop (CxServer *self);
void _cx_server_net_free (CxServer *self);
guint _cx_server_net_get_max_connections (CxServer *self);
gboolean _cx_server_net_check_head (CxServer *self, SoupServerMessage *msg);
void _cx_server_net_refuse (CxServer *self, SoupServerMessage *msg, guint status,
                            const char *content_type, const char *body, gboolean drain);

/* The gate between each connection's socket and libsoup (cx-server-gate.c, issue 9 items 8
 * and 16). Its callbacks run from within libsoup's reads. */
typedef struct
{
  void (*head_started) (gpointer data);               /* the first byte of a request head */
  void (*head_refused) (gpointer data, guint status); /* 400, 414 or 431: reply; it drains */
} CxServerGateFuncs;

GIOStream *_cx_server_gate_new (GSocket *socket, gsize max_head_bytes, gsize max_line_bytes,
                                gsize drain_bytes, const CxServerGateFuncs *funcs, gpointer data);
void _cx_server_gate_detach (GIOStream *stream);
void _cx_server_gate_next_head (GIOStream *stream);
void _cx_server_gate_open (GIOStream *stream);
/* Shutdown: every customer socket, for the 1001 close frame (cx-server-gms.c) */
void _cx_server_collect_customer_sockets (CxServer *self, GPtrArray *out);

G_END_DECLS
