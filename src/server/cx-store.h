/* cx-store.h: everything cxdesk-server knows, behind one interface. SQLite (cx-store-sqlite.c) is
 * the embedded default; CxStorePg (cx-store-pg.c) implements the same interface on PostgreSQL so
 * that several server processes can share one database. Rules for every implementation:
 *  - a call that returns TRUE has committed: what it wrote survives a kill -9 of the process
 *    and a power loss (it is synced to disk before the call returns);
 *  - except inside a batch (group commit, cx_store_begin_batch): there a call that returns TRUE
 *    is committed, and synced, by cx_store_commit_batch together with the rest of the batch, or
 *    not at all; a call that fails inside a batch is undone alone (a savepoint) and the batch
 *    goes on; reads inside the batch see its writes;
 *  - decisions that more than one process could race on (who gets a chat, whether a callback
 *    slot has room) are taken inside one transaction of the store, never in the caller;
 *  - nothing here depends on the caller's memory between calls.
 * Times are milliseconds since the epoch (GMS utcTime). Lookups return NULL without an error
 * for "not found", and NULL with an error for a failure of the store. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "protocol/cx-message.h"

G_BEGIN_DECLS

#define CX_STORE_ERROR (cx_store_error_quark ())

typedef enum
{
  CX_STORE_ERROR_FAILED,    /* the database failed (I/O, corruption): message says how */
  CX_STORE_ERROR_NOT_FOUND, /* the row to change does not exist */
  CX_STORE_ERROR_CONFLICT,  /* the row is not in the state the change needs */
  CX_STORE_ERROR_FULL,      /* a callback slot has no room left */
  CX_STORE_ERROR_VERSION,   /* the database was written by a newer cxdesk-server */
} CxStoreError;

GQuark cx_store_error_quark (void);

typedef enum
{
  CX_CHAT_WAITING, /* in a queue, maybe with a pending invitation */
  CX_CHAT_ACTIVE,  /* an agent has accepted it */
  CX_CHAT_ENDED,
} CxChatState;

typedef struct
{
  char *id;
  char *service;    /* the GMS service the customer started it on */
  char *queue;      /* where it is routed now (the service, or a transfer target) */
  char *secure_key; /* the customer's key; compare it in constant time */
  char *alias;
  char *user_id; /* the customer's participant id */
  char *nickname;
  char *first_name;
  char *last_name;
  char *email;
  char *subject;
  JsonNode *user_data; /* a JSON object, never NULL */
  CxChatState state;
  char *agent; /* username of the agent who has it, or NULL */
  gint64 created_at;
  gint64 queued_at;   /* when it entered its current queue */
  gint64 accepted_at; /* 0 until an agent accepts */
  gint64 ended_at;    /* 0 until it ends */
  guint next_index;   /* the index the next message will get (1 for an empty transcript) */
} CxChat;

void cx_chat_free (CxChat *chat);
CxChat *cx_chat_copy (const CxChat *chat);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxChat, cx_chat_free)

typedef enum
{
  CX_AGENT_OFFLINE,
  CX_AGENT_NOT_READY,
  CX_AGENT_READY,
} CxAgentState;

typedef struct
{
  char *username;
  char *display_name;
  char *password_hash; /* crypt(3) */
  guint capacity;      /* concurrent chats */
  char **queues;       /* queues the agent serves; NULL or empty = all */
  CxAgentState state;
  char *reason; /* why not ready, or NULL */
  gint64 state_since;
  gint64 idle_since; /* last time the agent's load went to zero or it became ready */
  guint load;        /* active chats + pending invitations, computed by the store */
} CxAgent;

void cx_agent_free (CxAgent *agent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxAgent, cx_agent_free)

typedef enum
{
  CX_INVITATION_PENDING,
  CX_INVITATION_ACCEPTED,
  CX_INVITATION_DECLINED,
  CX_INVITATION_EXPIRED,
  CX_INVITATION_WITHDRAWN, /* the chat ended or moved before an answer */
} CxInvitationState;

typedef struct
{
  char *chat_id;
  char *agent;
  CxInvitationState state;
  gint64 offered_at;
  gint64 expires_at;
} CxInvitation;

void cx_invitation_free (CxInvitation *invitation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxInvitation, cx_invitation_free)

typedef struct
{
  char *id;
  char *chat_id;
  char *name;
  char *content_type;
  GBytes *data;
  gint64 uploaded_at;
} CxFile;

void cx_file_free (CxFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxFile, cx_file_free)

typedef struct
{
  char *id;
  char *service;
  char *customer_number;
  char *state; /* GMS _callback_state: SCHEDULED, QUEUED, PROCESSING, COMPLETED, CANCELLED */
  gint64 desired_time;
  gint64 expiration_time;
  gint64 created_at;
  JsonNode *properties; /* JSON object of the other keys (subject, _customer_name, ...) */
  char *secret_hash;    /* SHA-256 of the customer's secret, or NULL (issue 9); written by
                         * create_callback only */
} CxCallback;

