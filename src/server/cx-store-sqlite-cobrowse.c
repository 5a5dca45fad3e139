/* cx-store-sqlite-cobrowse.c: CxStoreSqlite's co-browse sessions and their audit (issue 11;
 * schema in sql/sqlite/004-cobrowse.sql). A session is created, joined, changes mode a few
 * times and ends: seldom enough that these statements are prepared per call rather than
 * kept with the hot ones of cx-store-sqlite-statements.c. */
#define G_LOG_DOMAIN "cx-store"

#include "config.h"

#include "server/cx-store-sqlite-private.h"

typedef sqlite3_stmt OwnedStatement;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwnedStatement, sqlite3_finalize)

static OwnedStatement *
prepare (CxStoreSqlite *self, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);

  if (rc != SQLITE_OK)
    {
      sqlite3_finalize (stmt);
      cx_sqlite_set_sqlite_error (self, rc, error);
      return NULL;
    }
  return stmt;
}

gboolean
cx_store_sqlite_create_cobrowse (CxStore *store, const CxCobrowseRecord *record, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  g_autoptr (OwnedStatement) taken = NULL;
  g_autoptr (OwnedStatement) insert = NULL;
  StepResult result;

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;

  taken = prepare (self,
                   "SELECT 1 FROM cobrowse_sessions WHERE code = ?1 AND ended_at IS NULL "
                   "AND expires_at > ?2",
                   error);
  if (taken == NULL)
    return FALSE;
  bind_text (taken, 1, record->code);
  bind_int64 (taken, 2, record->created_at);
  result = cx_sqlite_step (self, taken, error);
  if (result == STEP_ERROR)
    return FALSE;
  if (result == STEP_ROW)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT,
                   "A co-browse session that can be joined has this code");
      return FALSE;
    }

  insert = prepare (self,
                    "INSERT INTO cobrowse_sessions (id, code, secret_hash, address, created_at, "
                    "expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    error);
  if (insert == NULL)
    return FALSE;
  bind_text (insert, 1, record->id);
  bind_text (insert, 2, record->code);
  bind_text (insert, 3, record->secret_hash);
  bind_text (insert, 4, record->address);
  bind_int64 (insert, 5, record->created_at);
  bind_int64 (insert, 6, record->expires_at);
  if (cx_sqlite_step (self, insert, error) == STEP_ERROR)
    return FALSE;
  return cx_sqlite_transaction_commit (&tx, error);
}

char *
cx_store_sqlite_join_cobrowse (CxStore *store, const char *code, const char *agent, gint64 now,
                               GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  g_autoptr (OwnedStatement) claim = NULL;
  g_autofree char *id = NULL;
  StepResult result;

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return NULL;

  claim = prepare (self,
                   "UPDATE cobrowse_sessions SET code = NULL, agent = ?2, joined_at = ?3 "
                   "WHERE code = ?1 AND agent IS NULL AND ended_at IS NULL AND expires_at > ?3 "
                   "RETURNING id",
                   error);
  if (claim == NULL)
    return NULL;
  bind_text (claim, 1, code);
  bind_text (claim, 2, agent);
  bind_int64 (claim, 3, now);
  result = cx_sqlite_step (self, claim, error);
  if (result == STEP_ERROR)
    return NULL;
  if (result == STEP_DONE)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND,
                   "No co-browse session can be joined with this code");
      return NULL;
    }
  id = column_dup (claim, 0);
  if (cx_sqlite_step (self, claim, error) == STEP_ERROR)
    return NULL;
  if (!cx_sqlite_transaction_commit (&tx, error))
    return NULL;
  return g_steal_pointer (&id);
}

gboolean
cx_store_sqlite_cobrowse_mode (CxStore *store, const char *id, gint64 at, const char *mode,
                               const char *changed_by, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  g_autoptr (OwnedStatement) insert = NULL;

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;
  insert = prepare (self,
                    "INSERT INTO cobrowse_modes (session_id, at, mode, changed_by) "
                    "SELECT id, ?2, ?3, ?4 FROM cobrowse_sessions WHERE id = ?1",
                    error);
  if (insert == NULL)
    return FALSE;
  bind_text (insert, 1, id);
  bind_int64 (insert, 2, at);
  bind_text (insert, 3, mode);
  bind_text (insert, 4, changed_by);
  if (cx_sqlite_step (self, insert, error) == STEP_ERROR)
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    return cx_sqlite_set_not_found (error, "co-browse session", id);
  return cx_sqlite_transaction_commit (&tx, error);
}

