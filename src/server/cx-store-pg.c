/* cx-store-pg.c: CxStorePg, the CxStore on PostgreSQL (libpq), for several server processes on
 * one database.
 *
 * One connection per store. libpq is blocking, and this first slice calls it synchronously on
 * the main thread: a query holds the server's main loop for its round trip (on loopback a few
 * tens of µs; the group commit of cx-server-commit.c keeps it to one COMMIT per main-loop turn).
 * Correctness first; an asynchronous connection is for later.
 *
 * Every call that writes is one BEGIN ... COMMIT (READ COMMITTED), committed durably
 * (synchronous_commit = on: the WAL is flushed before COMMIT returns) before the call returns
 * TRUE; inside a batch it is a SAVEPOINT ... RELEASE in the batch's transaction, committed once
 * by commit_batch. Queries are parameterised ($1, $2, ...): no data is ever put into SQL text.
 *
 * Decisions several nodes race on are taken under row locks, in the deciding transaction:
 *  - a chat's row is locked (FOR UPDATE) by every call that moves it (append, offer, invite,
 *    accept), so two nodes offering one chat serialise and the second sees the first's pending
 *    invitation (the partial unique index invitations_one_pending is the last word);
 *  - the agent an offer picks is locked with FOR UPDATE SKIP LOCKED (another node's offer to
 *    that agent is in flight: take the next one rather than wait), and its load is read again
 *    once locked, since the pick's snapshot may predate a concurrent commit;
 *  - a callback slot is counted and filled under a transaction-scoped advisory lock on its
 *    service.
 * Locks are always taken chat first, then agent, so that nodes do not deadlock each other
 * (PostgreSQL would break a deadlock by failing one transaction, which the caller sees as an
 * error).
 *
 * Results are bounded: the queries are those of the SQLite store (the callers bound chats,
 * messages and files), and a result of more than MAX_ROWS rows fails instead of being used. */
#define G_LOG_DOMAIN "cx-store"

#include "config.h"

#include <libpq-fe.h>
#include <string.h>

#include "server/cx-store-migrations.h"
#include "server/cx-store-pg.h"

#define MAX_ROWS 1000000
#define MAX_PARAMS 20

/* The schema version table, and the advisory lock key its migrations run under ("cxdesk"). */
#define MIGRATION_LOCK "7310594017265770875"

struct _CxStorePg
{
  GObject parent_instance;

  char *url;
  char *name; /* for messages: database, host and port, never the password */
  PGconn *conn;

  gboolean in_batch;
  gboolean batch_lost;
};

static void cx_store_pg_store_init (CxStoreInterface *iface);
static void cx_store_pg_initable_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CxStorePg, cx_store_pg, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, cx_store_pg_initable_init)
                                   G_IMPLEMENT_INTERFACE (CX_TYPE_STORE, cx_store_pg_store_init))

enum
{
  PROP_0,
  PROP_URL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

gboolean
cx_store_pg_is_url (const char *location)
{
  return location != NULL && (g_str_has_prefix (location, "postgresql://") ||
                              g_str_has_prefix (location, "postgres://"));
}

/* Errors */

static gboolean
set_pg_error (CxStorePg *self, const PGresult *res, GError **error)
{
  const char *state = res != NULL ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
  const char *message = res != NULL ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  CxStoreError code = CX_STORE_ERROR_FAILED;

  if (g_strcmp0 (state, "23505") == 0) /* unique_violation */
    code = CX_STORE_ERROR_CONFLICT;
  else if (g_strcmp0 (state, "23503") == 0) /* foreign_key_violation */
    code = CX_STORE_ERROR_NOT_FOUND;

  if (message == NULL)
    message = PQerrorMessage (self->conn);
  g_set_error (error, CX_STORE_ERROR, code, "Database %s: %s", self->name, message);
  return FALSE;
}

static gboolean
set_corrupt_error (CxStorePg *self, const char *what, GError **error)
{
  g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED, "Database %s: corrupt %s", self->name,
               what);
  return FALSE;
}

static gboolean
set_not_found (GError **error, const char *what, const char *id)
{
  g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND, "No %s “%s”", what, id);
  return FALSE;
}

/* Parameters, all as text except bytea, which goes in binary. */

typedef struct
{
  int n;
  const char *values[MAX_PARAMS];
  int lengths[MAX_PARAMS];
  int formats[MAX_PARAMS];
  char *owned[MAX_PARAMS];
} Params;

static void
params_clear (Params *p)
{
  for (int i = 0; i < p->n; i++)
    g_free (p->owned[i]);
  p->n = 0;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Params, params_clear)

static void
p_text (Params *p, const char *text)
{
  g_assert (p->n < MAX_PARAMS);
  p->values[p->n] = text;
  p->lengths[p->n] = 0;
  p->formats[p->n] = 0;
  p->owned[p->n] = NULL;
  p->n++;
}

static void
p_owned (Params *p, char *text)
{
  p_text (p, text);
  p->owned[p->n - 1] = text;
}

static void
p_int (Params *p, gint64 value)
{
  p_owned (p, g_strdup_printf ("%" G_GINT64_FORMAT, value));
}

static void
p_json (Params *p, JsonNode *node)
{
  p_owned (p, node != NULL ? json_to_string (node, FALSE) : NULL);
}

static void
p_bytes (Params *p, gconstpointer data, gsize size)
{
  g_assert (size <= G_MAXINT);
  p_text (p, size > 0 ? data : "");
  p->lengths[p->n - 1] = size;
  p->formats[p->n - 1] = 1;
}

/* Runs @sql with @p; a result (rows or not) or NULL with an error. Without @p, SQL of our own
 * with no data in it (BEGIN, SET ...), which may hold several statements. */
static PGresult *
query (CxStorePg *self, const char *sql, const Params *p, GError **error)
{
  PGresult *res =
      p != NULL ? PQexecParams (self->conn, sql, p->n, NULL, p->values, p->lengths, p->formats, 0)
                : PQexec (self->conn, sql);
  ExecStatusType status = PQresultStatus (res);

  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    {
      set_pg_error (self, res, error);
      PQclear (res);
      return NULL;
    }
  if (PQntuples (res) > MAX_ROWS)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED,
                   "Database %s: a result of %d rows, more than %d", self->name, PQntuples (res),
                   MAX_ROWS);
      PQclear (res);
      return NULL;
    }
  return res;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGresult, PQclear)

static gboolean
run (CxStorePg *self, const char *sql, const Params *p, GError **error)
{
  g_autoptr (PGresult) res = query (self, sql, p, error);

  return res != NULL;
}

/* How many rows an INSERT/UPDATE/DELETE touched. */
static gint64
changes (PGresult *res)
{
  return g_ascii_strtoll (PQcmdTuples (res), NULL, 10);
}

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

/* A JSON column; NULL stays NULL, unless @object, which makes it an empty object and requires
 * an object. */
static gboolean
col_json (CxStorePg *self, PGresult *res, int row, int i, gboolean object, JsonNode **out,
          GError **error)
{
  const char *text = col (res, row, i);
  g_autoptr (JsonNode) node = NULL;

  *out = NULL;
  if (text == NULL)
    {
      if (object)
        *out = json_node_init_object (json_node_alloc (), json_object_new ());
      return TRUE;
    }
  node = json_from_string (text, NULL);
  if (node == NULL || (object && !JSON_NODE_HOLDS_OBJECT (node)))
    return set_corrupt_error (self, "JSON", error);
  *out = g_steal_pointer (&node);
  return TRUE;
}

/* Transactions: rolled back when the scope ends, unless committed. */

typedef struct
{
  CxStorePg *self;
} Transaction;

static void
rollback (CxStorePg *self)
{
  if (self->in_batch)
    {
      /* Undoes this call alone; the batch goes on, unless the connection lost it. */
      if (!run (self, "ROLLBACK TO SAVEPOINT cx_call", NULL, NULL) ||
          !run (self, "RELEASE SAVEPOINT cx_call", NULL, NULL))
        self->batch_lost = TRUE;
    }
  else if (PQtransactionStatus (self->conn) != PQTRANS_IDLE && !run (self, "ROLLBACK", NULL, NULL))
    {
      g_warning ("Database %s: could not roll back: %s", self->name, PQerrorMessage (self->conn));
    }
}

