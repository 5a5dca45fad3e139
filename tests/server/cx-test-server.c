/* cx-test-server.c: the integration-test harness (see cx-test-server.h): the server process,
 * its configuration, and the HTTP / WebSocket clients that stand in for customers and agents.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-test-server"

#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "cx-test-server.h"

#define LISTENING_PREFIX "cxdesk-server listening on "

/* How often a polling customer refreshes while it waits for something. This is the client's
 * poll rate (the widget's is 3000 ms), not synchronisation: every wait ends when the awaited
 * message is in the transcript, however long that takes. */
#define POLL_INTERVAL_MS 10

struct _CxTestServer
{
  char *dir;
  char *db_path;   /* the SQLite file, or a PostgreSQL URL (CXDESK_TEST_PG_URL) */
  char *pg_schema; /* PostgreSQL: the server's own schema, dropped at the end */
  char *config_path;
  GSubprocess *process;
  GCancellable *drain_cancellable;
  char *url;  /* "http://127.0.0.1:PORT/" */
  char *base; /* "http://127.0.0.1:PORT" */

  /* test-server-abuse: the open-file limit the server starts with (0: the test's own). */
  struct rlimit fd_limit;
};

static const char *
server_executable (void)
{
  const char *path = g_getenv ("CXDESK_SERVER");

  if (path == NULL || *path == '\0')
    g_error ("CXDESK_SERVER is not set: run the integration tests with meson test");
  return path;
}

/* Configuration */

char *
cx_test_password_hash (const char *password)
{
  static GHashTable *cache;
  g_autoptr (GSubprocess) subprocess = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  const char *cached;

  if (cache == NULL)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  cached = g_hash_table_lookup (cache, password);
  if (cached != NULL)
    return g_strdup (cached);

  subprocess = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                 &error, server_executable (), "--hash-password", NULL);
  g_assert_no_error (error);
  /* No newline: the password is everything on stdin. */
  g_subprocess_communicate_utf8 (subprocess, password, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_subprocess_wait_check (subprocess, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
  g_strstrip (out);
  g_assert_true (g_str_has_prefix (out, "$"));
  g_assert_null (strchr (out, '\n'));

  g_hash_table_insert (cache, g_strdup (password), g_strdup (out));
  return g_steal_pointer (&out);
}

static void
add_agent (JsonBuilder *builder, const char *username, const char *display_name,
           const char *password, int capacity, const char *const *queues)
{
  g_autofree char *hash = cx_test_password_hash (password);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "username");
  json_builder_add_string_value (builder, username);
  json_builder_set_member_name (builder, "displayName");
  json_builder_add_string_value (builder, display_name);
  json_builder_set_member_name (builder, "password");
  json_builder_add_string_value (builder, hash);
  json_builder_set_member_name (builder, "capacity");
  json_builder_add_int_value (builder, capacity);
  json_builder_set_member_name (builder, "queues");
  json_builder_begin_array (builder);
  for (guint i = 0; queues[i] != NULL; i++)
    json_builder_add_string_value (builder, queues[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

static void
add_canned (JsonBuilder *builder, const char *id, const char *title, const char *text)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, title);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
}

static void
add_int_member (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
add_string_member (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

char *
cx_test_config_new (const CxTestConfigOptions *options)
{
  static const char *const ada_queues[] = { "customer-support", "sales", NULL };
  static const char *const bob_queues[] = { "sales", NULL };
  static const char *const file_types[] = { "png", "jpg", "jpeg", "gif", "pdf", "txt", NULL };
  CxTestConfigOptions defaults = { 0 };
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  if (options == NULL)
    options = &defaults;

  json_builder_begin_object (builder);

  json_builder_set_member_name (builder, "services");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "customer-support");
  json_builder_begin_object (builder);
  add_string_member (builder, "displayName", "Customer support");
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "sales");
  json_builder_begin_object (builder);
  add_string_member (builder, "displayName", "Sales");
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "agents");
  json_builder_begin_array (builder);
  add_agent (builder, "ada", "Ada Lovelace", CX_TEST_ADA_PASSWORD, 3, ada_queues);
  add_agent (builder, "bob", "Bob Babbage", CX_TEST_BOB_PASSWORD, 2, bob_queues);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "callback");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "services");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, "customer-support");
  json_builder_end_array (builder);
  add_string_member (builder, "timezone", "UTC");
  json_builder_set_member_name (builder, "officeHours");
  json_builder_begin_object (builder);
  /* "24:00" is not a valid time: the day's last minute is closed. */
  add_string_member (builder, "open", "00:00");
  add_string_member (builder, "close", "23:59");
  json_builder_set_member_name (builder, "days");
  json_builder_begin_array (builder);
  if (options->office_closed_now)
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
      int today = g_date_time_get_day_of_week (now) % 7; /* 0 = Sunday */
      int tomorrow = (today + 1) % 7;

      /* One open day that is neither today nor tomorrow, in 1..6 so that it means the same
       * day whether Sunday is 0 or 7. */
      for (int day = 1; day <= 6; day++)
        {
          if (day != today && day != tomorrow)
            {
              json_builder_add_int_value (builder, day);
              break;
            }
        }
    }
  else
    {
      for (int day = 0; day <= 6; day++)
        json_builder_add_int_value (builder, day);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  add_int_member (builder, "slotMinutes", 30);
  add_int_member (builder, "slotCapacity",
                  options->slot_capacity != 0 ? options->slot_capacity : 2);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "canned");
  json_builder_begin_array (builder);
  add_canned (builder, "hello", "Greeting", "Hello! How can I help?");
  add_canned (builder, "bye", "Goodbye", "Thanks for contacting us <3 & goodbye.");
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "files");
  json_builder_begin_object (builder);
  add_int_member (builder, "maxFiles", 10);
  add_int_member (builder, "maxFileSize",
                  options->max_file_size != 0 ? options->max_file_size : CX_TEST_MAX_FILE_SIZE);
  add_int_member (builder, "maxTotalSize", 512 * 1024);
  json_builder_set_member_name (builder, "types");
  json_builder_begin_array (builder);
  for (guint i = 0; file_types[i] != NULL; i++)
    json_builder_add_string_value (builder, file_types[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "limits");
  json_builder_begin_object (builder);
  add_int_member (builder, "maxBodyBytes", 1048576);
  add_int_member (builder, "maxMessageLength", 4096);
  add_int_member (builder, "messagesPerMinute", 60);
  /* Long enough that no invitation times out while a test is looking at it. */
  add_int_member (builder, "invitationTimeoutSeconds",
                  options->invitation_timeout_seconds != 0 ? options->invitation_timeout_seconds
                                                           : 600);
  if (options->cobrowse_code_seconds != 0)
    add_int_member (builder, "cobrowseCodeSeconds", options->cobrowse_code_seconds);
  if (options->chat_starts_per_minute != 0)
    add_int_member (builder, "chatStartsPerMinute", options->chat_starts_per_minute);
  json_builder_end_object (builder);

  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

/* The server process */

static void
child_setup (gpointer user_data)
{
  CxTestServer *self = user_data;

  /* If the test aborts on a failed assertion, the server must not outlive it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (self->fd_limit.rlim_max != 0)
    setrlimit (RLIMIT_NOFILE, &self->fd_limit);
}

static void
drain_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GCancellable *cancellable = user_data; /* owned */
  GDataInputStream *stream = G_DATA_INPUT_STREAM (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish (stream, result, NULL, &error);
  if (line == NULL || g_cancellable_is_cancelled (cancellable))
    {
      g_object_unref (cancellable);
      return;
    }
  g_printerr ("cxdesk-server stdout: %s\n", line);
  g_data_input_stream_read_line_async (stream, G_PRIORITY_DEFAULT, cancellable, drain_cb,
                                       cancellable);
}

static void
server_spawn (CxTestServer *self)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GDataInputStream) stream = NULL;
  g_autoptr (GError) error = NULL;
  const char *argv[] = {
    server_executable (), "--port", "0", "--db", self->db_path, "--config", self->config_path, NULL,
  };

  g_assert_null (self->process);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, self, NULL);
  /* The tests' fatal-warnings is for the test program. The server runs as in production, where
   * a warning is logged and the server carries on: libsoup 3.2 itself warns when a client hangs
   * up during a WebSocket upgrade ("could not get remote address"), which a closing window
   * does. Criticals (programming errors) stay fatal. */
  g_subprocess_launcher_setenv (launcher, "G_DEBUG", "fatal-criticals", TRUE);
  self->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);

  stream = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->base, g_free);
  while (self->url == NULL)
    {
      g_autofree char *line = g_data_input_stream_read_line (stream, NULL, NULL, &error);

      g_assert_no_error (error);
      if (line == NULL)
        g_error ("cxdesk-server exited before it printed “" LISTENING_PREFIX "…”");
      if (g_str_has_prefix (line, LISTENING_PREFIX))
        self->url = g_strdup (line + strlen (LISTENING_PREFIX));
      else
        g_printerr ("cxdesk-server stdout: %s\n", line);
    }

  g_assert_true (g_str_has_prefix (self->url, "http://127.0.0.1:"));
  g_assert_true (g_str_has_suffix (self->url, "/"));
  self->base = g_strndup (self->url, strlen (self->url) - 1);

  self->drain_cancellable = g_cancellable_new ();
  g_data_input_stream_read_line_async (stream, G_PRIORITY_DEFAULT, self->drain_cancellable,
                                       drain_cb, g_object_ref (self->drain_cancellable));
}