void cx_callback_free (CxCallback *callback);
CxCallback *cx_callback_copy (const CxCallback *callback);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxCallback, cx_callback_free)

#define CX_TYPE_STORE (cx_store_get_type ())

G_DECLARE_INTERFACE (CxStore, cx_store, CX, STORE, GObject)

/* Co-browse (issue 11): a session as stored; its audit record. Times in ms since the epoch,
 * 0 when not yet. Never page content. */
typedef struct
{
  gint64 at;
  char *mode;       /* "pointer" or "write" */
  char *changed_by; /* "customer" or the agent's user name */
} CxCobrowseModeChange;

typedef struct
{
  char *id;
  char *code;        /* (nullable) until an agent joins: single use */
  char *secret_hash; /* the customer's secret, hashed */
  char *address;     /* (nullable) the customer's address */
  gint64 created_at;
  gint64 expires_at; /* the code's */
  char *agent;       /* (nullable) who joined */
  gint64 joined_at;
  gint64 ended_at;
  char *ended_by;   /* (nullable) "customer", "agent", "expired", "server" */
  char *end_reason; /* (nullable) */
  GPtrArray *modes; /* CxCobrowseModeChange, oldest first (get_cobrowse) */
} CxCobrowseRecord;

struct _CxStoreInterface
{
  GTypeInterface parent_iface;

  /* Chats */
  gboolean (*create_chat) (CxStore *self, const CxChat *chat, GError **error);
  CxChat *(*get_chat) (CxStore *self, const char *chat_id, GError **error);
  /* Appends @messages (CxMessage) in order, giving each its index (written into the message),
   * and, if @update is not NULL, writes its state, queue, agent, user_data, queued_at,
   * accepted_at and ended_at: all in one transaction. */
  gboolean (*append) (CxStore *self, const char *chat_id, GPtrArray *messages, const CxChat *update,
                      GError **error);
  /* Messages with index >= @from, at most @limit (0 = all), in index order. */
  GPtrArray *(*get_messages) (CxStore *self, const char *chat_id, guint from, guint limit,
                              GError **error);
  /* Chats not ended; filtered by @queue and/or @agent when not NULL; oldest queued first. */
  GPtrArray *(*list_open_chats) (CxStore *self, const char *queue, const char *agent,
                                 GError **error);
  /* Waiting chats of @queue queued before @chat_id was (its position is this + 1). */
  gboolean (*queue_position) (CxStore *self, const char *chat_id, guint *position, GError **error);
  /* For the estimated wait time: waiting chats in @queue, and the mean handle time (accepted
   * to ended, ms) of the chats of @queue that ended after @since (-1 if none). */
  gboolean (*queue_stats) (CxStore *self, const char *queue, gint64 since, guint *waiting,
                           gint64 *mean_handle_ms, GError **error);

  /* Files of a chat */
  gboolean (*add_file) (CxStore *self, const CxFile *file, GError **error);
  CxFile *(*get_file) (CxStore *self, const char *chat_id, const char *file_id, GError **error);
  gboolean (*file_usage) (CxStore *self, const char *chat_id, guint *count, guint64 *total_size,
                          GError **error);

  /* Agents and their sessions */
  /* Creates or updates an agent from the configuration (name, password hash, capacity,
   * queues), keeping its state. */
  gboolean (*put_agent) (CxStore *self, const CxAgent *agent, GError **error);
  CxAgent *(*get_agent) (CxStore *self, const char *username, GError **error);
  GPtrArray *(*list_agents) (CxStore *self, GError **error);
  gboolean (*set_agent_state) (CxStore *self, const char *username, CxAgentState state,
                               const char *reason, gint64 now, GError **error);
  gboolean (*create_session) (CxStore *self, const char *token_hash, const char *username,
                              gint64 expires_at, GError **error);
  /* The username of a live session, or NULL. */
  char *(*lookup_session) (CxStore *self, const char *token_hash, gint64 now, GError **error);
  gboolean (*delete_session) (CxStore *self, const char *token_hash, GError **error);

