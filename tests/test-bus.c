/* test-bus.c: CxBus, the CXBus semantics of reference §1 on GLib signals. */
#include "config.h"

#include "bus/cx-bus.h"
#include "cx-test-json.h"

typedef struct
{
  CxBus *bus;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->bus = cx_bus_new ();
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  /* Let answered commands deliver their results and drop their hold on the bus. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (f->bus);
}

/* Commands: call and wait for the answer, iterating the main loop. */

typedef struct
{
  gboolean done;
  JsonNode *result;
  GError *error;
} Answer;

static void
answer_clear (Answer *answer)
{
  g_clear_pointer (&answer->result, json_node_unref);
  g_clear_error (&answer->error);
  answer->done = FALSE;
}

static void
command_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Answer *answer = user_data;

  g_assert_false (answer->done);
  answer->result = cx_bus_command_finish (CX_BUS (source), result, &answer->error);
  answer->done = TRUE;
}

static void
wait_for (gboolean *flag)
{
  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
}

static void
call (CxBus *bus, CxPlugin *commander, const char *name, const char *data, guint timeout,
      GCancellable *cancellable, Answer *answer)
{
  g_autoptr (JsonNode) node = data ? cx_test_json_parse (data) : NULL;

  answer_clear (answer);
  cx_bus_command_async (bus, commander, name, node, timeout, cancellable, command_done_cb, answer);
}

static void
call_sync (CxBus *bus, CxPlugin *commander, const char *name, const char *data, Answer *answer)
{
  call (bus, commander, name, data, 0, NULL, answer);
  wait_for (&answer->done);
}

/* Handlers */

typedef struct
{
  guint calls;
  char *last_commander;
  char *last_name;
  char *last_data;
  gint64 last_time;
  CxCommand *held; /* for handlers that answer later */
  guint destroyed;
} Seen;

static void
seen_clear (Seen *seen)
{
  g_clear_pointer (&seen->last_commander, g_free);
  g_clear_pointer (&seen->last_name, g_free);
  g_clear_pointer (&seen->last_data, g_free);
  g_clear_object (&seen->held);
}

static void
echo_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  Seen *seen = user_data;

  seen->calls++;
  g_free (seen->last_commander);
  seen->last_commander = g_strdup (cx_command_get_commander (command));
  g_free (seen->last_name);
  seen->last_name = g_strdup (cx_command_get_name (command));
  g_free (seen->last_data);
  seen->last_data = cx_test_json_text (cx_command_get_data (command));
  seen->last_time = cx_command_get_time (command);
  cx_command_resolve (command, cx_command_get_data (command));
}

static void
hold_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  Seen *seen = user_data;

  seen->calls++;
  g_set_object (&seen->held, command);
}

static CxPlugin *
register_plugin (CxBus *bus, const char *name)
{
  g_autoptr (GError) error = NULL;
  CxPlugin *plugin = cx_bus_register_plugin (bus, name, &error);

  g_assert_no_error (error);
  g_assert_nonnull (plugin);
  return plugin;
}

static CxPlugin *
echo_plugin (CxBus *bus, const char *name, Seen *seen)
{
  g_autoptr (GError) error = NULL;
  CxPlugin *plugin = register_plugin (bus, name);

  g_assert_true (cx_plugin_register_command (plugin, "echo", echo_cb, seen, NULL, &error));
  g_assert_no_error (error);
  cx_plugin_ready (plugin);
  return plugin;
}

/* Events: a recorder subscriber. */

typedef struct
{
  guint calls;
  GPtrArray *names;
  char *last_publisher;
  char *last_data;
  gint64 last_time;
  CxBus *bus;
  gulong unsubscribe_id; /* unsubscribed from inside the handler, if set */
  guint destroyed;
} Recorder;

static void
recorder_init (Recorder *r)
{
  memset (r, 0, sizeof *r);
  r->names = g_ptr_array_new_with_free_func (g_free);
}

static void
recorder_clear (Recorder *r)
{
  g_ptr_array_unref (r->names);
  g_free (r->last_publisher);
  g_free (r->last_data);
}

static void
record_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  Recorder *r = user_data;

  r->calls++;
  g_ptr_array_add (r->names, g_strdup (event->event));
  g_free (r->last_publisher);
  r->last_publisher = g_strdup (event->publisher);
  g_free (r->last_data);
  r->last_data = cx_test_json_text (event->data);
  r->last_time = event->time;
  if (r->unsubscribe_id != 0)
    {
      cx_bus_unsubscribe (bus, r->unsubscribe_id);
      r->unsubscribe_id = 0;
    }
}

static void
recorder_destroyed_cb (gpointer data)
{
  ((Recorder *) data)->destroyed++;
}

static void
seen_destroyed_cb (gpointer data)
{
  ((Seen *) data)->destroyed++;
}

/* Before-hooks record the order they ran in. */
typedef struct
{
  GString *order;
  guint destroyed;
} Hooks;

static void
hooks_destroyed_cb (gpointer data)
{
  ((Hooks *) data)->destroyed++;
}

/* Tests */

static void
test_register_names (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  CxPlugin *plugin = register_plugin (f->bus, "WebChat");

  g_assert_cmpstr (cx_plugin_get_name (plugin), ==, "WebChat");
  g_assert_true (cx_bus_lookup_plugin (f->bus, "WebChat") == plugin);
  g_assert_true (cx_plugin_get_bus (plugin) == f->bus);

  g_assert_null (cx_bus_register_plugin (f->bus, "WebChat", &error));
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_NAME_TAKEN);
  g_assert_nonnull (strstr (error->message, "WebChat"));
  g_clear_error (&error);

  for (guint i = 0; i < 4; i++)
    {
      const char *bad[] = { "", "Web.Chat", "9Lives", "Web Chat" };

      g_assert_null (cx_bus_register_plugin (f->bus, bad[i], &error));
      g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_INVALID_NAME);
      g_clear_error (&error);
    }
  g_assert_null (cx_bus_lookup_plugin (f->bus, "Web"));
}