/* With CXDESK_TEST_PG_URL set, the server runs on PostgreSQL: a schema of its own in that
 * database (made and dropped with psql, which comes with PostgreSQL), dropped when the server is
 * freed. */
static void
pg_exec (const char *sql)
{
  g_autoptr (GError) error = NULL;
  int status = 0;
  const char *argv[] = {
    "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", g_getenv ("CXDESK_TEST_PG_URL"),
    "-c",   sql,  NULL,
  };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("psql -c '%s': %s", sql, error->message);
}

static void
pg_db (CxTestServer *self)
{
  static guint serial;
  const char *url = g_getenv ("CXDESK_TEST_PG_URL");
  g_autofree char *sql = NULL;

  if (!cx_test_on_postgresql ())
    return;
  /* Letters and digits only: safe to write into the DDL. */
  self->pg_schema = g_strdup_printf ("cx_it_%d_%u", (int) getpid (), serial++);
  sql = g_strdup_printf ("SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE; "
                         "CREATE SCHEMA %s",
                         self->pg_schema, self->pg_schema);
  pg_exec (sql);
  self->db_path = g_strdup_printf ("%s%soptions=-csearch_path%%3D%s", url,
                                   strchr (url, '?') != NULL ? "&" : "?", self->pg_schema);
}

CxTestServer *
cx_test_server_new (const char *config_json)
{
  return cx_test_server_new_with_fd_limit (config_json, 0, 0);
}

/**
 * cx_test_server_new_with_fd_limit:
 * @soft: the soft RLIMIT_NOFILE the server process starts with
 * @hard: the hard one (0: the test's own limits)
 */
CxTestServer *
cx_test_server_new_with_fd_limit (const char *config_json, guint soft, guint hard)
{
  CxTestServer *self = g_new0 (CxTestServer, 1);
  g_autoptr (GError) error = NULL;

  self->fd_limit.rlim_cur = soft;
  self->fd_limit.rlim_max = hard;
  self->dir = g_dir_make_tmp ("cxdesk-it-XXXXXX", &error);
  g_assert_no_error (error);
  pg_db (self);
  if (self->db_path == NULL)
    self->db_path = g_build_filename (self->dir, "server.db", NULL);
  self->config_path = g_build_filename (self->dir, "config.json", NULL);
  g_file_set_contents (self->config_path, config_json, -1, &error);
  g_assert_no_error (error);

  server_spawn (self);
  return self;
}

/**
 * cx_test_server_new_peer:
 *
 * Another server process on the same PostgreSQL schema and configuration as @first: a second
 * node of a cluster (issue 13). Free it before @first, whose schema it is.
 */
CxTestServer *
cx_test_server_new_peer (CxTestServer *first)
{
  CxTestServer *self = g_new0 (CxTestServer, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *config = NULL;

  g_assert_true (cx_test_on_postgresql ());
  self->dir = g_dir_make_tmp ("cxdesk-it-XXXXXX", &error);
  g_assert_no_error (error);
  self->db_path = g_strdup (first->db_path);
  self->config_path = g_build_filename (self->dir, "config.json", NULL);
  g_file_get_contents (first->config_path, &config, NULL, &error);
  g_assert_no_error (error);
  g_file_set_contents (self->config_path, config, -1, &error);
  g_assert_no_error (error);

  server_spawn (self);
  return self;
}

static gboolean
port_answers (gpointer data)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) connection =
      g_socket_client_connect_to_host (client, "127.0.0.1", GPOINTER_TO_UINT (data), NULL, NULL);

  return connection != NULL;
}

/**
 * cx_test_server_new_haproxy:
 * @nodes: (array length=n_nodes): the nodes
 *
 * HAProxy (if it is installed; NULL otherwise) on a free loopback port in front of @nodes as
 * .ci/cluster configures it: HTTP mode, round robin, no stickiness, WebSocket tunnels. The
 * result stands for the cluster: customers and agents made on it go through the proxy. Free it
 * before the nodes.
 */
CxTestServer *
cx_test_server_new_haproxy (CxTestServer **nodes, guint n_nodes)
{
  CxTestServer *self;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) any = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GString) config = g_string_new (NULL);
  g_autofree char *haproxy = g_find_program_in_path ("haproxy");
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  guint port;

  if (haproxy == NULL)
    return NULL;

  /* A free port: bound, read back, closed; HAProxy binds it next. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  any = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);

  g_string_append_printf (config,
                          "global\n    maxconn 1000\n"
                          "defaults\n    mode http\n    option http-server-close\n"
                          "    timeout connect 5s\n    timeout client 120s\n"
                          "    timeout server 120s\n    timeout tunnel 1h\n"
                          "frontend cxdesk\n    bind 127.0.0.1:%u\n    default_backend nodes\n"
                          "backend nodes\n    balance roundrobin\n",
                          port);
  for (guint i = 0; i < n_nodes; i++)
    g_string_append_printf (config, "    server node%u %s\n", i,
                            nodes[i]->base + strlen ("http://"));

  self = g_new0 (CxTestServer, 1);
  self->dir = g_dir_make_tmp ("cxdesk-haproxy-XXXXXX", &error);
  g_assert_no_error (error);
  self->config_path = g_build_filename (self->dir, "haproxy.cfg", NULL);
  g_file_set_contents (self->config_path, config->str, -1, &error);
  g_assert_no_error (error);
  /* child_setup: HAProxy does not outlive a test that aborts. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, self, NULL);
  self->process = g_subprocess_launcher_spawn (launcher, &error, haproxy, "-db", "-q", "-f",
                                               self->config_path, NULL);
  g_assert_no_error (error);
  self->url = g_strdup_printf ("http://127.0.0.1:%u/", port);
  self->base = g_strdup_printf ("http://127.0.0.1:%u", port);
  cx_test_wait (port_answers, GUINT_TO_POINTER (port));
  return self;
}

const char *
cx_test_server_get_url (CxTestServer *self)
{
  g_assert_nonnull (self->url);
  return self->url;
}

char *
cx_test_server_url (CxTestServer *self, const char *path_format, ...)
{
  g_autofree char *path = NULL;
  va_list args;

  g_assert_nonnull (self->base);
  va_start (args, path_format);
  path = g_strdup_vprintf (path_format, args);
  va_end (args);
  g_assert_true (path[0] == '/');
  return g_strconcat (self->base, path, NULL);
}

/* The server's process id, for /proc/PID/limits and /proc/PID/status. */
gboolean
cx_test_on_postgresql (void)
{
  const char *url = g_getenv ("CXDESK_TEST_PG_URL");

  return url != NULL && *url != '\0';
}

GPid
cx_test_server_get_pid (CxTestServer *self)
{
  const char *id = self->process ? g_subprocess_get_identifier (self->process) : NULL;

  g_assert_nonnull (id);
  return (GPid) g_ascii_strtoll (id, NULL, 10);
}

gboolean
cx_test_server_is_running (CxTestServer *self)
{
  return self->process != NULL && g_subprocess_get_identifier (self->process) != NULL;
}

static void
wait_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;
  g_autoptr (GError) error = NULL;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error);
  g_assert_no_error (error);
  *done = TRUE;
}

/* Waits with the main loop running: the server may close our WebSockets on its way out, and
 * that needs this side to answer. */
