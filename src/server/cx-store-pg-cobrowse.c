/* cx-store-pg-cobrowse.c: CxStorePg's co-browse sessions and their audit (issue 11; schema in
 * sql/postgresql/002-cobrowse.sql), the same calls as cx-store-sqlite-cobrowse.c. */
#define G_LOG_DOMAIN "cx-store"

#include "config.h"

#include "server/cx-store-pg-private.h"

gboolean
cx_store_pg_create_cobrowse (CxStore *store, const CxCobrowseRecord *record, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };
  g_auto (Params) q = { 0 };
  g_autoptr (PGresult) taken = NULL;

  if (!cx_pg_transaction_begin (&tx, self, error))
    return FALSE;
  /* Two creations of one code in two processes: the lock orders them. */
  p_text (&p, record->code);
  p_int (&p, record->created_at);
  taken = cx_pg_query (self,
                       "SELECT pg_advisory_xact_lock(hashtext('cobrowse:' || $1)), "
                       "EXISTS (SELECT 1 FROM cobrowse_sessions WHERE code = $1 "
                       "AND ended_at IS NULL AND expires_at > $2)",
                       &p, error);
  if (taken == NULL)
    return FALSE;
  if (g_str_equal (PQgetvalue (taken, 0, 1), "t"))
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT,
                   "A co-browse session that can be joined has this code");
      return FALSE;
    }

  p_text (&q, record->id);
  p_text (&q, record->code);
  p_text (&q, record->secret_hash);
  p_text (&q, record->address);
  p_int (&q, record->created_at);
  p_int (&q, record->expires_at);
  if (!cx_pg_run (self,
                  "INSERT INTO cobrowse_sessions (id, code, secret_hash, address, created_at, "
                  "expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                  &q, error))
    return FALSE;
  return cx_pg_transaction_commit (&tx, error);
}

char *
cx_store_pg_join_cobrowse (CxStore *store, const char *code, const char *agent, gint64 now,
                           GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) q = { 0 };
  g_autoptr (PGresult) claim = NULL;
  g_autofree char *id = NULL;

  if (!cx_pg_transaction_begin (&tx, self, error))
    return NULL;
  p_text (&q, code);
  p_text (&q, agent);
  p_int (&q, now);
  claim = cx_pg_query (self,
                       "UPDATE cobrowse_sessions SET code = NULL, agent = $2, joined_at = $3 "
                       "WHERE code = $1 AND agent IS NULL AND ended_at IS NULL "
                       "AND expires_at > $3 RETURNING id",
                       &q, error);
  if (claim == NULL)
    return NULL;
  if (PQntuples (claim) == 0)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND,
                   "No co-browse session can be joined with this code");
      return NULL;
    }
  id = col_dup (claim, 0, 0);
  if (!cx_pg_transaction_commit (&tx, error))
    return NULL;
  return g_steal_pointer (&id);
}

gboolean
cx_store_pg_cobrowse_mode (CxStore *store, const char *id, gint64 at, const char *mode,
                           const char *changed_by, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  if (!cx_pg_transaction_begin (&tx, self, error))
    return FALSE;
  p_text (&p, id);
  p_int (&p, at);
  p_text (&p, mode);
  p_text (&p, changed_by);
  res = cx_pg_query (self,
                     "INSERT INTO cobrowse_modes (session_id, at, mode, changed_by) "
                     "SELECT id, $2, $3, $4 FROM cobrowse_sessions WHERE id = $1",
                     &p, error);
  if (res == NULL)
    return FALSE;
  if (cx_pg_changes (res) == 0)
    return cx_pg_set_not_found (error, "co-browse session", id);
  return cx_pg_transaction_commit (&tx, error);
}

gboolean
cx_store_pg_end_cobrowse (CxStore *store, const char *id, gint64 at, const char *ended_by,
                          const char *reason, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };
  g_auto (Params) q = { 0 };
  g_autoptr (PGresult) res = NULL;
  g_autoptr (PGresult) exists = NULL;

  if (!cx_pg_transaction_begin (&tx, self, error))
    return FALSE;
  p_text (&p, id);
  p_int (&p, at);
  p_text (&p, ended_by);
  p_text (&p, reason);
  res = cx_pg_query (self,
                     "UPDATE cobrowse_sessions SET code = NULL, ended_at = $2, ended_by = $3, "
                     "end_reason = $4 WHERE id = $1 AND ended_at IS NULL",
                     &p, error);
  if (res == NULL)
    return FALSE;
  if (cx_pg_changes (res) == 0)
    {
      p_text (&q, id);
      exists = cx_pg_query (self, "SELECT 1 FROM cobrowse_sessions WHERE id = $1", &q, error);
      if (exists == NULL)
        return FALSE;
      if (PQntuples (exists) == 0)
        return cx_pg_set_not_found (error, "co-browse session", id);
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT,
                   "Co-browse session %s has already ended", id);
      return FALSE;
    }
  return cx_pg_transaction_commit (&tx, error);
}

static CxCobrowseModeChange *
mode_from_row (CxStorePg *self, PGresult *res, int row, GError **error)
{
  CxCobrowseModeChange *change = g_new0 (CxCobrowseModeChange, 1);

  change->at = col_int (res, row, 0);
  change->mode = col_dup (res, row, 1);
  change->changed_by = col_dup (res, row, 2);
  return change;
}

/* A NULL time column is 0: "not yet". */
static gint64
col_time (PGresult *res, int row, int i)
{
  return PQgetisnull (res, row, i) ? 0 : col_int (res, row, i);
}

CxCobrowseRecord *
cx_store_pg_get_cobrowse (CxStore *store, const char *id, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_auto (Params) q = { 0 };
  g_autoptr (PGresult) res = NULL;
  g_autoptr (CxCobrowseRecord) record = NULL;

  p_text (&p, id);
  res = cx_pg_read_query (self,
                          "SELECT id, code, secret_hash, address, created_at, expires_at, agent, "
                          "joined_at, ended_at, ended_by, end_reason FROM cobrowse_sessions "
                          "WHERE id = $1",
                          &p, error);
  if (res == NULL || PQntuples (res) == 0)
    return NULL;

  record = g_new0 (CxCobrowseRecord, 1);
  record->id = col_dup (res, 0, 0);
  record->code = col_dup (res, 0, 1);
  record->secret_hash = col_dup (res, 0, 2);
  record->address = col_dup (res, 0, 3);
  record->created_at = col_time (res, 0, 4);
  record->expires_at = col_time (res, 0, 5);
  record->agent = col_dup (res, 0, 6);
  record->joined_at = col_time (res, 0, 7);
  record->ended_at = col_time (res, 0, 8);
  record->ended_by = col_dup (res, 0, 9);
  record->end_reason = col_dup (res, 0, 10);

  p_text (&q, id);
  record->modes = cx_pg_collect_query (self,
                                       "SELECT at, mode, changed_by FROM cobrowse_modes "
                                       "WHERE session_id = $1 ORDER BY at, ctid",
                                       &q, (FromRow) mode_from_row,
                                       (GDestroyNotify) cx_cobrowse_mode_change_free, error);
  if (record->modes == NULL)
    return NULL;
  return g_steal_pointer (&record);
}
