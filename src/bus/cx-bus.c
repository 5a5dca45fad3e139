/* cx-bus.c: CxBus, CXBus on GLib signals.
 *
 * Events are one detailed signal, "event", whose detail is the event name, so subscribing is
 * g_signal_connect underneath and a subscription with no detail sees everything. Commands are
 * GTasks answered by the owning plugin's handler; every call has a deadline, kept in one queue
 * sorted by deadline and watched by a single timer source, so a command can never hang.
 *
 * One file over 1,200 lines on purpose: events, commands (buffering for plugins not ready,
 * factories loading on first use, before-hooks, deadlines) and the trace ring are one cohesive
 * thing, the bus's dispatch, sharing its tables; CxPlugin (cx-plugin.c) is the owner's face of
 * it, and cx-bus-private.h what the two share. */
#define G_LOG_DOMAIN "cx-bus"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "bus/cx-bus-private.h"

/* A trace keeps at most this much of an event's or command's data. */
#define TRACE_DATA_MAX 4096

typedef struct
{
  const char *full; /* all three interned */
  const char *ns;
  const char *short_name;
} CommandName;

typedef struct
{
  CxPluginFactory func;
  gpointer user_data;
  GDestroyNotify destroy;
  gboolean loading;
} Factory;

typedef struct
{
  int refcount;
  gboolean removed;
  gulong id;
  CxPlugin *owner; /* not owned */
  CxBeforeFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
} BeforeHook;

typedef struct
{
  GSource source;
  CxBus *bus;
} TimerSource;

struct _CxBus
{
  GObject parent_instance;

  GHashTable *plugins;       /* interned name -> CxPlugin (owned) */
  GHashTable *factories;     /* interned name -> Factory */
  GHashTable *sticky;        /* GQuark -> CxEvent (owned) */
  GHashTable *command_names; /* interned full name -> CommandName */
  GHashTable *befores;       /* interned full command name -> GPtrArray of BeforeHook */
  gulong last_before_id;

  GQueue pending; /* CxCommand, by deadline; each holds a reference */
  GSource *timer;
  guint default_timeout;

  guint lock_key;
  guint loading_factories;

  gboolean debug;
  guint log_size;
  GListStore *log;
  gboolean tracing;
};

G_DEFINE_FINAL_TYPE (CxBus, cx_bus, G_TYPE_OBJECT)

GQuark
cx_bus_error_quark (void)
{
  return g_quark_from_static_string ("cx-bus-error-quark");
}

enum
{
  PROP_0,
  PROP_DEFAULT_TIMEOUT,
  PROP_DEBUG,
  PROP_LOG_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  EVENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void pending_remove (CxBus *self, CxCommand *command);

gboolean
_cx_bus_valid_name (const char *name, gsize len)
{
  if (len == 0 || len > 128)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '_')
      return FALSE;

  return TRUE;
}

static gboolean
valid_plugin_name (const char *name)
{
  return name != NULL && g_ascii_isalpha (name[0]) && _cx_bus_valid_name (name, strlen (name));
}

static void
update_tracing (CxBus *self)
{
  self->tracing = self->debug || self->log_size > 0;
}

static void
append_json_string (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, *p);
        }
      else if (*p == '\n')
        g_string_append (out, "\\n");
      else if (*p == '\t')
        g_string_append (out, "\\t");
      else if (*p == '\r')
        g_string_append (out, "\\r");
      else if (*p == '\b')
        g_string_append (out, "\\b");
      else if (*p == '\f')
        g_string_append (out, "\\f");
      else if ((guchar) *p < 0x20)
        g_string_append_printf (out, "\\u%04x", (guchar) *p);
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

/* Writes @node as compact JSON, as json_to_string() does, but stops once @out holds more than
 * @max bytes: a traced payload of 10,000 messages costs 4 KiB, not megabytes. Returns FALSE when
 * it stopped. */