static void
server_wait_exit (CxTestServer *self)
{
  gboolean done = FALSE;

  g_subprocess_wait_async (self->process, NULL, wait_cb, &done);
  cx_test_wait (cx_test_flag_is_set, &done);
}

static void
server_forget_process (CxTestServer *self)
{
  g_cancellable_cancel (self->drain_cancellable);
  g_clear_object (&self->drain_cancellable);
  g_clear_object (&self->process);
}

void
cx_test_server_kill9 (CxTestServer *self)
{
  g_assert_nonnull (self->process);
  g_assert_true (cx_test_server_is_running (self));
  g_subprocess_send_signal (self->process, SIGKILL);
  server_wait_exit (self);
  g_assert_true (g_subprocess_get_if_signaled (self->process));
  g_assert_cmpint (g_subprocess_get_term_sig (self->process), ==, SIGKILL);
  server_forget_process (self);
}

void
cx_test_server_restart (CxTestServer *self)
{
  if (self->process != NULL)
    cx_test_server_stop (self);
  server_spawn (self);
}

void
cx_test_server_stop (CxTestServer *self)
{
  g_assert_nonnull (self->process);
  g_assert_true (cx_test_server_is_running (self));
  g_subprocess_send_signal (self->process, SIGTERM);
  server_wait_exit (self);
  if (g_subprocess_get_if_signaled (self->process))
    g_error ("cxdesk-server died of signal %d on SIGTERM instead of exiting 0",
             g_subprocess_get_term_sig (self->process));
  g_assert_true (g_subprocess_get_if_exited (self->process));
  g_assert_cmpint (g_subprocess_get_exit_status (self->process), ==, 0);
  server_forget_process (self);
}

static void
remove_tree (const char *path)
{
  GStatBuf info;

  if (g_lstat (path, &info) != 0)
    return;
  if (S_ISDIR (info.st_mode))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    {
      g_unlink (path);
    }
}

void
cx_test_server_free (CxTestServer *self)
{
  if (self == NULL)
    return;
  if (self->process != NULL && cx_test_server_is_running (self))
    {
      g_subprocess_force_exit (self->process);
      server_wait_exit (self);
    }
  if (self->process != NULL)
    server_forget_process (self);
  remove_tree (self->dir);
  if (self->pg_schema != NULL)
    {
      g_autofree char *sql = g_strdup_printf (
          "SET client_min_messages = warning; DROP SCHEMA %s CASCADE", self->pg_schema);

      pg_exec (sql);
      g_free (self->pg_schema);
    }
  g_free (self->dir);
  g_free (self->db_path);
  g_free (self->config_path);
  g_free (self->url);
  g_free (self->base);
  g_free (self);
}

/* Test cases */

typedef struct
{
  CxTestConfigOptions options;
  gconstpointer data;
  CxTestFunc func;
} TestCase;

static void
run_test_case (gconstpointer user_data)
{
  const TestCase *test_case = user_data;
  g_autofree char *config = NULL;
  CxTestFixture fixture = { NULL, NULL };

  if (!g_test_subprocess ())
    {
      /* The case runs in a child; a failure there fails this case only. */
      g_test_set_nonfatal_assertions ();
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  config = cx_test_config_new (&test_case->options);
  fixture.server = cx_test_server_new (config);
  fixture.session = cx_test_session_new (FALSE);

  test_case->func (&fixture, test_case->data);

  g_clear_object (&fixture.session);
  cx_test_assert_healthy (fixture.server);
  cx_test_server_stop (fixture.server); /* asserts that SIGTERM exits 0 */
  cx_test_server_free (fixture.server);
}

void
cx_test_add (const char *path, const CxTestConfigOptions *options, gconstpointer data,
             CxTestFunc func)
{
  /* Kept for the life of the program: GLib may not free its test suite. */
  static GPtrArray *test_cases;
  TestCase *test_case = g_new0 (TestCase, 1);

  if (test_cases == NULL)
    test_cases = g_ptr_array_new ();
  g_ptr_array_add (test_cases, test_case);
  if (options != NULL)
    test_case->options = *options;
  test_case->data = data;
  test_case->func = func;
  g_test_add_data_func (path, test_case, run_test_case);
}

/* Waiting */

static gboolean
wake_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

void
cx_test_wait_named (const char *name, CxTestCondition done, gpointer data)
{
  static gint64 guard_us;
  gint64 deadline;
  guint wake_id;

  /* A hang guard, not a timing assertion: generous, and CX_TEST_HANG_GUARD_S raises it (the
   * sanitizer run does). */
  if (guard_us == 0)
    {
      const char *env = g_getenv ("CX_TEST_HANG_GUARD_S");
      gint64 seconds = env != NULL ? g_ascii_strtoll (env, NULL, 10) : 0;

      guard_us = (seconds > 0 ? seconds : 120) * G_USEC_PER_SEC;
    }

  if (done (data))
    return;

  deadline = g_get_monotonic_time () + guard_us;
  /* Wakes the loop now and then, so that a wait on a condition nothing changes still ends. */
  wake_id = g_timeout_add_seconds (1, wake_cb, NULL);
  while (!done (data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Waited %" G_GINT64_FORMAT " s for “%s”, and it never held",
                 guard_us / G_USEC_PER_SEC, name);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (wake_id);
}

static gboolean
set_flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
cx_test_pause (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_flag_cb, &done);
  cx_test_wait (cx_test_flag_is_set, &done);
}

typedef struct
{
  guint *counter;
  guint count;
} CountWait;

static gboolean
count_reached (gpointer data)
{
  CountWait *wait = data;

  return *wait->counter >= wait->count;
}

void
cx_test_wait_at_least (guint *counter, guint count)
{
  CountWait wait = { counter, count };
  g_autofree char *name = g_strdup_printf ("a count of %u", count);

  cx_test_wait_named (name, count_reached, &wait);
}

/* A SoupServer in the test */

SoupServer *
cx_test_soup_server_new (SoupServerCallback callback, gpointer user_data, char **base_url)
{
  SoupServer *server = soup_server_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoslist (GUri) uris = NULL;

  soup_server_add_handler (server, NULL, callback, user_data, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  g_assert_nonnull (uris);
  *base_url = g_uri_to_string (uris->data);
  return server;
}

/* HTTP */

void
cx_test_reply_free (CxTestReply *reply)
{
  if (reply == NULL)
    return;
  g_clear_error (&reply->error);
  g_clear_pointer (&reply->body, g_bytes_unref);
  g_clear_pointer (&reply->json, json_node_unref);
  g_clear_pointer (&reply->headers, soup_message_headers_unref);
  g_free (reply);
}

SoupSession *
cx_test_session_new (gboolean with_cookie_jar)
{
  SoupSession *session = soup_session_new ();

  /* No client-side timeout: cx_test_wait's hang guard catches a hang, and a slow request under a
   * sanitizer must not turn into a false failure. */
  soup_session_set_timeout (session, 0);
  soup_session_set_idle_timeout (session, 0);
  if (with_cookie_jar)
    {
      g_autoptr (SoupCookieJar) jar = soup_cookie_jar_new ();

      soup_session_add_feature (session, SOUP_SESSION_FEATURE (jar));
    }
  return session;
}

static void
request_queued_cb (SoupSession *session, SoupMessage *msg, gpointer user_data)
{
  guint *count = user_data;

  (*count)++;
}

gulong
cx_test_count_requests (SoupSession *session, guint *count)
{
  return g_signal_connect (session, "request-queued", G_CALLBACK (request_queued_cb), count);
}

/* Conditions every suite waits on */

gboolean
cx_test_pointer_is_set (gpointer data)
{
  return *(gpointer *) data != NULL;
}

gboolean
cx_test_pointer_is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

gboolean
cx_test_flag_is_set (gpointer data)
{
  return *(gboolean *) data;
}

gboolean
cx_test_has_one_ref (gpointer data)
{
  return G_OBJECT (data)->ref_count == 1;
}

/* Requests that @object's users cancelled may still hold it until they have unwound: waits for
 * the last other reference to go, then checks that the caller's drops it for good. */
void
cx_test_finalize_when_unwound (gpointer object)
{
  cx_test_wait (cx_test_has_one_ref, object);
  g_assert_finalize_object (object);
}

void
cx_test_store_result_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

CxTestReply *
cx_test_send (SoupSession *session, SoupMessage *msg)
{
  g_autoptr (GAsyncResult) result = NULL;
  CxTestReply *reply = g_new0 (CxTestReply, 1);

  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, cx_test_store_result_cb,
                                    &result);
  cx_test_wait (cx_test_pointer_is_set, &result);

  reply->body = soup_session_send_and_read_finish (session, result, &reply->error);
  reply->status = reply->error == NULL ? soup_message_get_status (msg) : 0;
  reply->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  if (reply->body != NULL && g_bytes_get_size (reply->body) > 0)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      gsize size;
      const char *data = g_bytes_get_data (reply->body, &size);

      if (json_parser_load_from_data (parser, data, size, NULL) &&
          json_parser_get_root (parser) != NULL)
        reply->json = json_node_ref (json_parser_get_root (parser));
    }
  return reply;
}

