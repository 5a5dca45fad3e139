/* cx-toaster.c: the "Toaster" UI plugin: short notices at the top of a window's page area.
 *
 * Each toast is a small card built here (icon, title, body, up to two buttons and a close
 * button); the toaster stacks them, newest last. A toast belongs to the plugin that opened it
 * (its "owner"): only that plugin or "App" may close it. Toasts that are not errors close by
 * themselves; their clock stops while the pointer is over them or the focus is in them, so that
 * nobody loses a toast while reading it or reaching for its button.
 *
 * While the window is not the active one, a toast is also sent as a GNotification, and
 * withdrawn when the toast closes. Sending one where no notification server exists makes GIO
 * warn (and a test with fatal warnings abort), so the toaster first finds out, once per
 * process, whether the session has one: the portal (inside Flatpak), org.gtk.Notifications, or
 * org.freedesktop.Notifications, running or activatable. A freedesktop server that takes markup
 * in the body gets the body escaped: the text is shown as it is, never as markup.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-toaster"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "protocol/cx-protocol.h"
#include "widgets/cx-toaster.h"

#define MAX_TITLE_CHARS 200
#define MAX_BODY_CHARS 1000
#define MAX_BUTTON_CHARS 40
#define MAX_ICON_NAME_CHARS 100
/* More toasts than this and the oldest goes: a flood must not fill the window. */
#define MAX_TOASTS 4

#define FDO_NAME "org.freedesktop.Notifications"
#define GTK_NOTIFICATIONS_NAME "org.gtk.Notifications"

typedef enum
{
  TOAST_GENERIC,
  TOAST_ERROR,
  TOAST_INFO,
} ToastType;

typedef struct
{
  CxToaster *self; /* unowned: the toaster owns the toast */
  char *id;
  char *owner;
  ToastType type;
  char *title;
  char *body;
  GtkWidget *widget; /* the card, a child of the toaster */
  guint timeout_id;
  gint64 deadline_us; /* while timeout_id runs */
  gint64 remaining_ms;
  gboolean hovered;
  gboolean focused;
  char *notification_id; /* set while it is also a GNotification */
} Toast;

struct _CxToaster
{
  GtkWidget parent_instance;

  CxBus *bus;
  CxPlugin *plugin;
  GPtrArray *toasts; /* Toast, oldest first */
  guint next_id;
  guint timeout_ms;
  GtkRoot *root; /* while rooted, to find the toaster from a notification */
};

G_DEFINE_FINAL_TYPE (CxToaster, cx_toaster, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_TIMEOUT,
  PROP_N_TOASTS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const event_names[] = { "opened", "closed", NULL };

static const char *const type_names[] = {
  [TOAST_GENERIC] = "generic",
  [TOAST_ERROR] = "error",
  [TOAST_INFO] = "info",
};

static const char *const type_icons[] = {
  [TOAST_GENERIC] = "mail-unread-symbolic",
  [TOAST_ERROR] = "dialog-error-symbolic",
  [TOAST_INFO] = "dialog-information-symbolic",
};

static GQuark
toaster_quark (void)
{
  return g_quark_from_static_string ("cx-toaster");
}

/* Whether the session can show notifications (see the file's comment) */

typedef struct
{
  gboolean started;
  gboolean flatpak;
  gboolean gtk_owned;
  gboolean fdo_owned;
  gboolean fdo_activatable;
  gboolean fdo_caps_known;
  gboolean fdo_body_markup;
} NotificationServer;

static NotificationServer server;

static void
capabilities_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) caps = NULL;
  g_autoptr (GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      g_debug ("The notification server's capabilities are unknown: %s", error->message);
      return;
    }

  server.fdo_caps_known = TRUE;
  server.fdo_body_markup = FALSE;
  caps = g_variant_get_child_value (reply, 0);
  for (gsize i = 0; i < g_variant_n_children (caps); i++)
    {
      g_autoptr (GVariant) cap = g_variant_get_child_value (caps, i);

      if (g_strcmp0 (g_variant_get_string (cap, NULL), "body-markup") == 0)
        server.fdo_body_markup = TRUE;
    }
}

