/* cx-plugin.c: a plugin owns one namespace on a bus: its events, its commands, its
 * subscriptions. Only the owner of "WebChat" may publish "WebChat.*" events. */
#define G_LOG_DOMAIN "cx-bus"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "bus/cx-bus-private.h"

G_DEFINE_FINAL_TYPE (CxPlugin, cx_plugin, G_TYPE_OBJECT)

static void
command_entry_free (gpointer data)
{
  CxCommandEntry *entry = data;

  if (entry->destroy != NULL)
    entry->destroy (entry->user_data);
  g_free (entry);
}

static void
event_info_free (gpointer data)
{
  g_free (data);
}

static void
cx_plugin_dispose (GObject *object)
{
  CxPlugin *self = CX_PLUGIN (object);

  _cx_plugin_detach (self);
  g_clear_pointer (&self->commands, g_hash_table_unref);

  G_OBJECT_CLASS (cx_plugin_parent_class)->dispose (object);
}

static void
cx_plugin_finalize (GObject *object)
{
  CxPlugin *self = CX_PLUGIN (object);

  g_hash_table_unref (self->events);
  g_ptr_array_unref (self->event_list);
  g_array_unref (self->subscriptions);

  G_OBJECT_CLASS (cx_plugin_parent_class)->finalize (object);
}

static void
cx_plugin_class_init (CxPluginClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cx_plugin_dispose;
  object_class->finalize = cx_plugin_finalize;
}

static void
cx_plugin_init (CxPlugin *self)
{
  self->events = g_hash_table_new (g_str_hash, g_str_equal);
  self->event_list = g_ptr_array_new_with_free_func (event_info_free);
  self->commands = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, command_entry_free);
  self->subscriptions = g_array_new (FALSE, FALSE, sizeof (gulong));
  g_queue_init (&self->buffered);
}

static JsonNode *
string_list_node (GPtrArray *names)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_array (builder);
  for (guint i = 0; i < names->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (names, i));
  json_builder_end_array (builder);

  return json_builder_get_root (builder);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The built-in COMMANDS, EVENTS and LOAD that every plugin answers. */
static void
builtin_commands_cb (CxPlugin *self, CxCommand *command, gpointer user_data)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (JsonNode) result = NULL;
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->commands);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, g_strconcat (self->name, ".", key, NULL));
  g_ptr_array_sort (names, compare_strings);

  result = string_list_node (names);
  cx_command_resolve (command, result);
}

static void
builtin_events_cb (CxPlugin *self, CxCommand *command, gpointer user_data)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (JsonNode) result = NULL;

  for (guint i = 0; i < self->event_list->len; i++)
    {
      CxEventInfo *info = g_ptr_array_index (self->event_list, i);
      g_ptr_array_add (names, g_strdup (info->full));
    }
  g_ptr_array_sort (names, compare_strings);

  result = string_list_node (names);
  cx_command_resolve (command, result);
}

static void
builtin_load_cb (CxPlugin *self, CxCommand *command, gpointer user_data)
{
  /* Reaching the handler means the plugin is loaded and ready. */
  g_autoptr (JsonNode) result = json_node_new (JSON_NODE_VALUE);

  json_node_set_boolean (result, TRUE);
  cx_command_resolve (command, result);
}

static gboolean
add_event (CxPlugin *self, const char *name, GError **error)
{
  CxEventInfo *info;
  g_autofree char *full = NULL;

  if (!_cx_bus_valid_name (name, strlen (name)))
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_INVALID_NAME,
                   _ ("“%s” is not a valid event name"), name);
      return FALSE;
    }

  if (g_hash_table_contains (self->events, name))
    return TRUE;

  full = g_strconcat (self->name, ".", name, NULL);
  info = g_new0 (CxEventInfo, 1);
  info->quark = g_quark_from_string (full);
  info->full = g_quark_to_string (info->quark);
  info->short_name = g_intern_string (name);
  g_ptr_array_add (self->event_list, info);
  g_hash_table_insert (self->events, (gpointer) info->short_name, info);
  g_hash_table_insert (self->events, (gpointer) info->full, info);

  return TRUE;
}

