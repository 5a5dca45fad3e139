/* bench-store.c: appends through CxStoreSqlite to 100 chats in turn, against the anchor measured
 * in the same run: a bare INSERT + COMMIT loop on a plain sqlite3 connection, on the same disk.
 * Three ways: the old one (synchronous=NORMAL, one commit per message: survives kill -9, not a
 * power loss), durable on power loss (synchronous=FULL) with one commit, and so one fsync, per
 * message, and durable with group commit (batches of BATCH messages, one fsync each, as the
 * server does for the writes of a main-loop turn). With CXDESK_TEST_PG_URL set, the same two
 * durable ways through CxStorePg (in a schema of its own, dropped after), against a bare
 * INSERT + COMMIT loop on a plain libpq connection to the same PostgreSQL. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libpq-fe.h>

#include "server/cx-store-sqlite.h"

#define CHATS 100
#define SECONDS 2
#define BATCH 32
#define TEXT                                                                                       \
  "Hello, I ordered a blue kettle last week and the box arrived empty. Can you help me with it?"

typedef struct
{
  guint64 count;
  double per_second;
  double p50_us;
  double p99_us;
} Result;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static Result
summarize (GArray *latencies, gint64 elapsed_ns)
{
  Result result = { 0 };

  g_array_sort (latencies, compare_gint64);
  result.count = latencies->len;
  result.per_second = latencies->len / (elapsed_ns / 1e9);
  result.p50_us = g_array_index (latencies, gint64, latencies->len / 2) / 1e3;
  result.p99_us = g_array_index (latencies, gint64, latencies->len * 99 / 100) / 1e3;
  return result;
}

/* @batch 0: each append its own transaction; otherwise @batch appends per batch, each
 * message's latency being its batch's, commit included (what a client waits for). With
 * @sync_wal, after each batch's commit an fdatasync of the WAL file of our own (the other way
 * to make a synchronous=NORMAL commit durable, measured against synchronous=FULL). */
static Result
bench_store (const char *path, gboolean legacy, guint batch, gboolean sync_wal)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) latencies = g_array_sized_new (FALSE, FALSE, sizeof (gint64), 1 << 16);
  CxStore *store;
  g_autofree char *wal_path = g_strconcat (path, "-wal", NULL);
  int wal_fd = -1;
  gint64 start, end, batch_start = 0;

  /* The hidden switch of the old synchronous=NORMAL, read when the store opens. */
  if (legacy)
    g_setenv ("CXDESK_BENCH_LEGACY_COMMIT", "1", TRUE);
  store = cx_store_open (path, &error);
  g_unsetenv ("CXDESK_BENCH_LEGACY_COMMIT");
  g_assert_no_error (error);

  for (guint i = 0; i < CHATS; i++)
    {
      CxChat chat = {
        .service = (char *) "support",
        .queue = (char *) "support",
        .secure_key = (char *) "key",
        .state = CX_CHAT_ACTIVE,
      };
      g_autofree char *id = g_strdup_printf ("chat-%03u", i);

      chat.id = id;
      if (!cx_store_create_chat (store, &chat, &error))
        g_error ("%s", error->message);
    }

  start = now_ns ();
  end = start + SECONDS * G_GINT64_CONSTANT (1000000000);
  for (guint i = 0;; i++)
    {
      g_autoptr (GPtrArray) messages = g_ptr_array_new_full (1, (GDestroyNotify) cx_message_unref);
      char id[16];
      gint64 before, after, took;

      g_snprintf (id, sizeof id, "chat-%03u", i % CHATS);
      g_ptr_array_add (messages, cx_message_new (CX_MESSAGE_TEXT, CX_PARTY_CLIENT, "Ann",
                                                 "client-1", TEXT, 1700000000000 + i, NULL));

      before = now_ns ();
      if (batch > 0 && i % batch == 0)
        {
          batch_start = before;
          if (!cx_store_begin_batch (store, &error))
            g_error ("%s", error->message);
        }
      if (!cx_store_append (store, id, messages, NULL, &error))
        g_error ("%s", error->message);
      if (batch > 0 && i % batch == batch - 1)
        {
          if (!cx_store_commit_batch (store, &error))
            g_error ("%s", error->message);
          if (sync_wal)
            {
              if (wal_fd < 0)
                wal_fd = open (wal_path, O_RDONLY | O_CLOEXEC);
              if (wal_fd < 0 || fdatasync (wal_fd) != 0)
                g_error ("%s: %s", wal_path, g_strerror (errno));
            }
          after = now_ns ();
          took = after - batch_start;
          for (guint j = 0; j < batch; j++)
            g_array_append_val (latencies, took);
        }
      else
        {
          after = now_ns ();
          took = after - before;
          if (batch == 0)
            g_array_append_val (latencies, took);
          else
            continue;
        }

      if (after >= end)
        break;
    }

  if (wal_fd >= 0)
    close (wal_fd);
  g_assert_finalize_object (store);
  return summarize (latencies, now_ns () - start);
}