static void
name_appeared_cb (GDBusConnection *connection, const char *name, const char *owner,
                  gpointer user_data)
{
  if (g_str_equal (name, GTK_NOTIFICATIONS_NAME))
    {
      server.gtk_owned = TRUE;
      return;
    }

  server.fdo_owned = TRUE;
  g_dbus_connection_call (connection, FDO_NAME, "/org/freedesktop/Notifications", FDO_NAME,
                          "GetCapabilities", NULL, G_VARIANT_TYPE ("(as)"),
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, capabilities_cb, NULL);
}

static void
name_vanished_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  if (g_str_equal (name, GTK_NOTIFICATIONS_NAME))
    server.gtk_owned = FALSE;
  else
    server.fdo_owned = FALSE;
}

static void
activatable_names_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree const char **names = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    return;

  g_variant_get (reply, "(^a&s)", &names);
  server.fdo_activatable = names != NULL && g_strv_contains (names, FDO_NAME);
}

static void
session_bus_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (GError) error = NULL;

  connection = g_bus_get_finish (result, &error);
  if (connection == NULL)
    {
      g_debug ("No session bus, no notifications: %s", error->message);
      return;
    }

  /* Watched for the life of the process, like the session bus itself. */
  g_bus_watch_name_on_connection (connection, FDO_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                  name_appeared_cb, name_vanished_cb, NULL, NULL);
  g_bus_watch_name_on_connection (connection, GTK_NOTIFICATIONS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                  name_appeared_cb, name_vanished_cb, NULL, NULL);
  g_dbus_connection_call (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "ListActivatableNames", NULL,
                          G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                          activatable_names_cb, NULL);
}

static void
notification_server_probe (void)
{
  if (server.started)
    return;

  server.started = TRUE;
  /* Inside Flatpak, GIO talks to the notification portal, which is always there. */
  server.flatpak = g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS);
  if (!server.flatpak)
    g_bus_get (G_BUS_TYPE_SESSION, NULL, session_bus_cb, NULL);
}

static gboolean
notification_server_available (void)
{
  return server.flatpak || server.gtk_owned || server.fdo_owned || server.fdo_activatable;
}

/* Only a freedesktop server reads markup in a body, and only when it says so (those that have
 * not said yet are taken to: GNOME Shell, Plasma, dunst and mako all do). */
static gboolean
notification_body_is_markup (void)
{
  if (server.flatpak || server.gtk_owned)
    return FALSE;
  return server.fdo_caps_known ? server.fdo_body_markup : TRUE;
}

/* Small helpers */

/* A string member: NULL when absent or null; FALSE when it is something else. */
static gboolean
get_optional_string (JsonObject *object, const char *member, const char **out)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (node);
  return TRUE;
}

/* Text as it is shown: valid UTF-8, no control characters (but new lines where @multiline),
 * stripped, and at most @max_chars characters. NULL when nothing is left. */