CxTestReply *
cx_test_request (SoupSession *session, const char *method, const char *url,
                 const char *content_type, GBytes *body)
{
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);

  g_assert_nonnull (msg);
  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, content_type, body);
  return cx_test_send (session, msg);
}

CxTestReply *
cx_test_get (SoupSession *session, const char *url)
{
  return cx_test_request (session, "GET", url, NULL, NULL);
}

char *
cx_test_form_encode (const char *const *fields)
{
  GString *form = g_string_new (NULL);

  for (guint i = 0; fields[i] != NULL; i += 2)
    {
      g_assert_nonnull (fields[i + 1]);
      if (form->len > 0)
        g_string_append_c (form, '&');
      /* Not UTF-8-aware on purpose: bytes are escaped as they are, so tests can send
       * invalid UTF-8. */
      g_string_append_uri_escaped (form, fields[i], NULL, FALSE);
      g_string_append_c (form, '=');
      g_string_append_uri_escaped (form, fields[i + 1], NULL, FALSE);
    }
  return g_string_free (form, FALSE);
}

CxTestReply *
cx_test_post_formv (SoupSession *session, const char *url, const char *const *fields)
{
  g_autofree char *form = cx_test_form_encode (fields);
  g_autoptr (GBytes) body = g_bytes_new_take (form, strlen (form));

  form = NULL;
  return cx_test_request (session, "POST", url, "application/x-www-form-urlencoded", body);
}

static GPtrArray *
collect_pairs (const char *first, va_list args)
{
  GPtrArray *fields = g_ptr_array_new ();

  for (const char *key = first; key != NULL; key = va_arg (args, const char *))
    {
      g_ptr_array_add (fields, (gpointer) key);
      g_ptr_array_add (fields, va_arg (args, char *));
    }
  g_ptr_array_add (fields, NULL);
  return fields;
}

CxTestReply *
cx_test_post_form (SoupSession *session, const char *url, ...)
{
  g_autoptr (GPtrArray) fields = NULL;
  const char *first;
  va_list args;

  va_start (args, url);
  first = va_arg (args, const char *);
  fields = collect_pairs (first, args);
  va_end (args);
  return cx_test_post_formv (session, url, (const char *const *) fields->pdata);
}

CxTestReply *
cx_test_json (SoupSession *session, const char *method, const char *url, const char *json_body)
{
  g_autoptr (GBytes) body = NULL;

  if (json_body != NULL)
    body = g_bytes_new (json_body, strlen (json_body));
  return cx_test_request (session, method, url, "application/json", body);
}

static void
assert_transport_ok (CxTestReply *reply)
{
  if (reply->error != NULL)
    g_error ("request failed without an HTTP reply: %s", reply->error->message);
}

const char *
cx_test_reply_text (CxTestReply *reply)
{
  /* The body as text for diagnostics; bodies here are small JSON. */
  static GString *text;
  gsize size = 0;
  const char *data = reply->body != NULL ? g_bytes_get_data (reply->body, &size) : "";

  if (text == NULL)
    text = g_string_new (NULL);
  g_string_truncate (text, 0);
  g_string_append_len (text, data, MIN (size, 2000));
  return text->str;
}

JsonObject *
cx_test_reply_object (CxTestReply *reply)
{
  assert_transport_ok (reply);
  if (reply->json == NULL || !JSON_NODE_HOLDS_OBJECT (reply->json))
    g_error ("HTTP %u: expected a JSON object, got “%s”", reply->status,
             cx_test_reply_text (reply));
  return json_node_get_object (reply->json);
}

JsonArray *
cx_test_reply_array (CxTestReply *reply)
{
  assert_transport_ok (reply);
  if (reply->json == NULL || !JSON_NODE_HOLDS_ARRAY (reply->json))
    g_error ("HTTP %u: expected a JSON array, got “%s”", reply->status, cx_test_reply_text (reply));
  return json_node_get_array (reply->json);
}

static void
assert_status (CxTestReply *reply, guint status)
{
  assert_transport_ok (reply);
  if (reply->status != status)
    g_error ("expected HTTP %u, got %u: “%s”", status, reply->status, cx_test_reply_text (reply));
}

void
cx_test_assert_gms_error (CxTestReply *reply, guint status)
{
  JsonObject *object;
  JsonArray *errors;
  JsonNode *chat_ended;

  assert_status (reply, status);
  object = cx_test_reply_object (reply);
  if (!json_object_has_member (object, "statusCode") || !json_object_has_member (object, "errors"))
    g_error ("HTTP %u: expected the GMS error shape, got “%s”", reply->status,
             cx_test_reply_text (reply));
  g_assert_cmpint (cx_test_object_int (object, "statusCode"), ==, 2);
  chat_ended = json_object_get_member (object, "chatEnded");
  g_assert_nonnull (chat_ended);
  g_assert_cmpint (json_node_get_value_type (chat_ended), ==, G_TYPE_BOOLEAN);
  g_assert_true (json_object_has_member (object, "errors"));
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, "errors")));
  errors = json_object_get_array_member (object, "errors");
  g_assert_cmpuint (json_array_get_length (errors), >, 0);
  for (guint i = 0; i < json_array_get_length (errors); i++)
    {
      JsonNode *error = json_array_get_element (errors, i);

      g_assert_true (JSON_NODE_HOLDS_OBJECT (error));
      cx_test_object_int (json_node_get_object (error), "code");
      cx_test_object_string (json_node_get_object (error), "advice");
    }
}

void
cx_test_assert_cx_error (CxTestReply *reply, guint status)
{
  JsonObject *object;

  assert_status (reply, status);
  object = cx_test_reply_object (reply);
  if (!json_object_has_member (object, "error"))
    g_error ("HTTP %u: expected {\"error\": …}, got “%s”", reply->status,
             cx_test_reply_text (reply));
  cx_test_object_string (object, "error");
}

void
cx_test_assert_healthy (CxTestServer *server)
{
  g_autoptr (SoupSession) session = cx_test_session_new (FALSE);
  g_autofree char *url = cx_test_server_url (server, "/cx/1/health");
  g_autoptr (CxTestReply) reply = NULL;

  g_assert_true (cx_test_server_is_running (server));
  reply = cx_test_get (session, url);
  assert_status (reply, 200);
  g_assert_cmpstr (cx_test_object_string (cx_test_reply_object (reply), "status"), ==, "ok");
}

/* JSON reading */

const char *
cx_test_object_string (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    g_error ("expected a string member “%s”", member);
  return json_node_get_string (node);
}

gint64
cx_test_object_int (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
    g_error ("expected an integer member “%s”", member);
  return json_node_get_int (node);
}

gint64
cx_test_object_loose_int (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);
  gint64 value = 0;

  if (node != NULL && json_node_get_value_type (node) == G_TYPE_INT64)
    return json_node_get_int (node);
  if (node != NULL && json_node_get_value_type (node) == G_TYPE_STRING &&
      g_ascii_string_to_signed (json_node_get_string (node), 10, G_MININT64, G_MAXINT64, &value,
                                NULL))
    return value;
  g_error ("expected a number (or a string holding one) in “%s”", member);
  return 0;
}

char *
cx_test_object_loose_string (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node != NULL && json_node_get_value_type (node) == G_TYPE_STRING &&
      *json_node_get_string (node) != '\0')
    return g_strdup (json_node_get_string (node));
  if (node != NULL && json_node_get_value_type (node) == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  g_error ("expected a non-empty string (or a number) in “%s”", member);
  return NULL;
}

const char *
cx_test_message_text (JsonObject *message)
{
  JsonNode *node = json_object_get_member (message, "text");

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return "";
  if (json_node_get_value_type (node) != G_TYPE_STRING)
    g_error ("a message's text is not a string");
  return json_node_get_string (node);
}