static void
check (sqlite3 *db, int rc, int expected)
{
  if (rc != expected)
    g_error ("SQLite: %s", sqlite3_errmsg (db));
}

static Result
bench_raw (const char *path, const char *synchronous)
{
  g_autoptr (GArray) latencies = g_array_sized_new (FALSE, FALSE, sizeof (gint64), 1 << 16);
  sqlite3 *db = NULL;
  sqlite3_stmt *begin, *insert, *commit;
  g_autofree char *pragmas =
      g_strdup_printf ("PRAGMA journal_mode = WAL; PRAGMA synchronous = %s;"
                       "PRAGMA foreign_keys = ON; CREATE TABLE t (a INTEGER, b TEXT)",
                       synchronous);
  gint64 start, end;

  check (db, sqlite3_open (path, &db), SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  check (db, sqlite3_exec (db, pragmas, NULL, NULL, NULL), SQLITE_OK);
  check (db, sqlite3_prepare_v2 (db, "BEGIN IMMEDIATE", -1, &begin, NULL), SQLITE_OK);
  check (db, sqlite3_prepare_v2 (db, "INSERT INTO t VALUES (?, ?)", -1, &insert, NULL), SQLITE_OK);
  check (db, sqlite3_prepare_v2 (db, "COMMIT", -1, &commit, NULL), SQLITE_OK);

  start = now_ns ();
  end = start + SECONDS * G_GINT64_CONSTANT (1000000000);
  for (guint i = 0;; i++)
    {
      gint64 before = now_ns ();
      gint64 after, took;

      check (db, sqlite3_step (begin), SQLITE_DONE);
      sqlite3_reset (begin);
      sqlite3_bind_int64 (insert, 1, i);
      sqlite3_bind_text (insert, 2, TEXT, -1, SQLITE_STATIC);
      check (db, sqlite3_step (insert), SQLITE_DONE);
      sqlite3_reset (insert);
      check (db, sqlite3_step (commit), SQLITE_DONE);
      sqlite3_reset (commit);
      after = now_ns ();

      took = after - before;
      g_array_append_val (latencies, took);
      if (after >= end)
        break;
    }

  sqlite3_finalize (begin);
  sqlite3_finalize (insert);
  sqlite3_finalize (commit);
  sqlite3_close (db);
  return summarize (latencies, now_ns () - start);
}

static void
remove_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      g_remove (child);
    }
  g_rmdir (path);
}

/* PostgreSQL */

static PGresult *
pg_check (PGconn *conn, PGresult *res)
{
  if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK)
    g_error ("PostgreSQL: %s", PQerrorMessage (conn));
  return res;
}

/* The anchor: INSERT + COMMIT of a row like a message, one transaction each, parameterised as
 * the store's are, on its own connection. */