static char *
clean_text (const char *text, gsize max_chars, gboolean multiline)
{
  g_autofree char *valid = NULL;
  g_autoptr (GString) out = NULL;
  gsize n_chars = 0;

  if (text == NULL)
    return NULL;

  valid = g_utf8_make_valid (text, -1);
  g_strstrip (valid);
  out = g_string_new (NULL);
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (n_chars == max_chars)
        {
          g_string_append (out, "…");
          break;
        }
      if (c == '\n' && multiline)
        g_string_append_c (out, '\n');
      else if (g_unichar_iscntrl (c))
        g_string_append_c (out, ' ');
      else
        g_string_append_unichar (out, c);
      n_chars++;
    }

  if (out->len == 0)
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
is_icon_name (const char *name)
{
  gsize length = strlen (name);

  if (length == 0 || length > MAX_ICON_NAME_CHARS)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

static Toast *
find_toast (CxToaster *self, const char *id)
{
  for (guint i = 0; i < self->toasts->len; i++)
    {
      Toast *toast = g_ptr_array_index (self->toasts, i);

      if (g_strcmp0 (toast->id, id) == 0)
        return toast;
    }
  return NULL;
}

static void
toast_free (Toast *toast)
{
  g_clear_handle_id (&toast->timeout_id, g_source_remove);
  g_free (toast->id);
  g_free (toast->owner);
  g_free (toast->title);
  g_free (toast->body);
  g_free (toast->notification_id);
  g_free (toast);
}

static GApplication *
toaster_application (CxToaster *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (!GTK_IS_WINDOW (root) || gtk_window_get_application (GTK_WINDOW (root)) == NULL)
    return NULL;
  return G_APPLICATION (gtk_window_get_application (GTK_WINDOW (root)));
}

/* Closing */

static void
close_toast (CxToaster *self, Toast *toast, const char *button)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) data = NULL;
  g_autofree char *id = g_strdup (toast->id);

  if (toast->notification_id != NULL)
    {
      GApplication *application = toaster_application (self);

      if (application != NULL)
        g_application_withdraw_notification (application, toast->notification_id);
    }

  /* Off the screen first: leaving it may still reach the toast's handlers. */
  if (toast->widget != NULL)
    gtk_widget_unparent (g_steal_pointer (&toast->widget));
  g_ptr_array_remove (self->toasts, toast); /* frees it */
  gtk_widget_set_visible (GTK_WIDGET (self), self->toasts->len > 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_TOASTS]);

  json_object_set_string_member (object, "id", id);
  if (button != NULL)
    json_object_set_string_member (object, "button", button);
  else
    json_object_set_null_member (object, "button");
  data = cx_json_node_new_object (object);
  if (self->plugin != NULL && cx_plugin_get_bus (self->plugin) != NULL)
    cx_plugin_publish (self->plugin, "closed", data);
}

/* The clock of a toast that is not an error */

static gboolean
toast_timeout_cb (gpointer user_data)
{
  Toast *toast = user_data;

  toast->timeout_id = 0;
  close_toast (toast->self, toast, NULL);
  return G_SOURCE_REMOVE;
}

static void
toast_update_clock (Toast *toast)
{
  gboolean run = toast->type != TOAST_ERROR && toast->self->timeout_ms > 0 && !toast->hovered &&
                 !toast->focused;

  if (run && toast->timeout_id == 0)
    {
      toast->deadline_us = g_get_monotonic_time () + toast->remaining_ms * 1000;
      toast->timeout_id = g_timeout_add ((guint) toast->remaining_ms, toast_timeout_cb, toast);
      g_source_set_name_by_id (toast->timeout_id, "[cx-toaster] toast timeout");
    }
  else if (!run && toast->timeout_id != 0)
    {
      toast->remaining_ms = MAX (0, (toast->deadline_us - g_get_monotonic_time ()) / 1000);
      /* Back from a pause, a toast gets at least a moment. */
      toast->remaining_ms = MAX (toast->remaining_ms, 1500);
      g_clear_handle_id (&toast->timeout_id, g_source_remove);
    }
}

static void
toast_enter_cb (GtkEventController *controller, double x, double y, gpointer user_data)
{
  Toast *toast = user_data;

  toast->hovered = TRUE;
  toast_update_clock (toast);
}

static void
toast_leave_cb (GtkEventController *controller, gpointer user_data)
{
  Toast *toast = user_data;

  toast->hovered = FALSE;
  toast_update_clock (toast);
}

static void
toast_focus_enter_cb (GtkEventController *controller, gpointer user_data)
{
  Toast *toast = user_data;

  toast->focused = TRUE;
  toast_update_clock (toast);
}

static void
toast_focus_leave_cb (GtkEventController *controller, gpointer user_data)
{
  Toast *toast = user_data;

  toast->focused = FALSE;
  toast_update_clock (toast);
}

/* The card */

static void
toast_button_clicked_cb (GtkButton *button, gpointer user_data)
{
  Toast *toast = user_data;

  close_toast (toast->self, toast, g_object_get_data (G_OBJECT (button), "cx-toast-button"));
}

static GtkWidget *
new_label (const char *text, const char *css_class)
{
  GtkWidget *label = gtk_label_new (NULL);

  /* Plain text, whatever it looks like. */
  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 46);
  /* Narrow when it must be: a toast fits the page beside an open chat. */
  gtk_label_set_width_chars (GTK_LABEL (label), 10);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  return label;
}

