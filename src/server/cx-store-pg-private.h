/* cx-store-pg-private.h: what the files of CxStorePg share: the instance, parameters and
 * results, transactions, the rows. cx-store-pg.c connects, migrates and batches (its header
 * comment says how the store works); -chats.c (chats, messages, files), -agents.c (agents,
 * sessions, routing) and -callbacks.c (callbacks, rate limits) implement the calls. */
#pragma once

#include <libpq-fe.h>
#include <string.h>

#include "server/cx-store-pg.h"
#include "server/cx-store-private.h"

G_BEGIN_DECLS

/* Bounds: rows in one result (more fails the call), parameters of one statement. */
#define MAX_ROWS 1000000
#define MAX_PARAMS 20

struct _CxStorePg
{
  GObject parent_instance;

  char *url;
  char *name; /* for messages: database, host and port, never the password */
  PGconn *conn;

  gboolean in_batch;
  gboolean batch_lost;
};

/* Errors */
gboolean cx_pg_set_pg_error (CxStorePg *self, const PGresult *res, GError **error);
gboolean cx_pg_set_corrupt_error (CxStorePg *self, const char *what, GError **error);
gboolean cx_pg_set_not_found (GError **error, const char *what, const char *id);

/* Parameters, all as text except bytea, which goes in binary. */

typedef struct
{
  int n;
  const char *values[MAX_PARAMS];
  int lengths[MAX_PARAMS];
  int formats[MAX_PARAMS];
  char *owned[MAX_PARAMS];
} Params;

void cx_pg_params_clear (Params *p);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Params, cx_pg_params_clear)

static inline void
p_text (Params *p, const char *text)
{
  g_assert (p->n < MAX_PARAMS);
  p->values[p->n] = text;
  p->lengths[p->n] = 0;
  p->formats[p->n] = 0;
  p->owned[p->n] = NULL;
  p->n++;
}

static inline void
p_owned (Params *p, char *text)
{
  p_text (p, text);
  p->owned[p->n - 1] = text;
}

static inline void
p_int (Params *p, gint64 value)
{
  p_owned (p, g_strdup_printf ("%" G_GINT64_FORMAT, value));
}

static inline void
p_json (Params *p, JsonNode *node)
{
  p_owned (p, node != NULL ? json_to_string (node, FALSE) : NULL);
}

static inline void
p_bytes (Params *p, gconstpointer data, gsize size)
{
  g_assert (size <= G_MAXINT);
  p_text (p, size > 0 ? data : "");
  p->lengths[p->n - 1] = size;
  p->formats[p->n - 1] = 1;
}

/* Runs @sql with @p: a result (rows or not), or NULL with an error. Without @p, SQL of our own
 * with no data in it (BEGIN, SET ...), which may hold several statements. */
PGresult *cx_pg_query (CxStorePg *self, const char *sql, const Params *p, GError **error);
/* The same outside a transaction of ours (its own snapshot), reconnecting first if needed. */
PGresult *cx_pg_read_query (CxStorePg *self, const char *sql, const Params *p, GError **error);
gboolean cx_pg_run (CxStorePg *self, const char *sql, const Params *p, GError **error);
gint64 cx_pg_changes (PGresult *res);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGresult, PQclear)

static inline const char *
col (PGresult *res, int row, int i)
{
  return PQgetisnull (res, row, i) ? NULL : PQgetvalue (res, row, i);
}

static inline char *
col_dup (PGresult *res, int row, int i)
{
  return g_strdup (col (res, row, i));
}

static inline gint64
col_int (PGresult *res, int row, int i)
{
  return g_ascii_strtoll (PQgetvalue (res, row, i), NULL, 10);
}

gboolean cx_pg_col_json (CxStorePg *self, PGresult *res, int row, int i, gboolean object,
                         JsonNode **out, GError **error);

/* Transactions: rolled back when the scope ends, unless committed. */