static void
test_registration_lock (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint key = cx_bus_lock_registration (f->bus);

  g_assert_cmpuint (key, !=, 0);
  g_assert_true (cx_bus_is_registration_locked (f->bus));
  g_assert_cmpuint (cx_bus_lock_registration (f->bus), ==, 0);

  g_assert_null (cx_bus_register_plugin (f->bus, "Intruder", &error));
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REGISTRATION_LOCKED);
  g_clear_error (&error);

  g_assert_false (cx_bus_unlock_registration (f->bus, key + 1));
  g_assert_true (cx_bus_is_registration_locked (f->bus));
  g_assert_true (cx_bus_unlock_registration (f->bus, key));
  g_assert_false (cx_bus_is_registration_locked (f->bus));

  register_plugin (f->bus, "Intruder");
}

static void
test_publish_subscribe (Fixture *f, gconstpointer data)
{
  const char *events[] = { "opened", "closed", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) payload = cx_test_json_parse ("{\"form\":{\"firstname\":\"Ada\"}}");
  Recorder one, all;
  CxPlugin *chat;
  gint64 before;

  recorder_init (&one);
  recorder_init (&all);

  /* Subscribing before the publisher exists is allowed. */
  cx_bus_subscribe (f->bus, "WebChat.opened", record_cb, &one, NULL);
  cx_bus_subscribe (f->bus, NULL, record_cb, &all, NULL);

  chat = register_plugin (f->bus, "WebChat");
  g_assert_true (cx_plugin_register_events (chat, events, &error));
  g_assert_no_error (error);

  /* Events are stamped with a millisecond-resolution clock (CXBus uses Date.now()), which may
   * trail the precise clock by one tick of the coarse one (at most a few ms). */
  before = g_get_real_time () - 20 * G_TIME_SPAN_MILLISECOND;
  g_assert_true (cx_plugin_publish (chat, "opened", payload));
  g_assert_true (cx_plugin_publish (chat, "WebChat.closed", NULL));

  g_assert_cmpuint (one.calls, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (one.names, 0), ==, "WebChat.opened");
  g_assert_cmpstr (one.last_publisher, ==, "WebChat");
  g_assert_cmpstr (one.last_data, ==, "{\"form\":{\"firstname\":\"Ada\"}}");
  g_assert_cmpint (one.last_time, >=, before);
  g_assert_cmpint (one.last_time, <=, g_get_real_time ());

  g_assert_cmpuint (all.calls, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (all.names, 1), ==, "WebChat.closed");
  g_assert_cmpstr (all.last_data, ==, "NULL");

  recorder_clear (&one);
  recorder_clear (&all);
}

static void
test_publish_refused (Fixture *f, gconstpointer data)
{
  const char *events[] = { "opened", NULL };
  CxPlugin *chat = register_plugin (f->bus, "WebChat");
  CxPlugin *rogue = register_plugin (f->bus, "Rogue");
  Recorder all;

  recorder_init (&all);
  cx_plugin_register_events (chat, events, NULL);
  cx_bus_subscribe (f->bus, "*", record_cb, &all, NULL);

  /* Another plugin's namespace: refused, with a warning, and nothing delivered. */
  g_test_expect_message ("cx-bus", G_LOG_LEVEL_WARNING, "*Rogue may not publish WebChat.opened*");
  g_assert_false (cx_plugin_publish (rogue, "WebChat.opened", NULL));
  g_test_assert_expected_messages ();

  /* Its own namespace, but an event it never registered. */
  g_test_expect_message ("cx-bus", G_LOG_LEVEL_WARNING, "*Rogue has not registered the event*");
  g_assert_false (cx_plugin_publish (rogue, "opened", NULL));
  g_test_assert_expected_messages ();

  g_assert_cmpuint (all.calls, ==, 0);
  recorder_clear (&all);
}

static void
test_sticky (Fixture *f, gconstpointer data)
{
  const char *events[] = { "theme", NULL };
  g_autoptr (JsonNode) dark = cx_test_json_parse ("\"dark\"");
  g_autoptr (JsonNode) light = cx_test_json_parse ("\"light\"");
  CxPlugin *app = register_plugin (f->bus, "App");
  Recorder early, late, ready, never;

  recorder_init (&early);
  recorder_init (&late);
  recorder_init (&ready);
  recorder_init (&never);
  cx_plugin_register_events (app, events, NULL);

  cx_bus_subscribe (f->bus, "App.theme", record_cb, &early, NULL);
  cx_plugin_republish (app, "theme", dark);
  cx_plugin_republish (app, "theme", light);
  g_assert_cmpuint (early.calls, ==, 2);

  /* A late subscriber is called at once with the last data only. */
  cx_bus_subscribe (f->bus, "App.theme", record_cb, &late, NULL);
  g_assert_cmpuint (late.calls, ==, 1);
  g_assert_cmpstr (late.last_data, ==, "\"light\"");
  g_assert_cmpuint (early.calls, ==, 2);

  /* Every plugin's ready is sticky. */
  cx_plugin_ready (app);
  cx_bus_subscribe (f->bus, "App.ready", record_cb, &ready, NULL);
  g_assert_cmpuint (ready.calls, ==, 1);
  g_assert_cmpstr (ready.last_publisher, ==, "App");
  g_assert_true (cx_plugin_is_ready (app));

  /* A plain publish is not sticky. */
  {
    const char *more[] = { "blur", NULL };

    cx_plugin_register_events (app, more, NULL);
    cx_plugin_publish (app, "blur", NULL);
    cx_bus_subscribe (f->bus, "App.blur", record_cb, &never, NULL);
    g_assert_cmpuint (never.calls, ==, 0);
  }

  recorder_clear (&early);
  recorder_clear (&late);
  recorder_clear (&ready);
  recorder_clear (&never);
}