static GtkWidget *
new_toast_button (Toast *toast, const char *label, const char *which)
{
  GtkWidget *button = gtk_button_new ();
  GtkWidget *child = gtk_label_new (NULL);

  gtk_label_set_text (GTK_LABEL (child), label);
  gtk_label_set_ellipsize (GTK_LABEL (child), PANGO_ELLIPSIZE_END);
  gtk_button_set_child (GTK_BUTTON (button), child);
  g_object_set_data (G_OBJECT (button), "cx-toast-button", (gpointer) which);
  g_signal_connect (button, "clicked", G_CALLBACK (toast_button_clicked_cb), toast);
  return button;
}

static GtkWidget *
build_card (Toast *toast, const char *icon_name, const char *primary, const char *secondary)
{
  GtkWidget *card;
  GtkWidget *icon;
  GtkWidget *text_box;
  GtkWidget *close_button;
  GtkEventController *controller;
  g_autofree char *type_class = g_strconcat ("cx-toast-", type_names[toast->type], NULL);

  /* An error is an alert to assistive technologies; the others are status messages. */
  card = g_object_new (
      GTK_TYPE_BOX, "orientation", GTK_ORIENTATION_HORIZONTAL, "spacing", 12, "accessible-role",
      toast->type == TOAST_ERROR ? GTK_ACCESSIBLE_ROLE_ALERT : GTK_ACCESSIBLE_ROLE_STATUS, NULL);
  gtk_widget_add_css_class (card, "cx-toast");
  gtk_widget_add_css_class (card, type_class);
  gtk_accessible_update_property (GTK_ACCESSIBLE (card), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  toast->title != NULL ? toast->title : toast->body, -1);
  if (toast->title != NULL && toast->body != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (card), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                    toast->body, -1);

  icon = g_object_new (GTK_TYPE_IMAGE, "icon-name",
                       icon_name != NULL ? icon_name : type_icons[toast->type], "pixel-size", 24,
                       "valign", GTK_ALIGN_START, "accessible-role",
                       GTK_ACCESSIBLE_ROLE_PRESENTATION, NULL);
  gtk_widget_add_css_class (icon, "cx-toast-icon");
  gtk_box_append (GTK_BOX (card), icon);

  text_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_set_hexpand (text_box, TRUE);
  gtk_widget_set_valign (text_box, GTK_ALIGN_CENTER);
  if (toast->title != NULL)
    gtk_box_append (GTK_BOX (text_box), new_label (toast->title, "cx-toast-title"));
  if (toast->body != NULL)
    {
      GtkWidget *body = new_label (toast->body, "cx-toast-body");

      /* A huge body stays a toast: the rest is cut, it is all in the accessible description. */
      gtk_label_set_lines (GTK_LABEL (body), 8);
      gtk_label_set_ellipsize (GTK_LABEL (body), PANGO_ELLIPSIZE_END);
      gtk_box_append (GTK_BOX (text_box), body);
    }
  if (primary != NULL || secondary != NULL)
    {
      GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

      gtk_widget_set_halign (buttons, GTK_ALIGN_END);
      gtk_widget_set_margin_top (buttons, 6);
      gtk_widget_add_css_class (buttons, "cx-toast-buttons");
      if (secondary != NULL)
        gtk_box_append (GTK_BOX (buttons), new_toast_button (toast, secondary, "secondary"));
      if (primary != NULL)
        {
          GtkWidget *button = new_toast_button (toast, primary, "primary");

          gtk_widget_add_css_class (button, "suggested-action");
          gtk_box_append (GTK_BOX (buttons), button);
        }
      gtk_box_append (GTK_BOX (text_box), buttons);
    }
  gtk_box_append (GTK_BOX (card), text_box);

  close_button = gtk_button_new_from_icon_name ("window-close-symbolic");
  gtk_widget_set_valign (close_button, GTK_ALIGN_START);
  gtk_widget_set_tooltip_text (close_button, _ ("Close"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (close_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Close the notice"), -1);
  gtk_widget_add_css_class (close_button, "flat");
  gtk_widget_add_css_class (close_button, "circular");
  gtk_widget_add_css_class (close_button, "cx-toast-close");
  g_signal_connect (close_button, "clicked", G_CALLBACK (toast_button_clicked_cb), toast);
  gtk_box_append (GTK_BOX (card), close_button);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "enter", G_CALLBACK (toast_enter_cb), toast);
  g_signal_connect (controller, "leave", G_CALLBACK (toast_leave_cb), toast);
  gtk_widget_add_controller (card, controller);
  controller = gtk_event_controller_focus_new ();
  g_signal_connect (controller, "enter", G_CALLBACK (toast_focus_enter_cb), toast);
  g_signal_connect (controller, "leave", G_CALLBACK (toast_focus_leave_cb), toast);
  gtk_widget_add_controller (card, controller);

  return card;
}

/* The notification, while the window is not the active one */

static void
toast_action_activated_cb (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GtkApplication *application = user_data;
  const char *toast_id = NULL;
  const char *button = NULL;
  GtkWindow *window;
  CxToaster *self;
  Toast *toast;
  guint window_id = 0;

  g_variant_get (parameter, "(u&s&s)", &window_id, &toast_id, &button);
  window = gtk_application_get_window_by_id (application, window_id);
  if (window == NULL)
    return;

  gtk_window_present (window);
  self = g_object_get_qdata (G_OBJECT (window), toaster_quark ());
  toast = self != NULL ? find_toast (self, toast_id) : NULL;
  if (toast == NULL)
    return;

  if (g_str_equal (button, "primary") || g_str_equal (button, "secondary"))
    close_toast (self, toast, button);
}

static void
ensure_action (GApplication *application)
{
  g_autoptr (GSimpleAction) action = NULL;

  if (g_action_map_lookup_action (G_ACTION_MAP (application), CX_TOASTER_ACTION) != NULL)
    return;

  action = g_simple_action_new (CX_TOASTER_ACTION, G_VARIANT_TYPE ("(uss)"));
  g_signal_connect_object (action, "activate", G_CALLBACK (toast_action_activated_cb), application,
                           G_CONNECT_DEFAULT);
  g_action_map_add_action (G_ACTION_MAP (application), G_ACTION (action));
}

static void
send_notification (CxToaster *self, Toast *toast, const char *icon_name, const char *primary,
                   const char *secondary)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GApplication *application = toaster_application (self);
  g_autoptr (GNotification) notification = NULL;
  g_autoptr (GIcon) icon = NULL;
  const char *action = "app." CX_TOASTER_ACTION;
  guint window_id;

  if (application == NULL || !GTK_IS_APPLICATION_WINDOW (root) ||
      gtk_window_is_active (GTK_WINDOW (root)))
    return;
  if (!notification_server_available ())
    {
      g_debug ("No notification server: toast %s stays in its window", toast->id);
      return;
    }

  window_id = gtk_application_window_get_id (GTK_APPLICATION_WINDOW (root));
  ensure_action (application);

  notification =
      g_notification_new (toast->title != NULL ? toast->title : g_get_application_name ());
  if (toast->title != NULL && toast->body != NULL)
    {
      if (notification_body_is_markup ())
        {
          g_autofree char *escaped = g_markup_escape_text (toast->body, -1);

          g_notification_set_body (notification, escaped);
        }
      else
        g_notification_set_body (notification, toast->body);
    }
  icon = g_themed_icon_new (icon_name != NULL ? icon_name : type_icons[toast->type]);
  g_notification_set_icon (notification, icon);
  g_notification_set_priority (notification, toast->type == TOAST_ERROR
                                                 ? G_NOTIFICATION_PRIORITY_HIGH
                                                 : G_NOTIFICATION_PRIORITY_NORMAL);
  g_notification_set_default_action_and_target (notification, action, "(uss)", window_id, toast->id,
                                                "");
  if (secondary != NULL)
    g_notification_add_button_with_target (notification, secondary, action, "(uss)", window_id,
                                           toast->id, "secondary");
  if (primary != NULL)
    g_notification_add_button_with_target (notification, primary, action, "(uss)", window_id,
                                           toast->id, "primary");

  toast->notification_id = g_strdup_printf ("cx-toast-%u-%s", window_id, toast->id);
  g_application_send_notification (application, toast->notification_id, notification);
}

/* Commands */

static void
open_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxToaster *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonObject *object = NULL;
  JsonObject *buttons = NULL;
  JsonNode *buttons_node;
  JsonObject *result;
  g_autoptr (JsonNode) result_node = NULL;
  g_autoptr (JsonNode) opened = NULL;
  g_autofree char *title = NULL;
  g_autofree char *body = NULL;
  g_autofree char *primary = NULL;
  g_autofree char *secondary = NULL;
  const char *type = NULL;
  const char *title_in = NULL;
  const char *body_in = NULL;
  const char *icon = NULL;
  const char *primary_in = NULL;
  const char *secondary_in = NULL;
  ToastType toast_type = TOAST_GENERIC;
  Toast *toast;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    object = json_node_get_object (data);
  else if (data != NULL && !JSON_NODE_HOLDS_NULL (data))
    {
      cx_command_reject_message (command, _ ("open takes an object"));
      return;
    }

  if (!get_optional_string (object, "type", &type) ||
      !get_optional_string (object, "title", &title_in) ||
      !get_optional_string (object, "body", &body_in) ||
      !get_optional_string (object, "icon", &icon))
    {
      cx_command_reject_message (command, _ ("open: “type”, “title”, “body” and “icon” must be "
                                             "text"));
      return;
    }

  if (type != NULL)
    {
      gboolean known = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (type_names); i++)
        if (g_str_equal (type, type_names[i]))
          {
            toast_type = i;
            known = TRUE;
          }
      if (!known)
        {
          cx_command_reject_message (command,
                                     _ ("open: “type” must be “generic”, “error” or “info”"));
          return;
        }
    }

  if (icon != NULL && !is_icon_name (icon))
    {
      cx_command_reject_message (command, _ ("open: “icon” must be an icon name"));
      return;
    }

  buttons_node = object != NULL ? json_object_get_member (object, "buttons") : NULL;
  if (buttons_node != NULL && JSON_NODE_HOLDS_OBJECT (buttons_node))
    buttons = json_node_get_object (buttons_node);
  else if (buttons_node != NULL && !JSON_NODE_HOLDS_NULL (buttons_node))
    {
      cx_command_reject_message (command, _ ("open: “buttons” must be an object"));
      return;
    }
  if (!get_optional_string (buttons, "primary", &primary_in) ||
      !get_optional_string (buttons, "secondary", &secondary_in))
    {
      cx_command_reject_message (command, _ ("open: the button labels must be text"));
      return;
    }

  title = clean_text (title_in, MAX_TITLE_CHARS, FALSE);
  body = clean_text (body_in, MAX_BODY_CHARS, TRUE);
  primary = clean_text (primary_in, MAX_BUTTON_CHARS, FALSE);
  secondary = clean_text (secondary_in, MAX_BUTTON_CHARS, FALSE);
  if (title == NULL && body == NULL)
    {
      cx_command_reject_message (command, _ ("open needs a “title” or a “body”"));
      return;
    }

  /* The oldest goes first when there are too many. */
  while (self->toasts->len >= MAX_TOASTS)
    close_toast (self, g_ptr_array_index (self->toasts, 0), NULL);

  toast = g_new0 (Toast, 1);
  toast->self = self;
  toast->id = g_strdup_printf ("toast-%u", ++self->next_id);
  toast->owner = g_strdup (cx_command_get_commander (command));
  toast->type = toast_type;
  toast->title = g_steal_pointer (&title);
  toast->body = g_steal_pointer (&body);
  toast->remaining_ms = self->timeout_ms;
  toast->widget = build_card (toast, icon, primary, secondary);
  g_ptr_array_add (self->toasts, toast);
  gtk_widget_set_parent (toast->widget, GTK_WIDGET (self));
  gtk_widget_set_visible (GTK_WIDGET (self), TRUE);
  toast_update_clock (toast);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_TOASTS]);

  send_notification (self, toast, icon, primary, secondary);

  result = json_object_new ();
  json_object_set_string_member (result, "id", toast->id);
  result_node = cx_json_node_new_object (result);
  opened = json_node_copy (result_node);
  cx_plugin_publish (plugin, "opened", opened);
  cx_command_resolve (command, result_node);
}

