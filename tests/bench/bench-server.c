/* bench-server.c: cxdesk-server under load, as a black box over loopback HTTP.
 *
 * 1. Anchor: a bare SoupServer that only answers 200, in a child process (this binary run with
 *    --bare-server), driven by the same client code as the rest.
 * 2. 1,000 chats answered by 100 agents: durable customer messages/s in a closed loop, and
 *    the latency from the customer's send call to the agent's event socket, measured at the
 *    target rate in an open loop (in a closed loop the latency is only in-flight / rate).
 * 3. The server's RSS idle and with 10,000 open chats waiting in the queue.
 *
 * Durable messages are durable on power loss (fsynced before the reply, with group commit).
 * Before all that, the same program in a child process (--legacy-commit, hidden) measures 1 and
 * 2 again on a server in the old mode (CXDESK_BENCH_LEGACY_COMMIT=1: synchronous=NORMAL, one
 * commit per write, durable against kill -9 only), so that both figures come from one run.
 *
 * Exit status: 0 every target met, 1 a target missed, 2 the benchmark itself failed. */
#define G_LOG_DOMAIN "bench-server"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

/* Targets */
#define TARGET_MESSAGES_PER_S 5000.0
#define TARGET_P99_MS 50.0
#define TARGET_RSS_MB 300.0

#define SERVICE "bench"
#define PASSWORD "bench-password"
#define START_IN_FLIGHT 64
#define SIGN_IN_IN_FLIGHT 8
#define RAMP_FROM 8
#define RAMP_S 0.5
#define AGENT_ANSWER_EVERY 10
#define AGENT_ANSWERS_IN_FLIGHT 32
#define ERROR_SAMPLES 5
#define MAX_ERROR_RATIO 0.01
/* Bounds: every wait has a deadline, and the whole run one more. */
#define SPAWN_TIMEOUT_S 15
#define SETUP_TIMEOUT_S 60
#define DRAIN_TIMEOUT_S 15
#define RUN_TIMEOUT_S 170
#define MAX_SEQ 4000000
#define WARMUP_S 1
#define ANCHOR_S 3

typedef struct _Bench Bench;
typedef struct _Load Load;

typedef struct
{
  gint64 start;
  double server;
  double self;
  double machine;
  gint64 overflows;
} CpuMark;

typedef struct
{
  guint64 requests;
  guint64 failed;
  GPtrArray *samples; /* the first few failures, described */
} ErrorLog;

/* A spawned process that announced "... listening on http://127.0.0.1:PORT/". */
typedef struct
{
  GSubprocess *process;
  GCancellable *cancellable; /* cancelled when it stops: the struct is reused */
  GDataInputStream *out;
  char *base; /* http://127.0.0.1:PORT */
  char *line;
  gboolean line_done;
  gboolean exited;
  char *log_path;
} Server;

typedef struct
{
  char *chat_id;
  GUri *send_uri;
  char *form_prefix; /* userId=…&secureKey=…&alias=…&message= */
} Chat;

typedef struct
{
  Bench *bench;
  char *username;
  SoupSession *session;
  SoupWebsocketConnection *ws;
  JsonParser *parser;
} Agent;

typedef SoupMessage *(*LoadMakeFunc) (Load *load, guint64 seq);
/* Whether a 200 reply is right; NULL: any 200 is. */
typedef gboolean (*LoadCheckFunc) (Load *load, guint64 seq, GBytes *body);

struct _Load
{
  gatomicrefcount ref_count; /* each request in flight holds one */
  Bench *bench;
  SoupSession *session;
  LoadMakeFunc make;
  LoadCheckFunc check;
  guint max_in_flight;
  guint64 max_requests; /* 0: until the time is up */
  gint64 warmup;        /* µs of requests before the measurement: connections, caches */
  gint64 ramp;          /* µs over which the in-flight bound grows; default half the warm-up */
  gint64 duration;      /* µs measured after the warm-up; 0: until max_requests are done */
  double rate;          /* requests/s offered; 0: a closed loop */
  guint phase;          /* tag of the message texts, so that deliveries find their load */
  gboolean store_chats; /* check_start keeps the keys of each chat in Bench.chats */

  gint64 start;
  gint64 measure_start;
  gint64 last_done;
  guint64 first_measured; /* seq of the first request issued after the warm-up */
  guint64 issued;
  guint64 in_flight;
  guint64 ok;
  guint64 measured_ok; /* answered after the warm-up */
  guint64 delivered;
  guint64 capped;      /* pacer ticks held back by max_in_flight */
  guint64 connections; /* opened: keep-alive should hold this near max_in_flight */
  ErrorLog errors;
  GArray *sent_at;    /* gint64 per seq, monotonic µs of the send call */
  GArray *round_trip; /* gint64 µs, measured successful requests */
  GByteArray *flags;  /* per seq: FLAG_ACKED, FLAG_DELIVERED */
  GArray *delivery;   /* gint64 µs from the send call to the agent's socket, measured */
  GArray *per_second; /* guint64 answers in each second of the measurement */
  guint64 duplicates;
  guint pacer_id;
  CpuMark cpu; /* from the start of the measurement */
};

enum
{
  FLAG_ACKED = 1 << 0,
  FLAG_DELIVERED = 1 << 1,
};

typedef struct
{
  Load *load;
  guint64 seq;
  SoupMessage *msg;
} LoadRequest;

struct _Bench
{
  /* options */
  int n_agents;
  int capacity;
  int in_flight;
  int latency_in_flight;
  int seconds;
  int latency_seconds;
  double rate;
  int rss_chats;

  char *server_path;
  char *self_path;
  char *tmpdir;
  char *password_hash;
  Server server;

  Agent *agents;
  guint n_chats;
  Chat *chats;
  guint next_agent;
  guint agents_signed_in;
  guint agents_ready;
  guint agents_failed;
  guint accepted;
  GHashTable *accepted_ids;
  ErrorLog agent_errors;
  guint answers_in_flight;
  guint64 answers_ok;
  guint64 answers_skipped;

  Load *current; /* whose messages the agents are receiving */
  guint64 stray_deliveries;
  guint chats_ended;
  double anchor_rate;
  double anchor_p99;
  double messages_rate; /* durable messages/s of the closed loop */
  gboolean measuring;
  gboolean noisy; /* other processes took CPU during a measurement */

  char *failure;     /* the benchmark failed: exit 2 */
  GPtrArray *missed; /* targets missed: exit 1 */
};

/* Utilities */

static double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

static int
compare_int64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile in ms; sorts @values. */
static double
percentile_ms (GArray *values, double q)
{
  guint rank;

  if (values->len == 0)
    return -1;
  g_array_sort (values, compare_int64);
  rank = (guint) MAX (1.0, (q * values->len) + 0.999999);
  rank = MIN (rank, values->len);
  return g_array_index (values, gint64, rank - 1) / 1000.0;
}

static void bench_fail (Bench *b, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
bench_fail (Bench *b, const char *format, ...)
{
  va_list args;

  if (b->failure != NULL)
    return;
  va_start (args, format);
  b->failure = g_strdup_vprintf (format, args);
  va_end (args);
}

static void
error_log_init (ErrorLog *log)
{
  log->requests = 0;
  log->failed = 0;
  log->samples = g_ptr_array_new_with_free_func (g_free);
}

static void
error_log_clear (ErrorLog *log)
{
  g_clear_pointer (&log->samples, g_ptr_array_unref);
}

static void
error_log_add (ErrorLog *log, SoupMessage *msg, GBytes *body, const GError *error, const char *what)
{
  g_autofree char *uri = NULL;
  g_autofree char *text = NULL;

  log->failed++;
  if (log->samples->len >= ERROR_SAMPLES)
    return;
  uri = msg != NULL ? g_uri_to_string (soup_message_get_uri (msg)) : g_strdup ("-");
  if (error != NULL)
    text = g_strdup (error->message);
  else if (body != NULL)
    text = g_strndup (g_bytes_get_data (body, NULL), MIN (g_bytes_get_size (body), 300));
  g_ptr_array_add (log->samples,
                   g_strdup_printf ("%s %s -> %u: %s%s%s",
                                    msg != NULL ? soup_message_get_method (msg) : "-", uri,
                                    msg != NULL ? soup_message_get_status (msg) : 0,
                                    what != NULL ? what : "", what != NULL ? ": " : "",
                                    text != NULL ? text : ""));
}

static void
error_log_print (const char *name, ErrorLog *log)
{
  if (log->failed == 0)
    return;
  g_print ("  %s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " failed; first failures:\n", name,
           log->failed, log->requests);
  for (guint i = 0; i < log->samples->len; i++)
    g_print ("    %s\n", (const char *) log->samples->pdata[i]);
}

static gboolean
error_log_too_many (ErrorLog *log)
{
  return log->failed > MAX_ERROR_RATIO * MAX (log->requests, 1);
}

/* The member if it is a string, else @fallback. */
static const char *
member_string (JsonObject *object, const char *name, const char *fallback)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return fallback;
  return json_node_get_string (node);
}