static void
test_unsubscribe_during_dispatch (Fixture *f, gconstpointer data)
{
  const char *events[] = { "tick", NULL };
  CxPlugin *clock = register_plugin (f->bus, "Clock");
  Recorder first, second, self_remover;

  recorder_init (&first);
  recorder_init (&second);
  recorder_init (&self_remover);
  cx_plugin_register_events (clock, events, NULL);

  /* first removes second, which has not run yet in this emission: second must not run. */
  cx_bus_subscribe (f->bus, "Clock.tick", record_cb, &first, NULL);
  first.unsubscribe_id =
      cx_bus_subscribe (f->bus, "Clock.tick", record_cb, &second, recorder_destroyed_cb);
  g_assert_cmpuint (first.unsubscribe_id, !=, 0);
  /* self_remover removes itself. */
  self_remover.unsubscribe_id =
      cx_bus_subscribe (f->bus, "Clock.tick", record_cb, &self_remover, recorder_destroyed_cb);

  cx_plugin_publish (clock, "tick", NULL);
  g_assert_cmpuint (first.calls, ==, 1);
  g_assert_cmpuint (second.calls, ==, 0);
  g_assert_cmpuint (self_remover.calls, ==, 1);
  g_assert_cmpuint (second.destroyed, ==, 1);
  g_assert_cmpuint (self_remover.destroyed, ==, 1);

  cx_plugin_publish (clock, "tick", NULL);
  g_assert_cmpuint (first.calls, ==, 2);
  g_assert_cmpuint (second.calls, ==, 0);
  g_assert_cmpuint (self_remover.calls, ==, 1);

  recorder_clear (&first);
  recorder_clear (&second);
  recorder_clear (&self_remover);
}

static void
test_plugin_subscriptions_end_with_plugin (Fixture *f, gconstpointer data)
{
  const char *events[] = { "tick", NULL };
  CxPlugin *clock = register_plugin (f->bus, "Clock");
  CxPlugin *listener = register_plugin (f->bus, "Listener");
  Recorder r;

  recorder_init (&r);
  cx_plugin_register_events (clock, events, NULL);
  g_assert_cmpuint (
      cx_plugin_subscribe (listener, "Clock.tick", record_cb, &r, recorder_destroyed_cb), !=, 0);
  cx_plugin_publish (clock, "tick", NULL);
  g_assert_cmpuint (r.calls, ==, 1);

  g_object_add_weak_pointer (G_OBJECT (listener), (gpointer *) &listener);
  cx_bus_unregister_plugin (f->bus, listener);
  g_assert_null (listener);
  g_assert_cmpuint (r.destroyed, ==, 1);
  g_assert_null (cx_bus_lookup_plugin (f->bus, "Listener"));

  cx_plugin_publish (clock, "tick", NULL);
  g_assert_cmpuint (r.calls, ==, 1);
  recorder_clear (&r);
}

static void
test_command_round_trip (Fixture *f, gconstpointer data)
{
  Seen seen = { 0 };
  Answer answer = { 0 };
  g_autofree char *text = NULL;
  CxPlugin *caller = register_plugin (f->bus, "Caller");
  gint64 before = g_get_real_time ();

  echo_plugin (f->bus, "Echo", &seen);
  call_sync (f->bus, caller, "Echo.echo", "{\"n\":1}", &answer);
  g_assert_no_error (answer.error);
  text = cx_test_json_text (answer.result);
  g_assert_cmpstr (text, ==, "{\"n\":1}");
  g_assert_cmpuint (seen.calls, ==, 1);
  g_assert_cmpstr (seen.last_commander, ==, "Caller");
  g_assert_cmpstr (seen.last_name, ==, "Echo.echo");
  g_assert_cmpstr (seen.last_data, ==, "{\"n\":1}");
  g_assert_cmpint (seen.last_time, >=, before);

  /* From the application itself. */
  call_sync (f->bus, NULL, "Echo.echo", NULL, &answer);
  g_assert_no_error (answer.error);
  g_assert_true (JSON_NODE_HOLDS_NULL (answer.result));
  g_assert_cmpstr (seen.last_commander, ==, CX_BUS_APP_COMMANDER);

  answer_clear (&answer);
  seen_clear (&seen);
}

static void
test_command_own_namespace (Fixture *f, gconstpointer data)
{
  Seen seen = { 0 };
  Answer answer = { 0 };
  CxPlugin *echo = echo_plugin (f->bus, "Echo", &seen);
  CxPlugin *other = register_plugin (f->bus, "Other");

  cx_plugin_ready (other);
  /* A name without a dot is in the caller's namespace. */
  call_sync (f->bus, echo, "echo", "1", &answer);
  g_assert_no_error (answer.error);
  g_assert_cmpstr (seen.last_name, ==, "Echo.echo");

  call_sync (f->bus, other, "echo", "1", &answer);
  g_assert_error (answer.error, CX_BUS_ERROR, CX_BUS_ERROR_NO_SUCH_COMMAND);
  g_assert_nonnull (strstr (answer.error->message, "Other.echo"));
  g_assert_cmpuint (seen.calls, ==, 1);

  answer_clear (&answer);
  seen_clear (&seen);
}