static void
transaction_clear (Transaction *tx)
{
  if (tx->self != NULL)
    rollback (g_steal_pointer (&tx->self));
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Transaction, transaction_clear)

static gboolean check_batch (CxStorePg *self, GError **error);
static gboolean prepare_session (CxStorePg *self, GError **error);

/* A connection that broke (the server restarted) is made again before the next transaction;
 * not inside a batch, whose transaction went with it. */
static gboolean
ensure_connected (CxStorePg *self, GError **error)
{
  if (PQstatus (self->conn) == CONNECTION_OK)
    return TRUE;

  g_debug ("Database %s: reconnecting", self->name);
  PQreset (self->conn);
  if (PQstatus (self->conn) != CONNECTION_OK)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED, "Database %s: %s", self->name,
                   PQerrorMessage (self->conn));
      return FALSE;
    }
  return prepare_session (self, error);
}

static gboolean
transaction_begin (Transaction *tx, CxStorePg *self, GError **error)
{
  g_assert (tx->self == NULL);

  if (self->in_batch)
    {
      if (!check_batch (self, error) || !run (self, "SAVEPOINT cx_call", NULL, error))
        return FALSE;
    }
  else if (!ensure_connected (self, error) || !run (self, "BEGIN", NULL, error))
    {
      return FALSE;
    }

  tx->self = self;
  return TRUE;
}

static gboolean
transaction_commit (Transaction *tx, GError **error)
{
  CxStorePg *self = tx->self;

  g_assert (self != NULL);
  if (!run (self, self->in_batch ? "RELEASE SAVEPOINT cx_call" : "COMMIT", NULL, error))
    return FALSE;
  tx->self = NULL;
  return TRUE;
}

static gboolean
check_batch (CxStorePg *self, GError **error)
{
  if (self->in_batch && (self->batch_lost || PQtransactionStatus (self->conn) != PQTRANS_INTRANS))
    {
      self->batch_lost = TRUE;
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED,
                   "Database %s: the batch this call belongs to was rolled back", self->name);
      return FALSE;
    }
  return TRUE;
}

/* A query outside a transaction of ours (one snapshot of its own), reconnecting first if the
 * connection broke. */
static PGresult *
read_query (CxStorePg *self, const char *sql, const Params *p, GError **error)
{
  if (!self->in_batch && !ensure_connected (self, error))
    return NULL;
  if (self->in_batch && !check_batch (self, error))
    return NULL;
  return query (self, sql, p, error);
}

/* The states as they are stored (as on SQLite) */

static const char *const chat_states[] = { "waiting", "active", "ended" };
static const char *const agent_states[] = { "offline", "not_ready", "ready" };
static const char *const invitation_states[] = {
  "pending", "accepted", "declined", "expired", "withdrawn",
};

static gboolean
state_from_text (const char *const *names, guint n_names, const char *text, int *state)
{
  for (guint i = 0; text != NULL && i < n_names; i++)
    {
      if (strcmp (names[i], text) == 0)
        {
          *state = i;
          return TRUE;
        }
    }
  return FALSE;
}

#define STATE_FROM_TEXT(names, text, state)                                                        \
  state_from_text (names, G_N_ELEMENTS (names), text, (int *) (state))

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

static CxChat *
chat_from_row (CxStorePg *self, PGresult *res, int row, GError **error)
{
  g_autoptr (CxChat) chat = g_new0 (CxChat, 1);

  chat->id = col_dup (res, row, 0);
  chat->service = col_dup (res, row, 1);
  chat->queue = col_dup (res, row, 2);
  chat->secure_key = col_dup (res, row, 3);
  chat->alias = col_dup (res, row, 4);
  chat->user_id = col_dup (res, row, 5);
  chat->nickname = col_dup (res, row, 6);
  chat->first_name = col_dup (res, row, 7);
  chat->last_name = col_dup (res, row, 8);
  chat->email = col_dup (res, row, 9);
  chat->subject = col_dup (res, row, 10);
  if (!col_json (self, res, row, 11, TRUE, &chat->user_data, error))
    return NULL;
  if (!STATE_FROM_TEXT (chat_states, col (res, row, 12), &chat->state))
    {
      set_corrupt_error (self, "chat state", error);
      return NULL;
    }
  chat->agent = col_dup (res, row, 13);
  chat->created_at = col_int (res, row, 14);
  chat->queued_at = col_int (res, row, 15);
  chat->accepted_at = col_int (res, row, 16);
  chat->ended_at = col_int (res, row, 17);
  chat->next_index = col_int (res, row, 18);
  return g_steal_pointer (&chat);
}

static CxAgent *
agent_from_row (CxStorePg *self, PGresult *res, int row, GError **error)
{
  g_autoptr (CxAgent) agent = g_new0 (CxAgent, 1);

  agent->username = col_dup (res, row, 0);
  agent->display_name = col_dup (res, row, 1);
  agent->password_hash = col_dup (res, row, 2);
  agent->capacity = col_int (res, row, 3);
  if (!STATE_FROM_TEXT (agent_states, col (res, row, 4), &agent->state))
    {
      set_corrupt_error (self, "agent state", error);
      return NULL;
    }
  agent->reason = col_dup (res, row, 5);
  agent->state_since = col_int (res, row, 6);
  agent->idle_since = col_int (res, row, 7);
  agent->load = col_int (res, row, 8);
  return g_steal_pointer (&agent);
}

static CxInvitation *
invitation_from_row (CxStorePg *self, PGresult *res, int row, GError **error)
{
  g_autoptr (CxInvitation) invitation = g_new0 (CxInvitation, 1);

  invitation->chat_id = col_dup (res, row, 0);
  invitation->agent = col_dup (res, row, 1);
  if (!STATE_FROM_TEXT (invitation_states, col (res, row, 2), &invitation->state))
    {
      set_corrupt_error (self, "invitation state", error);
      return NULL;
    }
  invitation->offered_at = col_int (res, row, 3);
  invitation->expires_at = col_int (res, row, 4);
  return g_steal_pointer (&invitation);
}

static CxCallback *
callback_from_row (CxStorePg *self, PGresult *res, int row, GError **error)
{
  g_autoptr (CxCallback) callback = g_new0 (CxCallback, 1);

  callback->id = col_dup (res, row, 0);
  callback->service = col_dup (res, row, 1);
  callback->customer_number = col_dup (res, row, 2);
  callback->state = col_dup (res, row, 3);
  callback->desired_time = col_int (res, row, 4);
  callback->expiration_time = col_int (res, row, 5);
  callback->created_at = col_int (res, row, 6);
  callback->secret_hash = col_dup (res, row, 8);
  if (!col_json (self, res, row, 7, TRUE, &callback->properties, error))
    return NULL;
  return g_steal_pointer (&callback);
}

static CxMessage *
message_from_row (CxStorePg *self, PGresult *res, int row, GError **error)
{
  CxMessageType type;
  CxPartyType from_type;
  g_autoptr (JsonNode) user_data = NULL;
  CxMessage *message;

  if (!cx_message_type_from_string (col (res, row, 1), &type))
    {
      set_corrupt_error (self, "message type", error);
      return NULL;
    }
  if (!cx_party_type_from_string (col (res, row, 2), &from_type))
    {
      set_corrupt_error (self, "message sender type", error);
      return NULL;
    }
  if (!col_json (self, res, row, 7, FALSE, &user_data, error))
    return NULL;

  message = cx_message_new (type, from_type, col (res, row, 3), col (res, row, 4),
                            col (res, row, 5), col_int (res, row, 6), NULL);
  /* Not shared yet: fill in what the constructor does not take. */
  message->index = col_int (res, row, 0);
  message->user_data = g_steal_pointer (&user_data);
  return message;
}