/* The member if it is a string or an integer, as a string; else NULL. */
static char *
member_dup_string (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NULL;
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  return NULL;
}

static JsonObject *
parse_object (JsonParser *parser, const char *data, gsize size)
{
  JsonNode *root;

  if (!json_parser_load_from_data (parser, data, size, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_node_get_object (root);
}

static SoupSession *
session_new (guint max_conns)
{
  return soup_session_new_with_options ("max-conns", max_conns, "max-conns-per-host", max_conns,
                                        "timeout", 30, "proxy-resolver", NULL, NULL);
}

static SoupMessage *
json_message_new (const char *method, const char *uri, const char *json)
{
  SoupMessage *msg = soup_message_new (method, uri);

  if (json != NULL)
    {
      g_autoptr (GBytes) body = g_bytes_new (json, strlen (json));
      soup_message_set_request_body_from_bytes (msg, "application/json", body);
    }
  return msg;
}

/* The main loop: everything is async on the default context; waits iterate it until a
 * condition holds or a deadline passes. A periodic tick keeps the deadlines honest. */

typedef gboolean (*BenchCondFunc) (Bench *b);

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
run_until (Bench *b, BenchCondFunc cond, double timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  while (!cond (b))
    {
      if (g_get_monotonic_time () >= deadline)
        return FALSE;
      g_main_context_iteration (NULL, TRUE);
    }
  return TRUE;
}

static gboolean
never (Bench *b)
{
  return FALSE;
}

static void
settle (Bench *b, double seconds)
{
  run_until (b, never, seconds);
}

/* Processes */

static void
child_setup (gpointer data)
{
  /* A benchmark that dies takes its servers with it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
server_line_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Server *server = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL,
                                                    &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (line == NULL)
    {
      server->line_done = TRUE;
      return;
    }
  if (server->line == NULL)
    {
      server->line = g_steal_pointer (&line);
      server->line_done = TRUE;
    }
  /* Keep draining stdout so that the server never blocks on it. */
  g_data_input_stream_read_line_async (server->out, G_PRIORITY_DEFAULT, server->cancellable,
                                       server_line_cb, server);
}

static void
server_wait_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Server *server = data;
  g_autoptr (GError) error = NULL;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  server->exited = TRUE;
}

static Server *waiting_server;

static gboolean
server_announced (Bench *b)
{
  return waiting_server->line_done || waiting_server->exited;
}

static gboolean
server_exited (Bench *b)
{
  return waiting_server->exited;
}

static char *
read_log_tail (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (path == NULL || !g_file_get_contents (path, &contents, &length, NULL))
    return g_strdup ("");
  if (length > 2000)
    return g_strdup (contents + length - 2000);
  return g_steal_pointer (&contents);
}

static gboolean
server_start (Bench *b, Server *server, const char *const *argv, const char *log_path)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GUri) uri = NULL;
  const char *url;

  memset (server, 0, sizeof *server);
  server->log_path = g_strdup (log_path);
  server->cancellable = g_cancellable_new ();
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_stderr_file_path (launcher, log_path);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  server->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  if (server->process == NULL)
    {
      bench_fail (b, "cannot run %s: %s", argv[0], error->message);
      return FALSE;
    }
  g_subprocess_wait_async (server->process, server->cancellable, server_wait_cb, server);
  server->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  g_data_input_stream_read_line_async (server->out, G_PRIORITY_DEFAULT, server->cancellable,
                                       server_line_cb, server);

  waiting_server = server;
  if (!run_until (b, server_announced, SPAWN_TIMEOUT_S))
    {
      g_autofree char *log = read_log_tail (log_path);
      bench_fail (b, "%s did not announce its port within %d s; its stderr:\n%s", argv[0],
                  SPAWN_TIMEOUT_S, log);
      return FALSE;
    }
  url = server->line != NULL ? strstr (server->line, "http://") : NULL;
  if (url != NULL)
    uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_port (uri) <= 0)
    {
      g_autofree char *log = read_log_tail (log_path);
      bench_fail (b,
                  "%s did not print \"listening on http://127.0.0.1:PORT/\" (got \"%s\"); its "
                  "stderr:\n%s",
                  argv[0], server->line != NULL ? server->line : "nothing", log);
      return FALSE;
    }
  server->base = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uri));
  return TRUE;
}

/* SIGTERM, then a bounded wait; returns how it went. */
static char *
server_stop (Bench *b, Server *server)
{
  char *result;

  if (server->process == NULL)
    return g_strdup ("not running");
  if (!server->exited)
    g_subprocess_send_signal (server->process, SIGTERM);
  waiting_server = server;
  if (!run_until (b, server_exited, 10))
    {
      g_subprocess_force_exit (server->process);
      run_until (b, server_exited, 5);
      result = g_strdup ("did not exit within 10 s of SIGTERM: killed");
    }
  else if (g_subprocess_get_if_exited (server->process))
    result = g_strdup_printf ("exited %d", g_subprocess_get_exit_status (server->process));
  else
    result = g_strdup_printf ("killed by signal %d", g_subprocess_get_term_sig (server->process));
  g_cancellable_cancel (server->cancellable);
  g_clear_object (&server->cancellable);
  g_clear_object (&server->out);
  g_clear_object (&server->process);
  g_clear_pointer (&server->base, g_free);
  g_clear_pointer (&server->line, g_free);
  g_clear_pointer (&server->log_path, g_free);
  return result;
}

/* "" once it is gone: /proc then has nothing to say. */
static const char *
server_pid (Server *server)
{
  const char *pid = server->process != NULL ? g_subprocess_get_identifier (server->process) : NULL;

  return pid != NULL ? pid : "";
}

/* kB from /proc/<pid>/status, or -1. */
static gint64
proc_status_kb (const char *pid, const char *key)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", pid);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  gsize key_len = strlen (key);

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return -1;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strncmp (lines[i], key, key_len) == 0 && lines[i][key_len] == ':')
      return g_ascii_strtoll (lines[i] + key_len + 1, NULL, 10);
  return -1;
}

/* CPU seconds (user + system) of a process from /proc/<pid>/stat. */
static double
proc_cpu_s (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", pid);
  g_autofree char *contents = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  /* The command name may hold spaces: the fields start after its closing parenthesis. */
  after = strrchr (contents, ')');
  if (after == NULL)
    return 0;
  fields = g_strsplit (after + 2, " ", -1);
  if (g_strv_length (fields) < 13)
    return 0;
  /* Fields 14 and 15 of stat(5); fields[0] here is field 3. */
  return (g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10)) /
         (double) sysconf (_SC_CLK_TCK);
}

static double
self_cpu_s (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

/* CPU seconds the whole machine has been busy, from /proc/stat. */
static double
machine_cpu_s (void)
{
  g_autofree char *contents = NULL;
  guint64 user, nice, system, idle, iowait, irq, softirq, steal;

  if (!g_file_get_contents ("/proc/stat", &contents, NULL, NULL) ||
      sscanf (contents,
              "cpu %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
              " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
              " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
              &user, &nice, &system, &idle, &iowait, &irq, &softirq, &steal) != 8)
    return 0;
  return (user + nice + system + irq + softirq + steal) / (double) sysconf (_SC_CLK_TCK);
}

/* TcpExt ListenOverflows of the machine: connections a listen queue had no room for, which
 * the client retries only after a second. */
static gint64
listen_overflows (void)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/net/netstat", &contents, NULL, NULL))
    return 0;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++)
    {
      g_auto (GStrv) names = NULL;
      g_auto (GStrv) values = NULL;

      if (!g_str_has_prefix (lines[i], "TcpExt:") || !g_str_has_prefix (lines[i + 1], "TcpExt:"))
        continue;
      names = g_strsplit (lines[i], " ", -1);
      values = g_strsplit (lines[i + 1], " ", -1);
      for (guint j = 0; names[j] != NULL && values[j] != NULL; j++)
        if (strcmp (names[j], "ListenOverflows") == 0)
          return g_ascii_strtoll (values[j], NULL, 10);
    }
  return 0;
}