static void
test_command_unknown (Fixture *f, gconstpointer data)
{
  Seen seen = { 0 };
  Answer answer = { 0 };

  echo_plugin (f->bus, "Echo", &seen);
  cx_bus_set_default_timeout (f->bus, 60 * 60 * 1000);

  /* An unknown namespace rejects at once: within the idle iterations, not at the timeout. */
  call (f->bus, NULL, "Nobody.home", NULL, 0, NULL, &answer);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (answer.done);
  g_assert_error (answer.error, CX_BUS_ERROR, CX_BUS_ERROR_NO_SUCH_COMMAND);
  g_assert_cmpstr (answer.error->message, ==, "Command does not exist: Nobody.home");

  call (f->bus, NULL, "Echo.missing", NULL, 0, NULL, &answer);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (answer.done);
  g_assert_error (answer.error, CX_BUS_ERROR, CX_BUS_ERROR_NO_SUCH_COMMAND);

  call_sync (f->bus, NULL, "Not a name", NULL, &answer);
  g_assert_error (answer.error, CX_BUS_ERROR, CX_BUS_ERROR_INVALID_NAME);
  call_sync (f->bus, NULL, "A.b.c", NULL, &answer);
  g_assert_error (answer.error, CX_BUS_ERROR, CX_BUS_ERROR_INVALID_NAME);

  g_assert_cmpuint (seen.calls, ==, 0);
  answer_clear (&answer);
  seen_clear (&seen);
}

static JsonNode *
rewrite_hook_cb (CxCommand *command, JsonNode *data, gpointer user_data)
{
  GString *order = ((Hooks *) user_data)->order;
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  g_string_append (order, "rewrite;");
  json_object_set_string_member (object, "rewritten", "yes");
  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    json_object_set_int_member (object, "was",
                                json_object_get_int_member (json_node_get_object (data), "n"));
  json_node_take_object (node, object);
  return node;
}

static JsonNode *
pass_hook_cb (CxCommand *command, JsonNode *data, gpointer user_data)
{
  GString *order = ((Hooks *) user_data)->order;

  g_string_append (order, "pass;");
  return data ? json_node_ref (data) : NULL;
}

static JsonNode *
veto_hook_cb (CxCommand *command, JsonNode *data, gpointer user_data)
{
  GString *order = ((Hooks *) user_data)->order;

  g_string_append (order, "veto;");
  return NULL;
}

static void
test_before_hooks (Fixture *f, gconstpointer data)
{
  Hooks hooks = { g_string_new (NULL), 0 };
  GString *order = hooks.order;
  Seen seen = { 0 };
  Answer answer = { 0 };
  CxPlugin *guard = register_plugin (f->bus, "Guard");
  gulong veto;

  echo_plugin (f->bus, "Echo", &seen);

  /* Hooks run in order; a later one sees what an earlier one returned. */
  cx_plugin_before (guard, "Echo.echo", rewrite_hook_cb, &hooks, hooks_destroyed_cb);
  cx_plugin_before (guard, "Echo.echo", pass_hook_cb, &hooks, hooks_destroyed_cb);
  call_sync (f->bus, NULL, "Echo.echo", "{\"n\":7}", &answer);
  g_assert_no_error (answer.error);
  g_assert_cmpstr (order->str, ==, "rewrite;pass;");
  g_assert_cmpstr (seen.last_data, ==, "{\"rewritten\":\"yes\",\"was\":7}");

  /* A veto rejects and the handler never runs. */
  g_string_truncate (order, 0);
  veto = cx_plugin_before (guard, "Echo.echo", veto_hook_cb, &hooks, hooks_destroyed_cb);
  call_sync (f->bus, NULL, "Echo.echo", "{\"n\":8}", &answer);
  g_assert_error (answer.error, CX_BUS_ERROR, CX_BUS_ERROR_CANCELLED_BY_HOOK);
  g_assert_nonnull (strstr (answer.error->message, "cancelled by a ‘before’ function of Guard"));
  g_assert_cmpstr (order->str, ==, "rewrite;pass;veto;");
  g_assert_cmpuint (seen.calls, ==, 1);

  cx_plugin_remove_before (guard, veto);
  g_assert_cmpuint (hooks.destroyed, ==, 1);
  call_sync (f->bus, NULL, "Echo.echo", "{\"n\":9}", &answer);
  g_assert_no_error (answer.error);
  g_assert_cmpuint (seen.calls, ==, 2);

  /* Hooks go with their plugin. */
  cx_bus_unregister_plugin (f->bus, guard);
  g_assert_cmpuint (hooks.destroyed, ==, 3);
  call_sync (f->bus, NULL, "Echo.echo", "{\"n\":10}", &answer);
  g_assert_cmpstr (seen.last_data, ==, "{\"n\":10}");

  answer_clear (&answer);
  seen_clear (&seen);
  g_string_free (order, TRUE);
}

static void
test_buffered_until_ready (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  Seen seen = { 0 };
  Answer first = { 0 }, second = { 0 };
  CxPlugin *slow = register_plugin (f->bus, "Slow");
  Recorder ready;

  recorder_init (&ready);
  g_assert_true (cx_plugin_register_command (slow, "echo", echo_cb, &seen, NULL, &error));
  call (f->bus, NULL, "Slow.echo", "1", 0, NULL, &first);
  call (f->bus, NULL, "Slow.echo", "2", 0, NULL, &second);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_false (first.done);
  g_assert_cmpuint (seen.calls, ==, 0);

  cx_bus_subscribe (f->bus, "Slow.ready", record_cb, &ready, NULL);
  cx_plugin_ready (slow);
  g_assert_cmpuint (ready.calls, ==, 1);
  g_assert_cmpuint (seen.calls, ==, 2);
  /* In the order they were made. */
  g_assert_cmpstr (seen.last_data, ==, "2");
  wait_for (&second.done);
  wait_for (&first.done);
  g_assert_no_error (first.error);
  g_assert_no_error (second.error);

  answer_clear (&first);
  answer_clear (&second);
  seen_clear (&seen);
  recorder_clear (&ready);
}