/* The rows of @res, from @first on, as items of a new array. */
static GPtrArray *
collect (CxStorePg *self, PGresult *res, int first, FromRow from_row, GDestroyNotify free_func,
         GError **error)
{
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (free_func);

  for (int row = first; row < PQntuples (res); row++)
    {
      gpointer item = from_row (self, res, row, error);

      if (item == NULL)
        return NULL;
      g_ptr_array_add (items, item);
    }
  return g_steal_pointer (&items);
}

static GPtrArray *
collect_query (CxStorePg *self, const char *sql, const Params *p, FromRow from_row,
               GDestroyNotify free_func, GError **error)
{
  g_autoptr (PGresult) res = read_query (self, sql, p, error);

  if (res == NULL)
    return NULL;
  return collect (self, res, 0, from_row, free_func, error);
}

/* What several calls do */

/* Sets idle_since of @agent to @now if it has nothing left: its load just went down. */
static gboolean
touch_idle_if_unloaded (CxStorePg *self, const char *agent, gint64 now, GError **error)
{
  g_auto (Params) p = { 0 };

  p_text (&p, agent);
  p_int (&p, now);
  return run (self,
              "UPDATE agents SET idle_since = $2 WHERE username = $1 "
              "AND NOT EXISTS (SELECT 1 FROM chats c WHERE c.agent = $1 AND c.state = 'active') "
              "AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.agent = $1 "
              "AND i.state = 'pending')",
              &p, error);
}

/* Withdraws the pending invitation of @chat_id, if any: the chat ended or moved. */
static gboolean
withdraw_invitations (CxStorePg *self, const char *chat_id, gint64 now, GError **error)
{
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  p_int (&p, now);
  res = query (self,
               "UPDATE invitations SET state = 'withdrawn', answered_at = $2 "
               "WHERE chat_id = $1 AND state = 'pending' RETURNING agent",
               &p, error);
  if (res == NULL)
    return FALSE;
  for (int row = 0; row < PQntuples (res); row++)
    if (!touch_idle_if_unloaded (self, col (res, row, 0), now, error))
      return FALSE;
  return TRUE;
}

/* The chat's index, state, queue and agent, its row locked until the transaction ends. */
typedef struct
{
  guint next_index;
  CxChatState state;
  char *queue;
  char *agent;
} ChatHead;

static void
chat_head_clear (ChatHead *head)
{
  g_clear_pointer (&head->queue, g_free);
  g_clear_pointer (&head->agent, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ChatHead, chat_head_clear)

static gboolean
lock_chat_head (CxStorePg *self, const char *chat_id, ChatHead *head, gboolean *found,
                GError **error)
{
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  res = query (self, "SELECT next_index, state, queue, agent FROM chats WHERE id = $1 FOR UPDATE",
               &p, error);
  if (res == NULL)
    return FALSE;
  *found = PQntuples (res) == 1;
  if (!*found)
    return TRUE;
  head->next_index = col_int (res, 0, 0);
  if (!STATE_FROM_TEXT (chat_states, col (res, 0, 1), &head->state))
    return set_corrupt_error (self, "chat state", error);
  head->queue = col_dup (res, 0, 2);
  head->agent = col_dup (res, 0, 3);
  return TRUE;
}

/* Chats */

static gboolean
cx_store_pg_create_chat (CxStore *store, const CxChat *chat, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };

  g_return_val_if_fail (chat->state <= CX_CHAT_ENDED, FALSE);

  p_text (&p, chat->id);
  p_text (&p, chat->service);
  p_text (&p, chat->queue);
  p_text (&p, chat->secure_key);
  p_text (&p, chat->alias);
  p_text (&p, chat->user_id);
  p_text (&p, chat->nickname);
  p_text (&p, chat->first_name);
  p_text (&p, chat->last_name);
  p_text (&p, chat->email);
  p_text (&p, chat->subject);
  if (chat->user_data != NULL)
    p_json (&p, chat->user_data);
  else
    p_text (&p, "{}");
  p_text (&p, chat_states[chat->state]);
  p_text (&p, chat->agent);
  p_int (&p, chat->created_at);
  p_int (&p, chat->queued_at);
  p_int (&p, chat->accepted_at);
  p_int (&p, chat->ended_at);
  if (!transaction_begin (&tx, self, error) ||
      !run (self,
            "INSERT INTO chats (" CHAT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
            "$10, $11, $12, $13, $14, $15, $16, $17, $18, 1)",
            &p, error))
    return FALSE;

  return transaction_commit (&tx, error);
}

static CxChat *
cx_store_pg_get_chat (CxStore *store, const char *chat_id, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  res = read_query (self, "SELECT " CHAT_COLUMNS " FROM chats WHERE id = $1", &p, error);
  if (res == NULL || PQntuples (res) == 0)
    return NULL;
  return chat_from_row (self, res, 0, error);
}

/* When an append moved a chat off an agent: the latest time the caller gave us. */
static gint64
event_time (GPtrArray *messages, const CxChat *update)
{
  gint64 time = MAX (update->ended_at, MAX (update->queued_at, update->accepted_at));

  for (guint i = 0; messages != NULL && i < messages->len; i++)
    time = MAX (time, ((CxMessage *) g_ptr_array_index (messages, i))->utc_time);

  return time > 0 ? time : g_get_real_time () / 1000;
}

static gboolean
insert_message (CxStorePg *self, const char *chat_id, guint index, CxMessage *message,
                GError **error)
{
  g_auto (Params) p = { 0 };

  p_text (&p, chat_id);
  p_int (&p, index);
  p_text (&p, cx_message_type_to_string (message->type));
  p_text (&p, cx_party_type_to_string (message->from_type));
  p_text (&p, message->from_nickname);
  p_text (&p, message->from_participant_id);
  p_text (&p, message->text);
  p_int (&p, message->utc_time);
  p_json (&p, message->user_data);
  return run (self,
              "INSERT INTO messages (chat_id, idx, type, from_type, from_nickname, "
              "from_participant_id, text, utc_time, user_data) "
              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
              &p, error);
}

static gboolean
cx_store_pg_append (CxStore *store, const char *chat_id, GPtrArray *messages, const CxChat *update,
                    GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (ChatHead) head = { 0 };
  g_auto (Params) p = { 0 };
  guint n_messages = messages != NULL ? messages->len : 0;
  gboolean found;

  g_return_val_if_fail (update == NULL || update->state <= CX_CHAT_ENDED, FALSE);

  if (!transaction_begin (&tx, self, error) ||
      !lock_chat_head (self, chat_id, &head, &found, error))
    return FALSE;
  if (!found)
    return set_not_found (error, "chat", chat_id);

  for (guint i = 0; i < n_messages; i++)
    if (!insert_message (self, chat_id, head.next_index + i, g_ptr_array_index (messages, i),
                         error))
      return FALSE;

  p_text (&p, chat_id);
  p_int (&p, head.next_index + n_messages);
  if (update != NULL)
    {
      gint64 now = event_time (messages, update);

      p_text (&p, chat_states[update->state]);
      p_text (&p, update->queue);
      p_text (&p, update->agent);
      p_json (&p, update->user_data);
      p_int (&p, update->queued_at);
      p_int (&p, update->accepted_at);
      p_int (&p, update->ended_at);
      if (!run (self,
                "UPDATE chats SET next_index = $2, state = $3, queue = $4, agent = $5, "
                "user_data = COALESCE ($6, user_data), queued_at = $7, accepted_at = $8, "
                "ended_at = $9 WHERE id = $1",
                &p, error))
        return FALSE;

      /* An invitation to a chat that ended or moved to another queue can no longer be
       * accepted. */
      if ((update->state == CX_CHAT_ENDED || g_strcmp0 (update->queue, head.queue) != 0) &&
          !withdraw_invitations (self, chat_id, now, error))
        return FALSE;

      /* The chat left its agent: ended, back to a queue, or to someone else. */
      if (head.state == CX_CHAT_ACTIVE && head.agent != NULL &&
          (update->state != CX_CHAT_ACTIVE || g_strcmp0 (update->agent, head.agent) != 0) &&
          !touch_idle_if_unloaded (self, head.agent, now, error))
        return FALSE;
    }
  else if (n_messages > 0 &&
           !run (self, "UPDATE chats SET next_index = $2 WHERE id = $1", &p, error))
    {
      return FALSE;
    }

  if (!transaction_commit (&tx, error))
    return FALSE;

  /* Only now that they are stored do the messages get their indices. */
  for (guint i = 0; i < n_messages; i++)
    ((CxMessage *) g_ptr_array_index (messages, i))->index = head.next_index + i;
  return TRUE;
}