static void
cpu_mark (Bench *b, CpuMark *mark)
{
  mark->start = g_get_monotonic_time ();
  mark->server = proc_cpu_s (server_pid (&b->server));
  mark->self = self_cpu_s ();
  mark->machine = machine_cpu_s ();
  mark->overflows = listen_overflows ();
}

/* Where the CPU went since @mark: the server, this client, and anything else on the machine,
 * which makes the figures unreliable when it is large. */
static void
cpu_print (Bench *b, CpuMark *mark, const char *server_name)
{
  double wall = seconds_since (mark->start);
  double server = proc_cpu_s (server_pid (&b->server)) - mark->server;
  double self = self_cpu_s () - mark->self;
  double other = MAX (0, machine_cpu_s () - mark->machine - server - self);

  g_print ("  CPU over %.1f s: %s %.0f%% of a core, bench client %.0f%%, other processes %.0f%% "
           "(of %u00%%)%s\n",
           wall, server_name, 100 * server / wall, 100 * self / wall, 100 * other / wall,
           g_get_num_processors (),
           other / wall > 0.25 ? ": the machine is busy, figures are unreliable" : "");
  if (other / wall > 0.25)
    b->noisy = TRUE;
  if (listen_overflows () > mark->overflows)
    g_print ("  listen queue overflows: %" G_GINT64_FORMAT " (TcpExt ListenOverflows, whole "
             "machine): a client waits 1 s or more to connect\n",
             listen_overflows () - mark->overflows);
}

/* Load: requests with a bounded number in flight, either as fast as they complete (closed
 * loop) or at an offered rate (open loop), for a time or a count. */

static Load *
load_new (Bench *b, SoupSession *session, LoadMakeFunc make, LoadCheckFunc check,
          guint max_in_flight)
{
  Load *load = g_new0 (Load, 1);

  g_atomic_ref_count_init (&load->ref_count);
  load->bench = b;
  load->session = g_object_ref (session);
  load->make = make;
  load->check = check;
  load->max_in_flight = max_in_flight;
  error_log_init (&load->errors);
  load->sent_at = g_array_new (FALSE, FALSE, sizeof (gint64));
  load->round_trip = g_array_new (FALSE, FALSE, sizeof (gint64));
  load->flags = g_byte_array_new ();
  load->delivery = g_array_new (FALSE, FALSE, sizeof (gint64));
  load->per_second = g_array_new (FALSE, TRUE, sizeof (guint64));
  return load;
}

static Load *
load_ref (Load *load)
{
  g_atomic_ref_count_inc (&load->ref_count);
  return load;
}

static void
load_unref (Load *load)
{
  if (!g_atomic_ref_count_dec (&load->ref_count))
    return;
  g_clear_handle_id (&load->pacer_id, g_source_remove);
  g_clear_object (&load->session);
  error_log_clear (&load->errors);
  g_array_unref (load->sent_at);
  g_array_unref (load->round_trip);
  g_byte_array_unref (load->flags);
  g_array_unref (load->delivery);
  g_array_unref (load->per_second);
  g_free (load);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Load, load_unref)

static gboolean
load_may_issue (Load *load, gint64 now)
{
  if (load->bench->failure != NULL || load->issued >= MAX_SEQ)
    return FALSE;
  if (load->max_requests > 0 && load->issued >= load->max_requests)
    return FALSE;
  return load->duration == 0 || now < load->measure_start + load->duration;
}

static void load_fill (Load *load);

static void
load_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  LoadRequest *request = data;
  Load *load = request->load;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  gint64 now;
  guint status;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  now = g_get_monotonic_time ();
  load->in_flight--;
  status = soup_message_get_status (request->msg);
  if (error == NULL && status == SOUP_STATUS_OK &&
      (load->check == NULL || load->check (load, request->seq, body)))
    {
      gint64 round_trip = now - g_array_index (load->sent_at, gint64, request->seq);

      load->ok++;
      load->flags->data[request->seq] |= FLAG_ACKED;
      if (now >= load->measure_start)
        {
          guint second = (now - load->measure_start) / G_USEC_PER_SEC;

          load->measured_ok++;
          load->last_done = now;
          if (second >= load->per_second->len)
            g_array_set_size (load->per_second, second + 1);
          g_array_index (load->per_second, guint64, second)++;
        }
      if (request->seq >= load->first_measured)
        g_array_append_val (load->round_trip, round_trip);
    }
  else
    error_log_add (&load->errors, request->msg, body, error,
                   status == SOUP_STATUS_OK ? "unexpected reply" : NULL);
  g_object_unref (request->msg);
  g_free (request);
  if (load->rate == 0)
    load_fill (load);
  load_unref (load);
}

static void
load_network_event_cb (SoupMessage *msg, GSocketClientEvent event, GIOStream *connection,
                       gpointer data)
{
  Load *load = data;

  if (event == G_SOCKET_CLIENT_CONNECTED)
    load->connections++;
}

static void
load_issue (Load *load, gint64 now)
{
  LoadRequest *request = g_new0 (LoadRequest, 1);
  guint8 flags = 0;

  request->load = load_ref (load);
  request->seq = load->issued++;
  request->msg = load->make (load, request->seq);
  /* libsoup opens a new connection for every request whose method is not idempotent (POST)
   * unless told otherwise; the benchmark means keep-alive. */
  soup_message_add_flags (request->msg, SOUP_MESSAGE_IDEMPOTENT);
  g_signal_connect (request->msg, "network-event", G_CALLBACK (load_network_event_cb), load);
  load->in_flight++;
  load->errors.requests++;
  g_byte_array_append (load->flags, &flags, 1);
  now = g_get_monotonic_time ();
  if (load->first_measured == G_MAXUINT64 && now >= load->measure_start)
    {
      load->first_measured = request->seq;
      cpu_mark (load->bench, &load->cpu);
    }
  g_array_append_val (load->sent_at, now);
  soup_session_send_and_read_async (load->session, request->msg, G_PRIORITY_DEFAULT, NULL,
                                    load_done_cb, request);
}

/* The in-flight bound, ramped up: the server's listen queue need not take every new
 * connection at once. */
static guint64
load_limit (Load *load, gint64 now)
{
  if (load->ramp == 0 || now >= load->start + load->ramp)
    return load->max_in_flight;
  return MAX (MIN (RAMP_FROM, load->max_in_flight),
              load->max_in_flight * (now - load->start) / load->ramp);
}

static void
load_fill (Load *load)
{
  gint64 now = g_get_monotonic_time ();

  while (load->in_flight < load_limit (load, now) && load_may_issue (load, now))
    load_issue (load, now);
}

static gboolean
load_ramp_cb (gpointer data)
{
  Load *load = data;

  load_fill (load);
  if (g_get_monotonic_time () < load->start + load->ramp)
    return G_SOURCE_CONTINUE;
  load->pacer_id = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
load_pace_cb (gpointer data)
{
  Load *load = data;
  gint64 now = g_get_monotonic_time ();
  guint64 due = (guint64) (load->rate * (now - load->start) / G_USEC_PER_SEC) + 1;

  if (!load_may_issue (load, now))
    {
      load->pacer_id = 0;
      return G_SOURCE_REMOVE;
    }
  while (load->issued < due && load_may_issue (load, now))
    {
      if (load->in_flight >= load_limit (load, now))
        {
          if (now >= load->measure_start)
            load->capped++;
          break;
        }
      load_issue (load, now);
    }
  return G_SOURCE_CONTINUE;
}

static Load *running_load;

static gboolean
load_finished (Bench *b)
{
  return running_load->in_flight == 0 && !load_may_issue (running_load, g_get_monotonic_time ());
}

/* Runs @load to its end; FALSE (and the bench failed) if it does not drain in time. */
static gboolean
load_run (Bench *b, Load *load, const char *name, double timeout_s)
{
  load->start = g_get_monotonic_time ();
  load->measure_start = load->start + load->warmup;
  load->first_measured = load->warmup > 0 ? G_MAXUINT64 : 0;
  if (load->ramp == 0)
    load->ramp = load->warmup / 2;
  cpu_mark (b, &load->cpu);
  if (load->rate > 0)
    load->pacer_id = g_timeout_add (1, load_pace_cb, load);
  else
    {
      load_fill (load);
      if (load->ramp > 0)
        load->pacer_id = g_timeout_add (1, load_ramp_cb, load);
    }
  running_load = load;
  if (!run_until (b, load_finished, timeout_s))
    {
      g_clear_handle_id (&load->pacer_id, g_source_remove);
      bench_fail (b, "%s: %" G_GUINT64_FORMAT " requests still unanswered after %.0f s", name,
                  load->in_flight, timeout_s);
      return FALSE;
    }
  g_clear_handle_id (&load->pacer_id, g_source_remove);
  return TRUE;
}

static double
load_measured_s (Load *load)
{
  return MAX (0, load->last_done - load->measure_start) / (double) G_USEC_PER_SEC;
}

static double
load_rate (Load *load)
{
  if (load->measured_ok == 0 || load->last_done <= load->measure_start)
    return 0;
  return load->measured_ok / ((load->last_done - load->measure_start) / (double) G_USEC_PER_SEC);
}

/* Checks the error ratio of a load; FALSE (and the bench failed) above 1%. */
static gboolean
load_check_errors (Bench *b, Load *load, const char *name)
{
  error_log_print (name, &load->errors);
  if (error_log_too_many (&load->errors))
    {
      bench_fail (b, "%s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " requests failed", name,
                  load->errors.failed, load->errors.requests);
      return FALSE;
    }
  return TRUE;
}

/* 1. The anchor: a bare SoupServer */

static void
bare_handler_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                 gpointer data)
{
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

static int
run_bare_server (void)
{
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GError) error = NULL;
  GSList *uris;

  soup_server_add_handler (server, NULL, bare_handler_cb, NULL, NULL);
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    {
      g_printerr ("bare server: %s\n", error->message);
      return 1;
    }
  uris = soup_server_get_uris (server);
  g_print ("bare-server listening on http://127.0.0.1:%d/\n", g_uri_get_port (uris->data));
  fflush (stdout);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_main_loop_run (loop); /* until SIGTERM */
  return 0;
}

