/* cx-store-sqlite-callbacks.c: CxStoreSqlite's callbacks (with their slot check) and the
 * customers' rate limits. */
#define G_LOG_DOMAIN "cx-store"

#include "config.h"

#include "server/cx-store-sqlite-private.h"

/* Callbacks */

/* FULL unless fewer than @capacity callbacks of @service that are not cancelled are due in the
 * slot, @except not counted. */
static gboolean
check_slot (CxStoreSqlite *self, const char *service, gint64 slot_start, gint64 slot_end,
            guint capacity, const char *except, GError **error)
{
  g_autoptr (Statement) stmt = use (self, ST_CALLBACK_COUNT);
  gint64 count;

  bind_text (stmt, 1, service);
  bind_int64 (stmt, 2, slot_start);
  bind_int64 (stmt, 3, slot_end);
  bind_text (stmt, 4, except);
  if (cx_sqlite_step (self, stmt, error) != STEP_ROW)
    return FALSE;

  count = sqlite3_column_int64 (stmt, 0);
  if (count >= capacity)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FULL,
                   "The slot has no room left (%" G_GINT64_FORMAT " of %u taken)", count, capacity);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_callback_properties (CxStoreSqlite *self, const char *id, JsonNode *object, GError **error)
{
  Statement *stmt = use (self, ST_CALLBACK_PROPERTIES_CLEAR);
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  bind_text (stmt, 1, id);
  if (!cx_sqlite_run (self, stmt, error))
    return FALSE;

  if (object == NULL)
    return TRUE;

  stmt = use (self, ST_CALLBACK_PROPERTY_INSERT);
  json_object_iter_init (&iter, json_node_get_object (object));
  while (json_object_iter_next (&iter, &key, &value))
    {
      bind_text (stmt, 1, id);
      bind_text (stmt, 2, key);
      if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
        bind_text (stmt, 3, json_node_get_string (value));
      else if (JSON_NODE_HOLDS_NULL (value))
        sqlite3_bind_null (stmt, 3);
      else
        cx_sqlite_bind_json (stmt, 3, value);
      if (!cx_sqlite_run (self, stmt, error))
        return FALSE;
    }

  return TRUE;
}

gboolean
cx_store_sqlite_create_callback (CxStore *store, const CxCallback *callback, gint64 slot_start,
                                 gint64 slot_end, guint capacity, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  Statement *stmt;

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;

  /* Counted and inserted under one write lock: two requests cannot both take the last place. */
  if (capacity > 0 && strcmp (callback->state, "CANCELLED") != 0 &&
      !check_slot (self, callback->service, slot_start, slot_end, capacity, NULL, error))
    return FALSE;

  stmt = use (self, ST_CALLBACK_INSERT);
  bind_text (stmt, 1, callback->id);
  bind_text (stmt, 2, callback->service);
  bind_text (stmt, 3, callback->customer_number);
  bind_text (stmt, 4, callback->state);
  bind_int64 (stmt, 5, callback->desired_time);
  bind_int64 (stmt, 6, callback->expiration_time);
  bind_int64 (stmt, 7, callback->created_at);
  if (callback->properties != NULL)
    cx_sqlite_bind_json (stmt, 8, callback->properties);
  else
    bind_text (stmt, 8, "{}");
  bind_text (stmt, 9, callback->secret_hash);
  if (!cx_sqlite_run (self, stmt, error))
    return FALSE;

  if (!write_callback_properties (self, callback->id, callback->properties, error))
    return FALSE;

  return cx_sqlite_transaction_commit (&tx, error);
}

CxCallback *
cx_store_sqlite_get_callback (CxStore *store, const char *id, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_autoptr (Statement) stmt = use (self, ST_CALLBACK_GET);

  bind_text (stmt, 1, id);
  if (cx_sqlite_step (self, stmt, error) != STEP_ROW)
    return NULL;

  return cx_sqlite_callback_from_row (self, stmt, error);
}