static gboolean
append_json (GString *out, JsonNode *node, gsize max)
{
  if (out->len > max)
    return FALSE;

  switch (json_node_get_node_type (node))
    {
      case JSON_NODE_OBJECT:
        {
          JsonObject *object = json_node_get_object (node);
          g_autoptr (GList) members = json_object_get_members (object);
          gboolean first = TRUE;

          g_string_append_c (out, '{');
          for (GList *l = members; l != NULL; l = l->next)
            {
              if (!first)
                g_string_append_c (out, ',');
              first = FALSE;
              append_json_string (out, l->data);
              g_string_append_c (out, ':');
              if (!append_json (out, json_object_get_member (object, l->data), max))
                return FALSE;
            }
          g_string_append_c (out, '}');
        }
        break;

      case JSON_NODE_ARRAY:
        {
          JsonArray *array = json_node_get_array (node);
          guint length = json_array_get_length (array);

          g_string_append_c (out, '[');
          for (guint i = 0; i < length; i++)
            {
              if (i > 0)
                g_string_append_c (out, ',');
              if (!append_json (out, json_array_get_element (array, i), max))
                return FALSE;
            }
          g_string_append_c (out, ']');
        }
        break;

      case JSON_NODE_VALUE:
        {
          GType type = json_node_get_value_type (node);

          if (type == G_TYPE_STRING)
            append_json_string (out, json_node_get_string (node));
          else if (type == G_TYPE_INT64)
            g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
          else if (type == G_TYPE_BOOLEAN)
            g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
          else
            {
              char buffer[G_ASCII_DTOSTR_BUF_SIZE];

              g_string_append (out,
                               g_ascii_dtostr (buffer, sizeof buffer, json_node_get_double (node)));
            }
        }
        break;

      case JSON_NODE_NULL:
      default:
        g_string_append (out, "null");
        break;
    }

  return out->len <= max;
}

/* The payload as the trace shows it: JSON, cut to TRACE_DATA_MAX bytes on a character boundary,
 * with "…" where it was cut. */
static char *
trace_text (JsonNode *data)
{
  GString *text = g_string_new (NULL);

  if (data == NULL)
    g_string_append (text, "null");
  else if (!append_json (text, data, TRACE_DATA_MAX) || text->len > TRACE_DATA_MAX)
    {
      gsize cut = TRACE_DATA_MAX;

      while (cut > 0 && (text->str[cut] & 0xC0) == 0x80)
        cut--;
      g_string_truncate (text, cut);
      g_string_append (text, "…");
    }
  return g_string_free (text, FALSE);
}

static void
trace (CxBus *self, CxBusLogKind kind, gint64 time, const char *origin, const char *name,
       JsonNode *data, gint64 duration, const char *outcome)
{
  g_autofree char *text = trace_text (data);

  if (self->debug)
    g_debug ("%s %s by %s, %" G_GINT64_FORMAT " µs, %s: %s",
             kind == CX_BUS_LOG_EVENT ? "event" : "command", name, origin, duration, outcome, text);

  if (self->log_size > 0)
    {
      g_autoptr (CxBusLogEntry) entry = NULL;

      entry = cx_bus_log_entry_new (kind, time, origin, name, text, duration, outcome);
      g_list_store_append (self->log, entry);
      while (g_list_model_get_n_items (G_LIST_MODEL (self->log)) > self->log_size)
        g_list_store_remove (self->log, 0);
    }
}

/* Commands and their deadlines */

static gboolean
timer_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  CxBus *self = ((TimerSource *) source)->bus;
  g_autoptr (CxBus) hold = g_object_ref (self);
  gint64 now = g_source_get_time (source);
  GList *head;

  while ((head = g_queue_peek_head_link (&self->pending)) != NULL &&
         ((CxCommand *) head->data)->deadline <= now)
    {
      g_autoptr (CxCommand) command = g_object_ref (head->data);

      cx_command_reject (command, g_error_new (CX_BUS_ERROR, CX_BUS_ERROR_TIMED_OUT,
                                               _ ("%s was not answered within %u ms"),
                                               command->name, command->timeout_ms));
    }

  head = g_queue_peek_head_link (&self->pending);
  g_source_set_ready_time (source, head ? ((CxCommand *) head->data)->deadline : -1);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = {
  .dispatch = timer_dispatch,
};

static void
pending_add (CxBus *self, CxCommand *command)
{
  GList *after;

  if (command->in_pending)
    return;

  /* Most calls share the default timeout, so the right place is nearly always the tail. */
  for (after = self->pending.tail; after != NULL; after = after->prev)
    if (((CxCommand *) after->data)->deadline <= command->deadline)
      break;

  g_object_ref (command);
  command->in_pending = TRUE;
  g_queue_insert_after_link (&self->pending, after, &command->link);

  if (self->pending.head == &command->link)
    g_source_set_ready_time (self->timer, command->deadline);
}

static void
pending_remove (CxBus *self, CxCommand *command)
{
  if (!command->in_pending)
    return;

  /* The timer is left as it is: when it fires early it finds nothing due and re-arms. */
  g_queue_unlink (&self->pending, &command->link);
  command->in_pending = FALSE;
  g_object_unref (command);
}