static void
add_builtin (CxPlugin *self, const char *name, CxCommandFunc func)
{
  CxCommandEntry *entry = g_new0 (CxCommandEntry, 1);

  entry->func = func;
  g_hash_table_insert (self->commands, (gpointer) g_intern_static_string (name), entry);
}

CxPlugin *
_cx_plugin_new (CxBus *bus, const char *name)
{
  CxPlugin *self = g_object_new (CX_TYPE_PLUGIN, NULL);

  self->bus = bus;
  self->name = g_intern_string (name);
  add_event (self, "ready", NULL);
  add_builtin (self, "COMMANDS", builtin_commands_cb);
  add_builtin (self, "EVENTS", builtin_events_cb);
  add_builtin (self, "LOAD", builtin_load_cb);

  return self;
}

/* Called when the plugin leaves its bus (unregistered, or the bus goes away): drop its
 * subscriptions and hooks, and answer what was waiting for it. */
void
_cx_plugin_detach (CxPlugin *self)
{
  CxCommand *command;
  CxBus *bus = self->bus;

  if (bus == NULL)
    return;

  for (guint i = 0; i < self->subscriptions->len; i++)
    {
      gulong id = g_array_index (self->subscriptions, gulong, i);
      if (g_signal_handler_is_connected (bus, id))
        g_signal_handler_disconnect (bus, id);
    }
  g_array_set_size (self->subscriptions, 0);
  _cx_bus_remove_befores_of (bus, self);

  while ((command = g_queue_pop_head (&self->buffered)) != NULL)
    {
      if (!cx_command_is_done (command))
        cx_command_reject (command,
                           g_error_new (CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN,
                                        _ ("Plugin %s went away before it was ready"), self->name));
      g_object_unref (command);
    }

  self->bus = NULL;
}

const CxCommandEntry *
_cx_plugin_lookup_command (CxPlugin *self, const char *short_name)
{
  if (self->commands == NULL)
    return NULL;
  return g_hash_table_lookup (self->commands, short_name);
}

/**
 * cx_plugin_get_name:
 *
 * Returns: the namespace the plugin owns (CXBus's namespace())
 */
const char *
cx_plugin_get_name (CxPlugin *self)
{
  g_return_val_if_fail (CX_IS_PLUGIN (self), NULL);
  return self->name;
}

/**
 * cx_plugin_get_bus:
 *
 * Returns: (transfer none) (nullable): the bus, or %NULL once the plugin left it
 */
CxBus *
cx_plugin_get_bus (CxPlugin *self)
{
  g_return_val_if_fail (CX_IS_PLUGIN (self), NULL);
  return self->bus;
}

gboolean
cx_plugin_is_ready (CxPlugin *self)
{
  g_return_val_if_fail (CX_IS_PLUGIN (self), FALSE);
  return self->ready;
}

/**
 * cx_plugin_ready:
 *
 * Marks the plugin ready: publishes the sticky "Name.ready" and runs the commands that were
 * buffered for it, in the order they were made.
 */
void
cx_plugin_ready (CxPlugin *self)
{
  g_autoptr (CxPlugin) hold = NULL;
  CxCommand *command;

  g_return_if_fail (CX_IS_PLUGIN (self));

  if (self->ready || self->bus == NULL)
    return;

  hold = g_object_ref (self);
  self->ready = TRUE;
  cx_plugin_republish (self, "ready", NULL);

  while (self->bus != NULL && (command = g_queue_pop_head (&self->buffered)) != NULL)
    {
      if (!cx_command_is_done (command))
        _cx_bus_dispatch (self->bus, self, command);
      g_object_unref (command);
    }
}

/**
 * cx_plugin_register_events:
 * @names: (array zero-terminated=1): short event names ("opened")
 *
 * CXBus's registerEvents: only registered events may be published.
 */
gboolean
cx_plugin_register_events (CxPlugin *self, const char *const *names, GError **error)
{
  g_return_val_if_fail (CX_IS_PLUGIN (self), FALSE);
  g_return_val_if_fail (names != NULL, FALSE);

  for (guint i = 0; names[i] != NULL; i++)
    if (!add_event (self, names[i], error))
      return FALSE;

  return TRUE;
}

/**
 * cx_plugin_register_command:
 * @name: the short name ("open"), or the full one in the plugin's own namespace
 *
 * CXBus's registerCommand.
 */
