/* cx-console.c: the bus Console of a site window.
 *
 * The Console keeps its own list of CxBusLogEntry: it starts with what the bus's ring buffer
 * holds (cx_bus_get_log(), kept by every site window's bus, see CX_CONSOLE_BUS_LOG_SIZE) and
 * follows that buffer's additions live. Events are listed when delivered, commands when they
 * are resolved or rejected (with how long they took). Pausing holds new entries back until the
 * Console resumes; clearing empties the Console's list, not the bus's buffer. The filter
 * matches the name, origin, data and outcome, ignoring case.
 *
 * On the bus the Console is also a plugin, as in Genesys Widgets: cx_console_add_to_bus()
 * registers "Console" (loaded on first use) with the commands open and close and the events
 * opened and closed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-console"

#include "config.h"

#include <glib/gi18n.h>

#include "customer/cx-console.h"

/* The Console's own list is bounded too: the oldest entries go first. */
#define MAX_ENTRIES 10000
/* How close to the end of the list counts as following it. */
#define STICK_THRESHOLD_PX 24.0

struct _CxConsole
{
  GtkWindow parent_instance;

  CxBus *bus;
  GListModel *bus_log;
  gulong log_changed_id;
  GListStore *entries;
  GPtrArray *held; /* CxBusLogEntry that came while paused */
  GtkCustomFilter *filter;
  GtkFilterListModel *filtered;
  char *filter_text; /* casefolded, NULL for none */
  gboolean paused;

  GtkLabel *subtitle_label;
  GtkSearchEntry *filter_entry;
  GtkScrolledWindow *scroller;
  GtkListView *list_view;
  GtkLabel *status_label;
};

G_DEFINE_FINAL_TYPE (CxConsole, cx_console, GTK_TYPE_WINDOW)

enum
{
  PROP_0,
  PROP_BUS,
  PROP_PAUSED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The list */

static void
update_status (CxConsole *self)
{
  guint total = g_list_model_get_n_items (G_LIST_MODEL (self->entries));
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->filtered));
  g_autofree char *text = NULL;

  if (self->filter_text != NULL)
    /* Translators: how many of the Console's entries the filter shows */
    text = g_strdup_printf (ngettext ("%u of %u entry shown", "%u of %u entries shown", total),
                            shown, total);
  else
    text = g_strdup_printf (ngettext ("%u entry", "%u entries", total), total);

  if (self->paused)
    {
      g_autofree char *held = NULL;

      /* Translators: %s is the number of entries, %u how many are waiting for the Console to
       * resume */
      held = g_strdup_printf (ngettext ("%s — paused, %u new entry waiting",
                                        "%s — paused, %u new entries waiting", self->held->len),
                              text, self->held->len);
      g_free (text);
      text = g_steal_pointer (&held);
    }

  gtk_label_set_text (self->status_label, text);
}

static void
filtered_changed_cb (CxConsole *self, guint position, guint removed, guint added, GListModel *model)
{
  update_status (self);
}

static gboolean
at_end (CxConsole *self)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);

  return gtk_adjustment_get_value (adjustment) >= gtk_adjustment_get_upper (adjustment) -
                                                      gtk_adjustment_get_page_size (adjustment) -
                                                      STICK_THRESHOLD_PX;
}

static void
scroll_to_end (CxConsole *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->filtered));

  if (n > 0)
    gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", n - 1);
}

static void
append_entries (CxConsole *self, gpointer *items, guint n_items)
{
  gboolean follow = at_end (self);
  guint total;

  g_list_store_splice (self->entries, g_list_model_get_n_items (G_LIST_MODEL (self->entries)), 0,
                       items, n_items);
  total = g_list_model_get_n_items (G_LIST_MODEL (self->entries));
  if (total > MAX_ENTRIES)
    g_list_store_splice (self->entries, 0, total - MAX_ENTRIES, NULL, 0);

  if (follow)
    scroll_to_end (self);
  update_status (self);
}

static void
log_changed_cb (CxConsole *self, guint position, guint removed, guint added, GListModel *log)
{
  g_autoptr (GPtrArray) items = NULL;

  /* The ring buffer appends at its end and drops from its start: only additions matter. */
  if (added == 0)
    return;

  items = g_ptr_array_new_full (added, g_object_unref);
  for (guint i = 0; i < added; i++)
    g_ptr_array_add (items, g_list_model_get_item (log, position + i));

  if (self->paused)
    {
      for (guint i = 0; i < items->len; i++)
        g_ptr_array_add (self->held, g_object_ref (g_ptr_array_index (items, i)));
      if (self->held->len > MAX_ENTRIES)
        g_ptr_array_remove_range (self->held, 0, self->held->len - MAX_ENTRIES);
      update_status (self);
      return;
    }

  append_entries (self, items->pdata, items->len);
}