void
_cx_bus_command_completed (CxBus *self, CxCommand *command, const GError *error)
{
  pending_remove (self, command);

  if (G_UNLIKELY (self->tracing))
    {
      g_autofree char *outcome = NULL;

      if (error != NULL)
        outcome = g_strdup_printf ("rejected: %s", error->message);
      trace (self, CX_BUS_LOG_COMMAND, command->time, command->commander, command->name,
             command->data, g_get_monotonic_time () - command->started,
             outcome ? outcome : "resolved");
    }
}

static BeforeHook *
before_hook_ref (BeforeHook *hook)
{
  hook->refcount++;
  return hook;
}

static void
before_hook_unref (gpointer data)
{
  BeforeHook *hook = data;

  if (--hook->refcount > 0)
    return;
  if (hook->destroy != NULL)
    hook->destroy (hook->user_data);
  g_free (hook);
}

/* Runs the before-hooks of @command in order. Returns FALSE if one vetoed it (it is then
 * rejected) or answered it itself. */
static gboolean
run_before_hooks (CxBus *self, CxCommand *command, GPtrArray *hooks)
{
  g_autoptr (GPtrArray) snapshot = g_ptr_array_new_full (hooks->len, before_hook_unref);

  /* A hook may add or remove hooks while it runs: walk a copy. */
  for (guint i = 0; i < hooks->len; i++)
    g_ptr_array_add (snapshot, before_hook_ref (g_ptr_array_index (hooks, i)));

  for (guint i = 0; i < snapshot->len; i++)
    {
      BeforeHook *hook = g_ptr_array_index (snapshot, i);
      JsonNode *data;

      if (hook->removed)
        continue;

      data = hook->func (command, command->data, hook->user_data);
      if (cx_command_is_done (command))
        {
          g_clear_pointer (&data, json_node_unref);
          return FALSE;
        }
      if (data == NULL)
        {
          cx_command_reject (command,
                             g_error_new (CX_BUS_ERROR, CX_BUS_ERROR_CANCELLED_BY_HOOK,
                                          _ ("%s was cancelled by a ‘before’ function of %s"),
                                          command->name, cx_plugin_get_name (hook->owner)));
          return FALSE;
        }
      _cx_command_set_data (command, data);
    }

  return TRUE;
}

void
_cx_bus_dispatch (CxBus *self, CxPlugin *plugin, CxCommand *command)
{
  g_autoptr (CxCommand) hold = g_object_ref (command);
  const CxCommandEntry *entry;
  GPtrArray *hooks = NULL;

  if (g_hash_table_size (self->befores) > 0)
    hooks = g_hash_table_lookup (self->befores, command->name);
  if (hooks != NULL && hooks->len > 0 && !run_before_hooks (self, command, hooks))
    return;

  entry = _cx_plugin_lookup_command (plugin, command->short_name);
  if (entry == NULL)
    {
      cx_command_reject (command, g_error_new (CX_BUS_ERROR, CX_BUS_ERROR_NO_SUCH_COMMAND,
                                               _ ("Command does not exist: %s"), command->name));
      return;
    }

  entry->func (plugin, command, entry->user_data);

  if (!cx_command_is_done (command))
    pending_add (self, command);
}

static void
reject_early (CxBus *self, GTask *task, const char *commander, const char *name, JsonNode *data,
              GError *error)
{
  if (G_UNLIKELY (self->tracing))
    {
      g_autofree char *outcome = g_strdup_printf ("rejected: %s", error->message);

      trace (self, CX_BUS_LOG_COMMAND, g_get_real_time (), commander, name, data, 0, outcome);
    }
  g_task_return_error (task, error);
}

/* Parses "Namespace.command" (or "command", in the commander's namespace) and checks that the
 * namespace exists. Names are cached and interned only once they name a known plugin, so
 * arbitrary names from outside (D-Bus, the command line) cannot grow the tables. */