gboolean
cx_store_sqlite_update_callback (CxStore *store, const CxCallback *callback, gint64 slot_start,
                                 gint64 slot_end, guint capacity, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  g_autofree char *service = NULL;
  Statement *stmt;

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;

  {
    g_autoptr (Statement) row = use (self, ST_CALLBACK_SERVICE);
    StepResult result;

    bind_text (row, 1, callback->id);
    result = cx_sqlite_step (self, row, error);
    if (result == STEP_ERROR)
      return FALSE;
    if (result == STEP_DONE)
      return cx_sqlite_set_not_found (error, "callback", callback->id);
    service = column_dup (row, 0);
  }

  /* A cancellation never needs room. */
  if (capacity > 0 && strcmp (callback->state, "CANCELLED") != 0 &&
      !check_slot (self, service, slot_start, slot_end, capacity, callback->id, error))
    return FALSE;

  stmt = use (self, ST_CALLBACK_UPDATE);
  bind_text (stmt, 1, callback->id);
  bind_text (stmt, 2, callback->state);
  bind_int64 (stmt, 3, callback->desired_time);
  bind_int64 (stmt, 4, callback->expiration_time);
  if (callback->properties != NULL)
    cx_sqlite_bind_json (stmt, 5, callback->properties);
  else
    bind_text (stmt, 5, "{}");
  if (!cx_sqlite_run (self, stmt, error))
    return FALSE;

  if (!write_callback_properties (self, callback->id, callback->properties, error))
    return FALSE;

  return cx_sqlite_transaction_commit (&tx, error);
}

GPtrArray *
cx_store_sqlite_find_callbacks (CxStore *store, const char *service, const char *key,
                                const char *value, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  StatementId id;
  g_autoptr (Statement) stmt = NULL;

  /* The GMS keys that are columns here, then the others. */
  if (key == NULL)
    id = value == NULL ? ST_CALLBACKS_ALL : ST_CALLBACKS_BY_ANY_VALUE;
  else if (strcmp (key, "_customer_number") == 0)
    id = value == NULL ? ST_CALLBACKS_ALL : ST_CALLBACKS_BY_NUMBER;
  else if (strcmp (key, "_callback_state") == 0)
    id = value == NULL ? ST_CALLBACKS_ALL : ST_CALLBACKS_BY_STATE;
  else if (strcmp (key, "_id") == 0)
    id = value == NULL ? ST_CALLBACKS_ALL : ST_CALLBACKS_BY_ID;
  else
    id = ST_CALLBACKS_BY_PROPERTY;

  stmt = use (self, id);
  bind_text (stmt, 1, service);
  if (id == ST_CALLBACKS_BY_PROPERTY)
    {
      bind_text (stmt, 2, key);
      bind_text (stmt, 3, value);
    }
  else if (id != ST_CALLBACKS_ALL)
    {
      bind_text (stmt, 2, value);
    }

  return cx_sqlite_collect (self, stmt, (gpointer) cx_sqlite_callback_from_row,
                            (GDestroyNotify) cx_callback_free, error);
}

gboolean
cx_store_sqlite_count_callbacks (CxStore *store, const char *service, gint64 start, gint64 end,
                                 guint *count, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_autoptr (Statement) stmt = use (self, ST_CALLBACK_COUNT);

  bind_text (stmt, 1, service);
  bind_int64 (stmt, 2, start);
  bind_int64 (stmt, 3, end);
  sqlite3_bind_null (stmt, 4);
  if (cx_sqlite_step (self, stmt, error) != STEP_ROW)
    return FALSE;

  *count = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/* Customer rate limits (issue 9 item 5) */

gboolean
cx_store_sqlite_save_rate_buckets (CxStore *store, GPtrArray *buckets, gint64 forget_before,
                                   GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  Statement *stmt;

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;
  for (guint i = 0; i < buckets->len; i++)
    {
      const CxStoredBucket *bucket = g_ptr_array_index (buckets, i);

      stmt = use (self, ST_RATE_BUCKET_UPSERT);
      bind_text (stmt, 1, bucket->key);
      sqlite3_bind_double (stmt, 2, bucket->tokens);
      bind_int64 (stmt, 3, bucket->updated_at);
      if (!cx_sqlite_run (self, stmt, error))
        return FALSE;
    }
  stmt = use (self, ST_RATE_BUCKETS_FORGET);
  bind_int64 (stmt, 1, forget_before);
  if (!cx_sqlite_run (self, stmt, error))
    return FALSE;
  return cx_sqlite_transaction_commit (&tx, error);
}

GPtrArray *
cx_store_sqlite_load_rate_buckets (CxStore *store, gint64 since, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_autoptr (Statement) stmt = use (self, ST_RATE_BUCKETS_SINCE);
  g_autoptr (GPtrArray) buckets =
      g_ptr_array_new_with_free_func ((GDestroyNotify) cx_stored_bucket_free);
  StepResult result;

  bind_int64 (stmt, 1, since);
  while ((result = cx_sqlite_step (self, stmt, error)) == STEP_ROW)
    {
      CxStoredBucket *bucket = g_new0 (CxStoredBucket, 1);

      bucket->key = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      bucket->tokens = sqlite3_column_double (stmt, 1);
      bucket->updated_at = sqlite3_column_int64 (stmt, 2);
      g_ptr_array_add (buckets, bucket);
    }
  if (result == STEP_ERROR)
    return NULL;
  return g_steal_pointer (&buckets);
}
