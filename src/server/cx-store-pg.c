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
 * messages and files), and a result of more than MAX_ROWS rows fails instead of being used.
 *
 * This file connects, migrates, runs queries and transactions, and batches; the calls are in
 * cx-store-pg-{chats,agents,callbacks}.c, sharing cx-store-pg-private.h. */
#define G_LOG_DOMAIN "cx-store"

#include "config.h"

#include "server/cx-store-migrations.h"
#include "server/cx-store-pg-private.h"

/* The schema version table, and the advisory lock key its migrations run under ("cxdesk"). */
#define MIGRATION_LOCK "7310594017265770875"

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

gboolean
cx_pg_set_pg_error (CxStorePg *self, const PGresult *res, GError **error)
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

gboolean
cx_pg_set_corrupt_error (CxStorePg *self, const char *what, GError **error)
{
  g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED, "Database %s: corrupt %s", self->name,
               what);
  return FALSE;
}

gboolean
cx_pg_set_not_found (GError **error, const char *what, const char *id)
{
  g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND, "No %s “%s”", what, id);
  return FALSE;
}

/* Parameters, all as text except bytea, which goes in binary. */

void
cx_pg_params_clear (Params *p)
{
  for (int i = 0; i < p->n; i++)
    g_free (p->owned[i]);
  p->n = 0;
}

/* Runs @sql with @p; a result (rows or not) or NULL with an error. Without @p, SQL of our own
 * with no data in it (BEGIN, SET ...), which may hold several statements. */