static GPtrArray *
cx_store_pg_get_messages (CxStore *store, const char *chat_id, guint from, guint limit,
                          GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  p_int (&p, from);
  if (limit > 0)
    p_int (&p, limit);
  else
    p_text (&p, NULL); /* LIMIT NULL: all */

  /* The chat's row always comes back, with NULL columns if it has no message in the window:
   * an unknown chat and an empty window differ, in one snapshot. */
  res = read_query (self,
                    "SELECT m.idx, m.type, m.from_type, m.from_nickname, m.from_participant_id, "
                    "m.text, m.utc_time, m.user_data FROM chats c "
                    "LEFT JOIN messages m ON m.chat_id = c.id AND m.idx >= $2 "
                    "WHERE c.id = $1 ORDER BY m.idx LIMIT $3::bigint",
                    &p, error);
  if (res == NULL || PQntuples (res) == 0)
    return NULL; /* an error, or no such chat */
  if (PQgetisnull (res, 0, 0))
    return g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  return collect (self, res, 0, (FromRow) message_from_row, (GDestroyNotify) cx_message_unref,
                  error);
}

static GPtrArray *
cx_store_pg_list_open_chats (CxStore *store, const char *queue, const char *agent, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };

  p_text (&p, queue);
  p_text (&p, agent);
  return collect_query (self,
                        "SELECT " CHAT_COLUMNS " FROM chats WHERE state IN ('waiting', 'active') "
                        "AND ($1::text IS NULL OR queue = $1) "
                        "AND ($2::text IS NULL OR agent = $2) ORDER BY queued_at, id",
                        &p, (FromRow) chat_from_row, (GDestroyNotify) cx_chat_free, error);
}

static gboolean
cx_store_pg_queue_position (CxStore *store, const char *chat_id, guint *position, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  res = read_query (self,
                    "SELECT (SELECT COUNT(*) FROM chats c WHERE c.queue = me.queue "
                    "AND c.state = 'waiting' AND (c.queued_at < me.queued_at "
                    "OR (c.queued_at = me.queued_at AND c.id < me.id))) "
                    "FROM chats me WHERE me.id = $1",
                    &p, error);
  if (res == NULL)
    return FALSE;
  if (PQntuples (res) == 0)
    return set_not_found (error, "chat", chat_id);
  *position = col_int (res, 0, 0);
  return TRUE;
}

static gboolean
cx_store_pg_queue_stats (CxStore *store, const char *queue, gint64 since, guint *waiting,
                         gint64 *mean_handle_ms, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;
  gint64 handled;

  p_text (&p, queue);
  p_int (&p, since);
  res =
      read_query (self,
                  "SELECT (SELECT COUNT(*) FROM chats w WHERE w.queue = $1 "
                  "AND w.state = 'waiting'), COUNT(*), COALESCE (SUM (ended_at - accepted_at), 0) "
                  "FROM chats WHERE queue = $1 AND state = 'ended' AND ended_at > $2 "
                  "AND accepted_at > 0",
                  &p, error);
  if (res == NULL)
    return FALSE;
  *waiting = col_int (res, 0, 0);
  handled = col_int (res, 0, 1);
  *mean_handle_ms = handled > 0 ? col_int (res, 0, 2) / handled : -1;
  return TRUE;
}

/* Files */

static gboolean
cx_store_pg_add_file (CxStore *store, const CxFile *file, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };
  gsize size;
  gconstpointer data = g_bytes_get_data (file->data, &size);
  g_autoptr (PGresult) res = NULL;

  p_text (&p, file->chat_id);
  p_text (&p, file->id);
  p_text (&p, file->name);
  p_text (&p, file->content_type);
  p_int (&p, size);
  p_bytes (&p, data, size);
  p_int (&p, file->uploaded_at);
  if (!transaction_begin (&tx, self, error))
    return FALSE;
  /* INSERT ... SELECT: nothing inserted names an unknown chat. */
  res = query (self,
               "INSERT INTO files (chat_id, id, name, content_type, size, data, uploaded_at) "
               "SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM chats WHERE id = $1)",
               &p, error);
  if (res == NULL)
    return FALSE;
  if (changes (res) == 0)
    return set_not_found (error, "chat", file->chat_id);
  return transaction_commit (&tx, error);
}

static CxFile *
cx_store_pg_get_file (CxStore *store, const char *chat_id, const char *file_id, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;
  CxFile *file;
  guchar *data;
  size_t size = 0;

  p_text (&p, chat_id);
  p_text (&p, file_id);
  res = read_query (self,
                    "SELECT id, chat_id, name, content_type, data, uploaded_at FROM files "
                    "WHERE chat_id = $1 AND id = $2",
                    &p, error);
  if (res == NULL || PQntuples (res) == 0)
    return NULL;

  data = PQunescapeBytea ((const guchar *) PQgetvalue (res, 0, 4), &size);
  if (data == NULL)
    {
      set_corrupt_error (self, "file", error);
      return NULL;
    }
  file = g_new0 (CxFile, 1);
  file->id = col_dup (res, 0, 0);
  file->chat_id = col_dup (res, 0, 1);
  file->name = col_dup (res, 0, 2);
  file->content_type = col_dup (res, 0, 3);
  file->data = g_bytes_new (data, size);
  file->uploaded_at = col_int (res, 0, 5);
  PQfreemem (data);
  return file;
}

static gboolean
cx_store_pg_file_usage (CxStore *store, const char *chat_id, guint *count, guint64 *total_size,
                        GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  res = read_query (self, "SELECT COUNT(*), COALESCE (SUM (size), 0) FROM files WHERE chat_id = $1",
                    &p, error);
  if (res == NULL)
    return FALSE;
  *count = col_int (res, 0, 0);
  *total_size = col_int (res, 0, 1);
  return TRUE;
}

/* Agents and sessions */

