/* cx-store-pg-callbacks.c: CxStorePg's callbacks (slots counted under a per-service advisory
 * lock) and the customers' rate limits. */
#define G_LOG_DOMAIN "cx-store"

#include "config.h"

#include "server/cx-store-pg-private.h"

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
  if (!cx_pg_run (self, "SELECT pg_advisory_xact_lock (hashtext ('cxdesk callbacks ' || $1))", &p,
                  error))
    return FALSE;

  p_int (&p, slot_start);
  p_int (&p, slot_end);
  p_text (&p, except);
  res = cx_pg_query (self, CALLBACK_COUNT, &p, error);
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
  if (!cx_pg_run (self, "DELETE FROM callback_properties WHERE callback_id = $1", &p, error))
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
      if (!cx_pg_run (
              self, "INSERT INTO callback_properties (callback_id, key, value) VALUES ($1, $2, $3)",
              &q, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
cx_store_pg_create_callback (CxStore *store, const CxCallback *callback, gint64 slot_start,
                             gint64 slot_end, guint capacity, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };

  if (!cx_pg_transaction_begin (&tx, self, error))
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
  if (!cx_pg_run (self,
                  "INSERT INTO callbacks (id, service, customer_number, state, desired_time, "
                  "expiration_time, created_at, properties, secret_hash) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                  &p, error) ||
      !write_callback_properties (self, callback->id, callback->properties, error))
    return FALSE;

  return cx_pg_transaction_commit (&tx, error);
}

CxCallback *
cx_store_pg_get_callback (CxStore *store, const char *id, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, id);
  res = cx_pg_read_query (self, "SELECT " CALLBACK_COLUMNS " FROM callbacks c WHERE c.id = $1", &p,
                          error);
  if (res == NULL || PQntuples (res) == 0)
    return NULL;
  return cx_pg_callback_from_row (self, res, 0, error);
}

gboolean
cx_store_pg_update_callback (CxStore *store, const CxCallback *callback, gint64 slot_start,
                             gint64 slot_end, guint capacity, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  if (!cx_pg_transaction_begin (&tx, self, error))
    return FALSE;

  p_text (&p, callback->id);
  res = cx_pg_query (self, "SELECT service FROM callbacks WHERE id = $1 FOR UPDATE", &p, error);
  if (res == NULL)
    return FALSE;
  if (PQntuples (res) == 0)
    return cx_pg_set_not_found (error, "callback", callback->id);

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
  if (!cx_pg_run (self,
                  "UPDATE callbacks SET state = $2, desired_time = $3, expiration_time = $4, "
                  "properties = $5 WHERE id = $1",
                  &p, error) ||
      !write_callback_properties (self, callback->id, callback->properties, error))
    return FALSE;

  return cx_pg_transaction_commit (&tx, error);
}

GPtrArray *
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

    return cx_pg_collect_query (self, sql, &p, (FromRow) cx_pg_callback_from_row,
                                (GDestroyNotify) cx_callback_free, error);
  }
}

gboolean
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
  res = cx_pg_read_query (self, CALLBACK_COUNT, &p, error);
  if (res == NULL)
    return FALSE;
  *count = col_int (res, 0, 0);
  return TRUE;
}

/* Customer rate limits */

gboolean
cx_store_pg_save_rate_buckets (CxStore *store, GPtrArray *buckets, gint64 forget_before,
                               GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };

  if (!cx_pg_transaction_begin (&tx, self, error))
    return FALSE;
  for (guint i = 0; i < buckets->len; i++)
    {
      const CxStoredBucket *bucket = g_ptr_array_index (buckets, i);
      g_auto (Params) q = { 0 };
      char tokens[G_ASCII_DTOSTR_BUF_SIZE];

      p_text (&q, bucket->key);
      p_text (&q, g_ascii_dtostr (tokens, sizeof tokens, bucket->tokens));
      p_int (&q, bucket->updated_at);
      if (!cx_pg_run (self,
                      "INSERT INTO rate_buckets (key, tokens, updated_at) VALUES ($1, $2, $3) "
                      "ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, "
                      "updated_at = excluded.updated_at",
                      &q, error))
        return FALSE;
    }
  p_int (&p, forget_before);
  if (!cx_pg_run (self, "DELETE FROM rate_buckets WHERE updated_at < $1", &p, error))
    return FALSE;
  return cx_pg_transaction_commit (&tx, error);
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

GPtrArray *
cx_store_pg_load_rate_buckets (CxStore *store, gint64 since, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };

  p_int (&p, since);
  return cx_pg_collect_query (self,
                              "SELECT key, tokens, updated_at FROM rate_buckets "
                              "WHERE updated_at >= $1",
                              &p, (FromRow) bucket_from_row, (GDestroyNotify) cx_stored_bucket_free,
                              error);
}