  /* Routing, each decision one transaction */
  /* Picks the ready agent serving @queue with load < capacity that has been idle longest,
   * skipping agents that declined or missed this chat after @skip_since, and those who had it
   * before (a transfer) while anyone else can take it, and records a pending
   * invitation expiring at @expires_at. Returns NULL, no error, when nobody can take it, or when
   * the chat already has a pending invitation, is not waiting, or does not exist. */
  CxInvitation *(*offer_chat) (CxStore *self, const char *chat_id, gint64 now, gint64 expires_at,
                               gint64 skip_since, GError **error);
  /* Invites @agent directly (a transfer to an agent), whatever its state and load. */
  CxInvitation *(*invite_agent) (CxStore *self, const char *chat_id, const char *agent, gint64 now,
                                 gint64 expires_at, GError **error);
  /* Moves the pending invitation of @chat_id for @agent to @state (CONFLICT if it is not
   * pending). ACCEPTED also makes the chat active with that agent (accepted_at = now). */
  gboolean (*answer_invitation) (CxStore *self, const char *chat_id, const char *agent,
                                 CxInvitationState state, gint64 now, GError **error);
  /* Pending invitations, all or of one agent, oldest first. */
  GPtrArray *(*list_invitations) (CxStore *self, const char *agent, GError **error);

  /* Callbacks */
  /* Creates @callback if fewer than @capacity callbacks of its service that are not cancelled
   * are due in [@slot_start, @slot_end); FULL otherwise. */
  gboolean (*create_callback) (CxStore *self, const CxCallback *callback, gint64 slot_start,
                               gint64 slot_end, guint capacity, GError **error);
  CxCallback *(*get_callback) (CxStore *self, const char *id, GError **error);
  /* Writes state, desired_time, expiration_time, properties; with @capacity > 0 the same slot
   * check as create_callback applies to the new time (the callback itself not counted). */
  gboolean (*update_callback) (CxStore *self, const CxCallback *callback, gint64 slot_start,
                               gint64 slot_end, guint capacity, GError **error);
  /* Callbacks of @service (NULL = all) whose property @key (NULL = any) equals @value (NULL =
   * any), "_customer_number" and "_callback_state" included; by desired time. */
  GPtrArray *(*find_callbacks) (CxStore *self, const char *service, const char *key,
                                const char *value, GError **error);
  /* How many callbacks of @service that are not cancelled are due in [@start, @end). */
  gboolean (*count_callbacks) (CxStore *self, const char *service, gint64 start, gint64 end,
                               guint *count, GError **error);

  /* Batches (group commit, issue 9 item 13). Optional: a store without them commits each
   * call on its own. begin_batch opens one transaction that the following calls join, each as
   * its own savepoint; commit_batch commits and syncs it (one sync for the whole batch), or
   * fails having rolled all of it back; rollback_batch drops it. */
  gboolean (*begin_batch) (CxStore *self, GError **error);
  gboolean (*commit_batch) (CxStore *self, GError **error);
  void (*rollback_batch) (CxStore *self);
  /* Customer rate limits (issue 9 item 5, cx-server-gms.c): upserts @buckets
   * (CxStoredBucket) and forgets every bucket last used before @forget_before, in one
   * transaction; loads the buckets used since @since. */
  gboolean (*save_rate_buckets) (CxStore *self, GPtrArray *buckets, gint64 forget_before,
                                 GError **error);
  GPtrArray *(*load_rate_buckets) (CxStore *self, gint64 since, GError **error);
  /* Co-browse sessions and their audit (issue 11, cx-store-*-cobrowse.c). create_cobrowse
   * fails with CONFLICT if a session that can still be joined at @record->created_at has the
   * same code. join_cobrowse claims the code for @agent (the code is cleared: single use) and
   * returns the session's id; NOT_FOUND if no session can be joined with it (wrong, expired,
   * used or ended). end_cobrowse ends a
   * session that has not ended (CONFLICT otherwise, NOT_FOUND if there is none). */
  gboolean (*create_cobrowse) (CxStore *self, const CxCobrowseRecord *record, GError **error);
  char *(*join_cobrowse) (CxStore *self, const char *code, const char *agent, gint64 now,
                          GError **error);
  gboolean (*cobrowse_mode) (CxStore *self, const char *id, gint64 at, const char *mode,
                             const char *changed_by, GError **error);
  gboolean (*end_cobrowse) (CxStore *self, const char *id, gint64 at, const char *ended_by,
                            const char *reason, GError **error);
  CxCobrowseRecord *(*get_cobrowse) (CxStore *self, const char *id, GError **error);
};

gboolean cx_store_create_chat (CxStore *self, const CxChat *chat, GError **error);
CxChat *cx_store_get_chat (CxStore *self, const char *chat_id, GError **error);
gboolean cx_store_append (CxStore *self, const char *chat_id, GPtrArray *messages,
                          const CxChat *update, GError **error);
GPtrArray *cx_store_get_messages (CxStore *self, const char *chat_id, guint from, guint limit,
                                  GError **error);
GPtrArray *cx_store_list_open_chats (CxStore *self, const char *queue, const char *agent,
                                     GError **error);
gboolean cx_store_queue_position (CxStore *self, const char *chat_id, guint *position,
                                  GError **error);