static const CommandName *
lookup_command_name (CxBus *self, const char *command, const char *commander, GError **error)
{
  g_autofree char *joined = NULL;
  g_autofree char *ns = NULL;
  CommandName *name;
  const char *dot;

  name = g_hash_table_lookup (self->command_names, command);
  if (name != NULL)
    return name;

  dot = strchr (command, '.');
  if (dot == NULL && _cx_bus_valid_name (command, strlen (command)))
    {
      command = joined = g_strconcat (commander, ".", command, NULL);
      name = g_hash_table_lookup (self->command_names, command);
      if (name != NULL)
        return name;
      dot = command + strlen (commander);
    }

  if (dot == NULL || !_cx_bus_valid_name (command, dot - command) ||
      !_cx_bus_valid_name (dot + 1, strlen (dot + 1)))
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_INVALID_NAME,
                   _ ("“%s” is not a valid command name"), command);
      return NULL;
    }

  ns = g_strndup (command, dot - command);
  if (!g_hash_table_contains (self->plugins, ns) && !g_hash_table_contains (self->factories, ns))
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_NO_SUCH_COMMAND,
                   _ ("Command does not exist: %s"), command);
      return NULL;
    }

  name = g_new (CommandName, 1);
  name->full = g_intern_string (command);
  name->ns = g_intern_string (ns);
  name->short_name = g_intern_string (dot + 1);
  g_hash_table_insert (self->command_names, (gpointer) name->full, name);

  return name;
}

/**
 * cx_bus_command_async:
 * @commander: (nullable): the calling plugin, or %NULL for the application itself ("App")
 * @command: "Namespace.command", or a short name in the commander's namespace
 * @data: (nullable): the data; handlers do not modify it
 * @timeout_ms: 0 for the bus's default timeout
 *
 * CXBus's command(). The call is rejected at once for an unknown namespace, loads a plugin
 * registered as a factory, waits for a plugin that is not ready yet, runs the before-hooks,
 * then the handler. If nothing answers within the timeout it is rejected with
 * %CX_BUS_ERROR_TIMED_OUT; cancelling @cancellable rejects it with %G_IO_ERROR_CANCELLED.
 */
void
cx_bus_command_async (CxBus *self, CxPlugin *commander, const char *command, JsonNode *data,
                      guint timeout_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
                      gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (CxCommand) call = NULL;
  GError *error = NULL;
  const CommandName *name;
  const char *commander_name;
  CxPlugin *plugin;

  g_return_if_fail (CX_IS_BUS (self));
  g_return_if_fail (commander == NULL || CX_IS_PLUGIN (commander));
  g_return_if_fail (command != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, cx_bus_command_async);

  if (g_task_return_error_if_cancelled (task))
    return;

  commander_name = commander ? cx_plugin_get_name (commander) : CX_BUS_APP_COMMANDER;
  name = lookup_command_name (self, command, commander_name, &error);
  if (name == NULL)
    {
      reject_early (self, task, commander_name, command, data, error);
      return;
    }

  plugin = g_hash_table_lookup (self->plugins, name->ns);
  if (plugin == NULL)
    {
      plugin = cx_bus_load_plugin (self, name->ns, &error);
      if (plugin == NULL)
        {
          reject_early (self, task, commander_name, name->full, data, error);
          return;
        }
    }

  call = _cx_command_new (self, task, commander_name, name->full, name->ns, name->short_name, data,
                          timeout_ms ? timeout_ms : self->default_timeout);

  if (!cx_plugin_is_ready (plugin))
    {
      g_queue_push_tail (&plugin->buffered, g_object_ref (call));
      pending_add (self, call);
      return;
    }

  _cx_bus_dispatch (self, plugin, call);
}

/**
 * cx_bus_command_finish:
 *
 * Returns: (transfer full): the result the handler resolved with (a JSON null if none), or
 *   %NULL with @error set
 */