gboolean
cx_store_sqlite_end_cobrowse (CxStore *store, const char *id, gint64 at, const char *ended_by,
                              const char *reason, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  g_autoptr (OwnedStatement) update = NULL;
  g_autoptr (OwnedStatement) exists = NULL;
  StepResult result;

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;
  update = prepare (self,
                    "UPDATE cobrowse_sessions SET code = NULL, ended_at = ?2, ended_by = ?3, "
                    "end_reason = ?4 WHERE id = ?1 AND ended_at IS NULL",
                    error);
  if (update == NULL)
    return FALSE;
  bind_text (update, 1, id);
  bind_int64 (update, 2, at);
  bind_text (update, 3, ended_by);
  bind_text (update, 4, reason);
  if (cx_sqlite_step (self, update, error) == STEP_ERROR)
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    {
      exists = prepare (self, "SELECT 1 FROM cobrowse_sessions WHERE id = ?1", error);
      if (exists == NULL)
        return FALSE;
      bind_text (exists, 1, id);
      result = cx_sqlite_step (self, exists, error);
      if (result == STEP_ERROR)
        return FALSE;
      if (result == STEP_DONE)
        return cx_sqlite_set_not_found (error, "co-browse session", id);
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT,
                   "Co-browse session %s has already ended", id);
      return FALSE;
    }
  return cx_sqlite_transaction_commit (&tx, error);
}

CxCobrowseRecord *
cx_store_sqlite_get_cobrowse (CxStore *store, const char *id, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  g_autoptr (OwnedStatement) row = NULL;
  g_autoptr (OwnedStatement) modes = NULL;
  g_autoptr (CxCobrowseRecord) record = NULL;
  StepResult result;

  if (!cx_sqlite_transaction_begin (&tx, self, FALSE, error))
    return NULL;
  row = prepare (self,
                 "SELECT id, code, secret_hash, address, created_at, expires_at, agent, "
                 "joined_at, ended_at, ended_by, end_reason FROM cobrowse_sessions WHERE id = ?1",
                 error);
  if (row == NULL)
    return NULL;
  bind_text (row, 1, id);
  result = cx_sqlite_step (self, row, error);
  if (result != STEP_ROW)
    return NULL;

  record = g_new0 (CxCobrowseRecord, 1);
  record->id = column_dup (row, 0);
  record->code = column_dup (row, 1);
  record->secret_hash = column_dup (row, 2);
  record->address = column_dup (row, 3);
  record->created_at = sqlite3_column_int64 (row, 4);
  record->expires_at = sqlite3_column_int64 (row, 5);
  record->agent = column_dup (row, 6);
  record->joined_at = sqlite3_column_int64 (row, 7);
  record->ended_at = sqlite3_column_int64 (row, 8);
  record->ended_by = column_dup (row, 9);
  record->end_reason = column_dup (row, 10);
  record->modes = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_cobrowse_mode_change_free);

  modes = prepare (self,
                   "SELECT at, mode, changed_by FROM cobrowse_modes WHERE session_id = ?1 "
                   "ORDER BY at, rowid",
                   error);
  if (modes == NULL)
    return NULL;
  bind_text (modes, 1, id);
  while ((result = cx_sqlite_step (self, modes, error)) == STEP_ROW)
    {
      CxCobrowseModeChange *change = g_new0 (CxCobrowseModeChange, 1);

      change->at = sqlite3_column_int64 (modes, 0);
      change->mode = column_dup (modes, 1);
      change->changed_by = column_dup (modes, 2);
      g_ptr_array_add (record->modes, change);
    }
  if (result == STEP_ERROR)
    return NULL;
  return g_steal_pointer (&record);
}
