/* cx-sidebar.c: the "SideBar" UI plugin: a strip of channel buttons at the right edge of a
 * window.
 *
 * The strip is a column: its expand/contract button first, then one button per channel, each
 * an icon and a label that shows only while the strip is expanded (the accessible name and the
 * tooltip always carry the channel's name, so a contracted strip is just as usable by keyboard
 * and screen reader). Clicking a button runs the channel's clickCommand with its clickOptions,
 * as "SideBar". Should the command fail, the customer is told in a toast ("Toaster.open"),
 * rather than left with a button that does nothing; a channel that is open already ("already
 * opened") is what the customer wanted, and is not an error.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-sidebar"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "widgets/cx-channel-selector.h"
#include "widgets/cx-sidebar.h"

#define MAX_BUTTONS 32

typedef struct
{
  CxSideBar *self; /* unowned */
  CxChannelSpec *spec;
  GtkWidget *button;
  GtkWidget *label;
} Button;

struct _CxSideBar
{
  GtkWidget parent_instance;

  CxBus *bus;
  CxPlugin *plugin;
  GCancellable *cancellable;

  GPtrArray *buttons; /* Button */
  gboolean open;
  gboolean expanded;

  GtkWidget *toggle;
  GtkWidget *box; /* the channel buttons */
};

G_DEFINE_FINAL_TYPE (CxSideBar, cx_sidebar, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_OPEN,
  PROP_EXPANDED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const event_names[] = { "opened", "closed", "expanded", "contracted", NULL };

static void
button_free (gpointer data)
{
  Button *button = data;

  cx_channel_spec_free (button->spec);
  g_free (button);
}

static void
publish (CxSideBar *self, const char *event)
{
  g_autoptr (JsonNode) data = NULL;

  if (self->plugin == NULL || cx_plugin_get_bus (self->plugin) == NULL)
    return;

  data = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (data, json_object_new ());
  cx_plugin_publish (self->plugin, event, data);
}

static void
update_toggle (CxSideBar *self)
{
  const char *text = self->expanded ? _ ("Show icons only") : _ ("Show the channel names");

  gtk_button_set_icon_name (GTK_BUTTON (self->toggle),
                            self->expanded ? "go-next-symbolic" : "go-previous-symbolic");
  gtk_widget_set_tooltip_text (self->toggle, text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->toggle), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  text, -1);
  gtk_accessible_update_state (GTK_ACCESSIBLE (self->toggle), GTK_ACCESSIBLE_STATE_EXPANDED,
                               self->expanded, -1);
}

static void
set_expanded (CxSideBar *self, gboolean expanded)
{
  if (self->expanded == expanded)
    return;

  self->expanded = expanded;
  for (guint i = 0; i < self->buttons->len; i++)
    {
      Button *button = g_ptr_array_index (self->buttons, i);

      gtk_widget_set_visible (button->label, expanded);
    }
  if (expanded)
    gtk_widget_add_css_class (GTK_WIDGET (self), "cx-expanded");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "cx-expanded");
  update_toggle (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EXPANDED]);
  publish (self, expanded ? "expanded" : "contracted");
}

static void
set_open (CxSideBar *self, gboolean open)
{
  if (self->open == open)
    return;

  self->open = open;
  gtk_widget_set_visible (GTK_WIDGET (self), open);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPEN]);
  publish (self, open ? "opened" : "closed");
}

/* A channel's button */

typedef struct
{
  CxSideBar *self;
  char *display_name;
} Click;

static void
click_free (Click *click)
{
  g_free (click->display_name);
  g_free (click);
}

static void
click_command_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Click *click = user_data;
  CxSideBar *self = click->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autoptr (JsonNode) data = NULL;
  g_autofree char *title = NULL;
  JsonObject *toast;

  reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  if (reply != NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      (g_error_matches (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED) &&
       g_str_equal (error->message, "already opened")))
    {
      click_free (click);
      return;
    }

  g_debug ("%s: %s", click->display_name, error->message);
  /* Translators: %s is a channel, such as “Chat” */
  title = g_strdup_printf (_ ("%s could not be opened"), click->display_name);
  toast = json_object_new ();
  json_object_set_string_member (toast, "type", "error");
  json_object_set_string_member (toast, "title", title);
  json_object_set_string_member (toast, "body", error->message);
  data = json_node_init_object (json_node_alloc (), toast);
  json_object_unref (toast);
  /* No toaster on the bus: there is nobody else to tell, the debug message has it. */
  cx_bus_command_async (self->bus, self->plugin, "Toaster.open", data, 0, self->cancellable, NULL,
                        NULL);
  click_free (click);
}