static Result
bench_pg_raw (PGconn *conn, const char *schema)
{
  g_autoptr (GArray) latencies = g_array_sized_new (FALSE, FALSE, sizeof (gint64), 1 << 16);
  g_autofree char *table = g_strdup_printf ("%s.anchor", schema);
  g_autofree char *create =
      g_strdup_printf ("CREATE TABLE %s (id BIGINT PRIMARY KEY, text TEXT NOT NULL)", table);
  g_autofree char *insert = g_strdup_printf ("INSERT INTO %s (id, text) VALUES ($1, $2)", table);
  gint64 start, end;

  PQclear (pg_check (conn, PQexec (conn, create)));
  start = now_ns ();
  end = start + SECONDS * G_GINT64_CONSTANT (1000000000);
  for (guint i = 0;; i++)
    {
      char id[24];
      const char *values[] = { id, TEXT };
      gint64 before = now_ns (), took;

      g_snprintf (id, sizeof id, "%u", i);
      PQclear (pg_check (conn, PQexec (conn, "BEGIN")));
      PQclear (pg_check (conn, PQexecParams (conn, insert, 2, NULL, values, NULL, NULL, 0)));
      PQclear (pg_check (conn, PQexec (conn, "COMMIT")));
      took = now_ns () - before;
      g_array_append_val (latencies, took);
      if (before + took >= end)
        break;
    }
  return summarize (latencies, now_ns () - start);
}

static void
bench_pg (const char *url)
{
  PGconn *conn = PQconnectdb (url);
  g_autofree char *schema = g_strdup_printf ("cx_bench_%d", (int) getpid ());
  g_autofree char *sql = NULL;
  g_autofree char *store_url = NULL;
  Result raw, durable, grouped;

  if (PQstatus (conn) != CONNECTION_OK)
    g_error ("Could not connect to CXDESK_TEST_PG_URL: %s", PQerrorMessage (conn));
  PQclear (pg_check (conn, PQexec (conn, "SET synchronous_commit = on")));
  /* A schema of its own: the anchor's table, then the store's. */
  sql = g_strdup_printf ("SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE; "
                         "CREATE SCHEMA %s",
                         schema, schema);
  PQclear (pg_check (conn, PQexec (conn, sql)));
  store_url = g_strdup_printf ("%s%soptions=-csearch_path%%3D%s", url,
                               strchr (url, '?') != NULL ? "&" : "?", schema);

  raw = bench_pg_raw (conn, schema);
  durable = bench_store (store_url, FALSE, 0, FALSE);
  /* The chats exist now: a second run in the same schema would collide; start over. */
  g_free (sql);
  sql = g_strdup_printf ("SET client_min_messages = warning; DROP SCHEMA %s CASCADE; "
                         "CREATE SCHEMA %s",
                         schema, schema);
  PQclear (pg_check (conn, PQexec (conn, sql)));
  grouped = bench_store (store_url, FALSE, BATCH, FALSE);
  g_free (sql);
  sql = g_strdup_printf ("SET client_min_messages = warning; DROP SCHEMA %s CASCADE", schema);
  PQclear (pg_check (conn, PQexec (conn, sql)));

  g_print ("PostgreSQL %d.%d (libpq, synchronous_commit=on), %d s each\n",
           PQserverVersion (conn) / 10000, PQserverVersion (conn) % 10000, SECONDS);
  g_print ("anchor  INSERT + COMMIT (libpq)  %9.0f rows/s      p50 %6.1f us  p99 %6.1f us  "
           "(%" G_GUINT64_FORMAT ")\n",
           raw.per_second, raw.p50_us, raw.p99_us, raw.count);
  g_print ("store   one commit per message   %9.0f messages/s  p50 %6.1f us  p99 %6.1f us  "
           "(%" G_GUINT64_FORMAT ")\n",
           durable.per_second, durable.p50_us, durable.p99_us, durable.count);
  g_print ("store   group commit, %2d a batch %9.0f messages/s  p50 %6.1f us  p99 %6.1f us  "
           "(%" G_GUINT64_FORMAT ")\n",
           BATCH, grouped.per_second, grouped.p50_us, grouped.p99_us, grouped.count);
  g_print ("ratio   one commit per message / anchor %5.2f\n", durable.per_second / raw.per_second);
  PQfinish (conn);
}