PGresult *
cx_pg_query (CxStorePg *self, const char *sql, const Params *p, GError **error)
{
  PGresult *res =
      p != NULL ? PQexecParams (self->conn, sql, p->n, NULL, p->values, p->lengths, p->formats, 0)
                : PQexec (self->conn, sql);
  ExecStatusType status = PQresultStatus (res);

  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    {
      cx_pg_set_pg_error (self, res, error);
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

gboolean
cx_pg_run (CxStorePg *self, const char *sql, const Params *p, GError **error)
{
  g_autoptr (PGresult) res = cx_pg_query (self, sql, p, error);

  return res != NULL;
}

/* How many rows an INSERT/UPDATE/DELETE touched. */
gint64
cx_pg_changes (PGresult *res)
{
  return g_ascii_strtoll (PQcmdTuples (res), NULL, 10);
}

/* A JSON column (cx_store_json_from_text). */
gboolean
cx_pg_col_json (CxStorePg *self, PGresult *res, int row, int i, gboolean object, JsonNode **out,
                GError **error)
{
  if (!cx_store_json_from_text (col (res, row, i), object, out))
    return cx_pg_set_corrupt_error (self, "JSON", error);
  return TRUE;
}

/* Transactions: rolled back when the scope ends, unless committed. */

void
cx_pg_rollback (CxStorePg *self)
{
  if (self->in_batch)
    {
      /* Undoes this call alone; the batch goes on, unless the connection lost it. */
      if (!cx_pg_run (self, "ROLLBACK TO SAVEPOINT cx_call", NULL, NULL) ||
          !cx_pg_run (self, "RELEASE SAVEPOINT cx_call", NULL, NULL))
        self->batch_lost = TRUE;
    }
  /* A lost connection (PQTRANS_UNKNOWN) took its transaction with it. */
  else if ((PQtransactionStatus (self->conn) == PQTRANS_INTRANS ||
            PQtransactionStatus (self->conn) == PQTRANS_INERROR) &&
           !cx_pg_run (self, "ROLLBACK", NULL, NULL))
    {
      g_warning ("Database %s: could not roll back: %s", self->name, PQerrorMessage (self->conn));
    }
}

void
cx_pg_transaction_clear (Transaction *tx)
{
  if (tx->self != NULL)
    cx_pg_rollback (g_steal_pointer (&tx->self));
}

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

gboolean
cx_pg_transaction_begin (Transaction *tx, CxStorePg *self, GError **error)
{
  g_assert (tx->self == NULL);

  if (self->in_batch)
    {
      if (!cx_pg_check_batch (self, error) || !cx_pg_run (self, "SAVEPOINT cx_call", NULL, error))
        return FALSE;
    }
  else if (!ensure_connected (self, error) || !cx_pg_run (self, "BEGIN", NULL, error))
    {
      return FALSE;
    }

  tx->self = self;
  return TRUE;
}

gboolean
cx_pg_transaction_commit (Transaction *tx, GError **error)
{
  CxStorePg *self = tx->self;

  g_assert (self != NULL);
  if (!cx_pg_run (self, self->in_batch ? "RELEASE SAVEPOINT cx_call" : "COMMIT", NULL, error))
    return FALSE;
  tx->self = NULL;
  return TRUE;
}

gboolean
cx_pg_check_batch (CxStorePg *self, GError **error)
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
PGresult *
cx_pg_read_query (CxStorePg *self, const char *sql, const Params *p, GError **error)
{
  if (!self->in_batch && !ensure_connected (self, error))
    return NULL;
  if (self->in_batch && !cx_pg_check_batch (self, error))
    return NULL;
  return cx_pg_query (self, sql, p, error);
}

/* Rows */

CxChat *
cx_pg_chat_from_row (CxStorePg *self, PGresult *res, int row, GError **error)
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
  if (!cx_pg_col_json (self, res, row, 11, TRUE, &chat->user_data, error))
    return NULL;
  if (!STATE_FROM_TEXT (chat_states, col (res, row, 12), &chat->state))
    {
      cx_pg_set_corrupt_error (self, "chat state", error);
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

CxAgent *
cx_pg_agent_from_row (CxStorePg *self, PGresult *res, int row, GError **error)
{
  g_autoptr (CxAgent) agent = g_new0 (CxAgent, 1);

  agent->username = col_dup (res, row, 0);
  agent->display_name = col_dup (res, row, 1);
  agent->password_hash = col_dup (res, row, 2);
  agent->capacity = col_int (res, row, 3);
  if (!STATE_FROM_TEXT (agent_states, col (res, row, 4), &agent->state))
    {
      cx_pg_set_corrupt_error (self, "agent state", error);
      return NULL;
    }
  agent->reason = col_dup (res, row, 5);
  agent->state_since = col_int (res, row, 6);
  agent->idle_since = col_int (res, row, 7);
  agent->load = col_int (res, row, 8);
  return g_steal_pointer (&agent);
}

CxInvitation *
cx_pg_invitation_from_row (CxStorePg *self, PGresult *res, int row, GError **error)
{
  g_autoptr (CxInvitation) invitation = g_new0 (CxInvitation, 1);

  invitation->chat_id = col_dup (res, row, 0);
  invitation->agent = col_dup (res, row, 1);
  if (!STATE_FROM_TEXT (invitation_states, col (res, row, 2), &invitation->state))
    {
      cx_pg_set_corrupt_error (self, "invitation state", error);
      return NULL;
    }
  invitation->offered_at = col_int (res, row, 3);
  invitation->expires_at = col_int (res, row, 4);
  return g_steal_pointer (&invitation);
}

CxCallback *
cx_pg_callback_from_row (CxStorePg *self, PGresult *res, int row, GError **error)
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
  if (!cx_pg_col_json (self, res, row, 7, TRUE, &callback->properties, error))
    return NULL;
  return g_steal_pointer (&callback);
}

CxMessage *
cx_pg_message_from_row (CxStorePg *self, PGresult *res, int row, GError **error)
{
  CxMessageType type;
  CxPartyType from_type;
  g_autoptr (JsonNode) user_data = NULL;
  CxMessage *message;

  if (!cx_message_type_from_string (col (res, row, 1), &type))
    {
      cx_pg_set_corrupt_error (self, "message type", error);
      return NULL;
    }
  if (!cx_party_type_from_string (col (res, row, 2), &from_type))
    {
      cx_pg_set_corrupt_error (self, "message sender type", error);
      return NULL;
    }
  if (!cx_pg_col_json (self, res, row, 7, FALSE, &user_data, error))
    return NULL;

  message = cx_message_new (type, from_type, col (res, row, 3), col (res, row, 4),
                            col (res, row, 5), col_int (res, row, 6), NULL);
  /* Not shared yet: fill in what the constructor does not take. */
  message->index = col_int (res, row, 0);
  message->user_data = g_steal_pointer (&user_data);
  return message;
}

/* The rows of @res, from @first on, as items of a new array. */
GPtrArray *
cx_pg_collect (CxStorePg *self, PGresult *res, int first, FromRow from_row,
               GDestroyNotify free_func, GError **error)
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

GPtrArray *
cx_pg_collect_query (CxStorePg *self, const char *sql, const Params *p, FromRow from_row,
                     GDestroyNotify free_func, GError **error)
{
  g_autoptr (PGresult) res = cx_pg_read_query (self, sql, p, error);

  if (res == NULL)
    return NULL;
  return cx_pg_collect (self, res, 0, from_row, free_func, error);
}

/* What several calls do */

/* Sets idle_since of @agent to @now if it has nothing left: its load just went down. */
gboolean
cx_pg_touch_idle_if_unloaded (CxStorePg *self, const char *agent, gint64 now, GError **error)
{
  g_auto (Params) p = { 0 };

  p_text (&p, agent);
  p_int (&p, now);
  return cx_pg_run (
      self,
      "UPDATE agents SET idle_since = $2 WHERE username = $1 "
      "AND NOT EXISTS (SELECT 1 FROM chats c WHERE c.agent = $1 AND c.state = 'active') "
      "AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.agent = $1 "
      "AND i.state = 'pending')",
      &p, error);
}

/* Withdraws the pending invitation of @chat_id, if any: the chat ended or moved. */
gboolean
cx_pg_withdraw_invitations (CxStorePg *self, const char *chat_id, gint64 now, GError **error)
{
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  p_int (&p, now);
  res = cx_pg_query (self,
                     "UPDATE invitations SET state = 'withdrawn', answered_at = $2 "
                     "WHERE chat_id = $1 AND state = 'pending' RETURNING agent",
                     &p, error);
  if (res == NULL)
    return FALSE;
  for (int row = 0; row < PQntuples (res); row++)
    if (!cx_pg_touch_idle_if_unloaded (self, col (res, row, 0), now, error))
      return FALSE;
  return TRUE;
}

void
cx_pg_chat_head_clear (ChatHead *head)
{
  g_clear_pointer (&head->queue, g_free);
  g_clear_pointer (&head->agent, g_free);
}

gboolean
cx_pg_lock_chat_head (CxStorePg *self, const char *chat_id, ChatHead *head, gboolean *found,
                      GError **error)
{
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  res = cx_pg_query (self,
                     "SELECT next_index, state, queue, agent FROM chats WHERE id = $1 FOR UPDATE",
                     &p, error);
  if (res == NULL)
    return FALSE;
  *found = PQntuples (res) == 1;
  if (!*found)
    return TRUE;
  head->next_index = col_int (res, 0, 0);
  if (!STATE_FROM_TEXT (chat_states, col (res, 0, 1), &head->state))
    return cx_pg_set_corrupt_error (self, "chat state", error);
  head->queue = col_dup (res, 0, 2);
  head->agent = col_dup (res, 0, 3);
  return TRUE;
}

/* Batches */

static gboolean
cx_store_pg_begin_batch (CxStore *store, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);

  g_return_val_if_fail (!self->in_batch, FALSE);

  if (!ensure_connected (self, error) || !cx_pg_run (self, "BEGIN", NULL, error))
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

  ok = cx_pg_check_batch (self, error) && cx_pg_run (self, "COMMIT", NULL, error);
  self->in_batch = FALSE;
  if (!ok && PQtransactionStatus (self->conn) != PQTRANS_IDLE)
    cx_pg_run (self, "ROLLBACK", NULL, NULL);
  return ok;
}

static void
cx_store_pg_rollback_batch (CxStore *store)
{
  CxStorePg *self = CX_STORE_PG (store);

  g_return_if_fail (self->in_batch);

  self->in_batch = FALSE;
  if (PQtransactionStatus (self->conn) != PQTRANS_IDLE)
    cx_pg_run (self, "ROLLBACK", NULL, NULL);
}

/* Opening */

/* What every session needs, again after a reconnection. */
static gboolean
prepare_session (CxStorePg *self, GError **error)
{
  /* Durable commits whatever the server's default; NOTICEs (IF NOT EXISTS) kept off stderr; a
   * lock held too long (a stuck node) fails the call rather than hanging the server. */
  return cx_pg_run (self,
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
  if (!cx_pg_run (self, "BEGIN", NULL, error) ||
      !cx_pg_run (self, "SELECT pg_advisory_xact_lock (" MIGRATION_LOCK ")", NULL, error) ||
      !cx_pg_run (self, "CREATE TABLE IF NOT EXISTS cx_schema (version INTEGER NOT NULL)", NULL,
                  error))
    goto fail;
  res = cx_pg_query (self, "SELECT version FROM cx_schema", NULL, error);
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
          cx_pg_set_pg_error (self, res, error);
          g_prefix_error (error, "Could not migrate to schema version %u: ", i);
          goto fail;
        }
    }
  if (version < latest)
    {
      g_auto (Params) p = { 0 };

      p_int (&p, latest);
      if (!cx_pg_run (self, "DELETE FROM cx_schema", NULL, error) ||
          !cx_pg_run (self, "INSERT INTO cx_schema (version) VALUES ($1)", &p, error))
        goto fail;
    }
  return cx_pg_run (self, "COMMIT", NULL, error);

fail:
  cx_pg_run (self, "ROLLBACK", NULL, NULL);
  return FALSE;
}

static gboolean
cx_store_pg_init_database (GInitable *initable, GCancellable *cancellable, GError **error)
{
  CxStorePg *self = CX_STORE_PG (initable);
  /* Defaults first: what the URL says comes after and wins. */
  const char *keys[] = { "connect_timeout", "fallback_application_name", "dbname", NULL };
  const char *values[] = { "10", "cxdesk-server", self->url, NULL };

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
  iface->create_cobrowse = cx_store_pg_create_cobrowse;
  iface->join_cobrowse = cx_store_pg_join_cobrowse;
  iface->cobrowse_mode = cx_store_pg_cobrowse_mode;
  iface->end_cobrowse = cx_store_pg_end_cobrowse;
  iface->get_cobrowse = cx_store_pg_get_cobrowse;
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