const char *
cx_test_message_from_type (JsonObject *message)
{
  JsonNode *from = json_object_get_member (message, "from");

  if (from == NULL || !JSON_NODE_HOLDS_OBJECT (from))
    g_error ("a message has no “from” object");
  return cx_test_object_string (json_node_get_object (from), "type");
}

char *
cx_test_message_summary (JsonObject *message)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT "|%s|%s|%s", cx_test_object_int (message, "index"),
                          cx_test_object_string (message, "type"),
                          cx_test_message_from_type (message), cx_test_message_text (message));
}

/* WebSockets */

static void
socket_message_cb (SoupWebsocketConnection *conn, int type, GBytes *message, gpointer user_data)
{
  CxTestSocket *self = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (message, &size);
  JsonNode *root;
  JsonObject *frame;

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  g_debug ("frame on %p: %.*s", self, (int) MIN (size, 1000), data);
  json_parser_load_from_data (parser, data, size, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    g_error ("a WebSocket frame is not a JSON object: %.*s", (int) MIN (size, 500), data);
  frame = json_node_get_object (root);
  cx_test_object_string (frame, "type");
  g_queue_push_tail (&self->frames, json_object_ref (frame));
  g_ptr_array_add (self->all_frames, json_object_ref (frame));
}

static void
socket_closed_cb (SoupWebsocketConnection *conn, gpointer user_data)
{
  CxTestSocket *self = user_data;

  self->closed = TRUE;
  self->close_code = soup_websocket_connection_get_close_code (conn);
}

static void
socket_connect_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxTestSocket *self = user_data;

  self->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &self->error);
  if (self->conn != NULL)
    {
      soup_websocket_connection_set_max_incoming_payload_size (self->conn, 64 * 1024 * 1024);
      soup_websocket_connection_set_keepalive_interval (self->conn, 0);
      g_signal_connect (self->conn, "message", G_CALLBACK (socket_message_cb), self);
      g_signal_connect (self->conn, "closed", G_CALLBACK (socket_closed_cb), self);
    }
  self->connect_done = TRUE;
}

static gboolean
socket_connect_done (gpointer data)
{
  return ((CxTestSocket *) data)->connect_done;
}

CxTestSocket *
cx_test_socket_connect (SoupSession *session, const char *url)
{
  return cx_test_socket_connect_with (session, url, NULL, NULL);
}

CxTestSocket *
cx_test_socket_connect_with (SoupSession *session, const char *url, const char *header,
                             const char *value)
{
  CxTestSocket *self = g_new0 (CxTestSocket, 1);

  g_queue_init (&self->frames);
  self->all_frames = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  self->msg = soup_message_new ("GET", url);
  g_assert_nonnull (self->msg);
  if (header != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (self->msg), header, value);
  soup_session_websocket_connect_async (session, self->msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        socket_connect_cb, self);
  cx_test_wait (socket_connect_done, self);
  return self;
}

void
cx_test_socket_send (CxTestSocket *self, const char *text)
{
  g_assert_nonnull (self->conn);
  g_assert_cmpint (soup_websocket_connection_get_state (self->conn), ==, SOUP_WEBSOCKET_STATE_OPEN);
  soup_websocket_connection_send_text (self->conn, text);
}

static gboolean
frame_matches (JsonObject *frame, const char *type, const char *chat_id)
{
  if (g_strcmp0 (cx_test_object_string (frame, "type"), type) != 0)
    return FALSE;
  if (chat_id != NULL)
    {
      g_autofree char *id = cx_test_object_loose_string (frame, "chatId");

      return g_str_equal (id, chat_id);
    }
  return TRUE;
}

JsonObject *
cx_test_socket_peek (CxTestSocket *self, const char *type, const char *chat_id)
{
  for (GList *l = self->frames.head; l != NULL; l = l->next)
    if (frame_matches (l->data, type, chat_id))
      return l->data;
  return NULL;
}

JsonObject *
cx_test_socket_take (CxTestSocket *self, const char *type, const char *chat_id)
{
  for (GList *l = self->frames.head; l != NULL; l = l->next)
    {
      if (frame_matches (l->data, type, chat_id))
        {
          JsonObject *frame = l->data;

          g_queue_delete_link (&self->frames, l);
          return frame;
        }
    }
  return NULL;
}

typedef struct
{
  CxTestSocket *socket;
  const char *type;
  const char *chat_id;
} FrameWait;

static gboolean
frame_arrived (gpointer data)
{
  FrameWait *wait = data;

  if (cx_test_socket_peek (wait->socket, wait->type, wait->chat_id) != NULL)
    return TRUE;
  if (wait->socket->closed)
    g_error ("the WebSocket closed (code %u) while waiting for a “%s” frame",
             wait->socket->close_code, wait->type);
  return FALSE;
}

JsonObject *
cx_test_socket_wait (CxTestSocket *self, const char *type, const char *chat_id)
{
  FrameWait wait = { self, type, chat_id };

  g_assert_nonnull (self->conn);
  cx_test_wait (frame_arrived, &wait);
  return cx_test_socket_take (self, type, chat_id);
}

static gboolean
socket_is_closed (gpointer data)
{
  return ((CxTestSocket *) data)->closed;
}

void
cx_test_socket_wait_closed (CxTestSocket *self)
{
  g_assert_nonnull (self->conn);
  cx_test_wait (socket_is_closed, self);
}

