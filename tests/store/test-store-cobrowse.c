/* test-store-cobrowse.c: the CxStore contract of co-browse sessions (issue 11), the audit
 * record the relay keeps: created with a code, joined once by code (single use, expiring),
 * mode changes, ended once. On SQLite (in memory) and, with CXDESK_TEST_PG_URL, on a schema of
 * its own in PostgreSQL. */
#include "config.h"

#include <libpq-fe.h>
#include <unistd.h>

#include "server/cx-store.h"

typedef struct
{
  char *path;
  CxStore *store;
  PGconn *admin;
  char *schema;
} Fixture;

static void
admin_exec (Fixture *f, const char *sql)
{
  PGresult *res = PQexec (f->admin, sql);

  if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK)
    g_error ("%s: %s", sql, PQerrorMessage (f->admin));
  PQclear (res);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  if (g_str_equal (data, "pg"))
    {
      static guint serial;
      const char *url = g_getenv ("CXDESK_TEST_PG_URL");
      g_autofree char *sql = NULL;

      if (url == NULL || *url == '\0')
        {
          g_test_skip ("CXDESK_TEST_PG_URL is not set: no PostgreSQL to test on");
          return;
        }
      f->admin = PQconnectdb (url);
      if (PQstatus (f->admin) != CONNECTION_OK)
        g_error ("Could not connect to CXDESK_TEST_PG_URL: %s", PQerrorMessage (f->admin));
      f->schema = g_strdup_printf ("cx_test_cobrowse_%d_%u", (int) getpid (), serial++);
      sql = g_strdup_printf ("SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s "
                             "CASCADE; CREATE SCHEMA %s",
                             f->schema, f->schema);
      admin_exec (f, sql);
      f->path = g_strdup_printf ("%s%soptions=-csearch_path%%3D%s", url,
                                 strchr (url, '?') != NULL ? "&" : "?", f->schema);
    }
  else
    {
      f->path = g_strdup (":memory:");
    }
  f->store = cx_store_open (f->path, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  if (f->store != NULL)
    g_assert_finalize_object (f->store);
  if (f->admin != NULL)
    {
      g_autofree char *sql = g_strdup_printf ("SET client_min_messages = warning; "
                                              "DROP SCHEMA IF EXISTS %s CASCADE",
                                              f->schema);

      admin_exec (f, sql);
      PQfinish (f->admin);
    }
  g_free (f->schema);
  g_free (f->path);
}

static void
create (Fixture *f, const char *id, const char *code, gint64 now, gint64 expires_at)
{
  g_autoptr (GError) error = NULL;
  CxCobrowseRecord record = {
    .id = (char *) id,
    .code = (char *) code,
    .secret_hash = (char *) "hash-of-the-secret",
    .address = (char *) "127.0.0.1",
    .created_at = now,
    .expires_at = expires_at,
  };

  g_assert_true (cx_store_create_cobrowse (f->store, &record, &error));
  g_assert_no_error (error);
}

static void
test_life (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxCobrowseRecord) record = NULL;
  g_autofree char *id = NULL;
  char *none;

  if (f->store == NULL)
    return;
  create (f, "s1", "123456789", 1000, 61000);

  /* A wrong code, then the right one after its expiry: nothing. */
  none = cx_store_join_cobrowse (f->store, "987654321", "ada", 2000, &error);
  g_assert_null (none);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  none = cx_store_join_cobrowse (f->store, "123456789", "ada", 61000, &error);
  g_assert_null (none);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Another live session cannot take the code; joined once, then never again. */
  {
    CxCobrowseRecord twin = { .id = (char *) "s2",
                              .code = (char *) "123456789",
                              .secret_hash = (char *) "h",
                              .created_at = 3000,
                              .expires_at = 9000 };

    g_assert_false (cx_store_create_cobrowse (f->store, &twin, &error));
    g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT);
    g_clear_error (&error);
  }
  id = cx_store_join_cobrowse (f->store, "123456789", "ada", 4000, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, "s1");
  none = cx_store_join_cobrowse (f->store, "123456789", "bob", 4001, &error);
  g_assert_null (none);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (cx_store_cobrowse_mode (f->store, "s1", 5000, "write", "customer", &error));
  g_assert_true (cx_store_cobrowse_mode (f->store, "s1", 6000, "pointer", "customer", &error));
  g_assert_false (cx_store_cobrowse_mode (f->store, "nope", 6000, "write", "customer", &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (cx_store_end_cobrowse (f->store, "s1", 7000, "agent", "done", &error));
  g_assert_no_error (error);
  g_assert_false (cx_store_end_cobrowse (f->store, "s1", 8000, "customer", "again", &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_false (cx_store_end_cobrowse (f->store, "nope", 8000, "customer", NULL, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The audit record: who, when, the modes, how it ended; the code gone. */
  record = cx_store_get_cobrowse (f->store, "s1", &error);
  g_assert_no_error (error);
  g_assert_nonnull (record);
  g_assert_null (record->code);
  g_assert_cmpstr (record->address, ==, "127.0.0.1");
  g_assert_cmpint (record->created_at, ==, 1000);
  g_assert_cmpstr (record->agent, ==, "ada");
  g_assert_cmpint (record->joined_at, ==, 4000);
  g_assert_cmpint (record->ended_at, ==, 7000);
  g_assert_cmpstr (record->ended_by, ==, "agent");
  g_assert_cmpstr (record->end_reason, ==, "done");
  g_assert_cmpuint (record->modes->len, ==, 2);
  g_assert_cmpstr (((CxCobrowseModeChange *) record->modes->pdata[0])->mode, ==, "write");
  g_assert_cmpstr (((CxCobrowseModeChange *) record->modes->pdata[1])->mode, ==, "pointer");
  g_assert_null (cx_store_get_cobrowse (f->store, "nope", &error));
  g_assert_no_error (error);

  /* An ended session's code is free again for a new one. */
  create (f, "s3", "123456789", 9000, 99000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/store/cobrowse/sqlite", Fixture, ":memory:", fixture_setup, test_life,
              fixture_teardown);
  g_test_add ("/store/cobrowse/postgresql", Fixture, "pg", fixture_setup, test_life,
              fixture_teardown);
  return g_test_run ();
}