JsonNode *
cx_bus_command_finish (CxBus *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (CX_IS_BUS (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Before-hooks */

gulong
_cx_bus_add_before (CxBus *self, CxPlugin *owner, const char *command, CxBeforeFunc func,
                    gpointer user_data, GDestroyNotify destroy)
{
  const char *dot = command ? strchr (command, '.') : NULL;
  const char *key;
  GPtrArray *hooks;
  BeforeHook *hook;

  g_return_val_if_fail (func != NULL, 0);

  if (dot == NULL || !_cx_bus_valid_name (command, dot - command) ||
      !_cx_bus_valid_name (dot + 1, strlen (dot + 1)))
    {
      g_warning ("A ‘before’ function needs a full command name (Namespace.command), not “%s”",
                 command ? command : "(null)");
      return 0;
    }

  key = g_intern_string (command);
  hooks = g_hash_table_lookup (self->befores, key);
  if (hooks == NULL)
    {
      hooks = g_ptr_array_new_with_free_func (before_hook_unref);
      g_hash_table_insert (self->befores, (gpointer) key, hooks);
    }

  hook = g_new0 (BeforeHook, 1);
  hook->refcount = 1;
  hook->id = ++self->last_before_id;
  hook->owner = owner;
  hook->func = func;
  hook->user_data = user_data;
  hook->destroy = destroy;
  g_ptr_array_add (hooks, hook);

  return hook->id;
}

static void
remove_befores_matching (CxBus *self, gulong id, CxPlugin *owner)
{
  GHashTableIter iter;
  GPtrArray *hooks;

  g_hash_table_iter_init (&iter, self->befores);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &hooks))
    for (guint i = hooks->len; i > 0; i--)
      {
        BeforeHook *hook = g_ptr_array_index (hooks, i - 1);

        if ((id != 0 && hook->id == id) || (owner != NULL && hook->owner == owner))
          {
            hook->removed = TRUE;
            g_ptr_array_remove_index (hooks, i - 1);
          }
      }
}

void
_cx_bus_remove_before (CxBus *self, gulong id)
{
  if (id != 0)
    remove_befores_matching (self, id, NULL);
}

void
_cx_bus_remove_befores_of (CxBus *self, CxPlugin *owner)
{
  remove_befores_matching (self, 0, owner);
}

/* Events */

void
_cx_bus_emit (CxBus *self, CxPlugin *publisher, const CxEventInfo *info, JsonNode *data,
              gboolean sticky)
{
  CxEventReal event;
  gint64 start = 0;

  _cx_event_init_static (&event, publisher->name, info->full, data);

  if (sticky)
    g_hash_table_replace (self->sticky, GUINT_TO_POINTER (info->quark), cx_event_ref (&event.pub));

  if (G_UNLIKELY (self->tracing))
    start = g_get_monotonic_time ();

  g_signal_emit (self, signals[EVENT], info->quark, &event.pub);

  if (G_UNLIKELY (self->tracing))
    trace (self, CX_BUS_LOG_EVENT, event.pub.time, publisher->name, info->full, data,
           g_get_monotonic_time () - start, "delivered");
}

/**
 * cx_bus_subscribe:
 * @event: (nullable): a full event name ("WebChat.opened"), or %NULL or "*" for every event
 * @func: (scope notified): the subscriber
 *
 * Subscribing before the publisher exists is allowed. A subscription to a plugin registered as
 * a factory loads it. If the event is sticky (cx_plugin_republish()), @func is called at once
 * with its last data.
 *
 * Returns: an id for cx_bus_unsubscribe(), or 0 (with a warning) for an invalid event name
 */
gulong
cx_bus_subscribe (CxBus *self, const char *event, CxEventFunc func, gpointer user_data,
                  GDestroyNotify destroy)
{
  GClosure *closure;
  GQuark detail = 0;
  gulong id;

  g_return_val_if_fail (CX_IS_BUS (self), 0);
  g_return_val_if_fail (func != NULL, 0);

  if (event != NULL && strcmp (event, "*") != 0)
    {
      const char *dot = strchr (event, '.');
      g_autofree char *ns = NULL;

      if (dot == NULL || !_cx_bus_valid_name (event, dot - event) ||
          !_cx_bus_valid_name (dot + 1, strlen (dot + 1)))
        {
          g_warning ("Cannot subscribe to “%s”: an event is named Namespace.event", event);
          return 0;
        }

      ns = g_strndup (event, dot - event);
      if (!g_hash_table_contains (self->plugins, ns) && g_hash_table_contains (self->factories, ns))
        {
          g_autoptr (GError) error = NULL;

          if (cx_bus_load_plugin (self, ns, &error) == NULL)
            g_warning ("%s", error->message);
        }

      detail = g_quark_from_string (event);
    }

  closure = g_cclosure_new (G_CALLBACK (func), user_data, (GClosureNotify) destroy);
  id = g_signal_connect_closure_by_id (self, signals[EVENT], detail, closure, FALSE);

  if (detail != 0)
    {
      CxEvent *last = g_hash_table_lookup (self->sticky, GUINT_TO_POINTER (detail));

      if (last != NULL)
        {
          g_autoptr (CxEvent) hold = cx_event_ref (last);

          func (self, hold, user_data);
        }
    }

  return id;
}

/**
 * cx_bus_unsubscribe:
 *
 * Safe from inside any handler, the one being removed included.
 */
void
cx_bus_unsubscribe (CxBus *self, gulong id)
{
  g_return_if_fail (CX_IS_BUS (self));

  if (id != 0 && g_signal_handler_is_connected (self, id))
    g_signal_handler_disconnect (self, id);
}

/* Plugins */

/**
 * cx_bus_register_plugin:
 * @name: the namespace ("WebChat"): letters, digits and underscores, starting with a letter
 *
 * CXBus's registerPlugin. Fails if the name is taken (or reserved by a factory) and while
 * registration is locked.
 *
 * Returns: (transfer none): the plugin, owned by the bus
 */
CxPlugin *
cx_bus_register_plugin (CxBus *self, const char *name, GError **error)
{
  Factory *factory;
  CxPlugin *plugin;

  g_return_val_if_fail (CX_IS_BUS (self), NULL);

  if (!valid_plugin_name (name))
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_INVALID_NAME,
                   _ ("“%s” is not a valid plugin name"), name ? name : "(null)");
      return NULL;
    }

  if (g_hash_table_contains (self->plugins, name))
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_NAME_TAKEN,
                   _ ("A plugin named %s is already registered"), name);
      return NULL;
    }

  factory = g_hash_table_lookup (self->factories, name);
  if (factory != NULL && !factory->loading)
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_NAME_TAKEN,
                   _ ("The name %s is reserved for a plugin that loads on first use"), name);
      return NULL;
    }

  /* Factories were allowed by the application when it registered them: they may load while
   * registration is locked. */
  if (self->lock_key != 0 && self->loading_factories == 0)
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REGISTRATION_LOCKED,
                   _ ("Plugin registration is locked: %s was not registered"), name);
      return NULL;
    }

  plugin = _cx_plugin_new (self, name);
  g_hash_table_insert (self->plugins, (gpointer) cx_plugin_get_name (plugin), plugin);

  return plugin;
}