typedef struct
{
  guint created;
  gboolean fail;
  gboolean ready_later;
  Seen seen;
  CxPlugin *plugin;
  guint destroyed;
} FactoryState;

static void
factory_destroyed_cb (gpointer data)
{
  ((FactoryState *) data)->destroyed++;
}

static CxPlugin *
factory_cb (CxBus *bus, const char *name, gpointer user_data, GError **error)
{
  FactoryState *state = user_data;
  const char *events[] = { "opened", NULL };
  CxPlugin *plugin;

  state->created++;
  if (state->fail)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no configuration");
      return NULL;
    }

  plugin = cx_bus_register_plugin (bus, name, error);
  if (plugin == NULL)
    return NULL;
  cx_plugin_register_events (plugin, events, NULL);
  cx_plugin_register_command (plugin, "echo", echo_cb, &state->seen, NULL, NULL);
  state->plugin = plugin;
  if (!state->ready_later)
    cx_plugin_ready (plugin);
  return plugin;
}

static void
test_lazy_load_on_command (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  FactoryState state = { 0 };
  Answer answer = { 0 };
  guint key;

  state.ready_later = TRUE;
  g_assert_true (cx_bus_register_factory (f->bus, "Console", factory_cb, &state,
                                          factory_destroyed_cb, &error));
  g_assert_no_error (error);
  g_assert_false (cx_bus_register_factory (f->bus, "Console", factory_cb, &state, NULL, &error));
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_NAME_TAKEN);
  g_clear_error (&error);
  /* Nobody else may take the name before it loads. */
  g_assert_null (cx_bus_register_plugin (f->bus, "Console", &error));
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_NAME_TAKEN);
  g_clear_error (&error);

  g_assert_cmpuint (state.created, ==, 0);
  g_assert_null (cx_bus_lookup_plugin (f->bus, "Console"));

  /* A factory the application registered still loads while registration is locked. */
  key = cx_bus_lock_registration (f->bus);
  call (f->bus, NULL, "Console.echo", "\"hi\"", 0, NULL, &answer);
  g_assert_cmpuint (state.created, ==, 1);
  g_assert_nonnull (cx_bus_lookup_plugin (f->bus, "Console"));
  g_assert_true (cx_bus_unlock_registration (f->bus, key));

  /* Loaded but not ready: the command waits for ready(). */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_false (answer.done);
  cx_plugin_ready (state.plugin);
  wait_for (&answer.done);
  g_assert_no_error (answer.error);
  g_assert_cmpuint (state.seen.calls, ==, 1);

  call_sync (f->bus, NULL, "Console.echo", "1", &answer);
  g_assert_cmpuint (state.created, ==, 1);

  answer_clear (&answer);
  seen_clear (&state.seen);
  g_clear_object (&f->bus);
  f->bus = cx_bus_new ();
  g_assert_cmpuint (state.destroyed, ==, 1);
}

static void
test_lazy_load_on_subscribe (Fixture *f, gconstpointer data)
{
  FactoryState state = { 0 };
  Recorder ready;

  recorder_init (&ready);
  cx_bus_register_factory (f->bus, "Console", factory_cb, &state, NULL, NULL);
  cx_bus_subscribe (f->bus, "Console.ready", record_cb, &ready, NULL);
  g_assert_cmpuint (state.created, ==, 1);
  /* The ready it published while loading reaches the subscription exactly once. */
  g_assert_cmpuint (ready.calls, ==, 1);

  recorder_clear (&ready);
  seen_clear (&state.seen);
}

static void
test_lazy_load_failure (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  FactoryState state = { 0 };
  Answer answer = { 0 };

  state.fail = TRUE;
  cx_bus_register_factory (f->bus, "Broken", factory_cb, &state, NULL, NULL);
  call_sync (f->bus, NULL, "Broken.echo", NULL, &answer);
  g_assert_error (answer.error, CX_BUS_ERROR, CX_BUS_ERROR_LOAD_FAILED);
  g_assert_cmpstr (answer.error->message, ==, "Could not load plugin Broken: no configuration");

  g_assert_null (cx_bus_load_plugin (f->bus, "Missing", &error));
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_LOAD_FAILED);

  answer_clear (&answer);
}