gboolean
cx_plugin_register_command (CxPlugin *self, const char *name, CxCommandFunc func,
                            gpointer user_data, GDestroyNotify destroy, GError **error)
{
  CxCommandEntry *entry;
  const char *dot;

  g_return_val_if_fail (CX_IS_PLUGIN (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  dot = strchr (name, '.');
  if (dot != NULL)
    {
      if ((gsize) (dot - name) != strlen (self->name) || strncmp (name, self->name, dot - name))
        {
          g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_NOT_OWNER,
                       _ ("Plugin %s cannot register %s: it belongs to another namespace"),
                       self->name, name);
          return FALSE;
        }
      name = dot + 1;
    }

  if (!_cx_bus_valid_name (name, strlen (name)))
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_INVALID_NAME,
                   _ ("“%s” is not a valid command name"), name);
      return FALSE;
    }

  if (g_hash_table_contains (self->commands, name))
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_EXISTS,
                   _ ("Plugin %s already has a command %s"), self->name, name);
      return FALSE;
    }

  entry = g_new0 (CxCommandEntry, 1);
  entry->func = func;
  entry->user_data = user_data;
  entry->destroy = destroy;
  g_hash_table_insert (self->commands, (gpointer) g_intern_string (name), entry);

  return TRUE;
}

static gboolean
publish (CxPlugin *self, const char *event, JsonNode *data, gboolean sticky)
{
  const CxEventInfo *info;

  g_return_val_if_fail (CX_IS_PLUGIN (self), FALSE);
  g_return_val_if_fail (event != NULL, FALSE);

  /* A plugin tends to publish the same event again and again (a transcript's messages). */
  info = self->last_published;
  if (info == NULL || (strcmp (event, info->short_name) != 0 && strcmp (event, info->full) != 0))
    info = self->last_published = g_hash_table_lookup (self->events, event);
  if (G_UNLIKELY (info == NULL))
    {
      const char *dot = strchr (event, '.');

      if (dot != NULL && ((gsize) (dot - event) != strlen (self->name) ||
                          strncmp (event, self->name, dot - event) != 0))
        g_warning ("Plugin %s may not publish %s: only the owner of a namespace publishes its "
                   "events",
                   self->name, event);
      else
        g_warning ("Plugin %s has not registered the event %s", self->name, event);
      return FALSE;
    }

  if (G_UNLIKELY (self->bus == NULL))
    {
      g_warning ("Plugin %s is no longer on a bus and cannot publish %s", self->name, event);
      return FALSE;
    }

  _cx_bus_emit (self->bus, self, info, data, sticky);
  return TRUE;
}

/**
 * cx_plugin_publish:
 * @event: a registered event of this plugin, short ("opened") or full ("WebChat.opened")
 * @data: (nullable): the data; subscribers must not modify it
 *
 * Returns: %TRUE if published; %FALSE, with a warning, for an event this plugin does not own
 */
gboolean
cx_plugin_publish (CxPlugin *self, const char *event, JsonNode *data)
{
  return publish (self, event, data, FALSE);
}

/**
 * cx_plugin_republish:
 *
 * Like cx_plugin_publish(), and the bus keeps @data: a later subscriber is called with it at
 * once (sticky).
 */
gboolean
cx_plugin_republish (CxPlugin *self, const char *event, JsonNode *data)
{
  return publish (self, event, data, TRUE);
}

/**
 * cx_plugin_subscribe:
 * @event: (nullable): a full event name, or %NULL or "*" for every event
 *
 * Like cx_bus_subscribe(); the subscription ends when the plugin leaves the bus.
 */
gulong
cx_plugin_subscribe (CxPlugin *self, const char *event, CxEventFunc func, gpointer user_data,
                     GDestroyNotify destroy)
{
  gulong id;

  g_return_val_if_fail (CX_IS_PLUGIN (self), 0);
  g_return_val_if_fail (self->bus != NULL, 0);

  id = cx_bus_subscribe (self->bus, event, func, user_data, destroy);
  if (id != 0)
    g_array_append_val (self->subscriptions, id);

  return id;
}

/**
 * cx_plugin_unsubscribe:
 *
 * Safe from inside the handler being removed, and from inside any other.
 */