/**
 * cx_bus_unregister_plugin:
 *
 * Removes @plugin: its subscriptions and hooks end, commands waiting for it are rejected, and
 * its sticky events are forgotten.
 */
void
cx_bus_unregister_plugin (CxBus *self, CxPlugin *plugin)
{
  GHashTableIter iter;
  CxEvent *event;
  const char *name;

  g_return_if_fail (CX_IS_BUS (self));
  g_return_if_fail (CX_IS_PLUGIN (plugin));

  name = cx_plugin_get_name (plugin);
  if (g_hash_table_lookup (self->plugins, name) != plugin)
    return;

  g_hash_table_steal (self->plugins, name);

  g_hash_table_iter_init (&iter, self->sticky);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &event))
    if (event->publisher == name)
      g_hash_table_iter_remove (&iter);

  _cx_plugin_detach (plugin);
  g_object_unref (plugin);
}

/**
 * cx_bus_lookup_plugin:
 *
 * Returns: (transfer none) (nullable): the registered plugin of that name
 */
CxPlugin *
cx_bus_lookup_plugin (CxBus *self, const char *name)
{
  g_return_val_if_fail (CX_IS_BUS (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return g_hash_table_lookup (self->plugins, name);
}

static void
factory_free (gpointer data)
{
  Factory *factory = data;

  if (factory->destroy != NULL)
    factory->destroy (factory->user_data);
  g_free (factory);
}

/**
 * cx_bus_register_factory:
 * @name: the namespace the factory creates
 *
 * Registers a plugin that is created on the first command or subscription to it (lazy load).
 */
gboolean
cx_bus_register_factory (CxBus *self, const char *name, CxPluginFactory func, gpointer user_data,
                         GDestroyNotify destroy, GError **error)
{
  Factory *factory;

  g_return_val_if_fail (CX_IS_BUS (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  if (!valid_plugin_name (name))
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_INVALID_NAME,
                   _ ("“%s” is not a valid plugin name"), name ? name : "(null)");
      return FALSE;
    }

  if (g_hash_table_contains (self->plugins, name) || g_hash_table_contains (self->factories, name))
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_NAME_TAKEN,
                   _ ("A plugin named %s is already registered"), name);
      return FALSE;
    }

  if (self->lock_key != 0)
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REGISTRATION_LOCKED,
                   _ ("Plugin registration is locked: %s was not registered"), name);
      return FALSE;
    }

  factory = g_new0 (Factory, 1);
  factory->func = func;
  factory->user_data = user_data;
  factory->destroy = destroy;
  g_hash_table_insert (self->factories, (gpointer) g_intern_string (name), factory);

  return TRUE;
}

/**
 * cx_bus_load_plugin:
 *
 * CXBus's loadPlugin: returns the plugin, creating it with its factory if needed.
 *
 * Returns: (transfer none): the plugin, or %NULL with %CX_BUS_ERROR_LOAD_FAILED
 */