static void
close_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxToaster *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonObject *object = NULL;
  const char *commander = cx_command_get_commander (command);
  gboolean is_app = g_strcmp0 (commander, CX_BUS_APP_COMMANDER) == 0;
  const char *id = NULL;
  Toast *toast;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    object = json_node_get_object (data);
  else if (data != NULL && !JSON_NODE_HOLDS_NULL (data))
    {
      cx_command_reject_message (command, _ ("close takes an object"));
      return;
    }
  if (!get_optional_string (object, "id", &id))
    {
      cx_command_reject_message (command, _ ("close: “id” must be text"));
      return;
    }

  if (id == NULL)
    {
      /* Every toast of the caller's; the application's covers all of them. */
      for (guint i = self->toasts->len; i > 0; i--)
        {
          if (i > self->toasts->len)
            continue;
          toast = g_ptr_array_index (self->toasts, i - 1);
          if (is_app || g_strcmp0 (toast->owner, commander) == 0)
            close_toast (self, toast, NULL);
        }
      cx_command_resolve (command, NULL);
      return;
    }

  toast = find_toast (self, id);
  if (toast == NULL)
    {
      cx_command_reject_message (command, _ ("There is no toast “%s”"), id);
      return;
    }
  if (!is_app && g_strcmp0 (toast->owner, commander) != 0)
    {
      cx_command_reject (command,
                         g_error_new (CX_BUS_ERROR, CX_BUS_ERROR_ACCESS_DENIED,
                                      _ ("The toast “%s” was opened by %s"), id, toast->owner));
      return;
    }

  close_toast (self, toast, NULL);
  cx_command_resolve (command, NULL);
}