void
cx_plugin_unsubscribe (CxPlugin *self, gulong id)
{
  g_return_if_fail (CX_IS_PLUGIN (self));

  for (guint i = 0; i < self->subscriptions->len; i++)
    if (g_array_index (self->subscriptions, gulong, i) == id)
      {
        g_array_remove_index_fast (self->subscriptions, i);
        if (self->bus != NULL)
          cx_bus_unsubscribe (self->bus, id);
        return;
      }
}

/**
 * cx_plugin_before:
 * @command: the full name of a command of any plugin ("WebChat.open")
 *
 * CXBus's before(): @func runs before every call of @command, in registration order, and may
 * replace its data or veto it.
 *
 * Returns: an id for cx_plugin_remove_before(), or 0 if @command is not a valid name
 */
gulong
cx_plugin_before (CxPlugin *self, const char *command, CxBeforeFunc func, gpointer user_data,
                  GDestroyNotify destroy)
{
  g_return_val_if_fail (CX_IS_PLUGIN (self), 0);
  g_return_val_if_fail (self->bus != NULL, 0);

  return _cx_bus_add_before (self->bus, self, command, func, user_data, destroy);
}

void
cx_plugin_remove_before (CxPlugin *self, gulong id)
{
  g_return_if_fail (CX_IS_PLUGIN (self));

  if (self->bus != NULL)
    _cx_bus_remove_before (self->bus, id);
}

/**
 * cx_plugin_command_async:
 * @command: "Namespace.command", or a short name in this plugin's namespace
 *
 * Calls a command with this plugin as the commander and the bus's default timeout.
 */
void
cx_plugin_command_async (CxPlugin *self, const char *command, JsonNode *data,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_return_if_fail (CX_IS_PLUGIN (self));
  g_return_if_fail (self->bus != NULL);

  cx_bus_command_async (self->bus, self, command, data, 0, cancellable, callback, user_data);
}

JsonNode *
cx_plugin_command_finish (CxPlugin *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (CX_IS_PLUGIN (self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Tables */

/**
 * cx_bus_register_plugin_with_table:
 * @name: the namespace
 * @events: (nullable): the %NULL-terminated event names the plugin publishes
 * @commands: (array length=n_commands): the plugin's commands, each called with @user_data
 * @user_data: what every handler gets (the plugin's owner, which outlives the registration:
 *   it calls cx_plugin_leave_bus() in its dispose)
 *
 * What every plugin's owner does on attaching: registers @name on @bus with its events and
 * commands, all or nothing (on an error the name is free again). The plugin is not ready yet:
 * the owner calls cx_plugin_ready() once it can take commands.
 *
 * Returns: (transfer full): the plugin, or %NULL with @error set
 */
CxPlugin *
cx_bus_register_plugin_with_table (CxBus *bus, const char *name, const char *const *events,
                                   const CxCommandSpec *commands, gsize n_commands,
                                   gpointer user_data, GError **error)
{
  CxPlugin *plugin;

  g_return_val_if_fail (CX_IS_BUS (bus), NULL);
  g_return_val_if_fail (commands != NULL || n_commands == 0, NULL);

  plugin = cx_bus_register_plugin (bus, name, error);
  if (plugin == NULL)
    return NULL;
  plugin = g_object_ref (plugin);

  if (events != NULL && !cx_plugin_register_events (plugin, events, error))
    goto fail;
  for (gsize i = 0; i < n_commands; i++)
    if (!cx_plugin_register_command (plugin, commands[i].name, commands[i].func, user_data, NULL,
                                     error))
      goto fail;

  return plugin;

fail:
  cx_plugin_leave_bus (&plugin);
  return NULL;
}

/**
 * cx_plugin_leave_bus:
 * @plugin: (inout) (transfer full) (nullable): the owner's plugin
 *
 * For an owner's dispose: the plugin leaves its bus (if it is still on one), so that no
 * command reaches the owner after this, and the owner's reference goes.
 */
void
cx_plugin_leave_bus (CxPlugin **plugin)
{
  g_return_if_fail (plugin != NULL);

  if (*plugin != NULL && (*plugin)->bus != NULL)
    cx_bus_unregister_plugin ((*plugin)->bus, *plugin);
  g_clear_object (plugin);
}