static SoupMessage *
make_anchor (Load *load, guint64 seq)
{
  Bench *b = load->bench;
  g_autofree char *uri =
      g_strdup_printf ("%s/genesys/2/chat/" SERVICE "/anchor/send", b->server.base);

  return soup_message_new_from_encoded_form (
      "POST", uri,
      g_strdup_printf ("userId=0123456789abcdef&secureKey=0123456789abcdef0123456789abcdef"
                       "&alias=117&message=c-0-%" G_GUINT64_FORMAT,
                       seq));
}

static void
bench_anchor (Bench *b)
{
  g_autofree char *log = g_build_filename (b->tmpdir, "bare-server.log", NULL);
  const char *argv[] = { b->self_path, "--bare-server", NULL };
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (Load) load = NULL;
  g_autofree char *stopped = NULL;
  double rate;

  if (!server_start (b, &b->server, argv, log))
    return;
  session = session_new (b->in_flight);
  load = load_new (b, session, make_anchor, NULL, b->in_flight);
  load->warmup = WARMUP_S * G_USEC_PER_SEC;
  load->duration = ANCHOR_S * G_USEC_PER_SEC;
  if (!load_run (b, load, "anchor", WARMUP_S + ANCHOR_S + DRAIN_TIMEOUT_S))
    return;
  rate = load_rate (load);
  b->anchor_rate = rate;
  b->anchor_p99 = percentile_ms (load->round_trip, 0.99);
  g_print ("anchor: bare SoupServer (child process), closed loop, %d in flight, %.1f s after "
           "%d s of warm-up:\n"
           "  requests/s          %8.0f   round trip p50 %.2f ms, p99 %.2f ms; %" G_GUINT64_FORMAT
           " connections opened\n",
           b->in_flight, load_measured_s (load), WARMUP_S, rate,
           percentile_ms (load->round_trip, 0.5), percentile_ms (load->round_trip, 0.99),
           load->connections);
  cpu_print (b, &load->cpu, "bare server");
  load_check_errors (b, load, "anchor");
  stopped = server_stop (b, &b->server);
}

/* 2. Chats answered by agents */

static GAsyncResult *hash_result;

static void
hash_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  hash_result = g_object_ref (result);
}

static gboolean
hash_done (Bench *b)
{
  return hash_result != NULL;
}