static gboolean
cx_store_pg_put_agent (CxStore *store, const CxAgent *agent, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };

  g_return_val_if_fail (agent->state <= CX_AGENT_READY, FALSE);

  p_text (&p, agent->username);
  p_text (&p, agent->display_name);
  p_text (&p, agent->password_hash);
  p_int (&p, agent->capacity);
  p_text (&p, agent_states[agent->state]);
  p_text (&p, agent->reason);
  p_int (&p, agent->state_since);
  p_int (&p, agent->idle_since);
  /* The state columns only count for a new agent: an existing one keeps its own. */
  if (!transaction_begin (&tx, self, error) ||
      !run (self,
            "INSERT INTO agents (username, display_name, password_hash, capacity, state, reason, "
            "state_since, idle_since) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, "
            "password_hash = excluded.password_hash, capacity = excluded.capacity",
            &p, error))
    return FALSE;

  params_clear (&p);
  p_text (&p, agent->username);
  if (!run (self, "DELETE FROM agent_queues WHERE username = $1", &p, error))
    return FALSE;
  for (guint i = 0; agent->queues != NULL && agent->queues[i] != NULL; i++)
    {
      g_auto (Params) q = { 0 };

      p_text (&q, agent->username);
      p_text (&q, agent->queues[i]);
      if (!run (self,
                "INSERT INTO agent_queues (username, queue) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &q, error))
        return FALSE;
    }

  return transaction_commit (&tx, error);
}

/* Turns a GPtrArray of strings into a strv, NULL when empty ("every queue"). */
static char **
steal_strv (GPtrArray *strings)
{
  if (strings == NULL || strings->len == 0)
    return NULL;
  g_ptr_array_add (strings, NULL);
  return (char **) g_ptr_array_steal (strings, NULL);
}

static CxAgent *
cx_store_pg_get_agent (CxStore *store, const char *username, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;
  g_autoptr (CxAgent) agent = NULL;
  g_autoptr (GPtrArray) queues = g_ptr_array_new_with_free_func (g_free);

  /* One statement, one snapshot: the row, its load and its queues. */
  p_text (&p, username);
  res = read_query (self,
                    "SELECT " AGENT_COLUMNS ", q.queue FROM agents a "
                    "LEFT JOIN agent_queues q ON q.username = a.username "
                    "WHERE a.username = $1 ORDER BY q.queue",
                    &p, error);
  if (res == NULL || PQntuples (res) == 0)
    return NULL;
  agent = agent_from_row (self, res, 0, error);
  if (agent == NULL)
    return NULL;
  for (int row = 0; row < PQntuples (res); row++)
    if (!PQgetisnull (res, row, 9))
      g_ptr_array_add (queues, col_dup (res, row, 9));
  agent->queues = steal_strv (queues);
  return g_steal_pointer (&agent);
}

static GPtrArray *
cx_store_pg_list_agents (CxStore *store, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_autoptr (PGresult) res = NULL;
  g_autoptr (GPtrArray) agents = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_agent_free);
  g_autoptr (GPtrArray) queues = NULL;
  CxAgent *agent = NULL;

  res = read_query (self,
                    "SELECT " AGENT_COLUMNS ", q.queue FROM agents a "
                    "LEFT JOIN agent_queues q ON q.username = a.username "
                    "ORDER BY a.username, q.queue",
                    NULL, error);
  if (res == NULL)
    return NULL;

  for (int row = 0; row < PQntuples (res); row++)
    {
      if (agent == NULL || strcmp (agent->username, PQgetvalue (res, row, 0)) != 0)
        {
          if (agent != NULL)
            agent->queues = steal_strv (queues);
          g_clear_pointer (&queues, g_ptr_array_unref);
          queues = g_ptr_array_new_with_free_func (g_free);
          agent = agent_from_row (self, res, row, error);
          if (agent == NULL)
            return NULL;
          g_ptr_array_add (agents, agent);
        }
      if (!PQgetisnull (res, row, 9))
        g_ptr_array_add (queues, col_dup (res, row, 9));
    }
  if (agent != NULL)
    agent->queues = steal_strv (queues);
  return g_steal_pointer (&agents);
}

static gboolean
cx_store_pg_set_agent_state (CxStore *store, const char *username, CxAgentState state,
                             const char *reason, gint64 now, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, username);
  p_text (&p, agent_states[state]);
  p_text (&p, reason);
  p_int (&p, now);
  if (!transaction_begin (&tx, self, error))
    return FALSE;
  /* The right-hand sides see the old row: idle_since and state_since move only on a change.
   * Chats and pending invitations stay with an agent that goes not ready or offline. */
  res = query (self,
               "UPDATE agents SET "
               "idle_since = CASE WHEN $2 = 'ready' AND state <> 'ready' THEN $4 "
               "ELSE idle_since END, "
               "state_since = CASE WHEN state <> $2 THEN $4 ELSE state_since END, "
               "state = $2, reason = $3 WHERE username = $1",
               &p, error);
  if (res == NULL)
    return FALSE;
  if (changes (res) == 0)
    return set_not_found (error, "agent", username);
  return transaction_commit (&tx, error);
}

static gboolean
cx_store_pg_create_session (CxStore *store, const char *token_hash, const char *username,
                            gint64 expires_at, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, token_hash);
  p_text (&p, username);
  p_int (&p, expires_at);
  if (!transaction_begin (&tx, self, error))
    return FALSE;
  res = query (self,
               "INSERT INTO sessions (token_hash, username, expires_at) SELECT $1, $2, $3 "
               "WHERE EXISTS (SELECT 1 FROM agents WHERE username = $2)",
               &p, error);
  if (res == NULL)
    return FALSE;
  if (changes (res) == 0)
    return set_not_found (error, "agent", username);
  return transaction_commit (&tx, error);
}

static char *
cx_store_pg_lookup_session (CxStore *store, const char *token_hash, gint64 now, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, token_hash);
  p_int (&p, now);
  res = read_query (self, "SELECT username FROM sessions WHERE token_hash = $1 AND expires_at > $2",
                    &p, error);
  if (res == NULL || PQntuples (res) == 0)
    return NULL;
  return col_dup (res, 0, 0);
}

/* Deleting a session that is not there is not an error: signing out twice is fine. */
static gboolean
cx_store_pg_delete_session (CxStore *store, const char *token_hash, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };

  p_text (&p, token_hash);
  if (!transaction_begin (&tx, self, error) ||
      !run (self, "DELETE FROM sessions WHERE token_hash = $1", &p, error))
    return FALSE;
  return transaction_commit (&tx, error);
}

/* Routing */

/* The agent of the chat's pending invitation, if it has one. */
static gboolean
pending_invitation (CxStorePg *self, const char *chat_id, char **agent, GError **error)
{
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  res = query (self, "SELECT agent FROM invitations WHERE chat_id = $1 AND state = 'pending'", &p,
               error);
  if (res == NULL)
    return FALSE;
  *agent = PQntuples (res) > 0 ? col_dup (res, 0, 0) : NULL;
  return TRUE;
}

static CxInvitation *
insert_invitation (CxStorePg *self, const char *chat_id, const char *agent, gint64 now,
                   gint64 expires_at, GError **error)
{
  g_auto (Params) p = { 0 };
  CxInvitation *invitation;

  p_text (&p, chat_id);
  p_text (&p, agent);
  p_int (&p, now);
  p_int (&p, expires_at);
  if (!run (self,
            "INSERT INTO invitations (chat_id, agent, state, offered_at, expires_at) "
            "VALUES ($1, $2, 'pending', $3, $4)",
            &p, error))
    return NULL;

  invitation = g_new0 (CxInvitation, 1);
  invitation->chat_id = g_strdup (chat_id);
  invitation->agent = g_strdup (agent);
  invitation->state = CX_INVITATION_PENDING;
  invitation->offered_at = now;
  invitation->expires_at = expires_at;
  return invitation;
}

/* How many times an offer picks again after finding its locked pick full. */
#define PICK_ATTEMPTS 8

/* Picks and locks an agent for the chat; NULL without an error when nobody can take it. $4
 * lists the agents already found full (a text array), not picked again. */
static gboolean
pick_agent (CxStorePg *self, const char *chat_id, const ChatHead *head, gint64 skip_since,
            char **agent, GError **error)
{
  g_autoptr (GPtrArray) full = g_ptr_array_new_with_free_func (g_free);

  *agent = NULL;
  for (guint attempt = 0; attempt < PICK_ATTEMPTS; attempt++)
    {
      g_auto (Params) p = { 0 };
      g_autoptr (PGresult) res = NULL;
      g_autoptr (PGresult) load = NULL;
      g_autoptr (GString) excluded = g_string_new ("{");

      /* An array literal of the names found full: quoted and escaped, as the array input
       * syntax wants, and passed as a parameter like any other data. */
      for (guint i = 0; i < full->len; i++)
        {
          const char *name = g_ptr_array_index (full, i);

          g_string_append (excluded, i > 0 ? ",\"" : "\"");
          for (const char *c = name; *c != '\0'; c++)
            {
              if (*c == '"' || *c == '\\')
                g_string_append_c (excluded, '\\');
              g_string_append_c (excluded, *c);
            }
          g_string_append_c (excluded, '"');
        }
      g_string_append_c (excluded, '}');

      p_text (&p, head->queue);
      p_text (&p, chat_id);
      p_int (&p, skip_since);
      p_text (&p, excluded->str);
      res = query (self,
                   "SELECT a.username FROM agents a WHERE a.state = 'ready' "
                   "AND a.username <> ALL ($4::text[]) "
                   "AND (EXISTS (SELECT 1 FROM agent_queues q WHERE q.username = a.username "
                   "AND q.queue = $1) "
                   "OR NOT EXISTS (SELECT 1 FROM agent_queues q WHERE q.username = a.username)) "
                   "AND " AGENT_LOAD " < a.capacity "
                   "AND NOT EXISTS (SELECT 1 FROM invitations s WHERE s.chat_id = $2 "
                   "AND s.agent = a.username AND s.state IN ('declined', 'expired') "
                   "AND s.offered_at >= $3) "
                   /* A chat transferred to a queue goes to someone who did not have it already,
                    * when there is one. */
                   "ORDER BY EXISTS (SELECT 1 FROM invitations h WHERE h.chat_id = $2 "
                   "AND h.agent = a.username AND h.state = 'accepted'), a.idle_since, a.username "
                   "LIMIT 1 FOR UPDATE OF a SKIP LOCKED",
                   &p, error);
      if (res == NULL)
        return FALSE;
      if (PQntuples (res) == 0)
        return TRUE; /* nobody */

      /* Locked now: a fresh statement sees every commit that touched this agent before. */
      params_clear (&p);
      p_text (&p, col (res, 0, 0));
      load = query (self,
                    "SELECT " AGENT_LOAD " < a.capacity AND a.state = 'ready' FROM agents a "
                    "WHERE a.username = $1",
                    &p, error);
      if (load == NULL)
        return FALSE;
      if (PQntuples (load) == 1 && strcmp (PQgetvalue (load, 0, 0), "t") == 0)
        {
          *agent = col_dup (res, 0, 0);
          return TRUE;
        }
      g_ptr_array_add (full, col_dup (res, 0, 0));
    }
  return TRUE; /* everyone we locked turned out full: nobody, for now */
}