static void
test_command_timeout (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  Seen seen = { 0 };
  Answer answer = { 0 }, buffered = { 0 }, quick = { 0 };
  CxPlugin *mute = register_plugin (f->bus, "Mute");
  CxPlugin *never = register_plugin (f->bus, "Never");
  g_autoptr (JsonNode) late = cx_test_json_parse ("\"late\"");

  cx_plugin_register_command (mute, "wait", hold_cb, &seen, NULL, &error);
  cx_plugin_ready (mute);
  cx_plugin_register_command (never, "wait", hold_cb, &seen, NULL, &error);

  /* Per call: 30 ms. Default: 20 ms. A buffered command for a plugin that never becomes
   * ready times out as well. */
  cx_bus_set_default_timeout (f->bus, 20);
  call (f->bus, NULL, "Mute.wait", NULL, 30, NULL, &answer);
  call (f->bus, NULL, "Never.wait", NULL, 0, NULL, &buffered);
  g_assert_cmpuint (seen.calls, ==, 1);
  g_assert_nonnull (seen.held);

  wait_for (&buffered.done);
  g_assert_error (buffered.error, CX_BUS_ERROR, CX_BUS_ERROR_TIMED_OUT);
  g_assert_cmpstr (buffered.error->message, ==, "Never.wait was not answered within 20 ms");
  wait_for (&answer.done);
  g_assert_error (answer.error, CX_BUS_ERROR, CX_BUS_ERROR_TIMED_OUT);
  g_assert_cmpstr (answer.error->message, ==, "Mute.wait was not answered within 30 ms");

  /* A late answer is ignored. */
  g_assert_true (cx_command_is_done (seen.held));
  cx_command_resolve (seen.held, late);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  /* An answered command's deadline does not fire later. */
  cx_bus_set_default_timeout (f->bus, 10000);
  call (f->bus, NULL, "Mute.wait", NULL, 0, NULL, &quick);
  cx_command_resolve (seen.held, late);
  wait_for (&quick.done);
  g_assert_no_error (quick.error);

  answer_clear (&answer);
  answer_clear (&buffered);
  answer_clear (&quick);
  seen_clear (&seen);
}

static void
test_command_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GCancellable) cancelled = g_cancellable_new ();
  Seen seen = { 0 };
  Answer answer = { 0 };
  CxPlugin *mute = register_plugin (f->bus, "Mute");

  cx_plugin_register_command (mute, "wait", hold_cb, &seen, NULL, NULL);
  cx_plugin_ready (mute);

  call (f->bus, NULL, "Mute.wait", NULL, 0, cancellable, &answer);
  g_assert_cmpuint (seen.calls, ==, 1);
  g_assert_true (cx_command_get_cancellable (seen.held) == cancellable);
  g_cancellable_cancel (cancellable);
  /* Not from inside g_cancellable_cancel(). */
  g_assert_false (answer.done);
  wait_for (&answer.done);
  g_assert_error (answer.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (cx_command_is_done (seen.held));

  /* Already cancelled: rejected without reaching the handler. */
  g_cancellable_cancel (cancelled);
  call (f->bus, NULL, "Mute.wait", NULL, 0, cancelled, &answer);
  wait_for (&answer.done);
  g_assert_error (answer.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (seen.calls, ==, 1);

  answer_clear (&answer);
  seen_clear (&seen);
}

static void
private_poll_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  if (g_strcmp0 (cx_command_get_commander (command), cx_plugin_get_name (plugin)) != 0)
    {
      cx_command_reject (command, g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_ACCESS_DENIED,
                                                       "Access Denied to private command"));
      return;
    }
  cx_command_resolve (command, NULL);
}

static void
test_private_command (Fixture *f, gconstpointer data)
{
  Answer answer = { 0 };
  CxPlugin *service = register_plugin (f->bus, "WebChatService");
  CxPlugin *stranger = register_plugin (f->bus, "Stranger");

  cx_plugin_register_command (service, "poll", private_poll_cb, NULL, NULL, NULL);
  cx_plugin_ready (service);

  call_sync (f->bus, stranger, "WebChatService.poll", NULL, &answer);
  g_assert_error (answer.error, CX_BUS_ERROR, CX_BUS_ERROR_ACCESS_DENIED);
  g_assert_cmpstr (answer.error->message, ==, "Access Denied to private command");

  call_sync (f->bus, NULL, "WebChatService.poll", NULL, &answer);
  g_assert_error (answer.error, CX_BUS_ERROR, CX_BUS_ERROR_ACCESS_DENIED);

  call_sync (f->bus, service, "poll", NULL, &answer);
  g_assert_no_error (answer.error);

  answer_clear (&answer);
}

static void
test_builtins (Fixture *f, gconstpointer data)
{
  const char *events[] = { "opened", "closed", NULL };
  g_autofree char *commands = NULL;
  g_autofree char *listed = NULL;
  g_autoptr (GError) error = NULL;
  Seen seen = { 0 };
  Answer answer = { 0 };
  CxPlugin *chat = echo_plugin (f->bus, "WebChat", &seen);

  cx_plugin_register_events (chat, events, NULL);
  g_assert_false (cx_plugin_register_command (chat, "echo", echo_cb, &seen, NULL, &error));
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (cx_plugin_register_command (chat, "Other.echo", echo_cb, &seen, NULL, &error));
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_NOT_OWNER);

  call_sync (f->bus, NULL, "WebChat.COMMANDS", NULL, &answer);
  g_assert_no_error (answer.error);
  commands = cx_test_json_text (answer.result);
  g_assert_cmpstr (commands, ==,
                   "[\"WebChat.COMMANDS\",\"WebChat.EVENTS\",\"WebChat.LOAD\",\"WebChat.echo\"]");

  call_sync (f->bus, NULL, "WebChat.EVENTS", NULL, &answer);
  listed = cx_test_json_text (answer.result);
  g_assert_cmpstr (listed, ==, "[\"WebChat.closed\",\"WebChat.opened\",\"WebChat.ready\"]");

  call_sync (f->bus, NULL, "WebChat.LOAD", NULL, &answer);
  g_assert_no_error (answer.error);
  g_assert_true (json_node_get_boolean (answer.result));

  answer_clear (&answer);
  seen_clear (&seen);
}

typedef struct
{
  CxCommand *outer;
  CxPlugin *plugin;
} Nested;

static void
nested_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Nested *nested = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) inner = cx_plugin_command_finish (nested->plugin, result, &error);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) reply = NULL;

  g_assert_no_error (error);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "inner");
  json_builder_add_value (builder, json_node_ref (inner));
  json_builder_end_object (builder);
  reply = json_builder_get_root (builder);
  cx_command_resolve (nested->outer, reply);
  g_clear_object (&nested->outer);
}