gboolean cx_store_queue_stats (CxStore *self, const char *queue, gint64 since, guint *waiting,
                               gint64 *mean_handle_ms, GError **error);
gboolean cx_store_add_file (CxStore *self, const CxFile *file, GError **error);
CxFile *cx_store_get_file (CxStore *self, const char *chat_id, const char *file_id, GError **error);
gboolean cx_store_file_usage (CxStore *self, const char *chat_id, guint *count, guint64 *total_size,
                              GError **error);
gboolean cx_store_put_agent (CxStore *self, const CxAgent *agent, GError **error);
CxAgent *cx_store_get_agent (CxStore *self, const char *username, GError **error);
GPtrArray *cx_store_list_agents (CxStore *self, GError **error);
gboolean cx_store_set_agent_state (CxStore *self, const char *username, CxAgentState state,
                                   const char *reason, gint64 now, GError **error);
gboolean cx_store_create_session (CxStore *self, const char *token_hash, const char *username,
                                  gint64 expires_at, GError **error);
char *cx_store_lookup_session (CxStore *self, const char *token_hash, gint64 now, GError **error);
gboolean cx_store_delete_session (CxStore *self, const char *token_hash, GError **error);
CxInvitation *cx_store_offer_chat (CxStore *self, const char *chat_id, gint64 now,
                                   gint64 expires_at, gint64 skip_since, GError **error);
CxInvitation *cx_store_invite_agent (CxStore *self, const char *chat_id, const char *agent,
                                     gint64 now, gint64 expires_at, GError **error);
gboolean cx_store_answer_invitation (CxStore *self, const char *chat_id, const char *agent,
                                     CxInvitationState state, gint64 now, GError **error);
GPtrArray *cx_store_list_invitations (CxStore *self, const char *agent, GError **error);
gboolean cx_store_create_callback (CxStore *self, const CxCallback *callback, gint64 slot_start,
                                   gint64 slot_end, guint capacity, GError **error);
CxCallback *cx_store_get_callback (CxStore *self, const char *id, GError **error);
gboolean cx_store_update_callback (CxStore *self, const CxCallback *callback, gint64 slot_start,
                                   gint64 slot_end, guint capacity, GError **error);
GPtrArray *cx_store_find_callbacks (CxStore *self, const char *service, const char *key,
                                    const char *value, GError **error);
gboolean cx_store_count_callbacks (CxStore *self, const char *service, gint64 start, gint64 end,
                                   guint *count, GError **error);

/* Batches (group commit). Every call that writes emits CxStore::will-write first, so that the
 * owner of a batch can open one on demand (cx-server-commit.c). */
gboolean cx_store_begin_batch (CxStore *self, GError **error);
gboolean cx_store_commit_batch (CxStore *self, GError **error);
void cx_store_rollback_batch (CxStore *self);
gboolean cx_store_in_batch (CxStore *self);
/* Customer rate limits (issue 9 item 5): a token bucket as kept across restarts. */
typedef struct
{
  char *key;         /* "operation:chat id" or "start:address" */
  double tokens;     /* what was left at @updated_at */
  gint64 updated_at; /* wall-clock µs */
} CxStoredBucket;

void cx_stored_bucket_free (CxStoredBucket *bucket);
gboolean cx_store_save_rate_buckets (CxStore *self, GPtrArray *buckets, gint64 forget_before,
                                     GError **error);
GPtrArray *cx_store_load_rate_buckets (CxStore *self, gint64 since, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxStoredBucket, cx_stored_bucket_free)

/* Co-browse (issue 11): the stored part of a session, which is its audit record. */
gboolean cx_store_create_cobrowse (CxStore *self, const CxCobrowseRecord *record, GError **error);
char *cx_store_join_cobrowse (CxStore *self, const char *code, const char *agent, gint64 now,
                              GError **error);
gboolean cx_store_cobrowse_mode (CxStore *self, const char *id, gint64 at, const char *mode,
                                 const char *changed_by, GError **error);
gboolean cx_store_end_cobrowse (CxStore *self, const char *id, gint64 at, const char *ended_by,
                                const char *reason, GError **error);
CxCobrowseRecord *cx_store_get_cobrowse (CxStore *self, const char *id, GError **error);
void cx_cobrowse_record_free (CxCobrowseRecord *record);
void cx_cobrowse_mode_change_free (CxCobrowseModeChange *change);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxCobrowseRecord, cx_cobrowse_record_free)

/* Opens the store at @location: a PostgreSQL URL (postgresql://... or postgres://...,
 * cx-store-pg.h), or else an SQLite file name or ":memory:" (cx-store-sqlite.h). */
CxStore *cx_store_open (const char *location, GError **error);

G_END_DECLS