static void
button_clicked_cb (GtkButton *widget, gpointer user_data)
{
  Button *button = user_data;
  CxSideBar *self = button->self;
  Click *click;

  if (self->bus == NULL)
    return;

  click = g_new0 (Click, 1);
  click->self = self;
  click->display_name = g_strdup (button->spec->display_name);
  cx_bus_command_async (self->bus, self->plugin, button->spec->click_command,
                        button->spec->click_options, 0, self->cancellable, click_command_cb, click);
}

static void
add_button (CxSideBar *self, CxChannelSpec *spec)
{
  Button *button = g_new0 (Button, 1);
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *icon;

  button->self = self;
  button->spec = spec;

  icon = g_object_new (GTK_TYPE_IMAGE, "icon-name", spec->icon_name, "accessible-role",
                       GTK_ACCESSIBLE_ROLE_PRESENTATION, NULL);
  gtk_box_append (GTK_BOX (content), icon);

  /* Names come from the configuration or the bus: plain text. */
  button->label = gtk_label_new (NULL);
  gtk_label_set_text (GTK_LABEL (button->label), spec->display_name);
  gtk_label_set_xalign (GTK_LABEL (button->label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (button->label), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (GTK_LABEL (button->label), 18);
  gtk_widget_set_visible (button->label, self->expanded);
  gtk_box_append (GTK_BOX (content), button->label);

  button->button = gtk_button_new ();
  gtk_button_set_child (GTK_BUTTON (button->button), content);
  gtk_widget_set_name (button->button, spec->name);
  gtk_widget_set_tooltip_text (button->button, spec->display_name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button->button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  spec->display_name, -1);
  gtk_widget_add_css_class (button->button, "flat");
  gtk_widget_add_css_class (button->button, "cx-sidebar-button");
  g_signal_connect (button->button, "clicked", G_CALLBACK (button_clicked_cb), button);
  gtk_box_append (GTK_BOX (self->box), button->button);

  g_ptr_array_add (self->buttons, button);
}

static Button *
find_button (CxSideBar *self, const char *name)
{
  for (guint i = 0; i < self->buttons->len; i++)
    {
      Button *button = g_ptr_array_index (self->buttons, i);

      if (g_str_equal (button->spec->name, name))
        return button;
    }
  return NULL;
}

static void
toggle_clicked_cb (GtkButton *button, gpointer user_data)
{
  CxSideBar *self = user_data;

  set_expanded (self, !self->expanded);
}

/* Commands */

static void
open_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  set_open (CX_SIDEBAR (user_data), TRUE);
  cx_command_resolve (command, NULL);
}

static void
close_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  set_open (CX_SIDEBAR (user_data), FALSE);
  cx_command_resolve (command, NULL);
}

static void
expand_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  set_expanded (CX_SIDEBAR (user_data), TRUE);
  cx_command_resolve (command, NULL);
}

static void
contract_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  set_expanded (CX_SIDEBAR (user_data), FALSE);
  cx_command_resolve (command, NULL);
}

static void
add_button_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxSideBar *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  g_autoptr (GError) error = NULL;
  CxChannelSpec *spec;
  JsonNode *display_name;

  /* The channel reader lets displayName default to the name; a button must have its own. */
  display_name = data != NULL && JSON_NODE_HOLDS_OBJECT (data)
                     ? json_object_get_member (json_node_get_object (data), "displayName")
                     : NULL;
  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data) &&
      (display_name == NULL || !JSON_NODE_HOLDS_VALUE (display_name) ||
       json_node_get_value_type (display_name) != G_TYPE_STRING))
    {
      cx_command_reject_message (command, _ ("addButton needs a “displayName”"));
      return;
    }

  spec = cx_channel_spec_new_from_json (data, &error);
  if (spec == NULL)
    {
      cx_command_reject_message (command, "%s", error->message);
      return;
    }
  if (find_button (self, spec->name) != NULL)
    {
      cx_command_reject_message (command, _ ("There is a button “%s” already"), spec->name);
      cx_channel_spec_free (spec);
      return;
    }
  if (self->buttons->len >= MAX_BUTTONS)
    {
      cx_command_reject_message (command, _ ("There can be at most %u buttons"), MAX_BUTTONS);
      cx_channel_spec_free (spec);
      return;
    }

  add_button (self, spec);
  cx_command_resolve (command, NULL);
}

/* Object */

static void
cx_sidebar_dispose (GObject *object)
{
  CxSideBar *self = CX_SIDEBAR (object);
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  cx_plugin_leave_bus (&self->plugin);
  g_clear_object (&self->bus);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  self->toggle = NULL;
  self->box = NULL;
  if (self->buttons != NULL)
    g_ptr_array_set_size (self->buttons, 0);

  G_OBJECT_CLASS (cx_sidebar_parent_class)->dispose (object);
}

static void
cx_sidebar_finalize (GObject *object)
{
  CxSideBar *self = CX_SIDEBAR (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->buttons, g_ptr_array_unref);

  G_OBJECT_CLASS (cx_sidebar_parent_class)->finalize (object);
}