static CxInvitation *
cx_store_pg_offer_chat (CxStore *store, const char *chat_id, gint64 now, gint64 expires_at,
                        gint64 skip_since, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (ChatHead) head = { 0 };
  g_autofree char *pending = NULL;
  g_autofree char *agent = NULL;
  g_autoptr (CxInvitation) invitation = NULL;
  gboolean found;

  /* The chat's row lock first: a second offer of this chat waits here, then sees ours. */
  if (!transaction_begin (&tx, self, error) ||
      !lock_chat_head (self, chat_id, &head, &found, error))
    return NULL;
  if (!found || head.state != CX_CHAT_WAITING)
    return NULL;
  if (!pending_invitation (self, chat_id, &pending, error) || pending != NULL)
    return NULL;
  if (!pick_agent (self, chat_id, &head, skip_since, &agent, error) || agent == NULL)
    return NULL;

  invitation = insert_invitation (self, chat_id, agent, now, expires_at, error);
  if (invitation == NULL || !transaction_commit (&tx, error))
    return NULL;
  return g_steal_pointer (&invitation);
}

static CxInvitation *
cx_store_pg_invite_agent (CxStore *store, const char *chat_id, const char *agent, gint64 now,
                          gint64 expires_at, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (ChatHead) head = { 0 };
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;
  g_autofree char *pending = NULL;
  g_autoptr (CxInvitation) invitation = NULL;
  gboolean found;

  if (!transaction_begin (&tx, self, error) ||
      !lock_chat_head (self, chat_id, &head, &found, error))
    return NULL;
  if (!found)
    {
      set_not_found (error, "chat", chat_id);
      return NULL;
    }
  if (head.state == CX_CHAT_ENDED)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT, "Chat “%s” has ended", chat_id);
      return NULL;
    }
  if (head.state == CX_CHAT_ACTIVE && g_strcmp0 (head.agent, agent) == 0)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT,
                   "Agent “%s” already has chat “%s”", agent, chat_id);
      return NULL;
    }

  p_text (&p, agent);
  res = query (self, "SELECT 1 FROM agents WHERE username = $1 FOR UPDATE", &p, error);
  if (res == NULL)
    return NULL;
  if (PQntuples (res) == 0)
    {
      set_not_found (error, "agent", agent);
      return NULL;
    }

  /* One invitation at a time: the caller withdraws the pending one first. */
  if (!pending_invitation (self, chat_id, &pending, error))
    return NULL;
  if (pending != NULL)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT,
                   "Chat “%s” is already offered to “%s”", chat_id, pending);
      return NULL;
    }

  invitation = insert_invitation (self, chat_id, agent, now, expires_at, error);
  if (invitation == NULL || !transaction_commit (&tx, error))
    return NULL;
  return g_steal_pointer (&invitation);
}

static gboolean
cx_store_pg_answer_invitation (CxStore *store, const char *chat_id, const char *agent,
                               CxInvitationState state, gint64 now, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (ChatHead) head = { 0 };
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;
  gboolean found;

  /* The chat first, as everywhere: an accept and an expiry of one invitation serialise. */
  if (!transaction_begin (&tx, self, error) ||
      !lock_chat_head (self, chat_id, &head, &found, error))
    return FALSE;

  p_text (&p, chat_id);
  p_text (&p, agent);
  p_text (&p, invitation_states[state]);
  p_int (&p, now);
  res = query (self,
               "UPDATE invitations SET state = $3, answered_at = $4 "
               "WHERE chat_id = $1 AND agent = $2 AND state = 'pending'",
               &p, error);
  if (res == NULL)
    return FALSE;
  if (changes (res) == 0)
    {
      g_auto (Params) q = { 0 };
      g_autoptr (PGresult) any = NULL;

      p_text (&q, chat_id);
      p_text (&q, agent);
      any = query (self, "SELECT 1 FROM invitations WHERE chat_id = $1 AND agent = $2 LIMIT 1", &q,
                   error);
      if (any == NULL)
        return FALSE;
      if (PQntuples (any) == 0)
        g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND,
                     "Chat “%s” was never offered to “%s”", chat_id, agent);
      else
        g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT,
                     "The invitation of “%s” to chat “%s” is no longer pending", agent, chat_id);
      return FALSE;
    }

  if (state == CX_INVITATION_ACCEPTED)
    {
      g_auto (Params) q = { 0 };

      /* Invitations go with their chat, and are withdrawn when it ends. */
      if (!found || head.state == CX_CHAT_ENDED)
        {
          g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT, "Chat “%s” has ended",
                       chat_id);
          return FALSE;
        }
      p_text (&q, chat_id);
      p_text (&q, agent);
      p_int (&q, now);
      if (!run (self,
                "UPDATE chats SET state = 'active', agent = $2, accepted_at = $3 WHERE id = $1", &q,
                error))
        return FALSE;

      /* A transfer: the chat leaves the agent that had it. */
      if (head.state == CX_CHAT_ACTIVE && head.agent != NULL && strcmp (head.agent, agent) != 0 &&
          !touch_idle_if_unloaded (self, head.agent, now, error))
        return FALSE;
    }
  else if (!touch_idle_if_unloaded (self, agent, now, error))
    {
      return FALSE;
    }

  return transaction_commit (&tx, error);
}

static GPtrArray *
cx_store_pg_list_invitations (CxStore *store, const char *agent, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };

  p_text (&p, agent);
  return collect_query (self,
                        "SELECT " INVITATION_COLUMNS " FROM invitations WHERE state = 'pending' "
                        "AND ($1::text IS NULL OR agent = $1) ORDER BY offered_at, chat_id",
                        &p, (FromRow) invitation_from_row, (GDestroyNotify) cx_invitation_free,
                        error);
}

/* Callbacks */

#define CALLBACK_COUNT                                                                             \
  "SELECT COUNT(*) FROM callbacks WHERE service = $1 AND desired_time >= $2 "                      \
  "AND desired_time < $3 AND state <> 'CANCELLED' AND ($4::text IS NULL OR id <> $4)"

/* FULL unless fewer than @capacity callbacks of @service that are not cancelled are due in the
 * slot, @except not counted; counted under the service's lock, held until the transaction
 * ends, so that two nodes cannot both take the last place. */