static void
outer_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  Nested *nested = user_data;

  nested->outer = g_object_ref (command);
  nested->plugin = plugin;
  cx_plugin_command_async (plugin, "Echo.echo", cx_command_get_data (command), NULL, nested_done_cb,
                           nested);
}

static void
test_nested_command (Fixture *f, gconstpointer data)
{
  g_autofree char *text = NULL;
  Seen seen = { 0 };
  Nested nested = { 0 };
  Answer answer = { 0 };
  CxPlugin *outer = register_plugin (f->bus, "Outer");

  echo_plugin (f->bus, "Echo", &seen);
  cx_plugin_register_command (outer, "run", outer_cb, &nested, NULL, NULL);
  cx_plugin_ready (outer);

  /* The outer command resolves only when the nested one has. */
  call_sync (f->bus, NULL, "Outer.run", "[1,2]", &answer);
  g_assert_no_error (answer.error);
  text = cx_test_json_text (answer.result);
  g_assert_cmpstr (text, ==, "{\"inner\":[1,2]}");
  g_assert_cmpstr (seen.last_commander, ==, "Outer");

  answer_clear (&answer);
  seen_clear (&seen);
}

static void
test_trace_ring_buffer (Fixture *f, gconstpointer data)
{
  const char *events[] = { "tick", NULL };
  Seen seen = { 0 };
  Answer answer = { 0 };
  CxPlugin *clock = register_plugin (f->bus, "Clock");
  GListModel *log = cx_bus_get_log (f->bus);
  g_autoptr (CxBusLogEntry) entry = NULL;
  char number[16];

  echo_plugin (f->bus, "Echo", &seen);
  cx_plugin_register_events (clock, events, NULL);

  cx_plugin_publish (clock, "tick", NULL);
  g_assert_cmpuint (g_list_model_get_n_items (log), ==, 0);

  cx_bus_set_log_size (f->bus, 3);
  for (int i = 0; i < 5; i++)
    {
      g_autoptr (JsonNode) node = NULL;

      g_snprintf (number, sizeof number, "%d", i);
      node = cx_test_json_parse (number);
      cx_plugin_publish (clock, "tick", node);
    }
  g_assert_cmpuint (g_list_model_get_n_items (log), ==, 3);
  entry = g_list_model_get_item (log, 0);
  g_assert_cmpint (cx_bus_log_entry_get_kind (entry), ==, CX_BUS_LOG_EVENT);
  g_assert_cmpstr (cx_bus_log_entry_get_name (entry), ==, "Clock.tick");
  g_assert_cmpstr (cx_bus_log_entry_get_origin (entry), ==, "Clock");
  g_assert_cmpstr (cx_bus_log_entry_get_data (entry), ==, "2");
  g_assert_cmpint (cx_bus_log_entry_get_duration (entry), >=, 0);
  g_clear_object (&entry);

  call_sync (f->bus, NULL, "Echo.echo", "{\"x\":true}", &answer);
  call_sync (f->bus, NULL, "Echo.nothing", NULL, &answer);
  g_assert_cmpuint (g_list_model_get_n_items (log), ==, 3);
  entry = g_list_model_get_item (log, 1);
  g_assert_cmpint (cx_bus_log_entry_get_kind (entry), ==, CX_BUS_LOG_COMMAND);
  g_assert_cmpstr (cx_bus_log_entry_get_name (entry), ==, "Echo.echo");
  g_assert_cmpstr (cx_bus_log_entry_get_origin (entry), ==, "App");
  g_assert_cmpstr (cx_bus_log_entry_get_data (entry), ==, "{\"x\":true}");
  g_assert_cmpstr (cx_bus_log_entry_get_outcome (entry), ==, "resolved");
  g_clear_object (&entry);
  entry = g_list_model_get_item (log, 2);
  g_assert_cmpstr (cx_bus_log_entry_get_outcome (entry), ==,
                   "rejected: Command does not exist: Echo.nothing");

  /* A large payload is shown cut, as JSON the same as json_to_string()'s up to the cut. */
  {
    g_autoptr (JsonBuilder) builder = json_builder_new ();
    g_autoptr (JsonNode) big = NULL;
    g_autofree char *whole = NULL;
    const char *shown;
    gsize length;

    json_builder_begin_array (builder);
    for (int i = 0; i < 10000; i++)
      {
        json_builder_begin_object (builder);
        json_builder_set_member_name (builder, "text");
        json_builder_add_string_value (builder, "é \"quoted\" \\ \n");
        json_builder_set_member_name (builder, "index");
        json_builder_add_int_value (builder, i);
        json_builder_set_member_name (builder, "ok");
        json_builder_add_boolean_value (builder, TRUE);
        json_builder_set_member_name (builder, "none");
        json_builder_add_null_value (builder);
        json_builder_end_object (builder);
      }
    json_builder_end_array (builder);
    big = json_builder_get_root (builder);
    whole = json_to_string (big, FALSE);

    cx_plugin_publish (clock, "tick", big);
    entry = g_list_model_get_item (log, 2);
    shown = cx_bus_log_entry_get_data (entry);
    length = strlen (shown);
    g_assert_true (g_utf8_validate (shown, -1, NULL));
    g_assert_cmpuint (length, <=, 4096 + strlen ("…"));
    g_assert_cmpuint (length, >, 4000);
    g_assert_true (g_str_has_suffix (shown, "…"));
    g_assert_cmpint (strncmp (shown, whole, length - strlen ("…")), ==, 0);
    g_clear_object (&entry);
  }

  cx_bus_set_log_size (f->bus, 0);
  g_assert_cmpuint (g_list_model_get_n_items (log), ==, 0);

  answer_clear (&answer);
  seen_clear (&seen);
}