void
cx_test_socket_free (CxTestSocket *self)
{
  if (self == NULL)
    return;
  if (self->conn != NULL)
    {
      if (!self->closed)
        {
          if (soup_websocket_connection_get_state (self->conn) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close (self->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
          cx_test_wait (socket_is_closed, self);
        }
      g_signal_handlers_disconnect_by_data (self->conn, self);
      g_clear_object (&self->conn);
    }
  g_queue_clear_full (&self->frames, (GDestroyNotify) json_object_unref);
  g_clear_pointer (&self->all_frames, g_ptr_array_unref);
  g_clear_error (&self->error);
  g_clear_object (&self->msg);
  g_free (self);
}

/* Customers */

CxTestCustomer *
cx_test_customer_start (CxTestServer *server, const char *service, const char *nickname)
{
  CxTestCustomer *self = g_new0 (CxTestCustomer, 1);
  g_autofree char *url = cx_test_server_url (server, "/genesys/2/chat/%s", service);
  g_autoptr (CxTestReply) reply = NULL;
  JsonObject *object;

  self->server = server;
  self->session = cx_test_session_new (FALSE);
  self->service = g_strdup (service);
  self->next_position = 1;
  self->transcript = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

  reply = cx_test_post_form (self->session, url, "nickname", nickname, "subject",
                             "Integration test", "emailAddress", "customer@example.com",
                             "userData[source]", "integration-test", NULL);
  assert_status (reply, 200);
  object = cx_test_reply_object (reply);
  g_assert_cmpint (cx_test_object_int (object, "statusCode"), ==, 0);
  self->chat_id = cx_test_object_loose_string (object, "chatId");
  self->user_id = cx_test_object_loose_string (object, "userId");
  self->secure_key = cx_test_object_loose_string (object, "secureKey");
  self->alias = cx_test_object_loose_string (object, "alias");
  self->user_id_node = json_node_copy (json_object_get_member (object, "userId"));
  self->alias_node = json_node_copy (json_object_get_member (object, "alias"));
  return self;
}

CxTestCustomer *
cx_test_customer_copy_keys (CxTestCustomer *other)
{
  CxTestCustomer *self = g_new0 (CxTestCustomer, 1);

  self->server = other->server;
  self->session = cx_test_session_new (FALSE);
  self->service = g_strdup (other->service);
  self->chat_id = g_strdup (other->chat_id);
  self->user_id = g_strdup (other->user_id);
  self->secure_key = g_strdup (other->secure_key);
  self->alias = g_strdup (other->alias);
  self->user_id_node = json_node_copy (other->user_id_node);
  self->alias_node = json_node_copy (other->alias_node);
  self->next_position = 1;
  self->transcript = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  return self;
}

CxTestReply *
cx_test_customer_callv (CxTestCustomer *self, const char *op, const char *const *extra)
{
  g_autofree char *url = cx_test_server_url (self->server, "/genesys/2/chat/%s/%s/%s",
                                             self->service, self->chat_id, op);
  g_autoptr (GPtrArray) fields = g_ptr_array_new ();

  g_ptr_array_add (fields, (gpointer) "userId");
  g_ptr_array_add (fields, self->user_id);
  g_ptr_array_add (fields, (gpointer) "secureKey");
  g_ptr_array_add (fields, self->secure_key);
  g_ptr_array_add (fields, (gpointer) "alias");
  g_ptr_array_add (fields, self->alias);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (fields, (gpointer) extra[i]);
  g_ptr_array_add (fields, NULL);
  return cx_test_post_formv (self->session, url, (const char *const *) fields->pdata);
}

CxTestReply *
cx_test_customer_call (CxTestCustomer *self, const char *op, ...)
{
  g_autoptr (GPtrArray) fields = NULL;
  const char *first;
  va_list args;

  va_start (args, op);
  first = va_arg (args, const char *);
  fields = collect_pairs (first, args);
  va_end (args);
  return cx_test_customer_callv (self, op, (const char *const *) fields->pdata);
}

void
cx_test_customer_send (CxTestCustomer *self, const char *text)
{
  g_autoptr (CxTestReply) reply = cx_test_customer_call (self, "send", "message", text, NULL);

  assert_status (reply, 200);
  g_assert_cmpint (cx_test_object_int (cx_test_reply_object (reply), "statusCode"), ==, 0);
}

void
cx_test_customer_poll (CxTestCustomer *self)
{
  g_autofree char *position = g_strdup_printf ("%" G_GINT64_FORMAT, self->next_position);
  g_autoptr (CxTestReply) reply =
      cx_test_customer_call (self, "refresh", "transcriptPosition", position, NULL);
  JsonObject *object;
  JsonArray *messages;
  gint64 expected;
  JsonNode *chat_ended;

  assert_status (reply, 200);
  object = cx_test_reply_object (reply);
  g_assert_cmpint (cx_test_object_int (object, "statusCode"), ==, 0);
  g_assert_true (json_object_has_member (object, "messages"));
  messages = json_object_get_array_member (object, "messages");
  g_assert_nonnull (messages);

  expected = self->next_position;
  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonNode *node = json_array_get_element (messages, i);
      JsonObject *message;

      g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
      message = json_node_get_object (node);
      /* refresh returns every message from the position, with no gaps or repeats */
      g_assert_cmpint (cx_test_object_int (message, "index"), ==, expected);
      cx_test_object_string (message, "type");
      cx_test_message_from_type (message);
      g_ptr_array_add (self->transcript, json_object_ref (message));
      expected++;
    }
  g_assert_cmpint (cx_test_object_int (object, "nextPosition"), ==, expected);
  self->next_position = expected;

  chat_ended = json_object_get_member (object, "chatEnded");
  g_assert_nonnull (chat_ended);
  g_assert_cmpint (json_node_get_value_type (chat_ended), ==, G_TYPE_BOOLEAN);
  self->ended = json_node_get_boolean (chat_ended);
}

JsonObject *
cx_test_messages_find (GPtrArray *messages, const char *type, const char *from_type,
                       const char *text)
{
  for (guint i = 0; i < messages->len; i++)
    {
      JsonObject *message = g_ptr_array_index (messages, i);

      if ((type == NULL || g_strcmp0 (cx_test_object_string (message, "type"), type) == 0) &&
          (from_type == NULL || g_strcmp0 (cx_test_message_from_type (message), from_type) == 0) &&
          (text == NULL || g_strcmp0 (cx_test_message_text (message), text) == 0))
        return message;
    }
  return NULL;
}

guint
cx_test_messages_count_text (GPtrArray *messages, const char *text)
{
  guint count = 0;

  for (guint i = 0; i < messages->len; i++)
    if (g_strcmp0 (cx_test_message_text (g_ptr_array_index (messages, i)), text) == 0)
      count++;
  return count;
}

JsonObject *
cx_test_customer_find (CxTestCustomer *self, gint64 from_index, const char *type,
                       const char *from_type, const char *text)
{
  for (guint i = 0; i < self->transcript->len; i++)
    {
      JsonObject *message = g_ptr_array_index (self->transcript, i);

      if (cx_test_object_int (message, "index") < from_index)
        continue;
      if (type != NULL && g_strcmp0 (cx_test_object_string (message, "type"), type) != 0)
        continue;
      if (from_type != NULL && g_strcmp0 (cx_test_message_from_type (message), from_type) != 0)
        continue;
      if (text != NULL && g_strcmp0 (cx_test_message_text (message), text) != 0)
        continue;
      return message;
    }
  return NULL;
}

JsonObject *
cx_test_customer_poll_until (CxTestCustomer *self, gint64 from_index, const char *type,
                             const char *from_type, const char *text)
{
  for (;;)
    {
      JsonObject *message = cx_test_customer_find (self, from_index, type, from_type, text);
      gboolean was_ended = self->ended;

      if (message != NULL)
        return message;
      if (was_ended)
        g_error ("the chat ended before a %s message from %s (“%s”) arrived", type,
                 from_type != NULL ? from_type : "anyone", text != NULL ? text : "");
      cx_test_pause (POLL_INTERVAL_MS);
      cx_test_customer_poll (self);
    }
}

void
cx_test_customer_poll_until_ended (CxTestCustomer *self)
{
  cx_test_customer_poll (self);
  while (!self->ended)
    {
      cx_test_pause (POLL_INTERVAL_MS);
      cx_test_customer_poll (self);
    }
}

gint64
cx_test_customer_queue_position (JsonObject *notice)
{
  JsonNode *user_data = json_object_get_member (notice, "userData");

  if (user_data == NULL || !JSON_NODE_HOLDS_OBJECT (user_data))
    g_error ("a queue-position Notice has no userData object");
  return cx_test_object_loose_int (json_node_get_object (user_data), "queuePosition");
}

CxTestSocket *
cx_test_customer_push_socket (CxTestCustomer *self, gint64 position)
{
  g_autofree char *url =
      cx_test_server_url (self->server, "/cx/1/chat/%s/%s/socket", self->service, self->chat_id);
  g_autoptr (SoupSession) session = cx_test_session_new (FALSE);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *first = NULL;
  CxTestSocket *socket = cx_test_socket_connect (session, url);

  g_assert_no_error (socket->error);
  json_builder_begin_object (builder);
  add_string_member (builder, "secureKey", self->secure_key);
  json_builder_set_member_name (builder, "userId");
  json_builder_add_value (builder, json_node_copy (self->user_id_node));
  json_builder_set_member_name (builder, "alias");
  json_builder_add_value (builder, json_node_copy (self->alias_node));
  add_int_member (builder, "transcriptPosition", position);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  first = json_to_string (root, FALSE);
  cx_test_socket_send (socket, first);
  return socket;
}

GPtrArray *
cx_test_push_transcript (CxTestSocket *socket)
{
  GPtrArray *messages = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

  for (guint i = 0; i < socket->all_frames->len; i++)
    {
      JsonObject *frame = g_ptr_array_index (socket->all_frames, i);
      JsonArray *array;

      if (!g_str_equal (cx_test_object_string (frame, "type"), "messages"))
        continue;
      g_assert_true (json_object_has_member (frame, "messages"));
      array = json_object_get_array_member (frame, "messages");
      g_assert_nonnull (array);
      for (guint j = 0; j < json_array_get_length (array); j++)
        {
          JsonNode *node = json_array_get_element (array, j);

          g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
          g_ptr_array_add (messages, json_object_ref (json_node_get_object (node)));
        }
    }
  return messages;
}

GPtrArray *
cx_test_transcript_summaries (GPtrArray *messages)
{
  GPtrArray *summaries = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < messages->len; i++)
    g_ptr_array_add (summaries, cx_test_message_summary (g_ptr_array_index (messages, i)));
  return summaries;
}

void
cx_test_assert_contiguous (GPtrArray *messages, gint64 first_index)
{
  for (guint i = 0; i < messages->len; i++)
    g_assert_cmpint (cx_test_object_int (g_ptr_array_index (messages, i), "index"), ==,
                     first_index + i);
}

void
cx_test_customer_free (CxTestCustomer *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->session);
  g_free (self->service);
  g_free (self->chat_id);
  g_free (self->user_id);
  g_free (self->secure_key);
  g_free (self->alias);
  g_clear_pointer (&self->user_id_node, json_node_unref);
  g_clear_pointer (&self->alias_node, json_node_unref);
  g_clear_pointer (&self->transcript, g_ptr_array_unref);
  g_free (self);
}

/* Agents */