/* Widget */

static void
cx_toaster_root (GtkWidget *widget)
{
  CxToaster *self = CX_TOASTER (widget);

  GTK_WIDGET_CLASS (cx_toaster_parent_class)->root (widget);

  self->root = gtk_widget_get_root (widget);
  g_object_set_qdata (G_OBJECT (self->root), toaster_quark (), self);
}

static void
cx_toaster_unroot (GtkWidget *widget)
{
  CxToaster *self = CX_TOASTER (widget);

  if (self->root != NULL && g_object_get_qdata (G_OBJECT (self->root), toaster_quark ()) == self)
    g_object_set_qdata (G_OBJECT (self->root), toaster_quark (), NULL);
  self->root = NULL;

  GTK_WIDGET_CLASS (cx_toaster_parent_class)->unroot (widget);
}

/* Object */

static void
cx_toaster_dispose (GObject *object)
{
  CxToaster *self = CX_TOASTER (object);
  GApplication *application = toaster_application (self);
  GtkWidget *child;

  /* Notifications of a window that is gone would lead nowhere. */
  for (guint i = 0; self->toasts != NULL && i < self->toasts->len; i++)
    {
      Toast *toast = g_ptr_array_index (self->toasts, i);

      if (toast->notification_id != NULL && application != NULL)
        g_application_withdraw_notification (application, toast->notification_id);
      if (toast->widget != NULL)
        gtk_widget_unparent (g_steal_pointer (&toast->widget));
    }
  if (self->toasts != NULL)
    g_ptr_array_set_size (self->toasts, 0);

  cx_plugin_leave_bus (&self->plugin);
  g_clear_object (&self->bus);

  gtk_widget_dispose_template (GTK_WIDGET (self), CX_TYPE_TOASTER);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (cx_toaster_parent_class)->dispose (object);
}