static gboolean
hash_password (Bench *b)
{
  const char *argv[] = { b->server_path, "--hash-password", NULL };
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  gboolean communicated;

  process = g_subprocess_newv (argv,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                   G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  if (process == NULL)
    {
      bench_fail (b, "%s --hash-password: %s", b->server_path, error->message);
      return FALSE;
    }
  g_subprocess_communicate_utf8_async (process, PASSWORD "\n", cancellable, hash_done_cb, NULL);
  if (!run_until (b, hash_done, SPAWN_TIMEOUT_S))
    {
      g_cancellable_cancel (cancellable);
      g_subprocess_force_exit (process);
      run_until (b, hash_done, SPAWN_TIMEOUT_S);
    }
  communicated = hash_result != NULL &&
                 g_subprocess_communicate_utf8_finish (process, hash_result, &out, &err, &error);
  g_clear_object (&hash_result);
  if (!communicated)
    {
      bench_fail (b, "%s --hash-password: %s", b->server_path,
                  error != NULL ? error->message : "no answer");
      return FALSE;
    }
  /* Its output has ended, so it is exiting: a bounded wait for its status. */
  g_subprocess_wait_async (process, cancellable, hash_done_cb, NULL);
  if (!run_until (b, hash_done, SPAWN_TIMEOUT_S))
    {
      g_cancellable_cancel (cancellable);
      g_subprocess_force_exit (process);
      run_until (b, hash_done, SPAWN_TIMEOUT_S);
      g_clear_object (&hash_result);
      bench_fail (b, "%s --hash-password did not exit", b->server_path);
      return FALSE;
    }
  g_clear_object (&hash_result);
  g_strstrip (out);
  if (!g_subprocess_get_successful (process) || !g_str_has_prefix (out, "$"))
    {
      bench_fail (b, "%s --hash-password printed \"%s\" (stderr: %s)", b->server_path, out,
                  err != NULL ? err : "");
      return FALSE;
    }
  b->password_hash = g_steal_pointer (&out);
  return TRUE;
}

static gboolean
write_config (Bench *b)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (b->tmpdir, "config.json", NULL);
  g_autofree char *json = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "services");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, SERVICE);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "displayName");
  json_builder_add_string_value (builder, "Benchmark");
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "agents");
  json_builder_begin_array (builder);
  for (int i = 0; i < b->n_agents; i++)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "username");
      json_builder_add_string_value (builder, b->agents[i].username);
      json_builder_set_member_name (builder, "displayName");
      json_builder_add_string_value (builder, b->agents[i].username);
      json_builder_set_member_name (builder, "password");
      json_builder_add_string_value (builder, b->password_hash);
      json_builder_set_member_name (builder, "capacity");
      json_builder_add_int_value (builder, b->capacity);
      json_builder_set_member_name (builder, "queues");
      json_builder_begin_array (builder);
      json_builder_add_string_value (builder, SERVICE);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  /* The customers send far faster than people do, and the agents accept at leisure. */
  json_builder_set_member_name (builder, "limits");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "messagesPerMinute");
  json_builder_add_int_value (builder, 1000000);
  json_builder_set_member_name (builder, "invitationTimeoutSeconds");
  json_builder_add_int_value (builder, 3600);
  /* issue 9 item 5: the customer limits other than send, as far out of the way. */
  for (guint i = 0; i < 5; i++)
    {
      static const char *const limits[] = { "noticesPerMinute", "typingPerMinute",
                                            "updateDataPerMinute", "uploadsPerMinute",
                                            "chatStartsPerMinute" };

      json_builder_set_member_name (builder, limits[i]);
      json_builder_add_int_value (builder, 1000000);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json = json_generator_to_data (generator, NULL);
  if (!g_file_set_contents (path, json, -1, &error))
    {
      bench_fail (b, "cannot write %s: %s", path, error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
start_cxdesk_server (Bench *b, const char *name)
{
  g_autofree char *config = g_build_filename (b->tmpdir, "config.json", NULL);
  g_autofree char *db_name = g_strconcat (name, ".db", NULL);
  g_autofree char *log_name = g_strconcat (name, ".log", NULL);
  g_autofree char *db = g_build_filename (b->tmpdir, db_name, NULL);
  g_autofree char *log = g_build_filename (b->tmpdir, log_name, NULL);
  const char *argv[] = { b->server_path, "--port", "0", "--db", db, "--config", config, NULL };

  return server_start (b, &b->server, argv, log);
}

static void agent_accept (Agent *agent, const char *chat_id);
static void agent_settled (Bench *b);
static void agent_answer (Agent *agent, const char *chat_id, guint64 seq);

static void
bench_delivered (Bench *b, guint phase, guint64 seq, gint64 now, Agent *agent, const char *chat_id)
{
  Load *load = b->current;
  gint64 latency;

  if (load == NULL || load->phase != phase || seq >= load->issued)
    {
      b->stray_deliveries++;
      return;
    }
  if (load->flags->data[seq] & FLAG_DELIVERED)
    {
      load->duplicates++;
      return;
    }
  load->flags->data[seq] |= FLAG_DELIVERED;
  load->delivered++;
  latency = now - g_array_index (load->sent_at, gint64, seq);
  if (seq >= load->first_measured)
    g_array_append_val (load->delivery, latency);
  if (seq % AGENT_ANSWER_EVERY == 0)
    agent_answer (agent, chat_id, seq);
}

static void
agent_frame (Agent *agent, JsonObject *frame, gint64 now)
{
  Bench *b = agent->bench;
  const char *type = member_string (frame, "type", "");
  g_autofree char *chat_id = member_dup_string (frame, "chatId");

  if (strcmp (type, "invitation") == 0 && chat_id != NULL)
    {
      agent_accept (agent, chat_id);
    }
  else if (strcmp (type, "messages") == 0 && chat_id != NULL)
    {
      JsonNode *messages = json_object_get_member (frame, "messages");
      JsonArray *array;

      if (messages == NULL || !JSON_NODE_HOLDS_ARRAY (messages))
        return;
      array = json_node_get_array (messages);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *node = json_array_get_element (array, i);
          const char *text;
          guint phase;
          guint64 seq;

          if (!JSON_NODE_HOLDS_OBJECT (node))
            continue;
          text = member_string (json_node_get_object (node), "text", "");
          /* Customer texts are c-PHASE-SEQ; the agents' own come back as a-…. */
          if (sscanf (text, "c-%u-%" G_GUINT64_FORMAT, &phase, &seq) == 2)
            bench_delivered (b, phase, seq, now, agent, chat_id);
        }
    }
  else if (strcmp (type, "chatEnded") == 0)
    b->chats_ended++;
  else if (strcmp (type, "signedOut") == 0 && b->measuring)
    bench_fail (b, "agent %s was signed out during the benchmark", agent->username);
}

static void
agent_ws_message_cb (SoupWebsocketConnection *ws, int type, GBytes *message, gpointer data)
{
  Agent *agent = data;
  gint64 now = g_get_monotonic_time ();
  JsonObject *frame;
  gsize size;
  const char *text = g_bytes_get_data (message, &size);

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;
  frame = parse_object (agent->parser, text, size);
  if (frame == NULL)
    {
      agent->bench->agent_errors.requests++;
      error_log_add (&agent->bench->agent_errors, NULL, message, NULL, "event frame not JSON");
      return;
    }
  agent_frame (agent, frame, now);
}

static void
agent_ws_closed_cb (SoupWebsocketConnection *ws, gpointer data)
{
  Agent *agent = data;

  if (agent->bench->measuring)
    bench_fail (agent->bench, "the event socket of %s closed (code %u) during the benchmark",
                agent->username, soup_websocket_connection_get_close_code (ws));
}

typedef struct
{
  Agent *agent;
  SoupMessage *msg;
  char *chat_id;
} AgentRequest;

static AgentRequest *
agent_request_new (Agent *agent, SoupMessage *msg, const char *chat_id)
{
  AgentRequest *request = g_new0 (AgentRequest, 1);

  request->agent = agent;
  request->msg = msg;
  request->chat_id = g_strdup (chat_id);
  agent->bench->agent_errors.requests++;
  return request;
}

static void
agent_request_free (AgentRequest *request)
{
  g_object_unref (request->msg);
  g_free (request->chat_id);
  g_free (request);
}

static void
agent_send (AgentRequest *request, GAsyncReadyCallback callback)
{
  soup_message_add_flags (request->msg, SOUP_MESSAGE_IDEMPOTENT); /* keep-alive: see load_issue */
  soup_session_send_and_read_async (request->agent->session, request->msg, G_PRIORITY_DEFAULT, NULL,
                                    callback, request);
}

/* The reply body if the status is @expected; else NULL, and the failure logged. */
static GBytes *
agent_finish (AgentRequest *request, GAsyncResult *result, guint expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;

  body = soup_session_send_and_read_finish (request->agent->session, result, &error);
  if (error != NULL || soup_message_get_status (request->msg) != expected)
    {
      error_log_add (&request->agent->bench->agent_errors, request->msg, body, error, NULL);
      return NULL;
    }
  return g_steal_pointer (&body);
}

static void
agent_accept_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  AgentRequest *request = data;
  Agent *agent = request->agent;
  Bench *b = agent->bench;
  g_autoptr (GBytes) body = agent_finish (request, result, SOUP_STATUS_OK);

  if (body != NULL)
    {
      if (g_hash_table_add (b->accepted_ids, g_strdup (request->chat_id)))
        b->accepted++;
      else
        bench_fail (b, "chat %s was accepted twice", request->chat_id);
    }
  agent_request_free (request);
}

static void
agent_accept (Agent *agent, const char *chat_id)
{
  g_autofree char *escaped = g_uri_escape_string (chat_id, NULL, FALSE);
  g_autofree char *uri =
      g_strdup_printf ("%s/cx/1/agent/invitations/%s/accept", agent->bench->server.base, escaped);

  agent_send (agent_request_new (agent, soup_message_new ("POST", uri), chat_id), agent_accept_cb);
}

static void
agent_answer_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  AgentRequest *request = data;
  Bench *b = request->agent->bench;
  g_autoptr (GBytes) body = agent_finish (request, result, SOUP_STATUS_OK);

  b->answers_in_flight--;
  if (body != NULL)
    b->answers_ok++;
  agent_request_free (request);
}

static void
agent_answer (Agent *agent, const char *chat_id, guint64 seq)
{
  Bench *b = agent->bench;
  g_autofree char *escaped = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *json = NULL;

  /* Bounded: the answers exercise the path, they are not what is measured. */
  if (b->answers_in_flight >= AGENT_ANSWERS_IN_FLIGHT)
    {
      b->answers_skipped++;
      return;
    }
  escaped = g_uri_escape_string (chat_id, NULL, FALSE);
  uri = g_strdup_printf ("%s/cx/1/agent/chats/%s/send", b->server.base, escaped);
  json = g_strdup_printf ("{\"text\":\"a-%" G_GUINT64_FORMAT "\"}", seq);
  b->answers_in_flight++;
  agent_send (agent_request_new (agent, json_message_new ("POST", uri, json), chat_id),
              agent_answer_cb);
}

static void
agent_ready_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  AgentRequest *request = data;
  Agent *agent = request->agent;
  g_autoptr (GBytes) body = agent_finish (request, result, SOUP_STATUS_OK);

  if (body != NULL)
    agent->bench->agents_ready++;
  else
    agent->bench->agents_failed++;
  agent_request_free (request);
  agent_settled (agent->bench);
}

static void
agent_ws_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  AgentRequest *request = data;
  Agent *agent = request->agent;
  Bench *b = agent->bench;
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = NULL;

  agent->ws = soup_session_websocket_connect_finish (agent->session, result, &error);
  if (agent->ws == NULL)
    {
      error_log_add (&b->agent_errors, request->msg, NULL, error, "event socket");
      b->agents_failed++;
      agent_request_free (request);
      agent_settled (b);
      return;
    }
  agent_request_free (request);
  soup_websocket_connection_set_max_incoming_payload_size (agent->ws, 64 * 1024 * 1024);
  g_signal_connect (agent->ws, "message", G_CALLBACK (agent_ws_message_cb), agent);
  g_signal_connect (agent->ws, "closed", G_CALLBACK (agent_ws_closed_cb), agent);

  uri = g_strdup_printf ("%s/cx/1/agent/state", b->server.base);
  agent_send (
      agent_request_new (agent, json_message_new ("PUT", uri, "{\"state\":\"ready\"}"), NULL),
      agent_ready_cb);
}

static void
agent_sign_in_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  AgentRequest *request = data;
  Agent *agent = request->agent;
  Bench *b = agent->bench;
  g_autoptr (GBytes) body = agent_finish (request, result, SOUP_STATUS_OK);
  g_autofree char *uri = NULL;
  SoupMessage *msg;

  agent_request_free (request);
  if (body == NULL)
    {
      b->agents_failed++;
      agent_settled (b);
      return;
    }
  b->agents_signed_in++;
  uri = g_strdup_printf ("%s/cx/1/agent/events", b->server.base);
  msg = soup_message_new ("GET", uri);
  request = agent_request_new (agent, msg, NULL);
  soup_session_websocket_connect_async (agent->session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        agent_ws_cb, request);
}