CxPlugin *
cx_bus_load_plugin (CxBus *self, const char *name, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  Factory *factory;
  CxPlugin *plugin;

  g_return_val_if_fail (CX_IS_BUS (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  plugin = g_hash_table_lookup (self->plugins, name);
  if (plugin != NULL)
    return plugin;

  factory = g_hash_table_lookup (self->factories, name);
  if (factory == NULL || factory->loading)
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_LOAD_FAILED,
                   factory ? _ ("Could not load plugin %s: it is already loading")
                           : _ ("Could not load plugin %s: there is no such plugin"),
                   name);
      return NULL;
    }

  factory->loading = TRUE;
  self->loading_factories++;
  plugin = factory->func (self, name, factory->user_data, &local_error);
  self->loading_factories--;
  factory->loading = FALSE;

  if (plugin != NULL && g_hash_table_lookup (self->plugins, name) != plugin)
    {
      plugin = NULL;
      g_set_error_literal (&local_error, CX_BUS_ERROR, CX_BUS_ERROR_LOAD_FAILED,
                           _ ("its factory did not register it"));
    }

  if (plugin == NULL)
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_LOAD_FAILED,
                   _ ("Could not load plugin %s: %s"), name,
                   local_error ? local_error->message : _ ("its factory failed"));
      return NULL;
    }

  return plugin;
}

/**
 * cx_bus_lock_registration:
 *
 * CXBus's registerMaster: locks plugin registration.
 *
 * Returns: the key that unlocks it, or 0 if it is already locked
 */
guint
cx_bus_lock_registration (CxBus *self)
{
  g_return_val_if_fail (CX_IS_BUS (self), 0);

  if (self->lock_key != 0)
    return 0;

  do
    self->lock_key = g_random_int ();
  while (self->lock_key == 0);

  return self->lock_key;
}

gboolean
cx_bus_unlock_registration (CxBus *self, guint key)
{
  g_return_val_if_fail (CX_IS_BUS (self), FALSE);

  if (self->lock_key == 0 || key != self->lock_key)
    return FALSE;

  self->lock_key = 0;
  return TRUE;
}

gboolean
cx_bus_is_registration_locked (CxBus *self)
{
  g_return_val_if_fail (CX_IS_BUS (self), FALSE);
  return self->lock_key != 0;
}

/* Settings */

guint
cx_bus_get_default_timeout (CxBus *self)
{
  g_return_val_if_fail (CX_IS_BUS (self), 0);
  return self->default_timeout;
}

void
cx_bus_set_default_timeout (CxBus *self, guint timeout_ms)
{
  g_return_if_fail (CX_IS_BUS (self));
  g_return_if_fail (timeout_ms > 0);

  if (self->default_timeout == timeout_ms)
    return;
  self->default_timeout = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEFAULT_TIMEOUT]);
}

gboolean
cx_bus_get_debug (CxBus *self)
{
  g_return_val_if_fail (CX_IS_BUS (self), FALSE);
  return self->debug;
}

/**
 * cx_bus_set_debug:
 *
 * Logs every event and command (log domain "cx-bus": G_MESSAGES_DEBUG=cx-bus shows it).
 * CX_BUS_DEBUG=1 in the environment turns it on for every bus.
 */
void
cx_bus_set_debug (CxBus *self, gboolean debug)
{
  g_return_if_fail (CX_IS_BUS (self));

  debug = !!debug;
  if (self->debug == debug)
    return;
  self->debug = debug;
  update_tracing (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEBUG]);
}

guint
cx_bus_get_log_size (CxBus *self)
{
  g_return_val_if_fail (CX_IS_BUS (self), 0);
  return self->log_size;
}

/**
 * cx_bus_set_log_size:
 * @size: how many entries the ring buffer keeps; 0 keeps none
 */
void
cx_bus_set_log_size (CxBus *self, guint size)
{
  g_return_if_fail (CX_IS_BUS (self));

  if (self->log_size == size)
    return;
  self->log_size = size;
  while (g_list_model_get_n_items (G_LIST_MODEL (self->log)) > size)
    g_list_store_remove (self->log, 0);
  update_tracing (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOG_SIZE]);
}

/**
 * cx_bus_get_log:
 *
 * Returns: (transfer none): the last cx_bus_get_log_size() traced events and commands, oldest
 *   first, as #CxBusLogEntry items
 */
GListModel *
cx_bus_get_log (CxBus *self)
{
  g_return_val_if_fail (CX_IS_BUS (self), NULL);
  return G_LIST_MODEL (self->log);
}

/* GObject */