static void
test_trace_debug_log (Fixture *f, gconstpointer data)
{
  const char *events[] = { "tick", NULL };
  CxPlugin *clock = register_plugin (f->bus, "Clock");

  if (g_test_subprocess ())
    {
      cx_plugin_register_events (clock, events, NULL);
      cx_bus_set_debug (f->bus, TRUE);
      cx_plugin_publish (clock, "tick", NULL);
      return;
    }

  /* The child inherits the environment. */
  g_setenv ("G_MESSAGES_DEBUG", "cx-bus", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("G_MESSAGES_DEBUG");
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*event Clock.tick by Clock*delivered: null*");
}

static void
test_shutdown_rejects_pending (Fixture *f, gconstpointer data)
{
  Seen seen = { 0 };
  Answer answer = { 0 };
  CxPlugin *mute = register_plugin (f->bus, "Mute");
  CxPlugin *never = register_plugin (f->bus, "Never");
  Answer buffered = { 0 };

  cx_plugin_register_command (mute, "wait", hold_cb, &seen, NULL, NULL);
  cx_plugin_ready (mute);
  cx_plugin_register_command (never, "wait", hold_cb, &seen, NULL, NULL);

  call (f->bus, NULL, "Mute.wait", NULL, 0, NULL, &answer);
  call (f->bus, NULL, "Never.wait", NULL, 0, NULL, &buffered);
  g_object_run_dispose (G_OBJECT (f->bus));
  wait_for (&answer.done);
  wait_for (&buffered.done);
  g_assert_error (answer.error, CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN);
  g_assert_error (buffered.error, CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN);

  answer_clear (&answer);
  answer_clear (&buffered);
  seen_clear (&seen);
}

static void
test_no_leaks (Fixture *f, gconstpointer data)
{
  Hooks hooks = { g_string_new (NULL), 0 };
  Seen seen = { 0 };
  Answer answer = { 0 };
  CxPlugin *echo = register_plugin (f->bus, "Echo");
  CxPlugin *watcher = register_plugin (f->bus, "Watcher");
  Recorder mine, app;

  recorder_init (&mine);
  recorder_init (&app);
  cx_plugin_register_command (echo, "echo", echo_cb, &seen, seen_destroyed_cb, NULL);
  cx_plugin_ready (echo);
  cx_plugin_subscribe (watcher, "Echo.ready", record_cb, &mine, recorder_destroyed_cb);
  cx_bus_subscribe (f->bus, "*", record_cb, &app, recorder_destroyed_cb);
  cx_plugin_before (watcher, "Echo.echo", pass_hook_cb, &hooks, hooks_destroyed_cb);
  call_sync (f->bus, NULL, "Echo.echo", "{}", &answer);
  answer_clear (&answer);
  g_assert_cmpuint (mine.calls, ==, 1);

  g_object_add_weak_pointer (G_OBJECT (echo), (gpointer *) &echo);
  g_object_add_weak_pointer (G_OBJECT (watcher), (gpointer *) &watcher);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (f->bus);
  f->bus = cx_bus_new ();
  g_assert_null (echo);
  g_assert_null (watcher);
  g_assert_cmpuint (seen.destroyed, ==, 1);
  g_assert_cmpuint (mine.destroyed, ==, 1);
  g_assert_cmpuint (app.destroyed, ==, 1);
  g_assert_cmpuint (hooks.destroyed, ==, 1);

  recorder_clear (&mine);
  recorder_clear (&app);
  seen_clear (&seen);
  g_string_free (hooks.order, TRUE);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/bus/plugins/names", test_register_names);
  ADD ("/bus/plugins/registration-lock", test_registration_lock);
  ADD ("/bus/plugins/subscriptions-end-with-plugin", test_plugin_subscriptions_end_with_plugin);
  ADD ("/bus/events/publish-subscribe", test_publish_subscribe);
  ADD ("/bus/events/publish-refused", test_publish_refused);
  ADD ("/bus/events/sticky", test_sticky);
  ADD ("/bus/events/unsubscribe-during-dispatch", test_unsubscribe_during_dispatch);
  ADD ("/bus/commands/round-trip", test_command_round_trip);
  ADD ("/bus/commands/own-namespace", test_command_own_namespace);
  ADD ("/bus/commands/unknown", test_command_unknown);
  ADD ("/bus/commands/before-hooks", test_before_hooks);
  ADD ("/bus/commands/buffered-until-ready", test_buffered_until_ready);
  ADD ("/bus/commands/lazy-load-on-command", test_lazy_load_on_command);
  ADD ("/bus/commands/lazy-load-on-subscribe", test_lazy_load_on_subscribe);
  ADD ("/bus/commands/lazy-load-failure", test_lazy_load_failure);
  ADD ("/bus/commands/timeout", test_command_timeout);
  ADD ("/bus/commands/cancel", test_command_cancel);
  ADD ("/bus/commands/private", test_private_command);
  ADD ("/bus/commands/builtins", test_builtins);
  ADD ("/bus/commands/nested", test_nested_command);
  ADD ("/bus/commands/shutdown-rejects-pending", test_shutdown_rejects_pending);
  ADD ("/bus/trace/ring-buffer", test_trace_ring_buffer);
  ADD ("/bus/trace/debug-log", test_trace_debug_log);
  ADD ("/bus/lifetime/no-leaks", test_no_leaks);
#undef ADD

  return g_test_run ();
}