static void
agent_sign_in (Agent *agent)
{
  Bench *b = agent->bench;
  g_autofree char *uri = g_strdup_printf ("%s/cx/1/agent/session", b->server.base);
  g_autofree char *json =
      g_strdup_printf ("{\"username\":\"%s\",\"password\":\"" PASSWORD "\"}", agent->username);

  agent_send (agent_request_new (agent, json_message_new ("POST", uri, json), NULL),
              agent_sign_in_cb);
}

/* One agent is ready (or failed): the next one signs in. A hundred agents do not sign in in
 * the same millisecond, and crypt(3) is slow by design. */
static void
agent_settled (Bench *b)
{
  if (b->next_agent < (guint) b->n_agents)
    agent_sign_in (&b->agents[b->next_agent++]);
}

static gboolean
agents_settled (Bench *b)
{
  return b->agents_ready + b->agents_failed == (guint) b->n_agents;
}

static SoupMessage *
make_start (Load *load, guint64 seq)
{
  Bench *b = load->bench;
  g_autofree char *uri = g_strdup_printf ("%s/genesys/2/chat/" SERVICE, b->server.base);
  g_autofree char *nickname = g_strdup_printf ("customer%" G_GUINT64_FORMAT, seq);

  return soup_message_new_from_encoded_form (
      "POST", uri,
      soup_form_encode ("nickname", nickname, "subject", "Benchmark", "emailAddress",
                        "customer@example.com", "userData[source]", "bench-server", NULL));
}

static gboolean
check_start (Load *load, guint64 seq, GBytes *body)
{
  Bench *b = load->bench;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autofree char *chat_id = NULL;
  g_autofree char *user_id = NULL;
  g_autofree char *secure_key = NULL;
  g_autofree char *alias = NULL;
  g_autofree char *form = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *uri = NULL;
  JsonObject *reply;
  gsize size;
  const char *data = g_bytes_get_data (body, &size);
  Chat *chat;

  reply = parse_object (parser, data, size);
  if (reply == NULL)
    return FALSE;
  chat_id = member_dup_string (reply, "chatId");
  user_id = member_dup_string (reply, "userId");
  secure_key = member_dup_string (reply, "secureKey");
  alias = member_dup_string (reply, "alias");
  if (chat_id == NULL || user_id == NULL || secure_key == NULL || alias == NULL)
    return FALSE;
  if (!load->store_chats || seq >= b->n_chats)
    return TRUE;

  chat = &b->chats[seq];
  escaped = g_uri_escape_string (chat_id, NULL, FALSE);
  uri = g_strdup_printf ("%s/genesys/2/chat/" SERVICE "/%s/send", b->server.base, escaped);
  form = soup_form_encode ("userId", user_id, "secureKey", secure_key, "alias", alias, NULL);
  chat->chat_id = g_steal_pointer (&chat_id);
  chat->send_uri = g_uri_parse (uri, G_URI_FLAGS_ENCODED, NULL);
  chat->form_prefix = g_strconcat (form, "&message=", NULL);
  return chat->send_uri != NULL;
}

static gboolean
chats_accepted (Bench *b)
{
  return b->accepted >= b->n_chats || b->failure != NULL;
}

static SoupMessage *
make_send (Load *load, guint64 seq)
{
  Bench *b = load->bench;
  Chat *chat = &b->chats[seq % b->n_chats];
  g_autofree char *form =
      g_strdup_printf ("%sc-%u-%" G_GUINT64_FORMAT, chat->form_prefix, load->phase, seq);
  g_autoptr (GBytes) body = g_bytes_new_take (form, strlen (form));
  SoupMessage *msg = soup_message_new_from_uri ("POST", chat->send_uri);

  g_steal_pointer (&form);
  soup_message_set_request_body_from_bytes (msg, "application/x-www-form-urlencoded", body);
  return msg;
}

static gboolean
deliveries_done (Bench *b)
{
  Load *load = b->current;

  return load->delivered >= load->ok || b->failure != NULL;
}

/* Waits for the agents to receive what the server acknowledged, then counts what never came. */
static guint64
message_load_finish (Bench *b, Load *load)
{
  guint64 missing = 0;

  run_until (b, deliveries_done, DRAIN_TIMEOUT_S);
  for (guint64 i = 0; i < load->issued; i++)
    if ((load->flags->data[i] & FLAG_ACKED) && !(load->flags->data[i] & FLAG_DELIVERED))
      missing++;
  if (missing > 0)
    {
      g_print ("  %" G_GUINT64_FORMAT " acknowledged messages never reached an agent\n", missing);
      load->errors.failed += missing;
    }
  if (load->duplicates > 0)
    g_print ("  %" G_GUINT64_FORMAT " messages reached an agent twice\n", load->duplicates);
  return missing;
}