static void
cx_sidebar_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxSideBar *self = CX_SIDEBAR (object);

  switch (prop_id)
    {
      case PROP_OPEN:
        g_value_set_boolean (value, self->open);
        break;

      case PROP_EXPANDED:
        g_value_set_boolean (value, self->expanded);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_sidebar_class_init (CxSideBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cx_sidebar_dispose;
  object_class->finalize = cx_sidebar_finalize;
  object_class->get_property = cx_sidebar_get_property;

  properties[PROP_OPEN] =
      g_param_spec_boolean ("open", NULL, NULL, TRUE,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_EXPANDED] =
      g_param_spec_boolean ("expanded", NULL, NULL, FALSE,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "cxsidebar");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_TOOLBAR);
}

static void
cx_sidebar_init (CxSideBar *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->buttons = g_ptr_array_new_with_free_func (button_free);
  self->open = TRUE;

  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 6);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Contact channels"), GTK_ACCESSIBLE_PROPERTY_ORIENTATION,
                                  GTK_ORIENTATION_VERTICAL, -1);

  self->toggle = gtk_button_new ();
  gtk_widget_add_css_class (self->toggle, "flat");
  gtk_widget_add_css_class (self->toggle, "cx-sidebar-toggle");
  g_signal_connect (self->toggle, "clicked", G_CALLBACK (toggle_clicked_cb), self);
  gtk_widget_set_parent (self->toggle, GTK_WIDGET (self));
  update_toggle (self);

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
}

/**
 * cx_sidebar_new:
 *
 * Returns: (transfer floating): a new sidebar, without buttons until attached
 */
GtkWidget *
cx_sidebar_new (void)
{
  return g_object_new (CX_TYPE_SIDEBAR, NULL);
}

static gboolean
config_boolean (JsonObject *config, const char *member, gboolean fallback, GError **error)
{
  JsonNode *node = config != NULL ? json_object_get_member (config, member) : NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return fallback;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The sidebar setting “%s” must be true or false"), member);
      return fallback;
    }
  return json_node_get_boolean (node);
}

static const CxCommandSpec command_specs[] = {
  { "open", open_command_cb },
  { "close", close_command_cb },
  { "expand", expand_command_cb },
  { "contract", contract_command_cb },
  { "addButton", add_button_command_cb },
};

/**
 * cx_sidebar_attach:
 * @self: the sidebar
 * @bus: the window's bus
 * @sidebar_config: (nullable): the "sidebar" settings {expanded, channels}
 * @channelselector_config: (nullable): the "channelselector" settings, whose channels are the
 *   sidebar's when it has none of its own
 * @error: return location for a #GError
 *
 * Reads the buttons, registers the "SideBar" plugin on @bus and makes it ready.
 *
 * Returns: %TRUE, or %FALSE with @error set (a bad setting or channel, or the name is taken)
 */
gboolean
cx_sidebar_attach (CxSideBar *self, CxBus *bus, JsonObject *sidebar_config,
                   JsonObject *channelselector_config, GError **error)
{
  g_autoptr (GPtrArray) specs = NULL;
  g_autoptr (GError) local_error = NULL;
  JsonNode *own;
  gboolean expanded;
  CxPlugin *plugin;

  g_return_val_if_fail (CX_IS_SIDEBAR (self), FALSE);
  g_return_val_if_fail (CX_IS_BUS (bus), FALSE);
  g_return_val_if_fail (self->plugin == NULL, FALSE);

  expanded = config_boolean (sidebar_config, "expanded", FALSE, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  own = sidebar_config != NULL ? json_object_get_member (sidebar_config, "channels") : NULL;
  specs = cx_channel_spec_list_from_config (
      own != NULL && !JSON_NODE_HOLDS_NULL (own) ? sidebar_config : channelselector_config, error);
  if (specs == NULL)
    return FALSE;

  self->plugin = cx_bus_register_plugin_with_table (
      bus, CX_SIDEBAR_NAME, event_names, command_specs, G_N_ELEMENTS (command_specs), self, error);
  if (self->plugin == NULL)
    return FALSE;
  plugin = self->plugin;
  self->bus = g_object_ref (bus);

  for (guint i = 0; i < specs->len; i++)
    add_button (self, g_steal_pointer (&g_ptr_array_index (specs, i)));
  g_ptr_array_set_free_func (specs, NULL);
  set_expanded (self, expanded);

  cx_plugin_ready (plugin);
  return TRUE;
}

/**
 * cx_sidebar_get_plugin:
 *
 * Returns: (transfer none) (nullable): the "SideBar" plugin, once attached
 */
CxPlugin *
cx_sidebar_get_plugin (CxSideBar *self)
{
  g_return_val_if_fail (CX_IS_SIDEBAR (self), NULL);

  return self->plugin;
}