static void
cx_bus_dispose (GObject *object)
{
  CxBus *self = CX_BUS (object);
  GHashTableIter iter;
  CxPlugin *plugin;
  GList *head;

  while ((head = g_queue_peek_head_link (&self->pending)) != NULL)
    cx_command_reject (head->data, g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN,
                                                        _ ("The bus was shut down")));

  g_hash_table_iter_init (&iter, self->plugins);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &plugin))
    _cx_plugin_detach (plugin);
  g_hash_table_remove_all (self->plugins);
  g_hash_table_remove_all (self->factories);
  g_hash_table_remove_all (self->befores);
  g_hash_table_remove_all (self->sticky);

  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }

  g_list_store_remove_all (self->log);

  G_OBJECT_CLASS (cx_bus_parent_class)->dispose (object);
}

static void
cx_bus_finalize (GObject *object)
{
  CxBus *self = CX_BUS (object);

  g_hash_table_unref (self->plugins);
  g_hash_table_unref (self->factories);
  g_hash_table_unref (self->befores);
  g_hash_table_unref (self->sticky);
  g_hash_table_unref (self->command_names);
  g_object_unref (self->log);

  G_OBJECT_CLASS (cx_bus_parent_class)->finalize (object);
}

static void
cx_bus_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxBus *self = CX_BUS (object);

  switch (prop_id)
    {
      case PROP_DEFAULT_TIMEOUT:
        g_value_set_uint (value, self->default_timeout);
        break;
      case PROP_DEBUG:
        g_value_set_boolean (value, self->debug);
        break;
      case PROP_LOG_SIZE:
        g_value_set_uint (value, self->log_size);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_bus_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CxBus *self = CX_BUS (object);

  switch (prop_id)
    {
      case PROP_DEFAULT_TIMEOUT:
        cx_bus_set_default_timeout (self, g_value_get_uint (value));
        break;
      case PROP_DEBUG:
        cx_bus_set_debug (self, g_value_get_boolean (value));
        break;
      case PROP_LOG_SIZE:
        cx_bus_set_log_size (self, g_value_get_uint (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_bus_class_init (CxBusClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cx_bus_dispose;
  object_class->finalize = cx_bus_finalize;
  object_class->get_property = cx_bus_get_property;
  object_class->set_property = cx_bus_set_property;

  properties[PROP_DEFAULT_TIMEOUT] =
      g_param_spec_uint ("default-timeout", NULL, NULL, 1, G_MAXUINT, CX_BUS_DEFAULT_TIMEOUT_MS,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_DEBUG] =
      g_param_spec_boolean ("debug", NULL, NULL, FALSE,
                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_LOG_SIZE] =
      g_param_spec_uint ("log-size", NULL, NULL, 0, 100000, 0,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * CxBus::event:
   * @bus: the bus
   * @event: the payload, lent for the emission
   *
   * Every publication; the detail is the full event name.
   */
  signals[EVENT] = g_signal_new ("event", G_TYPE_FROM_CLASS (klass),
                                 G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED | G_SIGNAL_NO_HOOKS, 0, NULL,
                                 NULL, g_cclosure_marshal_VOID__BOXED, G_TYPE_NONE, 1,
                                 CX_TYPE_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (signals[EVENT], G_TYPE_FROM_CLASS (klass),
                              g_cclosure_marshal_VOID__BOXEDv);
}

static void
cx_bus_init (CxBus *self)
{
  TimerSource *timer;

  self->plugins = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->factories = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, factory_free);
  self->sticky = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) cx_event_unref);
  self->command_names = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  self->befores =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_ptr_array_unref);
  self->log = g_list_store_new (CX_TYPE_BUS_LOG_ENTRY);
  self->default_timeout = CX_BUS_DEFAULT_TIMEOUT_MS;
  self->debug = g_strcmp0 (g_getenv ("CX_BUS_DEBUG"), "1") == 0;
  update_tracing (self);
  g_queue_init (&self->pending);

  timer = (TimerSource *) g_source_new (&timer_funcs, sizeof (TimerSource));
  timer->bus = self;
  self->timer = (GSource *) timer;
  g_source_set_static_name (self->timer, "[cx-bus] command timeouts");
  g_source_set_ready_time (self->timer, -1);
  g_source_attach (self->timer, g_main_context_get_thread_default ());
}

/**
 * cx_bus_new:
 *
 * Returns: (transfer full): a new bus. Use it from the thread whose main context was the
 *   thread-default one when it was created.
 */
CxBus *
cx_bus_new (void)
{
  return g_object_new (CX_TYPE_BUS, NULL);
}