static void
cx_toaster_finalize (GObject *object)
{
  CxToaster *self = CX_TOASTER (object);

  g_clear_pointer (&self->toasts, g_ptr_array_unref);

  G_OBJECT_CLASS (cx_toaster_parent_class)->finalize (object);
}

static void
cx_toaster_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxToaster *self = CX_TOASTER (object);

  switch (prop_id)
    {
      case PROP_TIMEOUT:
        g_value_set_uint (value, self->timeout_ms);
        break;

      case PROP_N_TOASTS:
        g_value_set_uint (value, self->toasts->len);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_toaster_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CxToaster *self = CX_TOASTER (object);

  switch (prop_id)
    {
      case PROP_TIMEOUT:
        cx_toaster_set_timeout (self, g_value_get_uint (value));
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_toaster_class_init (CxToasterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cx_toaster_dispose;
  object_class->finalize = cx_toaster_finalize;
  object_class->get_property = cx_toaster_get_property;
  object_class->set_property = cx_toaster_set_property;

  widget_class->root = cx_toaster_root;
  widget_class->unroot = cx_toaster_unroot;

  /**
   * CxToaster:timeout:
   *
   * How long a toast that is not an error stays, in ms (the time it is hovered or focused
   * not counted); 0: until it is closed.
   */
  properties[PROP_TIMEOUT] =
      g_param_spec_uint ("timeout", NULL, NULL, 0, G_MAXINT, CX_TOASTER_DEFAULT_TIMEOUT_MS,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_N_TOASTS] =
      g_param_spec_uint ("n-toasts", NULL, NULL, 0, G_MAXUINT, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/cxdesk/CxDesk/cx-toaster.ui");
  gtk_widget_class_set_css_name (widget_class, "cxtoaster");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
cx_toaster_init (CxToaster *self)
{
  self->toasts = g_ptr_array_new_with_free_func ((GDestroyNotify) toast_free);
  self->timeout_ms = CX_TOASTER_DEFAULT_TIMEOUT_MS;
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
cx_toaster_new (void)
{
  return g_object_new (CX_TYPE_TOASTER, NULL);
}

static const CxCommandSpec command_specs[] = {
  { "open", open_command_cb },
  { "close", close_command_cb },
};

/**
 * cx_toaster_attach:
 * @self: the toaster
 * @bus: the window's bus
 * @error: return location for a #GError
 *
 * Registers the "Toaster" plugin on @bus and makes it ready.
 *
 * Returns: %TRUE, or %FALSE with @error set (the name is taken on @bus)
 */
gboolean
cx_toaster_attach (CxToaster *self, CxBus *bus, GError **error)
{
  CxPlugin *plugin;

  g_return_val_if_fail (CX_IS_TOASTER (self), FALSE);
  g_return_val_if_fail (CX_IS_BUS (bus), FALSE);
  g_return_val_if_fail (self->plugin == NULL, FALSE);

  self->plugin = cx_bus_register_plugin_with_table (
      bus, CX_TOASTER_NAME, event_names, command_specs, G_N_ELEMENTS (command_specs), self, error);
  if (self->plugin == NULL)
    return FALSE;
  plugin = self->plugin;
  self->bus = g_object_ref (bus);

  notification_server_probe ();
  cx_plugin_ready (plugin);
  return TRUE;
}

/**
 * cx_toaster_get_plugin:
 *
 * Returns: (transfer none) (nullable): the "Toaster" plugin, once attached
 */
CxPlugin *
cx_toaster_get_plugin (CxToaster *self)
{
  g_return_val_if_fail (CX_IS_TOASTER (self), NULL);

  return self->plugin;
}

guint
cx_toaster_get_timeout (CxToaster *self)
{
  g_return_val_if_fail (CX_IS_TOASTER (self), 0);

  return self->timeout_ms;
}

/**
 * cx_toaster_set_timeout:
 * @timeout_ms: how long a toast that is not an error stays; 0: until it is closed
 *
 * Applies to the toasts opened from now on.
 */
void
cx_toaster_set_timeout (CxToaster *self, guint timeout_ms)
{
  g_return_if_fail (CX_IS_TOASTER (self));

  if (self->timeout_ms == timeout_ms)
    return;
  self->timeout_ms = MIN (timeout_ms, (guint) G_MAXINT);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

/**
 * cx_toaster_get_n_toasts:
 *
 * Returns: how many toasts show
 */
guint
cx_toaster_get_n_toasts (CxToaster *self)
{
  g_return_val_if_fail (CX_IS_TOASTER (self), 0);

  return self->toasts->len;
}
