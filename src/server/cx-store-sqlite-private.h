/* cx-store-sqlite-private.h: what the files of CxStoreSqlite share: the instance, the prepared
 * statements and their helpers, transactions, and the rows. cx-store-sqlite.c opens, migrates
 * and batches; -chats.c (chats, messages, files), -agents.c (agents, sessions, routing) and
 * -callbacks.c (callbacks, rate limits) implement the calls; -statements.c holds the SQL. */
#pragma once

#include <sqlite3.h>
#include <string.h>

#include "server/cx-store-private.h"
#include "server/cx-store-sqlite.h"

G_BEGIN_DECLS

typedef enum
{
  ST_BEGIN_READ,
  ST_BEGIN_WRITE,
  ST_COMMIT,
  ST_ROLLBACK,
  /* One call inside a batch (group commit). */
  ST_SAVEPOINT,
  ST_RELEASE,
  ST_ROLLBACK_TO,

  ST_CHAT_INSERT,
  ST_CHAT_GET,
  ST_CHAT_EXISTS,
  ST_CHAT_HEAD,
  ST_CHAT_SET_NEXT_INDEX,
  ST_CHAT_UPDATE,
  ST_CHAT_ACCEPT,
  ST_CHATS_OPEN,
  ST_QUEUE_POSITION,
  ST_QUEUE_STATS,

  ST_MESSAGE_INSERT,
  ST_MESSAGES_GET,

  ST_FILE_INSERT,
  ST_FILE_GET,
  ST_FILE_USAGE,

  ST_AGENT_UPSERT,
  ST_AGENT_QUEUES_CLEAR,
  ST_AGENT_QUEUE_INSERT,
  ST_AGENT_GET,
  ST_AGENT_QUEUES_GET,
  ST_AGENTS_LIST,
  ST_AGENTS_QUEUES_LIST,
  ST_AGENT_EXISTS,
  ST_AGENT_SET_STATE,
  ST_AGENT_IDLE_IF_UNLOADED,

  ST_SESSION_INSERT,
  ST_SESSION_LOOKUP,
  ST_SESSION_DELETE,

  ST_ROUTE_PICK,
  ST_INVITATION_PENDING,
  ST_INVITATION_INSERT,
  ST_INVITATION_ANSWER,
  ST_INVITATION_ANY,
  ST_INVITATIONS_WITHDRAW,
  ST_INVITATIONS_LIST,

  ST_CALLBACK_COUNT,
  ST_CALLBACK_INSERT,
  ST_CALLBACK_UPDATE,
  ST_CALLBACK_GET,
  ST_CALLBACK_SERVICE,
  ST_CALLBACK_PROPERTIES_CLEAR,
  ST_CALLBACK_PROPERTY_INSERT,
  ST_CALLBACKS_ALL,
  ST_CALLBACKS_BY_NUMBER,
  ST_CALLBACKS_BY_STATE,
  ST_CALLBACKS_BY_ID,
  ST_CALLBACKS_BY_PROPERTY,
  ST_CALLBACKS_BY_ANY_VALUE,

  /* Customer rate limits (issue 9 item 5) */
  ST_RATE_BUCKET_UPSERT,
  ST_RATE_BUCKETS_FORGET,
  ST_RATE_BUCKETS_SINCE,

  N_STATEMENTS
} StatementId;

extern const char *const cx_sqlite_statement_sql[N_STATEMENTS];

struct _CxStoreSqlite
{
  GObject parent_instance;

  char *path;
  sqlite3 *db;
  sqlite3_stmt *statements[N_STATEMENTS];
  guint checkpoint_id;

  /* Group commit: a batch's transaction is open; it was lost (SQLite rolled it back after an
   * I/O error, say), so that the rest of it must fail too. */
  gboolean in_batch;
  gboolean batch_lost;
  gboolean checkpoint_due; /* the timer came during a batch: checkpoint after its commit */
};

/* Errors */
gboolean cx_sqlite_set_sqlite_error (CxStoreSqlite *self, int rc, GError **error);
gboolean cx_sqlite_set_corrupt_error (CxStoreSqlite *self, const char *what, GError **error);
gboolean cx_sqlite_set_not_found (GError **error, const char *what, const char *id);