int
main (int argc, char *argv[])
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cxdesk-bench-store-XXXXXX", &error);
  char *paths[6] = { NULL };
  Result raw, store, raw_full, durable, grouped, grouped_normal;

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *name = g_strdup_printf ("bench-%u.db", i);

      paths[i] = g_build_filename (dir, name, NULL);
    }

  raw = bench_raw (paths[0], "NORMAL");
  store = bench_store (paths[1], TRUE, 0, FALSE);
  raw_full = bench_raw (paths[2], "FULL");
  durable = bench_store (paths[3], FALSE, 0, FALSE);
  grouped = bench_store (paths[4], FALSE, BATCH, FALSE);
  grouped_normal = bench_store (paths[5], TRUE, BATCH, TRUE);
  remove_dir (dir);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    g_free (paths[i]);

  g_print ("SQLite %s, WAL, %d s each, in %s\n", sqlite3_libversion (), SECONDS, g_get_tmp_dir ());
  g_print ("old: synchronous=NORMAL, one transaction per row (survives kill -9, not power loss)\n");
  g_print ("anchor  INSERT INTO t + COMMIT   %9.0f rows/s      p50 %6.1f us  p99 %6.1f us  "
           "(%" G_GUINT64_FORMAT ")\n",
           raw.per_second, raw.p50_us, raw.p99_us, raw.count);
  g_print ("store   cx_store_append, %d chats %9.0f messages/s  p50 %6.1f us  p99 %6.1f us  "
           "(%" G_GUINT64_FORMAT ")\n",
           CHATS, store.per_second, store.p50_us, store.p99_us, store.count);
  g_print ("ratio   store / anchor             %9.2f\n", store.per_second / raw.per_second);
  g_print ("durable on power loss: synchronous=FULL, an fdatasync of the WAL per commit\n");
  g_print ("anchor  INSERT INTO t + COMMIT   %9.0f rows/s      p50 %6.1f us  p99 %6.1f us  "
           "(%" G_GUINT64_FORMAT ")\n",
           raw_full.per_second, raw_full.p50_us, raw_full.p99_us, raw_full.count);
  g_print ("store   one commit per message   %9.0f messages/s  p50 %6.1f us  p99 %6.1f us  "
           "(%" G_GUINT64_FORMAT ")\n",
           durable.per_second, durable.p50_us, durable.p99_us, durable.count);
  g_print ("store   group commit, %2d a batch %9.0f messages/s  p50 %6.1f us  p99 %6.1f us  "
           "(%" G_GUINT64_FORMAT ")\n",
           BATCH, grouped.per_second, grouped.p50_us, grouped.p99_us, grouped.count);
  g_print ("store   NORMAL + own WAL fdatasync %7.0f messages/s  p50 %6.1f us  p99 %6.1f us  "
           "(%" G_GUINT64_FORMAT ")\n",
           grouped_normal.per_second, grouped_normal.p50_us, grouped_normal.p99_us,
           grouped_normal.count);
  g_print ("ratio   group commit / old store %9.2f\n", grouped.per_second / store.per_second);

  if (g_getenv ("CXDESK_TEST_PG_URL") != NULL && *g_getenv ("CXDESK_TEST_PG_URL") != '\0')
    bench_pg (g_getenv ("CXDESK_TEST_PG_URL"));
  else
    g_print ("PostgreSQL: not measured (CXDESK_TEST_PG_URL is not set)\n");

  return 0;
}