typedef struct
{
  CxStorePg *self;
} Transaction;

void cx_pg_rollback (CxStorePg *self);
void cx_pg_transaction_clear (Transaction *tx);
gboolean cx_pg_transaction_begin (Transaction *tx, CxStorePg *self, GError **error);
gboolean cx_pg_transaction_commit (Transaction *tx, GError **error);
gboolean cx_pg_check_batch (CxStorePg *self, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Transaction, cx_pg_transaction_clear)

/* Rows */

#define CHAT_COLUMNS                                                                               \
  "id, service, queue, secure_key, alias, user_id, nickname, first_name, last_name, email, "       \
  "subject, user_data, state, agent, created_at, queued_at, accepted_at, ended_at, next_index"

/* An agent's load: the chats it has plus the invitations it has not answered. */
#define AGENT_LOAD                                                                                 \
  "((SELECT COUNT(*) FROM chats c WHERE c.agent = a.username AND c.state = 'active')"              \
  " + (SELECT COUNT(*) FROM invitations i WHERE i.agent = a.username AND i.state = 'pending'))"

#define AGENT_COLUMNS                                                                              \
  "a.username, a.display_name, a.password_hash, a.capacity, a.state, a.reason, a.state_since, "    \
  "a.idle_since, " AGENT_LOAD

#define INVITATION_COLUMNS "chat_id, agent, state, offered_at, expires_at"

#define CALLBACK_COLUMNS                                                                           \
  "c.id, c.service, c.customer_number, c.state, c.desired_time, c.expiration_time, "               \
  "c.created_at, c.properties, c.secret_hash"

#define CALLBACK_ORDER " ORDER BY c.desired_time, c.created_at, c.id"

typedef gpointer (*FromRow) (CxStorePg *self, PGresult *res, int row, GError **error);

CxChat *cx_pg_chat_from_row (CxStorePg *self, PGresult *res, int row, GError **error);
CxAgent *cx_pg_agent_from_row (CxStorePg *self, PGresult *res, int row, GError **error);
CxInvitation *cx_pg_invitation_from_row (CxStorePg *self, PGresult *res, int row, GError **error);
CxCallback *cx_pg_callback_from_row (CxStorePg *self, PGresult *res, int row, GError **error);
CxMessage *cx_pg_message_from_row (CxStorePg *self, PGresult *res, int row, GError **error);
GPtrArray *cx_pg_collect (CxStorePg *self, PGresult *res, int first, FromRow from_row,
                          GDestroyNotify free_func, GError **error);
GPtrArray *cx_pg_collect_query (CxStorePg *self, const char *sql, const Params *p, FromRow from_row,
                                GDestroyNotify free_func, GError **error);

/* What several calls do */
gboolean cx_pg_touch_idle_if_unloaded (CxStorePg *self, const char *agent, gint64 now,
                                       GError **error);
gboolean cx_pg_withdraw_invitations (CxStorePg *self, const char *chat_id, gint64 now,
                                     GError **error);

/* The chat's index, state, queue and agent, its row locked until the transaction ends. */
typedef struct
{
  guint next_index;
  CxChatState state;
  char *queue;
  char *agent;
} ChatHead;

void cx_pg_chat_head_clear (ChatHead *head);
gboolean cx_pg_lock_chat_head (CxStorePg *self, const char *chat_id, ChatHead *head,
                               gboolean *found, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ChatHead, cx_pg_chat_head_clear)

/* The calls, by file */
gboolean cx_store_pg_create_chat (CxStore *store, const CxChat *chat, GError **error);
CxChat *cx_store_pg_get_chat (CxStore *store, const char *chat_id, GError **error);
gboolean cx_store_pg_append (CxStore *store, const char *chat_id, GPtrArray *messages,
                             const CxChat *update, GError **error);
GPtrArray *cx_store_pg_get_messages (CxStore *store, const char *chat_id, guint from, guint limit,
                                     GError **error);