/* Statements: prepared once, reset when the scope that used one ends. */

typedef sqlite3_stmt Statement;

static inline void
statement_release (Statement *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Statement, statement_release)

static inline Statement *
use (CxStoreSqlite *self, StatementId id)
{
  return self->statements[id];
}

typedef enum
{
  STEP_ERROR = -1,
  STEP_DONE,
  STEP_ROW,
} StepResult;

StepResult cx_sqlite_step (CxStoreSqlite *self, Statement *stmt, GError **error);
/* Runs a statement that returns no row, and releases it. */
gboolean cx_sqlite_run (CxStoreSqlite *self, Statement *stmt, GError **error);

static inline void
bind_text (Statement *stmt, int i, const char *text)
{
  /* NULL binds NULL. The strings outlive the step: they belong to the caller's structs. */
  sqlite3_bind_text (stmt, i, text, -1, SQLITE_STATIC);
}

static inline void
bind_int64 (Statement *stmt, int i, gint64 value)
{
  sqlite3_bind_int64 (stmt, i, value);
}

void cx_sqlite_bind_json (Statement *stmt, int i, JsonNode *node);

static inline char *
column_dup (Statement *stmt, int i)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, i));
}

static inline const char *
column_text (Statement *stmt, int i)
{
  return (const char *) sqlite3_column_text (stmt, i);
}

gboolean cx_sqlite_column_json (CxStoreSqlite *self, Statement *stmt, int i, gboolean object,
                                JsonNode **out, GError **error);

/* Transactions: rolled back when the scope ends, unless committed. */

typedef struct
{
  CxStoreSqlite *self;
} Transaction;

void cx_sqlite_reset_busy_statements (CxStoreSqlite *self);
void cx_sqlite_rollback (CxStoreSqlite *self);
gboolean cx_sqlite_check_batch (CxStoreSqlite *self, GError **error);
void cx_sqlite_transaction_clear (Transaction *tx);
gboolean cx_sqlite_transaction_begin (Transaction *tx, CxStoreSqlite *self, gboolean write,
                                      GError **error);
gboolean cx_sqlite_transaction_commit (Transaction *tx, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Transaction, cx_sqlite_transaction_clear)

/* Rows */
CxChat *cx_sqlite_chat_from_row (CxStoreSqlite *self, Statement *stmt, GError **error);
CxAgent *cx_sqlite_agent_from_row (CxStoreSqlite *self, Statement *stmt, GError **error);
CxInvitation *cx_sqlite_invitation_from_row (CxStoreSqlite *self, Statement *stmt, GError **error);
CxCallback *cx_sqlite_callback_from_row (CxStoreSqlite *self, Statement *stmt, GError **error);
CxMessage *cx_sqlite_message_from_row (CxStoreSqlite *self, Statement *stmt, GError **error);
/* Runs a query whose rows @from_row turns into the items of a new array. */
GPtrArray *cx_sqlite_collect (CxStoreSqlite *self, Statement *stmt,
                              gpointer (*from_row) (CxStoreSqlite *, Statement *, GError **),
                              GDestroyNotify free_func, GError **error);

/* What several calls do */
gboolean cx_sqlite_touch_idle_if_unloaded (CxStoreSqlite *self, const char *agent, gint64 now,
                                           GError **error);
gboolean cx_sqlite_withdraw_invitations (CxStoreSqlite *self, const char *chat_id, gint64 now,
                                         GError **error);

/* The chat's index, state, queue and agent, read inside a transaction. */
typedef struct
{
  guint next_index;
  CxChatState state;
  char *queue;
  char *agent;
} ChatHead;

void cx_sqlite_chat_head_clear (ChatHead *head);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ChatHead, cx_sqlite_chat_head_clear)

gboolean cx_sqlite_read_chat_head (CxStoreSqlite *self, const char *chat_id, gboolean details,
                                   ChatHead *head, gboolean *found, GError **error);

/* The calls, by file */
gboolean cx_store_sqlite_create_chat (CxStore *store, const CxChat *chat, GError **error);
CxChat *cx_store_sqlite_get_chat (CxStore *store, const char *chat_id, GError **error);
gboolean cx_store_sqlite_append (CxStore *store, const char *chat_id, GPtrArray *messages,
                                 const CxChat *update, GError **error);
