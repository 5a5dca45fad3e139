/* bench-bus.c: CxBus publish rate against raw g_signal_emit with the same handlers, and
 * command round trips against a bare GTask round trip, each anchor measured in this run. */
#include "config.h"

#include "bus/cx-bus.h"

#define OTHER_HANDLERS 100
#define ROUNDS 7

/* The anchor: a GObject with the very signal CxBus uses. */
typedef struct
{
  GObject parent_instance;
} RawEmitter;
typedef GObjectClass RawEmitterClass;

static GType raw_emitter_get_type (void);
G_DEFINE_TYPE (RawEmitter, raw_emitter, G_TYPE_OBJECT)

static guint raw_signal;

static void
raw_emitter_class_init (RawEmitterClass *klass)
{
  raw_signal = g_signal_new ("event", G_TYPE_FROM_CLASS (klass),
                             G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED | G_SIGNAL_NO_HOOKS, 0, NULL,
                             NULL, g_cclosure_marshal_VOID__BOXED, G_TYPE_NONE, 1,
                             CX_TYPE_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (raw_signal, G_TYPE_FROM_CLASS (klass),
                              g_cclosure_marshal_VOID__BOXEDv);
}

static void
raw_emitter_init (RawEmitter *self)
{
}

static guint64 delivered;

static void
count_cb (gpointer instance, const CxEvent *event, gpointer user_data)
{
  delivered++;
}

static double
rate (guint64 n, gint64 start)
{
  return n / ((g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *values, guint n)
{
  qsort (values, n, sizeof *values, compare_doubles);
  return values[n / 2];
}

static double
run_raw (GObject *emitter, GQuark detail, guint64 n)
{
  CxEvent event = { 0, "Bench", "Bench.target", NULL };
  gint64 start = g_get_monotonic_time ();

  for (guint64 i = 0; i < n; i++)
    g_signal_emit (emitter, raw_signal, detail, &event);
  return rate (n, start);
}

static double
run_bus (CxPlugin *plugin, guint64 n)
{
  gint64 start = g_get_monotonic_time ();

  for (guint64 i = 0; i < n; i++)
    cx_plugin_publish (plugin, "target", NULL);
  return rate (n, start);
}

static void
echo_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  cx_command_resolve (command, cx_command_get_data (command));
}

static void
command_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (JsonNode) node = cx_bus_command_finish (CX_BUS (source), result, NULL);
  gboolean *done = user_data;

  *done = node != NULL;
}

static double
run_commands (CxBus *bus, CxPlugin *caller, JsonNode *data, guint64 n)
{
  gint64 start = g_get_monotonic_time ();

  for (guint64 i = 0; i < n; i++)
    {
      gboolean done = FALSE;

      cx_bus_command_async (bus, caller, "Echo.echo", data, 0, NULL, command_done_cb, &done);
      while (!done)
        g_main_context_iteration (NULL, TRUE);
    }
  return rate (n, start);
}

static void
task_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (JsonNode) node = g_task_propagate_pointer (G_TASK (result), NULL);
  gboolean *done = user_data;

  *done = node != NULL;
}

/* The anchor: the GTask round trip a command is built on, with nothing else. */
static double
run_tasks (GObject *source, JsonNode *data, guint64 n)
{
  gint64 start = g_get_monotonic_time ();

  for (guint64 i = 0; i < n; i++)
    {
      gboolean done = FALSE;
      GTask *task = g_task_new (source, NULL, task_done_cb, &done);

      g_task_return_pointer (task, json_node_ref (data), (GDestroyNotify) json_node_unref);
      g_object_unref (task);
      while (!done)
        g_main_context_iteration (NULL, TRUE);
    }
  return rate (n, start);
}