GPtrArray *cx_store_pg_list_open_chats (CxStore *store, const char *queue, const char *agent,
                                        GError **error);
gboolean cx_store_pg_queue_position (CxStore *store, const char *chat_id, guint *position,
                                     GError **error);
gboolean cx_store_pg_queue_stats (CxStore *store, const char *queue, gint64 since, guint *waiting,
                                  gint64 *mean_handle_ms, GError **error);
gboolean cx_store_pg_add_file (CxStore *store, const CxFile *file, GError **error);
CxFile *cx_store_pg_get_file (CxStore *store, const char *chat_id, const char *file_id,
                              GError **error);
gboolean cx_store_pg_file_usage (CxStore *store, const char *chat_id, guint *count,
                                 guint64 *total_size, GError **error);
gboolean cx_store_pg_put_agent (CxStore *store, const CxAgent *agent, GError **error);
CxAgent *cx_store_pg_get_agent (CxStore *store, const char *username, GError **error);
GPtrArray *cx_store_pg_list_agents (CxStore *store, GError **error);
gboolean cx_store_pg_set_agent_state (CxStore *store, const char *username, CxAgentState state,
                                      const char *reason, gint64 now, GError **error);
gboolean cx_store_pg_create_session (CxStore *store, const char *token_hash, const char *username,
                                     gint64 expires_at, GError **error);
char *cx_store_pg_lookup_session (CxStore *store, const char *token_hash, gint64 now,
                                  GError **error);
gboolean cx_store_pg_delete_session (CxStore *store, const char *token_hash, GError **error);
CxInvitation *cx_store_pg_offer_chat (CxStore *store, const char *chat_id, gint64 now,
                                      gint64 expires_at, gint64 skip_since, GError **error);
CxInvitation *cx_store_pg_invite_agent (CxStore *store, const char *chat_id, const char *agent,
                                        gint64 now, gint64 expires_at, GError **error);
gboolean cx_store_pg_answer_invitation (CxStore *store, const char *chat_id, const char *agent,
                                        CxInvitationState state, gint64 now, GError **error);
GPtrArray *cx_store_pg_list_invitations (CxStore *store, const char *agent, GError **error);
gboolean cx_store_pg_create_callback (CxStore *store, const CxCallback *callback, gint64 slot_start,
                                      gint64 slot_end, guint capacity, GError **error);
CxCallback *cx_store_pg_get_callback (CxStore *store, const char *id, GError **error);
gboolean cx_store_pg_update_callback (CxStore *store, const CxCallback *callback, gint64 slot_start,
                                      gint64 slot_end, guint capacity, GError **error);
GPtrArray *cx_store_pg_find_callbacks (CxStore *store, const char *service, const char *key,
                                       const char *value, GError **error);
gboolean cx_store_pg_count_callbacks (CxStore *store, const char *service, gint64 start, gint64 end,
                                      guint *count, GError **error);
gboolean cx_store_pg_save_rate_buckets (CxStore *store, GPtrArray *buckets, gint64 forget_before,
                                        GError **error);
GPtrArray *cx_store_pg_load_rate_buckets (CxStore *store, gint64 since, GError **error);
/* Co-browse (cx-store-pg-cobrowse.c) */
gboolean cx_store_pg_create_cobrowse (CxStore *store, const CxCobrowseRecord *record,
                                      GError **error);
char *cx_store_pg_join_cobrowse (CxStore *store, const char *code, const char *agent, gint64 now,
                                 GError **error);
gboolean cx_store_pg_cobrowse_mode (CxStore *store, const char *id, gint64 at, const char *mode,
                                    const char *changed_by, GError **error);
gboolean cx_store_pg_end_cobrowse (CxStore *store, const char *id, gint64 at, const char *ended_by,
                                   const char *reason, GError **error);
CxCobrowseRecord *cx_store_pg_get_cobrowse (CxStore *store, const char *id, GError **error);

G_END_DECLS