CxTestAgent *
cx_test_agent_new (CxTestServer *server, const char *username)
{
  CxTestAgent *self = g_new0 (CxTestAgent, 1);

  self->server = server;
  self->session = cx_test_session_new (TRUE);
  self->username = g_strdup (username);
  return self;
}

static char *
json_string_literal (const char *text)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (node, text);
  return json_to_string (node, FALSE);
}

CxTestAgent *
cx_test_agent_sign_in (CxTestServer *server, const char *username, const char *password)
{
  CxTestAgent *self = cx_test_agent_new (server, username);
  g_autofree char *user = json_string_literal (username);
  g_autofree char *pass = json_string_literal (password);
  g_autofree char *body = g_strdup_printf ("{\"username\":%s,\"password\":%s}", user, pass);
  g_autoptr (CxTestReply) reply = cx_test_agent_call (self, "POST", "/cx/1/agent/session", body);
  g_autofree char *cookie = NULL;

  assert_status (reply, 200);
  g_assert_cmpstr (cx_test_object_string (cx_test_reply_object (reply), "username"), ==, username);
  cookie = cx_test_agent_cookie (self);
  g_assert_nonnull (cookie);
  return self;
}

CxTestReply *
cx_test_agent_call (CxTestAgent *self, const char *method, const char *path, const char *json_body)
{
  g_autofree char *url = cx_test_server_url (self->server, "%s", path);

  return cx_test_json (self->session, method, url, json_body);
}

void
cx_test_agent_connect_events (CxTestAgent *self)
{
  g_autofree char *url = cx_test_server_url (self->server, "/cx/1/agent/events");
  JsonObject *greeting;

  g_assert_null (self->events);
  self->events = cx_test_socket_connect (self->session, url);
  g_assert_no_error (self->events->error);
  /* The server greets every event socket with the agent's state: once it has arrived, the
   * socket is registered and no later event can be missed. The greeting stays first in the
   * queue for tests that look at it. */
  greeting = cx_test_socket_wait (self->events, "agentState", NULL);
  g_queue_push_head (&self->events->frames, greeting);
}

void
cx_test_agent_set_state (CxTestAgent *self, const char *state)
{
  g_autofree char *literal = json_string_literal (state);
  g_autofree char *body = g_strdup_printf ("{\"state\":%s}", literal);
  g_autoptr (CxTestReply) reply = cx_test_agent_call (self, "PUT", "/cx/1/agent/state", body);

  assert_status (reply, 200);
  g_assert_cmpstr (cx_test_object_string (cx_test_reply_object (reply), "state"), ==, state);
}

JsonObject *
cx_test_agent_wait_invitation (CxTestAgent *self, const char *chat_id)
{
  g_assert_nonnull (self->events);
  return cx_test_socket_wait (self->events, "invitation", chat_id);
}

CxTestAgent *
cx_test_agent_ready (CxTestServer *server, const char *username, const char *password)
{
  CxTestAgent *self = cx_test_agent_sign_in (server, username, password);

  cx_test_agent_connect_events (self);
  cx_test_agent_set_state (self, "ready");
  return self;
}

void
cx_test_agent_take (CxTestAgent *self, const char *chat_id)
{
  g_autoptr (JsonObject) chat = NULL;

  cx_test_agent_wait_invitation (self, chat_id);
  chat = cx_test_agent_accept (self, chat_id);
}

void
cx_test_agent_typing (CxTestAgent *self, const char *chat_id, gboolean typing)
{
  g_autofree char *path = g_strdup_printf ("/cx/1/agent/chats/%s/typing", chat_id);
  g_autoptr (CxTestReply) reply =
      cx_test_agent_call (self, "POST", path, typing ? "{\"typing\":true}" : "{\"typing\":false}");

  g_assert_cmpuint (reply->status, ==, 204);
}

JsonObject *
cx_test_agent_find_callback (CxTestAgent *self, const char *id)
{
  g_autoptr (CxTestReply) reply = cx_test_agent_call (self, "GET", "/cx/1/agent/callbacks", NULL);
  JsonArray *callbacks;

  g_assert_cmpuint (reply->status, ==, 200);
  callbacks = json_object_get_array_member (cx_test_reply_object (reply), "callbacks");
  g_assert_nonnull (callbacks);
  for (guint i = 0; i < json_array_get_length (callbacks); i++)
    {
      JsonObject *callback = json_array_get_object_element (callbacks, i);
      g_autofree char *other = cx_test_object_loose_string (callback, "_id");

      if (g_str_equal (other, id))
        return json_object_ref (callback);
    }
  return NULL;
}

JsonObject *
cx_test_agent_accept (CxTestAgent *self, const char *chat_id)
{
  g_autofree char *path = g_strdup_printf ("/cx/1/agent/invitations/%s/accept", chat_id);
  g_autoptr (CxTestReply) reply = cx_test_agent_call (self, "POST", path, NULL);
  JsonObject *chat;
  g_autofree char *id = NULL;

  assert_status (reply, 200);
  chat = cx_test_reply_object (reply);
  id = cx_test_object_loose_string (chat, "chatId");
  g_assert_cmpstr (id, ==, chat_id);
  return json_object_ref (chat);
}

gint64
cx_test_agent_send (CxTestAgent *self, const char *chat_id, const char *text)
{
  g_autofree char *path = g_strdup_printf ("/cx/1/agent/chats/%s/send", chat_id);
  g_autofree char *literal = json_string_literal (text);
  g_autofree char *body = g_strdup_printf ("{\"text\":%s}", literal);
  g_autoptr (CxTestReply) reply = cx_test_agent_call (self, "POST", path, body);

  assert_status (reply, 200);
  return cx_test_object_int (cx_test_reply_object (reply), "index");
}

char *
cx_test_agent_cookie (CxTestAgent *self)
{
  SoupCookieJar *jar =
      SOUP_COOKIE_JAR (soup_session_get_feature (self->session, SOUP_TYPE_COOKIE_JAR));
  g_autofree char *url = cx_test_server_url (self->server, "/cx/1/agent/me");
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  GSList *cookies = soup_cookie_jar_get_cookie_list (jar, uri, TRUE);
  char *value = NULL;

  for (GSList *l = cookies; l != NULL; l = l->next)
    if (g_str_equal (soup_cookie_get_name (l->data), "cxdesk_agent"))
      value = g_strdup (soup_cookie_get_value (l->data));
  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);
  return value;
}

typedef struct
{
  CxTestSocket *socket;
  const char *reason;
} BarrierWait;

static gboolean
barrier_reached (gpointer data)
{
  BarrierWait *wait = data;

  for (GList *l = wait->socket->frames.head; l != NULL; l = l->next)
    {
      JsonObject *frame = l->data;
      JsonNode *reason = json_object_get_member (frame, "reason");

      if (frame_matches (frame, "agentState", NULL) && reason != NULL &&
          json_node_get_value_type (reason) == G_TYPE_STRING &&
          g_strcmp0 (json_node_get_string (reason), wait->reason) == 0)
        {
          g_queue_delete_link (&wait->socket->frames, l);
          json_object_unref (frame);
          return TRUE;
        }
    }
  if (wait->socket->closed)
    g_error ("the event socket closed (code %u) before the barrier", wait->socket->close_code);
  return FALSE;
}

/* Frames on one WebSocket arrive in order: a state change made now is pushed after every event
 * the server pushed before it, so once its agentState frame is here, so is everything earlier.
 * This lets a test assert that an event did NOT happen (or did happen) without a clock. It
 * leaves the agent not_ready. */
void
cx_test_agent_barrier (CxTestAgent *self)
{
  static guint counter;
  g_autofree char *reason = g_strdup_printf ("test-barrier-%u", ++counter);
  g_autofree char *body = g_strdup_printf ("{\"state\":\"not_ready\",\"reason\":\"%s\"}", reason);
  g_autoptr (CxTestReply) reply = NULL;
  BarrierWait wait = { self->events, reason };

  g_assert_nonnull (self->events);
  reply = cx_test_agent_call (self, "PUT", "/cx/1/agent/state", body);
  assert_status (reply, 200);
  cx_test_wait (barrier_reached, &wait);
}

void
cx_test_agent_free (CxTestAgent *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->events, cx_test_socket_free);
  g_clear_object (&self->session);
  g_free (self->username);
  g_free (self);
}