GPtrArray *cx_store_sqlite_get_messages (CxStore *store, const char *chat_id, guint from,
                                         guint limit, GError **error);
GPtrArray *cx_store_sqlite_list_open_chats (CxStore *store, const char *queue, const char *agent,
                                            GError **error);
gboolean cx_store_sqlite_queue_position (CxStore *store, const char *chat_id, guint *position,
                                         GError **error);
gboolean cx_store_sqlite_queue_stats (CxStore *store, const char *queue, gint64 since,
                                      guint *waiting, gint64 *mean_handle_ms, GError **error);
gboolean cx_store_sqlite_add_file (CxStore *store, const CxFile *file, GError **error);
CxFile *cx_store_sqlite_get_file (CxStore *store, const char *chat_id, const char *file_id,
                                  GError **error);
gboolean cx_store_sqlite_file_usage (CxStore *store, const char *chat_id, guint *count,
                                     guint64 *total_size, GError **error);
gboolean cx_store_sqlite_put_agent (CxStore *store, const CxAgent *agent, GError **error);
CxAgent *cx_store_sqlite_get_agent (CxStore *store, const char *username, GError **error);
GPtrArray *cx_store_sqlite_list_agents (CxStore *store, GError **error);
gboolean cx_store_sqlite_set_agent_state (CxStore *store, const char *username, CxAgentState state,
                                          const char *reason, gint64 now, GError **error);
gboolean cx_store_sqlite_create_session (CxStore *store, const char *token_hash,
                                         const char *username, gint64 expires_at, GError **error);
char *cx_store_sqlite_lookup_session (CxStore *store, const char *token_hash, gint64 now,
                                      GError **error);
gboolean cx_store_sqlite_delete_session (CxStore *store, const char *token_hash, GError **error);
CxInvitation *cx_store_sqlite_offer_chat (CxStore *store, const char *chat_id, gint64 now,
                                          gint64 expires_at, gint64 skip_since, GError **error);
CxInvitation *cx_store_sqlite_invite_agent (CxStore *store, const char *chat_id, const char *agent,
                                            gint64 now, gint64 expires_at, GError **error);
gboolean cx_store_sqlite_answer_invitation (CxStore *store, const char *chat_id, const char *agent,
                                            CxInvitationState state, gint64 now, GError **error);
GPtrArray *cx_store_sqlite_list_invitations (CxStore *store, const char *agent, GError **error);
gboolean cx_store_sqlite_create_callback (CxStore *store, const CxCallback *callback,
                                          gint64 slot_start, gint64 slot_end, guint capacity,
                                          GError **error);
CxCallback *cx_store_sqlite_get_callback (CxStore *store, const char *id, GError **error);
gboolean cx_store_sqlite_update_callback (CxStore *store, const CxCallback *callback,
                                          gint64 slot_start, gint64 slot_end, guint capacity,
                                          GError **error);
GPtrArray *cx_store_sqlite_find_callbacks (CxStore *store, const char *service, const char *key,
                                           const char *value, GError **error);
gboolean cx_store_sqlite_count_callbacks (CxStore *store, const char *service, gint64 start,
                                          gint64 end, guint *count, GError **error);
gboolean cx_store_sqlite_save_rate_buckets (CxStore *store, GPtrArray *buckets,
                                            gint64 forget_before, GError **error);
GPtrArray *cx_store_sqlite_load_rate_buckets (CxStore *store, gint64 since, GError **error);
/* Co-browse (cx-store-sqlite-cobrowse.c) */
gboolean cx_store_sqlite_create_cobrowse (CxStore *store, const CxCobrowseRecord *record,
                                          GError **error);
char *cx_store_sqlite_join_cobrowse (CxStore *store, const char *code, const char *agent,
                                     gint64 now, GError **error);
gboolean cx_store_sqlite_cobrowse_mode (CxStore *store, const char *id, gint64 at, const char *mode,
                                        const char *changed_by, GError **error);
gboolean cx_store_sqlite_end_cobrowse (CxStore *store, const char *id, gint64 at,
                                       const char *ended_by, const char *reason, GError **error);
CxCobrowseRecord *cx_store_sqlite_get_cobrowse (CxStore *store, const char *id, GError **error);

G_END_DECLS