static void
bench_chats_run (Bench *b)
{
  g_autoptr (SoupSession) customers = NULL;
  g_autoptr (Load) starts = NULL;
  g_autoptr (Load) closed = NULL;
  g_autoptr (Load) paced = NULL;
  g_autofree char *stopped = NULL;
  gint64 start;
  double rate, p99, sent_rate;
  gboolean sustained;
  guint n_started;

  if (!hash_password (b) || !write_config (b) || !start_cxdesk_server (b, "chats"))
    return;

  /* Agents: sign in, open the event socket, go ready. */
  start = g_get_monotonic_time ();
  while (b->next_agent < MIN ((guint) b->n_agents, SIGN_IN_IN_FLIGHT))
    agent_sign_in (&b->agents[b->next_agent++]);
  if (!run_until (b, agents_settled, SETUP_TIMEOUT_S) || b->agents_failed > 0)
    {
      error_log_print ("agents", &b->agent_errors);
      bench_fail (b, "%u of %d agents ready within %d s (%u signed in)", b->agents_ready,
                  b->n_agents, SETUP_TIMEOUT_S, b->agents_signed_in);
      return;
    }
  g_print ("agents: %d signed in, event socket open, ready in %.2f s\n", b->n_agents,
           seconds_since (start));

  /* Chats: start them all; the agents accept each invitation as it comes. */
  customers = session_new (MAX (b->in_flight, b->latency_in_flight));
  starts = load_new (b, customers, make_start, check_start, START_IN_FLIGHT);
  starts->max_requests = b->n_chats;
  starts->ramp = RAMP_S * G_USEC_PER_SEC;
  starts->store_chats = TRUE;
  if (!load_run (b, starts, "chat start", SETUP_TIMEOUT_S) ||
      !load_check_errors (b, starts, "chat start"))
    return;
  /* Up to 1% may have failed (above, the benchmark failed): go on with those that started. */
  n_started = 0;
  for (guint i = 0; i < b->n_chats; i++)
    if (b->chats[i].chat_id != NULL)
      b->chats[n_started++] = b->chats[i];
  b->n_chats = n_started;
  if (b->n_chats == 0)
    {
      bench_fail (b, "no chat started");
      return;
    }
  if (!run_until (b, chats_accepted, SETUP_TIMEOUT_S))
    {
      error_log_print ("agents", &b->agent_errors);
      bench_fail (b, "only %u of %u chats accepted within %d s", b->accepted, b->n_chats,
                  SETUP_TIMEOUT_S);
      return;
    }
  g_print ("chats: %u started (%.0f/s at %d in flight over %" G_GUINT64_FORMAT
           " connections; p50 %.2f ms, p99 %.2f ms) and accepted by %d agents in %.2f s\n",
           b->n_chats, load_rate (starts), START_IN_FLIGHT, starts->connections,
           percentile_ms (starts->round_trip, 0.5), percentile_ms (starts->round_trip, 0.99),
           b->n_agents, seconds_since (starts->start));
  cpu_print (b, &starts->cpu, "cxdesk-server");

  /* Throughput: a closed loop, as fast as the server acknowledges. */
  b->measuring = TRUE;
  closed = load_new (b, customers, make_send, NULL, b->in_flight);
  closed->phase = 1;
  closed->warmup = WARMUP_S * G_USEC_PER_SEC;
  closed->duration = b->seconds * G_USEC_PER_SEC;
  b->current = closed;
  if (!load_run (b, closed, "messages", WARMUP_S + b->seconds + DRAIN_TIMEOUT_S))
    return;
  rate = load_rate (closed);
  b->messages_rate = rate;
  message_load_finish (b, closed);
  g_print ("messages: closed loop, %d in flight over %u chats, %.1f s after %d s of warm-up:\n",
           b->in_flight, b->n_chats, load_measured_s (closed), WARMUP_S);
  g_print ("  durable messages/s  %8.0f   target >= %.0f   anchor %.0f requests/s (%.0f%%)   %s\n",
           rate, TARGET_MESSAGES_PER_S, b->anchor_rate,
           b->anchor_rate > 0 ? 100 * rate / b->anchor_rate : 0,
           rate >= TARGET_MESSAGES_PER_S ? "PASS" : "MISS");
  g_print ("  send round trip p50 %.2f ms, p99 %.2f ms; customer->agent p50 %.2f ms, p99 %.2f ms\n"
           "  (a closed loop queues: in flight / rate = %.1f ms)\n",
           percentile_ms (closed->round_trip, 0.5), percentile_ms (closed->round_trip, 0.99),
           percentile_ms (closed->delivery, 0.5), percentile_ms (closed->delivery, 0.99),
           rate > 0 ? 1000.0 * b->in_flight / rate : 0);
  g_print ("  per second:");
  for (guint i = 0; i < MIN (closed->per_second->len, (guint) b->seconds); i++)
    g_print (" %" G_GUINT64_FORMAT, g_array_index (closed->per_second, guint64, i));
  g_print ("\n");
  g_print ("  agents answered %" G_GUINT64_FORMAT " messages (every %dth; %" G_GUINT64_FORMAT
           " skipped at %d in flight)\n",
           b->answers_ok, AGENT_ANSWER_EVERY, b->answers_skipped, AGENT_ANSWERS_IN_FLIGHT);
  cpu_print (b, &closed->cpu, "cxdesk-server");
  if (!load_check_errors (b, closed, "messages"))
    return;
  if (rate < TARGET_MESSAGES_PER_S)
    g_ptr_array_add (
        b->missed, g_strdup_printf ("durable messages/s %.0f < %.0f", rate, TARGET_MESSAGES_PER_S));

  /* Latency: an open loop at the target rate, so that the figure is the server's and not the
   * queue that a closed loop builds in front of it. */
  paced = load_new (b, customers, make_send, NULL, b->latency_in_flight);
  paced->phase = 2;
  paced->rate = b->rate;
  paced->warmup = WARMUP_S * G_USEC_PER_SEC;
  paced->duration = b->latency_seconds * G_USEC_PER_SEC;
  b->current = paced;
  if (!load_run (b, paced, "latency", WARMUP_S + b->latency_seconds + DRAIN_TIMEOUT_S))
    return;
  message_load_finish (b, paced);
  p99 = percentile_ms (paced->delivery, 0.99);
  sent_rate = (paced->issued - MIN (paced->first_measured, paced->issued)) /
              (paced->duration / (double) G_USEC_PER_SEC);
  g_print ("latency: open loop at %.0f messages/s offered, %.1f s after %d s of warm-up "
           "(%.0f sent/s; held back by the %d in-flight cap %" G_GUINT64_FORMAT " times):\n",
           b->rate, load_measured_s (paced), WARMUP_S, sent_rate, b->latency_in_flight,
           paced->capped);
  g_print ("  customer->agent p50 %6.2f ms\n", percentile_ms (paced->delivery, 0.5));
  /* Held back, the sends start late and their latency looks better than it is: a p99 counts
   * only when the server took (nearly) the whole offered rate. */
  sustained = sent_rate >= 0.95 * b->rate;
  g_print ("  customer->agent p99 %6.2f ms   target < %.0f ms   anchor round trip p99 %.2f ms   "
           "%s\n",
           p99, TARGET_P99_MS, b->anchor_p99,
           p99 >= 0 && p99 < TARGET_P99_MS && sustained ? "PASS" : "MISS");
  if (!sustained)
    g_print ("  the offered rate was not sustained: the latency at %.0f messages/s is unknown\n",
             b->rate);
  g_print ("  send round trip p50 %.2f ms, p99 %.2f ms\n", percentile_ms (paced->round_trip, 0.5),
           percentile_ms (paced->round_trip, 0.99));
  cpu_print (b, &paced->cpu, "cxdesk-server");
  b->measuring = FALSE;
  if (!load_check_errors (b, paced, "latency"))
    return;
  if (p99 < 0 || p99 >= TARGET_P99_MS)
    g_ptr_array_add (
        b->missed, g_strdup_printf ("customer->agent p99 %.2f ms >= %.0f ms", p99, TARGET_P99_MS));
  else if (!sustained)
    g_ptr_array_add (b->missed, g_strdup_printf ("%.0f messages/s offered, only %.0f/s sent "
                                                 "within %d in flight",
                                                 b->rate, sent_rate, b->latency_in_flight));
  error_log_print ("agent requests", &b->agent_errors);
  if (error_log_too_many (&b->agent_errors))
    bench_fail (b, "agent requests: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " failed",
                b->agent_errors.failed, b->agent_errors.requests);
  if (b->stray_deliveries > 0 || b->chats_ended > 0)
    g_print ("  %" G_GUINT64_FORMAT " customer messages arrived outside their phase; %u chats "
             "ended\n",
             b->stray_deliveries, b->chats_ended);
  g_print ("cxdesk-server after the chats: VmRSS %.1f MB\n",
           proc_status_kb (server_pid (&b->server), "VmRSS") / 1024.0);
  stopped = server_stop (b, &b->server);
  g_print ("cxdesk-server on SIGTERM: %s\n", stopped);
}

static void
bench_chats (Bench *b)
{
  bench_chats_run (b);
  /* Its loads are gone: frames that still come find none. */
  b->current = NULL;
  b->measuring = FALSE;
}

/* 3. Memory with many open chats */

static void
bench_rss (Bench *b)
{
  g_autoptr (SoupSession) customers = NULL;
  g_autoptr (Load) starts = NULL;
  g_autofree char *stopped = NULL;
  gint64 idle_kb, open_kb, peak_kb;
  double open_mb;

  if (!start_cxdesk_server (b, "rss"))
    return;
  settle (b, 0.5);
  idle_kb = proc_status_kb (server_pid (&b->server), "VmRSS");

  customers = session_new (START_IN_FLIGHT);
  starts = load_new (b, customers, make_start, check_start, START_IN_FLIGHT);
  starts->max_requests = b->rss_chats;
  starts->ramp = RAMP_S * G_USEC_PER_SEC;
  if (!load_run (b, starts, "chat start", SETUP_TIMEOUT_S) ||
      !load_check_errors (b, starts, "chat start"))
    return;
  settle (b, 1);
  open_kb = proc_status_kb (server_pid (&b->server), "VmRSS");
  peak_kb = proc_status_kb (server_pid (&b->server), "VmHWM");
  open_mb = open_kb / 1024.0;
  g_print ("rss: %d chats waiting in the queue (started at %.0f/s at %d in flight over "
           "%" G_GUINT64_FORMAT " connections; p50 %.2f ms, p99 %.2f ms):\n",
           b->rss_chats, load_rate (starts), START_IN_FLIGHT, starts->connections,
           percentile_ms (starts->round_trip, 0.5), percentile_ms (starts->round_trip, 0.99));
  cpu_print (b, &starts->cpu, "cxdesk-server");
  g_print ("  VmRSS            %8.1f MB   target < %.0f MB   floor (idle) %.1f MB; %.1f kB per "
           "chat; VmHWM %.1f MB   %s\n",
           open_mb, TARGET_RSS_MB, idle_kb / 1024.0, (open_kb - idle_kb) / (double) b->rss_chats,
           peak_kb / 1024.0, open_mb < TARGET_RSS_MB ? "PASS" : "MISS");
  if (open_mb >= TARGET_RSS_MB)
    g_ptr_array_add (b->missed, g_strdup_printf ("VmRSS with %d chats %.1f MB >= %.0f MB",
                                                 b->rss_chats, open_mb, TARGET_RSS_MB));
  stopped = server_stop (b, &b->server);
  g_print ("cxdesk-server on SIGTERM: %s\n", stopped);
}

/* Main */

static gboolean
watchdog_cb (gpointer data)
{
  g_printerr ("bench-server: still running after %d s; giving up\n", RUN_TIMEOUT_S);
  exit (2);
  return G_SOURCE_REMOVE;
}

static void
remove_tmpdir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);
      g_unlink (file);
    }
  g_rmdir (path);
}