static gboolean
check_slot (CxStorePg *self, const char *service, gint64 slot_start, gint64 slot_end,
            guint capacity, const char *except, GError **error)
{
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;
  gint64 count;

  p_text (&p, service);
  if (!run (self, "SELECT pg_advisory_xact_lock (hashtext ('cxdesk callbacks ' || $1))", &p, error))
    return FALSE;

  p_int (&p, slot_start);
  p_int (&p, slot_end);
  p_text (&p, except);
  res = query (self, CALLBACK_COUNT, &p, error);
  if (res == NULL)
    return FALSE;
  count = col_int (res, 0, 0);
  if (count >= capacity)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FULL,
                   "The slot has no room left (%" G_GINT64_FORMAT " of %u taken)", count, capacity);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_callback_properties (CxStorePg *self, const char *id, JsonNode *object, GError **error)
{
  g_auto (Params) p = { 0 };
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  p_text (&p, id);
  if (!run (self, "DELETE FROM callback_properties WHERE callback_id = $1", &p, error))
    return FALSE;
  if (object == NULL)
    return TRUE;

  json_object_iter_init (&iter, json_node_get_object (object));
  while (json_object_iter_next (&iter, &key, &value))
    {
      g_auto (Params) q = { 0 };

      p_text (&q, id);
      p_text (&q, key);
      /* Strings as they are, other values as JSON, as on SQLite. */
      if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
        p_text (&q, json_node_get_string (value));
      else if (JSON_NODE_HOLDS_NULL (value))
        p_text (&q, NULL);
      else
        p_json (&q, value);
      if (!run (self,
                "INSERT INTO callback_properties (callback_id, key, value) VALUES ($1, $2, $3)", &q,
                error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
cx_store_pg_create_callback (CxStore *store, const CxCallback *callback, gint64 slot_start,
                             gint64 slot_end, guint capacity, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };

  if (!transaction_begin (&tx, self, error))
    return FALSE;
  if (capacity > 0 && strcmp (callback->state, "CANCELLED") != 0 &&
      !check_slot (self, callback->service, slot_start, slot_end, capacity, NULL, error))
    return FALSE;

  p_text (&p, callback->id);
  p_text (&p, callback->service);
  p_text (&p, callback->customer_number);
  p_text (&p, callback->state);
  p_int (&p, callback->desired_time);
  p_int (&p, callback->expiration_time);
  p_int (&p, callback->created_at);
  if (callback->properties != NULL)
    p_json (&p, callback->properties);
  else
    p_text (&p, "{}");
  p_text (&p, callback->secret_hash);
  if (!run (self,
            "INSERT INTO callbacks (id, service, customer_number, state, desired_time, "
            "expiration_time, created_at, properties, secret_hash) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &p, error) ||
      !write_callback_properties (self, callback->id, callback->properties, error))
    return FALSE;

  return transaction_commit (&tx, error);
}

static CxCallback *
cx_store_pg_get_callback (CxStore *store, const char *id, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, id);
  res =
      read_query (self, "SELECT " CALLBACK_COLUMNS " FROM callbacks c WHERE c.id = $1", &p, error);
  if (res == NULL || PQntuples (res) == 0)
    return NULL;
  return callback_from_row (self, res, 0, error);
}

static gboolean
cx_store_pg_update_callback (CxStore *store, const CxCallback *callback, gint64 slot_start,
                             gint64 slot_end, guint capacity, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  if (!transaction_begin (&tx, self, error))
    return FALSE;

  p_text (&p, callback->id);
  res = query (self, "SELECT service FROM callbacks WHERE id = $1 FOR UPDATE", &p, error);
  if (res == NULL)
    return FALSE;
  if (PQntuples (res) == 0)
    return set_not_found (error, "callback", callback->id);

  /* A cancellation never needs room. */
  if (capacity > 0 && strcmp (callback->state, "CANCELLED") != 0 &&
      !check_slot (self, col (res, 0, 0), slot_start, slot_end, capacity, callback->id, error))
    return FALSE;

  p_text (&p, callback->state);
  p_int (&p, callback->desired_time);
  p_int (&p, callback->expiration_time);
  if (callback->properties != NULL)
    p_json (&p, callback->properties);
  else
    p_text (&p, "{}");
  if (!run (self,
            "UPDATE callbacks SET state = $2, desired_time = $3, expiration_time = $4, "
            "properties = $5 WHERE id = $1",
            &p, error) ||
      !write_callback_properties (self, callback->id, callback->properties, error))
    return FALSE;

  return transaction_commit (&tx, error);
}

static GPtrArray *
cx_store_pg_find_callbacks (CxStore *store, const char *service, const char *key, const char *value,
                            GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  const char *where;

  /* The GMS keys that are columns here, then the others. $1 the service or NULL. */
  p_text (&p, service);
  if (key == NULL && value == NULL)
    where = "TRUE";
  else if (key == NULL)
    where = "(c.customer_number = $2 OR c.state = $2 OR c.id = $2 OR EXISTS (SELECT 1 FROM "
            "callback_properties p WHERE p.callback_id = c.id AND p.value = $2))";
  else if (strcmp (key, "_customer_number") == 0)
    where = value == NULL ? "TRUE" : "c.customer_number = $2";
  else if (strcmp (key, "_callback_state") == 0)
    where = value == NULL ? "TRUE" : "c.state = $2";
  else if (strcmp (key, "_id") == 0)
    where = value == NULL ? "TRUE" : "c.id = $2";
  else
    where = "EXISTS (SELECT 1 FROM callback_properties p WHERE p.callback_id = c.id "
            "AND p.key = $3 AND ($2::text IS NULL OR p.value = $2))";

  if (strcmp (where, "TRUE") != 0)
    p_text (&p, value);
  if (key != NULL && strstr (where, "$3") != NULL)
    p_text (&p, key);

  {
    /* Only constant SQL fragments are put together here; every value is a parameter. */
    g_autofree char *sql = g_strconcat ("SELECT " CALLBACK_COLUMNS " FROM callbacks c "
                                        "WHERE ($1::text IS NULL OR c.service = $1) AND ",
                                        where, CALLBACK_ORDER, NULL);

    return collect_query (self, sql, &p, (FromRow) callback_from_row,
                          (GDestroyNotify) cx_callback_free, error);
  }
}

static gboolean
cx_store_pg_count_callbacks (CxStore *store, const char *service, gint64 start, gint64 end,
                             guint *count, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, service);
  p_int (&p, start);
  p_int (&p, end);
  p_text (&p, NULL);
  res = read_query (self, CALLBACK_COUNT, &p, error);
  if (res == NULL)
    return FALSE;
  *count = col_int (res, 0, 0);
  return TRUE;
}

/* Customer rate limits */

static gboolean
cx_store_pg_save_rate_buckets (CxStore *store, GPtrArray *buckets, gint64 forget_before,
                               GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };

  if (!transaction_begin (&tx, self, error))
    return FALSE;
  for (guint i = 0; i < buckets->len; i++)
    {
      const CxStoredBucket *bucket = g_ptr_array_index (buckets, i);
      g_auto (Params) q = { 0 };
      char tokens[G_ASCII_DTOSTR_BUF_SIZE];

      p_text (&q, bucket->key);
      p_text (&q, g_ascii_dtostr (tokens, sizeof tokens, bucket->tokens));
      p_int (&q, bucket->updated_at);
      if (!run (self,
                "INSERT INTO rate_buckets (key, tokens, updated_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, "
                "updated_at = excluded.updated_at",
                &q, error))
        return FALSE;
    }
  p_int (&p, forget_before);
  if (!run (self, "DELETE FROM rate_buckets WHERE updated_at < $1", &p, error))
    return FALSE;
  return transaction_commit (&tx, error);
}

static CxStoredBucket *
bucket_from_row (CxStorePg *self, PGresult *res, int row, GError **error)
{
  CxStoredBucket *bucket = g_new0 (CxStoredBucket, 1);

  bucket->key = col_dup (res, row, 0);
  bucket->tokens = g_ascii_strtod (PQgetvalue (res, row, 1), NULL);
  bucket->updated_at = col_int (res, row, 2);
  return bucket;
}

static GPtrArray *
cx_store_pg_load_rate_buckets (CxStore *store, gint64 since, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };

  p_int (&p, since);
  return collect_query (self,
                        "SELECT key, tokens, updated_at FROM rate_buckets "
                        "WHERE updated_at >= $1",
                        &p, (FromRow) bucket_from_row, (GDestroyNotify) cx_stored_bucket_free,
                        error);
}

/* Batches */