static gboolean
contains_folded (const char *haystack, const char *needle)
{
  g_autofree char *folded = NULL;

  if (haystack == NULL)
    return FALSE;
  folded = g_utf8_casefold (haystack, -1);
  return strstr (folded, needle) != NULL;
}

static gboolean
filter_func (gpointer item, gpointer user_data)
{
  CxConsole *self = user_data;
  CxBusLogEntry *entry = item;

  if (self->filter_text == NULL)
    return TRUE;

  return contains_folded (cx_bus_log_entry_get_name (entry), self->filter_text) ||
         contains_folded (cx_bus_log_entry_get_origin (entry), self->filter_text) ||
         contains_folded (cx_bus_log_entry_get_outcome (entry), self->filter_text) ||
         contains_folded (cx_bus_log_entry_get_data (entry), self->filter_text);
}

static void
filter_changed_cb (CxConsole *self, GtkSearchEntry *entry)
{
  cx_console_set_filter_text (self, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

/* Rows */

static GtkWidget *
row_label (GtkWidget *box, const char *key, const char *css_class, float xalign)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), xalign);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  g_object_set_data (G_OBJECT (box), key, label);
  return label;
}

static void
setup_row_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *label;

  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 3);
  gtk_widget_set_margin_bottom (box, 3);

  label = row_label (box, "time", "monospace", 0.0);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (header), label);
  label = row_label (box, "kind", "caption-heading", 0.0);
  gtk_label_set_width_chars (GTK_LABEL (label), 9);
  gtk_box_append (GTK_BOX (header), label);
  label = row_label (box, "name", "heading", 0.0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_box_append (GTK_BOX (header), label);
  label = row_label (box, "origin", "dim-label", 0.0);
  gtk_box_append (GTK_BOX (header), label);
  label = row_label (box, "outcome", NULL, 1.0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (header), label);
  gtk_box_append (GTK_BOX (box), header);

  label = row_label (box, "data", "monospace", 0.0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_lines (GTK_LABEL (label), 3);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_box_append (GTK_BOX (box), label);

  gtk_list_item_set_child (item, box);
}

static char *
format_time (gint64 time_us)
{
  g_autoptr (GDateTime) local = g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);
  g_autofree char *seconds = NULL;

  if (local == NULL)
    return g_strdup ("");
  seconds = g_date_time_format (local, "%H:%M:%S");
  return g_strdup_printf ("%s.%03d", seconds, (int) (time_us % G_USEC_PER_SEC / 1000));
}

static void
bind_row_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *box = gtk_list_item_get_child (item);
  CxBusLogEntry *entry = gtk_list_item_get_item (item);
  gboolean event = cx_bus_log_entry_get_kind (entry) == CX_BUS_LOG_EVENT;
  const char *outcome = cx_bus_log_entry_get_outcome (entry);
  GtkWidget *outcome_label = g_object_get_data (G_OBJECT (box), "outcome");
  GtkWidget *kind_label = g_object_get_data (G_OBJECT (box), "kind");
  g_autofree char *time = format_time (cx_bus_log_entry_get_time (entry));
  g_autofree char *origin = NULL;
  g_autofree char *result = NULL;
  gboolean rejected = g_str_has_prefix (outcome != NULL ? outcome : "", "rejected");

  /* Translators: who published an event or called a command, %s is a plugin's name */
  origin =
      g_strdup_printf (event ? _ ("from %s") : _ ("by %s"), cx_bus_log_entry_get_origin (entry));
  /* Translators: what became of an event or command, then how long it took */
  result = g_strdup_printf (_ ("%s in %.1f ms"), outcome != NULL ? outcome : "",
                            cx_bus_log_entry_get_duration (entry) / 1000.0);

  gtk_label_set_text (g_object_get_data (G_OBJECT (box), "time"), time);
  gtk_label_set_text (GTK_LABEL (kind_label), event ? _ ("event") : _ ("command"));
  gtk_label_set_text (g_object_get_data (G_OBJECT (box), "name"),
                      cx_bus_log_entry_get_name (entry));
  gtk_label_set_text (g_object_get_data (G_OBJECT (box), "origin"), origin);
  gtk_label_set_text (GTK_LABEL (outcome_label), result);
  gtk_widget_set_tooltip_text (outcome_label, outcome);
  gtk_label_set_text (g_object_get_data (G_OBJECT (box), "data"),
                      cx_bus_log_entry_get_data (entry));

  if (rejected)
    gtk_widget_add_css_class (outcome_label, "error");
  else
    gtk_widget_remove_css_class (outcome_label, "error");
  if (event)
    gtk_widget_add_css_class (kind_label, "accent");
  else
    gtk_widget_remove_css_class (kind_label, "accent");
}

