/* main.c: cxdesk-server's command line. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <sys/resource.h>

#include <glib-unix.h>
#include <glib/gi18n.h>

#include "server/cx-server.h"
#include "server/cx-store.h"

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

/* A server holds one descriptor per connection: the usual soft limit of 1,024 is far below what
 * the system allows (issue 9 item 2). The connection cap is derived from the raised limit. */
static void
raise_file_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max)
    return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
    g_message ("Could not raise the open-file limit to %llu: %s",
               (unsigned long long) limit.rlim_max, g_strerror (errno));
}

static int
hash_password (void)
{
  char line[1024];
  g_autofree char *salt = NULL;
  struct crypt_data data = { 0 };
  const char *hash;
  gsize length;

  if (fgets (line, sizeof line, stdin) == NULL)
    {
      g_printerr (_ ("Give the password on standard input\n"));
      return 1;
    }
  length = strcspn (line, "\r\n");
  line[length] = '\0';
  if (length == 0)
    {
      g_printerr (_ ("The password is empty\n"));
      return 1;
    }

  /* SHA-256 crypt: every libcrypt verifies it, and it is cheap enough for a benchmark that signs
   * in a hundred agents. */
  salt = crypt_gensalt_ra ("$5$", 0, NULL, 0);
  hash = salt ? crypt_r (line, salt, &data) : NULL;
  explicit_bzero (line, sizeof line);
  if (hash == NULL || hash[0] != '$')
    {
      g_printerr (_ ("Could not hash the password\n"));
      return 1;
    }
  g_print ("%s\n", hash);
  return 0;
}

int
main (int argc, char *argv[])
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CxServerConfig) config = NULL;
  g_autoptr (CxStore) store = NULL;
  g_autoptr (CxServer) server = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *db = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *host = NULL;
  gboolean hash = FALSE, version = FALSE;
  int port = 8080;
  GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen, N_ ("Address to listen on (127.0.0.1)"),
      N_ ("ADDR") },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, N_ ("Port (8080; 0 picks a free one)"), N_ ("N") },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db,
      N_ ("Database: an SQLite file, :memory:, or a postgresql:// URL"), N_ ("DB") },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_path, N_ ("Configuration (JSON)"),
      N_ ("FILE") },
    { "hash-password", 0, 0, G_OPTION_ARG_NONE, &hash,
      N_ ("Read a password on standard input and print its hash for the configuration"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_ ("Print the version"), NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, _ ("The CX Desk backend: GMS chat and callback APIs, "
                                            "the agent API, routing and push."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("cxdesk-server %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (hash)
    return hash_password ();
  if (port < 0 || port > 65535)
    {
      g_printerr (_ ("The port must be between 0 and 65535\n"));
      return 2;
    }

  raise_file_limit ();

  config =
      config_path ? cx_server_config_load (config_path, &error) : cx_server_config_new_default ();
  if (config == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  if (db == NULL)
    {
      g_autofree char *dir = g_build_filename (g_get_user_state_dir (), "cxdesk", NULL);

      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          g_printerr (_ ("Could not create %s: %s\n"), dir, g_strerror (errno));
          return 1;
        }
      db = g_build_filename (dir, "server.db", NULL);
    }

  store = cx_store_open (db, &error);
  if (store == NULL)
    {
      /* Not the location itself: a PostgreSQL URL may hold a password; the message names the
       * file or the database. */
      g_printerr (_ ("Could not open the store: %s\n"), error->message);
      return 1;
    }

  server = cx_server_new (g_steal_pointer (&config), store, &error);
  if (server == NULL || !cx_server_listen (server, listen, port, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  host = g_strdup (listen ? listen : "127.0.0.1");
  if (strchr (host, ':') != NULL)
    {
      char *bracketed = g_strdup_printf ("[%s]", host);
      g_free (host);
      host = bracketed;
    }
  /* Tests and scripts wait for this exact line. */
  g_print ("cxdesk-server listening on http://%s:%u/\n", host, cx_server_get_port (server));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_main_loop_run (loop);

  cx_server_shutdown (server);
  return 0;
}