static gboolean
cx_store_pg_begin_batch (CxStore *store, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);

  g_return_val_if_fail (!self->in_batch, FALSE);

  if (!ensure_connected (self, error) || !run (self, "BEGIN", NULL, error))
    return FALSE;
  self->in_batch = TRUE;
  self->batch_lost = FALSE;
  return TRUE;
}

static gboolean
cx_store_pg_commit_batch (CxStore *store, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  gboolean ok;

  g_return_val_if_fail (self->in_batch, FALSE);

  ok = check_batch (self, error) && run (self, "COMMIT", NULL, error);
  self->in_batch = FALSE;
  if (!ok && PQtransactionStatus (self->conn) != PQTRANS_IDLE)
    run (self, "ROLLBACK", NULL, NULL);
  return ok;
}

static void
cx_store_pg_rollback_batch (CxStore *store)
{
  CxStorePg *self = CX_STORE_PG (store);

  g_return_if_fail (self->in_batch);

  self->in_batch = FALSE;
  if (PQtransactionStatus (self->conn) != PQTRANS_IDLE)
    run (self, "ROLLBACK", NULL, NULL);
}

/* Opening */

/* What every session needs, again after a reconnection. */
static gboolean
prepare_session (CxStorePg *self, GError **error)
{
  /* Durable commits whatever the server's default; NOTICEs (IF NOT EXISTS) kept off stderr; a
   * lock held too long (a stuck node) fails the call rather than hanging the server. */
  return run (self,
              "SET synchronous_commit = on; SET client_min_messages = warning; "
              "SET lock_timeout = '10s'; SET idle_in_transaction_session_timeout = '60s'",
              NULL, error);
}

static gboolean
migrate (CxStorePg *self, GError **error)
{
  guint latest = cx_store_migration_count ("postgresql");
  g_autoptr (PGresult) res = NULL;
  guint version;

  /* All the steps in one transaction (PostgreSQL's DDL is transactional), under a lock, so that
   * nodes starting together migrate once. */
  if (!run (self, "BEGIN", NULL, error) ||
      !run (self, "SELECT pg_advisory_xact_lock (" MIGRATION_LOCK ")", NULL, error) ||
      !run (self, "CREATE TABLE IF NOT EXISTS cx_schema (version INTEGER NOT NULL)", NULL, error))
    goto fail;
  res = query (self, "SELECT version FROM cx_schema", NULL, error);
  if (res == NULL)
    goto fail;
  version = PQntuples (res) > 0 ? col_int (res, 0, 0) : 0;
  if (version > latest)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_VERSION,
                   "Database %s has schema version %u, written by a newer cxdesk-server; this one "
                   "knows versions up to %u",
                   self->name, version, latest);
      goto fail;
    }

  for (guint i = version + 1; i <= latest; i++)
    {
      g_autoptr (GBytes) script = cx_store_migration ("postgresql", i);

      g_debug ("Migrating %s to schema version %u", self->name, i);
      /* A script of several statements, no parameters: PQexec runs them all. */
      g_clear_pointer (&res, PQclear);
      res = PQexec (self->conn, g_bytes_get_data (script, NULL));
      if (PQresultStatus (res) != PGRES_COMMAND_OK)
        {
          set_pg_error (self, res, error);
          g_prefix_error (error, "Could not migrate to schema version %u: ", i);
          goto fail;
        }
    }
  if (version < latest)
    {
      g_auto (Params) p = { 0 };

      p_int (&p, latest);
      if (!run (self, "DELETE FROM cx_schema", NULL, error) ||
          !run (self, "INSERT INTO cx_schema (version) VALUES ($1)", &p, error))
        goto fail;
    }
  return run (self, "COMMIT", NULL, error);

fail:
  run (self, "ROLLBACK", NULL, NULL);
  return FALSE;
}

static gboolean
cx_store_pg_init_database (GInitable *initable, GCancellable *cancellable, GError **error)
{
  CxStorePg *self = CX_STORE_PG (initable);
  const char *keys[] = { "dbname", "connect_timeout", NULL };
  const char *values[] = { self->url, "10", NULL };

  g_return_val_if_fail (self->url != NULL, FALSE);
  g_return_val_if_fail (self->conn == NULL, FALSE);

  /* expand_dbname: the URL is read as a whole connection string; a timeout of our own unless
   * the URL gives one. */
  self->conn = PQconnectdbParams (keys, values, 1);
  g_free (self->name);
  self->name = g_strdup_printf ("“%s” on %s:%s", PQdb (self->conn), PQhost (self->conn),
                                PQport (self->conn));
  if (PQstatus (self->conn) != CONNECTION_OK)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED,
                   "Could not connect to the database %s: %s", self->name,
                   PQerrorMessage (self->conn));
      return FALSE;
    }

  return prepare_session (self, error) && migrate (self, error);
}

static void
cx_store_pg_initable_init (GInitableIface *iface)
{
  iface->init = cx_store_pg_init_database;
}

static void
cx_store_pg_store_init (CxStoreInterface *iface)
{
  iface->create_chat = cx_store_pg_create_chat;
  iface->get_chat = cx_store_pg_get_chat;
  iface->append = cx_store_pg_append;
  iface->get_messages = cx_store_pg_get_messages;
  iface->list_open_chats = cx_store_pg_list_open_chats;
  iface->queue_position = cx_store_pg_queue_position;
  iface->queue_stats = cx_store_pg_queue_stats;
  iface->add_file = cx_store_pg_add_file;
  iface->get_file = cx_store_pg_get_file;
  iface->file_usage = cx_store_pg_file_usage;
  iface->put_agent = cx_store_pg_put_agent;
  iface->get_agent = cx_store_pg_get_agent;
  iface->list_agents = cx_store_pg_list_agents;
  iface->set_agent_state = cx_store_pg_set_agent_state;
  iface->create_session = cx_store_pg_create_session;
  iface->lookup_session = cx_store_pg_lookup_session;
  iface->delete_session = cx_store_pg_delete_session;
  iface->offer_chat = cx_store_pg_offer_chat;
  iface->invite_agent = cx_store_pg_invite_agent;
  iface->answer_invitation = cx_store_pg_answer_invitation;
  iface->list_invitations = cx_store_pg_list_invitations;
  iface->create_callback = cx_store_pg_create_callback;
  iface->get_callback = cx_store_pg_get_callback;
  iface->update_callback = cx_store_pg_update_callback;
  iface->find_callbacks = cx_store_pg_find_callbacks;
  iface->count_callbacks = cx_store_pg_count_callbacks;
  iface->begin_batch = cx_store_pg_begin_batch;
  iface->commit_batch = cx_store_pg_commit_batch;
  iface->rollback_batch = cx_store_pg_rollback_batch;
  iface->save_rate_buckets = cx_store_pg_save_rate_buckets;
  iface->load_rate_buckets = cx_store_pg_load_rate_buckets;
}

static void
cx_store_pg_finalize (GObject *object)
{
  CxStorePg *self = CX_STORE_PG (object);

  g_clear_pointer (&self->conn, PQfinish);
  g_free (self->url);
  g_free (self->name);

  G_OBJECT_CLASS (cx_store_pg_parent_class)->finalize (object);
}

static void
cx_store_pg_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxStorePg *self = CX_STORE_PG (object);

  switch (prop_id)
    {
      case PROP_URL:
        g_value_set_string (value, self->url);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_store_pg_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CxStorePg *self = CX_STORE_PG (object);

  switch (prop_id)
    {
      case PROP_URL:
        self->url = g_value_dup_string (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_store_pg_class_init (CxStorePgClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cx_store_pg_finalize;
  object_class->get_property = cx_store_pg_get_property;
  object_class->set_property = cx_store_pg_set_property;

  /* The libpq connection URL (it may hold a password: never printed). */
  properties[PROP_URL] = g_param_spec_string ("url", NULL, NULL, NULL,
                                              G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                                  G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cx_store_pg_init (CxStorePg *self)
{
  self->name = g_strdup ("(not connected)");
}

CxStore *
cx_store_pg_open (const char *url, GError **error)
{
  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (CX_TYPE_STORE_PG, NULL, error, "url", url, NULL);
}