/* Actions */

static void
clear_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  cx_console_clear (CX_CONSOLE (widget));
}

static void
focus_filter_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  gtk_widget_grab_focus (GTK_WIDGET (CX_CONSOLE (widget)->filter_entry));
}

/* The Console plugin */

/* The plugin loads on its first use, and a Console opened from the application (app.console)
 * is one: opening loads it, so that "opened" goes out. Closing only looks it up: "closed" follows
 * an "opened", and a bus whose window is going away does not get its plugins back. */
static CxPlugin *
plugin_of (CxBus *bus, gboolean load)
{
  g_autoptr (GError) error = NULL;
  CxPlugin *plugin;

  if (bus == NULL)
    return NULL;
  if (!load)
    return cx_bus_lookup_plugin (bus, CX_CONSOLE_NAME);

  plugin = cx_bus_load_plugin (bus, CX_CONSOLE_NAME, &error);
  if (plugin == NULL)
    g_debug ("The Console's events are not published: %s", error->message);
  return plugin;
}

static void
publish (CxBus *bus, const char *event, gboolean load)
{
  CxPlugin *plugin = plugin_of (bus, load);

  if (plugin != NULL)
    cx_plugin_publish (plugin, event, NULL);
}

static void
open_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  cx_console_present_for (GTK_WINDOW (user_data), cx_plugin_get_bus (plugin));
  cx_command_resolve (command, NULL);
}

static void
close_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxConsole *console = cx_console_find (GTK_WINDOW (user_data), cx_plugin_get_bus (plugin));

  if (console != NULL)
    gtk_window_destroy (GTK_WINDOW (console));
  cx_command_resolve (command, NULL);
}

static CxPlugin *
plugin_factory (CxBus *bus, const char *name, gpointer user_data, GError **error)
{
  static const char *const events[] = { "opened", "closed", NULL };
  CxPlugin *plugin = cx_bus_register_plugin (bus, name, error);

  if (plugin == NULL)
    return NULL;

  if (!cx_plugin_register_events (plugin, events, error) ||
      !cx_plugin_register_command (plugin, "open", open_command_cb, user_data, NULL, error) ||
      !cx_plugin_register_command (plugin, "close", close_command_cb, user_data, NULL, error))
    {
      cx_bus_unregister_plugin (bus, plugin);
      return NULL;
    }

  cx_plugin_ready (plugin);
  return plugin;
}

/* GObject */

static void
cx_console_constructed (GObject *object)
{
  CxConsole *self = CX_CONSOLE (object);
  GListModel *log = cx_bus_get_log (self->bus);
  guint n = g_list_model_get_n_items (log);
  g_autoptr (GPtrArray) items = g_ptr_array_new_full (n, g_object_unref);

  G_OBJECT_CLASS (cx_console_parent_class)->constructed (object);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (items, g_list_model_get_item (log, i));
  append_entries (self, items->pdata, items->len);
  scroll_to_end (self);

  self->bus_log = g_object_ref (log);
  self->log_changed_id = g_signal_connect_object (log, "items-changed", G_CALLBACK (log_changed_cb),
                                                  self, G_CONNECT_SWAPPED);
  publish (self->bus, "opened", TRUE);
}

static void
cx_console_dispose (GObject *object)
{
  CxConsole *self = CX_CONSOLE (object);

  if (self->bus_log != NULL)
    {
      g_clear_signal_handler (&self->log_changed_id, self->bus_log);
      g_clear_object (&self->bus_log);
      publish (self->bus, "closed", FALSE);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), CX_TYPE_CONSOLE);
  g_clear_object (&self->filtered);
  g_clear_object (&self->filter);
  g_clear_object (&self->entries);
  g_clear_object (&self->bus);
  if (self->held != NULL)
    g_ptr_array_set_size (self->held, 0);

  G_OBJECT_CLASS (cx_console_parent_class)->dispose (object);
}