int
main (int argc, char *argv[])
{
  g_autoptr (CxBus) bus = cx_bus_new ();
  g_autoptr (GObject) emitter = g_object_new (raw_emitter_get_type (), NULL);
  g_autoptr (JsonNode) data = json_from_string ("{\"message\":\"hello\"}", NULL);
  const char *events[OTHER_HANDLERS + 2] = { NULL };
  char *names[OTHER_HANDLERS] = { NULL };
  double raw[ROUNDS], pub[ROUNDS], cmd[ROUNDS], task[ROUNDS];
  double raw_rate, bus_rate, cmd_rate, task_rate, ratio;
  guint64 expected;
  CxPlugin *bench, *echo, *caller;
  GQuark target = g_quark_from_static_string ("Bench.target");
  const guint64 n_events = 400000, n_commands = 60000;
  gboolean ok;

  bench = cx_bus_register_plugin (bus, "Bench", NULL);
  echo = cx_bus_register_plugin (bus, "Echo", NULL);
  caller = cx_bus_register_plugin (bus, "Caller", NULL);
  cx_plugin_register_command (echo, "echo", echo_cb, NULL, NULL, NULL);
  cx_plugin_ready (echo);
  cx_plugin_ready (caller);

  /* 100 handlers for other details and 1 matching, on both. */
  for (guint i = 0; i < OTHER_HANDLERS; i++)
    {
      g_autofree char *full = NULL;

      names[i] = g_strdup_printf ("e%u", i);
      events[i] = names[i];
      full = g_strdup_printf ("Bench.%s", names[i]);
      cx_bus_subscribe (bus, full, (CxEventFunc) count_cb, NULL, NULL);
    }
  for (guint i = 0; i < OTHER_HANDLERS; i++)
    {
      g_autofree char *full = g_strdup_printf ("Bench.%s", names[i]);

      g_signal_connect_closure_by_id (emitter, raw_signal, g_quark_from_string (full),
                                      g_cclosure_new (G_CALLBACK (count_cb), NULL, NULL), FALSE);
    }
  g_signal_connect_closure_by_id (emitter, raw_signal, target,
                                  g_cclosure_new (G_CALLBACK (count_cb), NULL, NULL), FALSE);
  cx_bus_subscribe (bus, "Bench.target", (CxEventFunc) count_cb, NULL, NULL);
  events[OTHER_HANDLERS] = "target";
  cx_plugin_register_events (bench, events, NULL);

  /* Warm up, then alternate the two so that both see the same machine. */
  run_raw (emitter, target, n_events / 10);
  run_bus (bench, n_events / 10);
  delivered = 0;
  for (guint r = 0; r < ROUNDS; r++)
    {
      raw[r] = run_raw (emitter, target, n_events);
      pub[r] = run_bus (bench, n_events);
    }
  expected = 2 * ROUNDS * n_events;
  if (delivered != expected)
    {
      g_printerr ("bench-bus: %" G_GUINT64_FORMAT " deliveries, expected %" G_GUINT64_FORMAT "\n",
                  delivered, expected);
      return 1;
    }

  run_tasks (emitter, data, n_commands / 10);
  run_commands (bus, caller, data, n_commands / 10);
  for (guint r = 0; r < ROUNDS; r++)
    {
      task[r] = run_tasks (emitter, data, n_commands);
      cmd[r] = run_commands (bus, caller, data, n_commands);
    }

  raw_rate = median (raw, ROUNDS);
  bus_rate = median (pub, ROUNDS);
  task_rate = median (task, ROUNDS);
  cmd_rate = median (cmd, ROUNDS);
  ratio = bus_rate / raw_rate;

  g_print ("bench-bus: events, %d handlers for other details and 1 matching (median of %d):\n",
           OTHER_HANDLERS, ROUNDS);
  g_print ("  anchor  raw g_signal_emit   %8.2f M/s\n", raw_rate / 1e6);
  g_print ("  CxBus   cx_plugin_publish   %8.2f M/s\n", bus_rate / 1e6);
  g_print ("  ratio   %.2f x raw (target >= 0.80)\n", ratio);
  g_print ("bench-bus: commands, sequential round trips (median of %d):\n", ROUNDS);
  g_print ("  anchor  bare GTask round trip %6.0f k/s\n", task_rate / 1e3);
  g_print ("  CxBus   command round trip    %6.0f k/s\n", cmd_rate / 1e3);
  /* A ratio to the anchor of the same run, not a rate: a loaded machine slows both alike. */
  g_print ("  ratio   %.2f x the GTask round trip (target >= 0.50)\n", cmd_rate / task_rate);

  ok = ratio >= 0.8 && cmd_rate >= 0.5 * task_rate;
  g_print ("bench-bus: %s\n", ok ? "targets met" : "TARGET MISSED");

  for (guint i = 0; i < OTHER_HANDLERS; i++)
    g_free (names[i]);

  return ok ? 0 : 1;
}