JsonObject *
cx_test_frames_find_message (CxTestSocket *socket, const char *chat_id, const char *type,
                             const char *text)
{
  for (guint i = 0; i < socket->all_frames->len; i++)
    {
      JsonObject *frame = g_ptr_array_index (socket->all_frames, i);
      JsonArray *messages;

      if (!frame_matches (frame, "messages", chat_id))
        continue;
      messages = json_object_get_array_member (frame, "messages");
      g_assert_nonnull (messages);
      for (guint j = 0; j < json_array_get_length (messages); j++)
        {
          JsonObject *message = json_array_get_object_element (messages, j);

          g_assert_nonnull (message);
          if (g_strcmp0 (cx_test_object_string (message, "type"), type) != 0)
            continue;
          if (text != NULL && g_strcmp0 (cx_test_message_text (message), text) != 0)
            continue;
          return message;
        }
    }
  return NULL;
}

typedef struct
{
  CxTestSocket *socket;
  const char *chat_id;
  const char *type;
  const char *text;
  JsonObject *found;
} MessageWait;

static gboolean
message_arrived (gpointer data)
{
  MessageWait *wait = data;

  wait->found = cx_test_frames_find_message (wait->socket, wait->chat_id, wait->type, wait->text);
  if (wait->found != NULL)
    return TRUE;
  if (wait->socket->closed)
    g_error ("the event socket closed (code %u) while waiting for a %s message “%s”",
             wait->socket->close_code, wait->type, wait->text != NULL ? wait->text : "");
  return FALSE;
}

JsonObject *
cx_test_agent_wait_message (CxTestAgent *self, const char *chat_id, const char *type,
                            const char *text)
{
  MessageWait wait = { self->events, chat_id, type, text, NULL };

  g_assert_nonnull (self->events);
  cx_test_wait (message_arrived, &wait);
  return wait.found;
}

/* Time */

char *
cx_test_iso8601 (GDateTime *time)
{
  g_autoptr (GDateTime) utc = g_date_time_to_utc (time);

  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%S.000Z");
}

GDateTime *
cx_test_tomorrow_at (int hour, int minute)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) tomorrow = g_date_time_add_days (now, 1);

  return g_date_time_new_utc (g_date_time_get_year (tomorrow), g_date_time_get_month (tomorrow),
                              g_date_time_get_day_of_month (tomorrow), hour, minute, 0);
}

/* Forwarder: a fixed loopback port in front of the server, as a load balancer would be. A
 * client's address stays valid when the server restarts on another port, and a dead server looks
 * as it would (connections cut). While blocked it hangs up on every new connection. */

struct _CxTestForwarder
{
  GSocketService *listener;
  CxTestServer *server;
  char *url; /* http://127.0.0.1:PORT/ */
  gboolean blocked;
  guint links;
};

typedef struct
{
  CxTestForwarder *forwarder;
  GSocketConnection *client;
  GSocketConnection *backend;
  GCancellable *cancellable;
  guint pending; /* operations under way; the link goes with the last */
  guint8 up[16384];
  guint8 down[16384];
} ForwarderLink;

static void
forwarder_link_unref (ForwarderLink *link)
{
  if (--link->pending > 0)
    return;

  link->forwarder->links--;
  g_clear_object (&link->client);
  g_clear_object (&link->backend);
  g_clear_object (&link->cancellable);
  g_free (link);
}

/* Either side is done: so is the other. */
static void
forwarder_link_close (ForwarderLink *link)
{
  g_cancellable_cancel (link->cancellable);
  if (link->client != NULL)
    g_io_stream_close (G_IO_STREAM (link->client), NULL, NULL);
  if (link->backend != NULL)
    g_io_stream_close (G_IO_STREAM (link->backend), NULL, NULL);
}

static void forwarder_pump (ForwarderLink *link, gboolean up);

typedef struct
{
  ForwarderLink *link;
  gboolean up;
} ForwarderDirection;

static void
forwarder_wrote_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ForwarderDirection *direction = user_data;
  ForwarderLink *link = direction->link;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL))
    forwarder_link_close (link);
  else
    forwarder_pump (link, direction->up);
  g_free (direction);
  forwarder_link_unref (link);
}

static void
forwarder_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ForwarderDirection *direction = user_data;
  ForwarderLink *link = direction->link;
  gssize size = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  GIOStream *to = G_IO_STREAM (direction->up ? link->backend : link->client);

  if (size <= 0)
    {
      forwarder_link_close (link);
      g_free (direction);
      forwarder_link_unref (link);
      return;
    }

  g_output_stream_write_all_async (g_io_stream_get_output_stream (to),
                                   direction->up ? link->up : link->down, size, G_PRIORITY_DEFAULT,
                                   link->cancellable, forwarder_wrote_cb, direction);
}

static void
forwarder_pump (ForwarderLink *link, gboolean up)
{
  GIOStream *from = G_IO_STREAM (up ? link->client : link->backend);
  ForwarderDirection *direction = g_new0 (ForwarderDirection, 1);

  direction->link = link;
  direction->up = up;
  link->pending++;
  g_input_stream_read_async (g_io_stream_get_input_stream (from), up ? link->up : link->down,
                             sizeof link->up, G_PRIORITY_DEFAULT, link->cancellable,
                             forwarder_read_cb, direction);
}

static void
forwarder_backend_connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ForwarderLink *link = user_data;

  link->backend = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, NULL);
  if (link->backend == NULL)
    {
      /* The server is down: hang up, as a balancer with no backend does. */
      forwarder_link_close (link);
      forwarder_link_unref (link);
      return;
    }

  forwarder_pump (link, TRUE);
  forwarder_pump (link, FALSE);
  forwarder_link_unref (link);
}

static gboolean
forwarder_incoming_cb (GSocketService *listener, GSocketConnection *connection, GObject *source,
                       gpointer user_data)
{
  CxTestForwarder *forwarder = user_data;
  g_autoptr (GSocketClient) connector = NULL;
  g_autoptr (GUri) uri = NULL;
  ForwarderLink *link;

  if (forwarder->blocked)
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }

  link = g_new0 (ForwarderLink, 1);
  link->forwarder = forwarder;
  link->client = g_object_ref (connection);
  link->cancellable = g_cancellable_new ();
  link->pending = 1;
  forwarder->links++;

  /* The server's current address: it moves when the server restarts. */
  connector = g_socket_client_new ();
  uri = g_uri_parse (cx_test_server_get_url (forwarder->server), G_URI_FLAGS_NONE, NULL);
  g_assert_nonnull (uri);
  g_socket_client_connect_to_host_async (connector, "127.0.0.1", g_uri_get_port (uri),
                                         link->cancellable, forwarder_backend_connected_cb, link);
  return TRUE;
}

CxTestForwarder *
cx_test_forwarder_new (CxTestServer *server)
{
  CxTestForwarder *forwarder = g_new0 (CxTestForwarder, 1);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GError) error = NULL;

  forwarder->server = server;
  forwarder->listener = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (forwarder->listener), address,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective,
                                 &error);
  g_assert_no_error (error);
  forwarder->url = g_strdup_printf (
      "http://127.0.0.1:%u/", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  g_signal_connect (forwarder->listener, "incoming", G_CALLBACK (forwarder_incoming_cb), forwarder);
  g_socket_service_start (forwarder->listener);
  return forwarder;
}

static gboolean
forwarder_idle (gpointer data)
{
  return ((CxTestForwarder *) data)->links == 0;
}

/* The listener's cancelled accept holds a reference until the main loop has run it. */
static gboolean
forwarder_listener_released (gpointer data)
{
  return G_OBJECT (data)->ref_count == 1;
}

void
cx_test_forwarder_free (CxTestForwarder *forwarder)
{
  g_socket_service_stop (forwarder->listener);
  g_socket_listener_close (G_SOCKET_LISTENER (forwarder->listener));
  g_signal_handlers_disconnect_by_data (forwarder->listener, forwarder);
  /* Its cancelled accept holds it until the main loop has run it. */
  cx_test_wait (forwarder_listener_released, forwarder->listener);
  g_assert_finalize_object (forwarder->listener);
  /* Every connection was closed by its client by now: wait for the links to unwind. */
  cx_test_wait (forwarder_idle, forwarder);
  g_free (forwarder->url);
  g_free (forwarder);
}

const char *
cx_test_forwarder_get_url (CxTestForwarder *self)
{
  return self->url;
}

void
cx_test_forwarder_set_blocked (CxTestForwarder *self, gboolean blocked)
{
  self->blocked = blocked;
}