static void
cx_console_finalize (GObject *object)
{
  CxConsole *self = CX_CONSOLE (object);

  g_ptr_array_unref (self->held);
  g_free (self->filter_text);

  G_OBJECT_CLASS (cx_console_parent_class)->finalize (object);
}

static void
cx_console_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxConsole *self = CX_CONSOLE (object);

  switch (prop_id)
    {
      case PROP_BUS:
        g_value_set_object (value, self->bus);
        break;

      case PROP_PAUSED:
        g_value_set_boolean (value, self->paused);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_console_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CxConsole *self = CX_CONSOLE (object);

  switch (prop_id)
    {
      case PROP_BUS:
        self->bus = g_value_dup_object (value);
        break;

      case PROP_PAUSED:
        cx_console_set_paused (self, g_value_get_boolean (value));
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_console_class_init (CxConsoleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = cx_console_constructed;
  object_class->dispose = cx_console_dispose;
  object_class->finalize = cx_console_finalize;
  object_class->get_property = cx_console_get_property;
  object_class->set_property = cx_console_set_property;

  properties[PROP_BUS] =
      g_param_spec_object ("bus", NULL, NULL, CX_TYPE_BUS,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PAUSED] =
      g_param_spec_boolean ("paused", NULL, NULL, FALSE,
                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/cxdesk/CxDesk/cx-console.ui");
  gtk_widget_class_bind_template_child (widget_class, CxConsole, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, CxConsole, filter_entry);
  gtk_widget_class_bind_template_child (widget_class, CxConsole, scroller);
  gtk_widget_class_bind_template_child (widget_class, CxConsole, list_view);
  gtk_widget_class_bind_template_child (widget_class, CxConsole, status_label);
  gtk_widget_class_bind_template_callback (widget_class, filter_changed_cb);

  gtk_widget_class_install_property_action (widget_class, "console.pause", "paused");
  gtk_widget_class_install_action (widget_class, "console.clear", NULL, clear_activated);
  gtk_widget_class_install_action (widget_class, "console.focus-filter", NULL,
                                   focus_filter_activated);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK, "console.clear",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK,
                                       "console.focus-filter", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
cx_console_init (CxConsole *self)
{
  g_autoptr (GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  g_autoptr (GtkNoSelection) selection = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->held = g_ptr_array_new_with_free_func (g_object_unref);
  self->entries = g_list_store_new (CX_TYPE_BUS_LOG_ENTRY);
  self->filter = gtk_custom_filter_new (filter_func, self, NULL);
  self->filtered = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->entries)),
                                              g_object_ref (GTK_FILTER (self->filter)));
  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->filtered)));

  g_signal_connect (factory, "setup", G_CALLBACK (setup_row_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row_cb), NULL);
  gtk_list_view_set_factory (self->list_view, factory);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (selection));
  gtk_search_entry_set_key_capture_widget (self->filter_entry, GTK_WIDGET (self));
  g_signal_connect_object (self->filtered, "items-changed", G_CALLBACK (filtered_changed_cb), self,
                           G_CONNECT_SWAPPED);
}

/**
 * cx_console_new:
 * @application: the application the Console belongs to
 * @bus: the bus to show
 * @parent: (nullable): the window of @bus: the Console stays above it and closes with it
 *
 * Returns: (transfer none): a new Console, not shown yet (the application holds it)
 */
CxConsole *
cx_console_new (GtkApplication *application, CxBus *bus, GtkWindow *parent)
{
  CxConsole *self;

  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (CX_IS_BUS (bus), NULL);

  self = g_object_new (CX_TYPE_CONSOLE, "application", application, "bus", bus, "transient-for",
                       parent, "destroy-with-parent", TRUE, NULL);
  if (parent != NULL && gtk_window_get_title (parent) != NULL)
    gtk_label_set_text (self->subtitle_label, gtk_window_get_title (parent));
  return self;
}

CxBus *
cx_console_get_bus (CxConsole *self)
{
  g_return_val_if_fail (CX_IS_CONSOLE (self), NULL);
  return self->bus;
}