/* The old mode's figures, from this program run as a child with --legacy-commit. */
static gboolean
run_legacy_child (int argc, char **argv, const char *result_path, double *rate, double *anchor)
{
  g_autoptr (GPtrArray) child_argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GSubprocess) child = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  g_auto (GStrv) fields = NULL;

  g_ptr_array_add (child_argv, g_file_read_link ("/proc/self/exe", NULL));
  for (int i = 1; i < argc; i++)
    g_ptr_array_add (child_argv, g_strdup (argv[i]));
  g_ptr_array_add (child_argv, g_strconcat ("--legacy-commit=", result_path, NULL));
  g_ptr_array_add (child_argv, NULL);

  g_print ("bench-server: the old mode first (synchronous=NORMAL, one commit per write: "
           "survives kill -9, not a power loss), in a child process\n");
  child =
      g_subprocess_newv ((const char *const *) child_argv->pdata, G_SUBPROCESS_FLAGS_NONE, &error);
  if (child == NULL || !g_subprocess_wait (child, NULL, &error) ||
      !g_file_get_contents (result_path, &contents, NULL, &error))
    {
      g_print ("bench-server: the old mode's run failed: %s\n", error ? error->message : "?");
      return FALSE;
    }
  fields = g_strsplit (contents, " ", 2);
  if (g_strv_length (fields) != 2)
    return FALSE;
  *rate = g_ascii_strtod (fields[0], NULL);
  *anchor = g_ascii_strtod (fields[1], NULL);
  g_print ("bench-server: now durable on power loss (synchronous=FULL, group commit)\n");
  return TRUE;
}

int
main (int argc, char **argv)
{
  gboolean bare_server = FALSE;
  g_autofree char *legacy_result = NULL;
  g_autofree char *legacy_result_path = NULL;
  g_auto (GStrv) original_argv = g_strdupv (argv);
  double legacy_rate = -1, legacy_anchor = -1;
  Bench bench = {
    .n_agents = 100,
    .capacity = 10,
    .in_flight = 32,
    .latency_in_flight = 64,
    .seconds = 10,
    .latency_seconds = 5,
    .rate = TARGET_MESSAGES_PER_S,
    .rss_chats = 10000,
  };
  Bench *b = &bench;
  GOptionEntry entries[] = {
    { "bare-server", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &bare_server,
      "Run the anchor server", NULL },
    { "legacy-commit", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &legacy_result,
      "Measure the old commit mode; write the figures to FILE", "FILE" },
    { "agents", 0, 0, G_OPTION_ARG_INT, &bench.n_agents, "Agents (100)", "N" },
    { "capacity", 0, 0, G_OPTION_ARG_INT, &bench.capacity, "Chats per agent (10)", "N" },
    { "in-flight", 0, 0, G_OPTION_ARG_INT, &bench.in_flight,
      "Requests in flight in the closed loops (32)", "N" },
    { "latency-in-flight", 0, 0, G_OPTION_ARG_INT, &bench.latency_in_flight,
      "Bound on requests in flight in the open loop (64)", "N" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &bench.seconds, "Closed-loop seconds (10)", "S" },
    { "latency-seconds", 0, 0, G_OPTION_ARG_INT, &bench.latency_seconds, "Open-loop seconds (5)",
      "S" },
    { "rate", 0, 0, G_OPTION_ARG_DOUBLE, &bench.rate, "Open-loop messages/s (5000)", "R" },
    { "rss-chats", 0, 0, G_OPTION_ARG_INT, &bench.rss_chats, "Chats for the RSS (10000)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- cxdesk-server load benchmark");
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  int status;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (bare_server)
    return run_bare_server ();
  /* Bounded in count and time: the whole run stays within RUN_TIMEOUT_S. */
  if (bench.n_agents < 1 || bench.n_agents > 1000 || bench.capacity < 1 || bench.capacity > 100 ||
      bench.in_flight < 1 || bench.in_flight > 1024 || bench.latency_in_flight < 1 ||
      bench.latency_in_flight > 1024 || bench.seconds < 1 || bench.seconds > 60 ||
      bench.latency_seconds < 1 || bench.latency_seconds > 60 || bench.rate <= 0 ||
      bench.rate > 100000 || bench.rss_chats < 1 || bench.rss_chats > 100000)
    {
      g_printerr ("bench-server: out-of-range option\n");
      return 2;
    }

  bench.server_path = g_strdup (g_getenv ("CXDESK_SERVER"));
  if (bench.server_path == NULL)
    {
      g_printerr ("bench-server: set CXDESK_SERVER to the cxdesk-server executable\n");
      return 2;
    }
  bench.self_path = g_file_read_link ("/proc/self/exe", &error);
  bench.tmpdir = g_dir_make_tmp ("cxdesk-bench-XXXXXX", &error);
  if (bench.self_path == NULL || bench.tmpdir == NULL)
    {
      g_printerr ("bench-server: %s\n", error->message);
      return 2;
    }
  /* The old mode: the server reads this at start; this run measures the anchor and the chats
   * only, and hands its figures to the parent. The default run measures it first. */
  if (legacy_result != NULL)
    g_setenv ("CXDESK_BENCH_LEGACY_COMMIT", "1", TRUE);
  else
    {
      legacy_result_path = g_build_filename (bench.tmpdir, "legacy-result", NULL);
      run_legacy_child (g_strv_length (original_argv), original_argv, legacy_result_path,
                        &legacy_rate, &legacy_anchor);
    }
  bench.n_chats = bench.n_agents * bench.capacity;
  bench.chats = g_new0 (Chat, bench.n_chats);
  bench.agents = g_new0 (Agent, bench.n_agents);
  for (int i = 0; i < bench.n_agents; i++)
    {
      Agent *agent = &bench.agents[i];
      g_autoptr (SoupCookieJar) jar = soup_cookie_jar_new ();

      agent->bench = b;
      agent->username = g_strdup_printf ("agent%03d", i);
      agent->session = session_new (1);
      agent->parser = json_parser_new_immutable ();
      soup_session_add_feature (agent->session, SOUP_SESSION_FEATURE (jar));
    }
  bench.accepted_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  error_log_init (&bench.agent_errors);
  bench.missed = g_ptr_array_new_with_free_func (g_free);
  g_timeout_add (10, tick_cb, NULL);
  g_timeout_add_seconds (RUN_TIMEOUT_S, watchdog_cb, NULL);

  g_print ("bench-server: %s, %d agents x %d chats, %d in flight, %u CPUs, scratch %s\n",
           bench.server_path, bench.n_agents, bench.capacity, bench.in_flight,
           g_get_num_processors (), bench.tmpdir);
  bench_anchor (b);
  if (b->failure == NULL)
    bench_chats (b);
  if (b->failure == NULL && legacy_result == NULL)
    bench_rss (b);
  if (b->server.process != NULL)
    g_free (server_stop (b, &b->server));

  if (b->noisy)
    g_print ("bench-server: other processes took CPU during a measurement: the figures above "
             "understate the server\n");
  if (legacy_result != NULL)
    {
      g_autofree char *figures = g_strdup_printf ("%.1f %.1f", b->messages_rate, b->anchor_rate);

      g_file_set_contents (legacy_result, figures, -1, NULL);
      if (b->failure != NULL)
        return 2;
      remove_tmpdir (bench.tmpdir);
      return 0;
    }
  if (legacy_rate > 0 && b->messages_rate > 0)
    g_print ("bench-server: durable messages/s, closed loop: on power loss (group commit) %.0f "
             "= %.2f x the anchor (%.0f); old mode (kill -9 only) %.0f = %.2f x its anchor "
             "(%.0f); new / old %.2f\n",
             b->messages_rate, b->messages_rate / b->anchor_rate, b->anchor_rate, legacy_rate,
             legacy_rate / legacy_anchor, legacy_anchor, b->messages_rate / legacy_rate);
  if (b->failure != NULL)
    {
      g_print ("bench-server: FAILED: %s\n(server logs kept in %s)\n", b->failure, bench.tmpdir);
      status = 2;
    }
  else if (b->missed->len > 0)
    {
      g_print ("bench-server: targets missed (%.0f s):\n", seconds_since (start));
      for (guint i = 0; i < b->missed->len; i++)
        g_print ("  %s\n", (const char *) b->missed->pdata[i]);
      status = 1;
    }
  else
    {
      g_print ("bench-server: every target met (%.0f s)\n", seconds_since (start));
      status = 0;
    }
  if (status != 2)
    remove_tmpdir (bench.tmpdir);
  return status;
}