/**
 * cx_console_get_entries:
 *
 * Returns: (transfer none): the entries the Console shows (filtered), oldest first
 */
GListModel *
cx_console_get_entries (CxConsole *self)
{
  g_return_val_if_fail (CX_IS_CONSOLE (self), NULL);
  return G_LIST_MODEL (self->filtered);
}

gboolean
cx_console_get_paused (CxConsole *self)
{
  g_return_val_if_fail (CX_IS_CONSOLE (self), FALSE);
  return self->paused;
}

/**
 * cx_console_set_paused:
 *
 * While paused the list holds still; what comes meanwhile is added when it resumes.
 */
void
cx_console_set_paused (CxConsole *self, gboolean paused)
{
  g_return_if_fail (CX_IS_CONSOLE (self));

  paused = !!paused;
  if (self->paused == paused)
    return;

  self->paused = paused;
  if (!paused && self->held->len > 0)
    {
      g_autoptr (GPtrArray) held = g_steal_pointer (&self->held);

      self->held = g_ptr_array_new_with_free_func (g_object_unref);
      append_entries (self, held->pdata, held->len);
    }
  update_status (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
}

/**
 * cx_console_clear:
 *
 * Empties the Console's list (and what waits while paused); the bus's buffer stays.
 */
void
cx_console_clear (CxConsole *self)
{
  g_return_if_fail (CX_IS_CONSOLE (self));

  g_ptr_array_set_size (self->held, 0);
  g_list_store_remove_all (self->entries);
  update_status (self);
}

void
cx_console_set_filter_text (CxConsole *self, const char *text)
{
  g_autofree char *folded = NULL;

  g_return_if_fail (CX_IS_CONSOLE (self));

  if (text != NULL && text[0] != '\0')
    folded = g_utf8_casefold (text, -1);
  if (g_strcmp0 (folded, self->filter_text) == 0)
    return;

  g_free (self->filter_text);
  self->filter_text = g_steal_pointer (&folded);
  if (g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (self->filter_entry)),
                 text != NULL ? text : "") != 0)
    gtk_editable_set_text (GTK_EDITABLE (self->filter_entry), text != NULL ? text : "");
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  update_status (self);
}

/**
 * cx_console_add_to_bus:
 * @bus: a site window's bus
 * @window: the window that owns @bus
 *
 * Registers the "Console" plugin on @bus, created on its first use: the commands open and close
 * show and close the Console of @bus; the events opened and closed follow it.
 */
gboolean
cx_console_add_to_bus (CxBus *bus, GtkWindow *window, GError **error)
{
  g_return_val_if_fail (CX_IS_BUS (bus), FALSE);
  g_return_val_if_fail (GTK_IS_WINDOW (window), FALSE);

  /* The window owns the bus, and the bus the factory: the window outlives its uses. */
  return cx_bus_register_factory (bus, CX_CONSOLE_NAME, plugin_factory, window, NULL, error);
}

/**
 * cx_console_find:
 * @window: a window of the application
 * @bus: a bus
 *
 * Returns: (transfer none) (nullable): the open Console of @bus in @window's application
 */
CxConsole *
cx_console_find (GtkWindow *window, CxBus *bus)
{
  GtkApplication *application;

  g_return_val_if_fail (GTK_IS_WINDOW (window), NULL);
  g_return_val_if_fail (CX_IS_BUS (bus), NULL);

  application = gtk_window_get_application (window);
  if (application == NULL)
    return NULL;

  for (GList *l = gtk_application_get_windows (application); l != NULL; l = l->next)
    if (CX_IS_CONSOLE (l->data) && CX_CONSOLE (l->data)->bus == bus)
      return l->data;

  return NULL;
}

/**
 * cx_console_present_for:
 * @window: the window of @bus, in an application
 * @bus: the bus to show
 *
 * Shows the Console of @bus, opening it if needed.
 *
 * Returns: (transfer none): the Console
 */
CxConsole *
cx_console_present_for (GtkWindow *window, CxBus *bus)
{
  CxConsole *console;

  g_return_val_if_fail (GTK_IS_WINDOW (window), NULL);
  g_return_val_if_fail (GTK_IS_APPLICATION (gtk_window_get_application (window)), NULL);

  console = cx_console_find (window, bus);
  if (console == NULL)
    console = cx_console_new (gtk_window_get_application (window), bus, window);
  gtk_window_present (GTK_WINDOW (console));
  return console;
}
