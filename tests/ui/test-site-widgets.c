/* test-site-widgets.c: the site window's other plugins, in real windows of the real application
 * against the real cxdesk-server: ChannelSelector (with StatsService), SideBar, Overlay, Toaster
 * (with its notifications) and the toasts the window opens for the chat's troubles.
 *
 * As in test-customer-ui.c, the application is built in this process with a per-test
 * application id; the harness (tests/server/cx-test-server.c) plays the agents and the other
 * customers, whose presence and queue make the server's real estimated wait time. The bus
 * traffic other plugins would send is sent from test plugins registered on the window's bus.
 * Where the test needs a server that misbehaves (a reply that is not JSON, one that is too
 * large), a SoupServer in this process plays the chat server; where it needs a notification
 * server, this process owns org.freedesktop.Notifications on the private session bus.
 *
 * Every wait iterates the main context until a condition holds (cx_test_wait): no sleeps, and
 * a generous hang guard that fails naming the condition; nothing measures time.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-site-widgets"

#include "config.h"

#include <gtk/gtk.h>
#include <string.h>
#include <unistd.h>

#include "customer/cx-desk-application.h"
#include "customer/cx-desk-config.h"
#include "customer/cx-desk-window.h"
#include "cx-test-server.h"
#include "cx-test-ui.h"

#define SERVICE "customer-support"
#define SITE "https://www.example.com/"

typedef CxTestFixture Fixture;

/* The application */

static JsonObject *
test_config (const char *chat_base_url)
{
  JsonObject *config = json_object_new ();
  JsonObject *webchat = json_object_new ();
  JsonObject *stats = json_object_new ();
  g_autofree char *data_url = g_strconcat (chat_base_url, "genesys/2/chat/" SERVICE, NULL);

  json_object_set_string_member (webchat, "dataURL", data_url);
  json_object_set_string_member (webchat, "transport", "auto");
  json_object_set_int_member (webchat, "pollRate", 1000);
  /* Generous: a sanitizer build must not look like a dead server. */
  json_object_set_int_member (webchat, "ajaxTimeout", 10000);
  json_object_set_object_member (config, "webchat", webchat);
  /* stats.dataURL is left out: the window finds it on the chat server's origin. */
  json_object_set_int_member (stats, "pollInterval", 1000);
  json_object_set_int_member (stats, "ajaxTimeout", 10000);
  json_object_set_object_member (config, "stats", stats);
  return config;
}

/* A new application instance; @extra (nullable) is merged over the test configuration. */
static CxDeskApplication *
app_new (Fixture *f, JsonObject *extra)
{
  g_autofree char *id = cx_test_ui_unique_app_id ("SiteTest");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) override = test_config (cx_test_server_get_url (f->server));
  g_autoptr (JsonObject) with_extra = NULL;
  g_autoptr (JsonObject) config = NULL;
  CxDeskApplication *app = cx_desk_application_new (id, G_APPLICATION_NON_UNIQUE);

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  with_extra = cx_desk_config_merge (override, extra);
  config = cx_desk_config_merge (cx_desk_application_get_config (app), with_extra);
  cx_desk_application_set_config (app, config);
  cx_test_ui_app_set_baseline (app);
  return app;
}

static CxDeskWindow *
window_open_with (CxDeskApplication *app, const char *site, JsonObject *config)
{
  g_autoptr (GError) error = NULL;
  CxDeskWindow *window = cx_desk_application_open_site (app, site, config, &error);

  g_assert_no_error (error);
  g_assert_nonnull (window);
  cx_test_wait (cx_test_widget_is_mapped, window);
  return window;
}

static CxDeskWindow *
window_open (CxDeskApplication *app)
{
  return window_open_with (app, SITE, NULL);
}

/* The bus */

/* Runs @command with @json as @commander (NULL: "App") and waits for the answer. Returns the
 * reply, or NULL with @error set. */
static JsonNode *
bus_call (CxDeskWindow *window, CxPlugin *commander, const char *command, const char *json,
          GError **error)
{
  g_autoptr (JsonNode) data = json != NULL ? json_from_string (json, NULL) : NULL;

  g_assert_true (json == NULL || data != NULL);
  return cx_test_bus_command (cx_desk_window_get_bus (window), commander, command, data, 0, error);
}

static void
bus_call_ok (CxDeskWindow *window, CxPlugin *commander, const char *command, const char *json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = bus_call (window, commander, command, json, &error);

  g_assert_no_error (error);
}

/* Widgets */

static GtkWidget *
find_by_name (GtkWidget *root, const char *name)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (g_strcmp0 (gtk_widget_get_name (child), name) == 0)
        return child;
      found = find_by_name (child, name);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
find_by_class (GtkWidget *root, const char *css_class)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (gtk_widget_has_css_class (child, css_class))
        return child;
      found = find_by_class (child, css_class);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* A click on a button (gtk_widget_activate() would click it a moment later, as Enter does). */
static void
click (GtkWidget *button)
{
  g_assert_true (GTK_IS_BUTTON (button));
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
}

static GtkWidget *
focus_of (CxDeskWindow *window)
{
  return gtk_root_get_focus (GTK_ROOT (window));
}

static gboolean
focus_is_in (GtkWidget *focus, GtkWidget *widget)
{
  return focus != NULL && (focus == widget || gtk_widget_is_ancestor (focus, widget));
}

/* The channel selector */

static gboolean
selector_presented (gpointer data)
{
  CxDeskWindow *window = data;

  return cx_channel_selector_get_open (cx_desk_window_get_channel_selector (window)) &&
         cx_overlay_get_content (cx_desk_window_get_overlay (window)) ==
             GTK_WIDGET (cx_desk_window_get_channel_selector (window));
}

static gboolean
overlay_gone (gpointer data)
{
  return !cx_overlay_get_presented (cx_desk_window_get_overlay (data));
}

static void
open_selector (CxDeskWindow *window)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.contact-us", NULL));
  cx_test_wait (selector_presented, window);
}

static GtkWidget *
channel_row (CxDeskWindow *window, const char *name)
{
  GtkWidget *row = find_by_name (GTK_WIDGET (cx_desk_window_get_channel_selector (window)), name);

  if (row == NULL || !GTK_IS_LIST_BOX_ROW (row))
    g_error ("The selector has no channel “%s”", name);
  return row;
}

static const char *
channel_status (CxDeskWindow *window, const char *name)
{
  GtkWidget *label = find_by_class (channel_row (window, name), "cx-channel-status");

  g_assert_nonnull (label);
  return gtk_widget_get_visible (label) ? gtk_label_get_text (GTK_LABEL (label)) : "";
}

typedef struct
{
  CxDeskWindow *window;
  const char *channel;
  const char *status;
} StatusWait;

static gboolean
status_is (gpointer data)
{
  StatusWait *wait = data;

  return g_strcmp0 (channel_status (wait->window, wait->channel), wait->status) == 0;
}

static void
wait_status (CxDeskWindow *window, const char *channel, const char *status)
{
  StatusWait wait = { window, channel, status };

  cx_test_wait (status_is, &wait);
}

/* Agents and customers of the harness */

static CxTestAgent *
ada_signs_in (Fixture *f)
{
  return cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
}

/* The selector shows the server's real estimated wait: nobody signed in is Unavailable; Ada
 * signed in but not ready, with one chat waiting, is (1 + 1) × 180 s / 1 slot: 6 min; two
 * waiting, 9 min: over the upper threshold, Unavailable; Ada ready with free capacity,
 * Available. Each change shows while the selector stays open (it polls StatsService). */
static void
test_selector_wait_times (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, NULL);
  CxDeskWindow *window = window_open (app);
  g_autoptr (CxTestAgent) ada = NULL;
  g_autoptr (CxTestCustomer) first = NULL;
  g_autoptr (CxTestCustomer) second = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) summary = NULL;
  JsonArray *channels;

  open_selector (window);
  wait_status (window, "WebChat", "Unavailable");
  g_assert_false (gtk_widget_get_sensitive (channel_row (window, "WebChat")));
  g_assert_cmpstr (channel_status (window, "Callback"), ==, "Unavailable");

  ada = ada_signs_in (f);
  first = cx_test_customer_start (f->server, SERVICE, "First");
  wait_status (window, "WebChat", "6 min");
  g_assert_true (gtk_widget_get_sensitive (channel_row (window, "WebChat")));

  summary = bus_call (window, NULL, "ChannelSelector.displayStats", NULL, &error);
  g_assert_no_error (error);
  channels = json_object_get_array_member (json_node_get_object (summary), "channels");
  g_assert_cmpuint (json_array_get_length (channels), ==, 2);
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (channels, 0), "availability"),
      ==, "busy");
  g_assert_cmpint (
      json_object_get_int_member (json_array_get_object_element (channels, 0), "minutes"), ==, 6);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (channels, 0), "ewt"),
                   ==, 360);

  second = cx_test_customer_start (f->server, SERVICE, "Second");
  wait_status (window, "WebChat", "Unavailable");

  cx_test_agent_set_state (ada, "ready");
  wait_status (window, "WebChat", "Available");
  wait_status (window, "Callback", "Available");
  g_assert_true (gtk_widget_get_sensitive (channel_row (window, "WebChat")));

  /* Closed, it polls no more; open again, it shows what it knew and polls again. */
  bus_call_ok (window, NULL, "ChannelSelector.close", NULL);
  cx_test_wait (overlay_gone, window);
  g_assert_false (
      gtk_widget_get_visible (GTK_WIDGET (cx_desk_window_get_channel_selector (window))));

  cx_test_ui_app_free (app);
}

static gboolean
chat_panel_open (gpointer data)
{
  return cx_webchat_get_open (cx_desk_window_get_webchat (data));
}

static gboolean
callback_presented (gpointer data)
{
  CxDeskWindow *window = data;

  return cx_callback_get_open (cx_desk_window_get_callback (window)) &&
         cx_overlay_get_content (cx_desk_window_get_overlay (window)) ==
             GTK_WIDGET (cx_desk_window_get_callback (window));
}

static JsonObject *
object_from_string (const char *json)
{
  g_autoptr (JsonNode) node = json_from_string (json, NULL);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

/* Choosing a channel runs its clickCommand: Chat opens the chat panel, Receive a Call the
 * callback form in the overlay; a command that fails brings the selector back, saying why. */
static void
test_selector_choose (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) extra = NULL;
  CxDeskApplication *app;
  CxDeskWindow *window;
  g_autoptr (CxTestAgent) ada = ada_signs_in (f);
  g_autoptr (CxTestRecorder) events = NULL;
  GtkWidget *error_label;

  extra =
      object_from_string ("{\"channelselector\": {\"channels\": ["
                          " {\"name\": \"WebChat\", \"displayName\": \"Chat\", \"icon\": \"chat\","
                          "  \"clickCommand\": \"WebChat.open\","
                          "  \"ewt\": {\"display\": true, \"queue\": \"" SERVICE "\"}},"
                          " {\"name\": \"Callback\", \"displayName\": \"Call me\","
                          "  \"icon\": \"call-outgoing\", \"clickCommand\": \"Callback.open\","
                          "  \"clickOptions\": {\"form\": {\"firstname\": \"Grace\"}}},"
                          " {\"name\": \"Broken\", \"displayName\": \"Carrier pigeon\","
                          "  \"clickCommand\": \"Pigeon.open\"}]}}");
  g_assert_nonnull (extra);
  app = app_new (f, extra);
  window = window_open (app);
  events = cx_test_recorder_new (cx_desk_window_get_bus (window), NULL);
  cx_test_agent_set_state (ada, "ready");

  /* Chat */
  open_selector (window);
  wait_status (window, "WebChat", "Available");
  g_assert_true (gtk_widget_activate (channel_row (window, "WebChat")));
  cx_test_wait (chat_panel_open, window);
  cx_test_wait (overlay_gone, window);
  g_assert_false (cx_channel_selector_get_open (cx_desk_window_get_channel_selector (window)));
  g_assert_cmpuint (cx_test_recorder_count (events, "ChannelSelector.closed"), ==, 1);
  g_assert_cmpuint (cx_test_recorder_count (events, "WebChat.opened"), ==, 1);

  /* Receive a Call: the callback form takes the selector's place in the overlay. */
  open_selector (window);
  g_assert_true (gtk_widget_activate (channel_row (window, "Callback")));
  cx_test_wait (callback_presented, window);
  g_assert_true (cx_overlay_get_presented (cx_desk_window_get_overlay (window)));
  g_assert_false (cx_channel_selector_get_open (cx_desk_window_get_channel_selector (window)));
  /* The customer dismisses it: the form closes with the overlay. */
  bus_call_ok (window, NULL, "Overlay.back", NULL);
  cx_test_wait (overlay_gone, window);
  cx_test_recorder_wait (events, "Callback.closed", 1);
  g_assert_false (cx_callback_get_open (cx_desk_window_get_callback (window)));

  /* A channel whose plugin is not there */
  open_selector (window);
  error_label = cx_test_ui_find_by_id (GTK_WIDGET (cx_desk_window_get_channel_selector (window)),
                                       "error_label");
  g_assert_nonnull (error_label);
  g_assert_false (gtk_widget_get_visible (error_label));
  g_assert_true (gtk_widget_activate (channel_row (window, "Broken")));
  cx_test_wait (cx_test_widget_is_visible, error_label);
  cx_test_wait (selector_presented, window);
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (error_label)), "Carrier pigeon"));

  cx_test_ui_app_free (app);
}

/* The sidebar */

static GtkWidget *
sidebar_button (CxDeskWindow *window, const char *name)
{
  GtkWidget *button = find_by_name (GTK_WIDGET (cx_desk_window_get_sidebar (window)), name);

  if (button == NULL || !GTK_IS_BUTTON (button))
    g_error ("The sidebar has no button “%s”", name);
  return button;
}

static gboolean
button_label_visible (GtkWidget *button)
{
  GtkWidget *label = NULL;

  for (GtkWidget *child = gtk_widget_get_first_child (gtk_button_get_child (GTK_BUTTON (button)));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_LABEL (child))
      label = child;
  g_assert_nonnull (label);
  return gtk_widget_get_visible (label);
}

static gboolean
selector_open (gpointer data)
{
  return cx_channel_selector_get_open (cx_desk_window_get_channel_selector (data));
}

/* The strip has the selector's channels (the configuration gives it none of its own), with
 * accessible names; expand and contract, by command and by its own button, show and hide the
 * labels; a button runs its clickCommand; addButton adds one and refuses a taken name. */
static void
test_sidebar (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, NULL);
  CxDeskWindow *window = window_open (app);
  CxSideBar *sidebar = cx_desk_window_get_sidebar (window);
  g_autoptr (CxTestRecorder) events = cx_test_recorder_new (cx_desk_window_get_bus (window), NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  GtkWidget *chat, *call, *toggle, *added;
  gboolean expanded = TRUE;

  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (sidebar)));
  chat = sidebar_button (window, "WebChat");
  call = sidebar_button (window, "Callback");
  g_assert_cmpstr (gtk_widget_get_tooltip_text (chat), ==, "Chat");
  g_assert_cmpstr (gtk_widget_get_tooltip_text (call), ==, "Receive a Call");
  g_assert_false (button_label_visible (chat));

  bus_call_ok (window, NULL, "SideBar.expand", NULL);
  g_assert_true (button_label_visible (chat));
  g_assert_true (button_label_visible (call));
  g_object_get (sidebar, "expanded", &expanded, NULL);
  g_assert_true (expanded);
  g_assert_cmpuint (cx_test_recorder_count (events, "SideBar.expanded"), ==, 1);

  toggle = find_by_class (GTK_WIDGET (sidebar), "cx-sidebar-toggle");
  g_assert_nonnull (toggle);
  click (toggle);
  g_assert_false (button_label_visible (chat));
  g_assert_cmpuint (cx_test_recorder_count (events, "SideBar.contracted"), ==, 1);
  bus_call_ok (window, NULL, "SideBar.contract", NULL);
  /* Already contracted: no event. */
  g_assert_cmpuint (cx_test_recorder_count (events, "SideBar.contracted"), ==, 1);

  click (chat);
  cx_test_wait (chat_panel_open, window);

  reply = bus_call (window, NULL, "SideBar.addButton",
                    "{\"name\": \"WebChat\", \"displayName\": \"Again\","
                    " \"clickCommand\": \"WebChat.open\"}",
                    &error);
  g_assert_null (reply);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_clear_error (&error);
  reply = bus_call (window, NULL, "SideBar.addButton",
                    "{\"name\": \"Nameless\", \"clickCommand\": \"WebChat.open\"}", &error);
  g_assert_null (reply);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_clear_error (&error);

  bus_call_ok (window, NULL, "SideBar.addButton",
               "{\"name\": \"Contact\", \"displayName\": \"<b>Contact</b> Us\","
               " \"icon\": \"question\", \"clickCommand\": \"ChannelSelector.open\"}");
  added = sidebar_button (window, "Contact");
  g_assert_cmpstr (gtk_widget_get_tooltip_text (added), ==, "<b>Contact</b> Us");
  click (added);
  cx_test_wait (selector_open, window);
  bus_call_ok (window, NULL, "ChannelSelector.close", NULL);
  cx_test_wait (overlay_gone, window);

  bus_call_ok (window, NULL, "SideBar.close", NULL);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (sidebar)));
  g_assert_cmpuint (cx_test_recorder_count (events, "SideBar.closed"), ==, 1);
  bus_call_ok (window, NULL, "SideBar.open", NULL);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (sidebar)));
  g_assert_cmpuint (cx_test_recorder_count (events, "SideBar.opened"), ==, 1);

  cx_test_ui_app_free (app);
}

/* The overlay */

/* What the Escape key does on the overlay: its shortcut for Escape, activated as the key
 * would. */
static gboolean
press_escape (GtkWidget *widget)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr (GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);
          GtkShortcutTrigger *trigger = gtk_shortcut_get_trigger (shortcut);

          if (GTK_IS_KEYVAL_TRIGGER (trigger) &&
              gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (trigger)) == GDK_KEY_Escape &&
              gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (trigger)) == 0)
            return gtk_shortcut_action_activate (gtk_shortcut_get_action (shortcut),
                                                 GTK_SHORTCUT_ACTION_EXCLUSIVE, widget,
                                                 gtk_shortcut_get_arguments (shortcut));
        }
    }
  g_error ("%s has no shortcut for Escape", G_OBJECT_TYPE_NAME (widget));
  return FALSE;
}

/* A click on the dimmed page around the form. */
static void
click_backdrop (CxOverlay *overlay)
{
  GtkWidget *backdrop = find_by_class (GTK_WIDGET (overlay), "cx-overlay-backdrop");
  g_autoptr (GListModel) controllers = NULL;

  g_assert_nonnull (backdrop);
  g_assert_true (gtk_widget_get_visible (backdrop));
  controllers = gtk_widget_observe_controllers (backdrop);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_CLICK (controller))
        {
          g_signal_emit_by_name (controller, "pressed", 1, 4.0, 4.0);
          return;
        }
    }
  g_error ("The backdrop takes no clicks");
}

/* While a form shows, the page is insensitive (no pointer, no focus) and Tab stays in the form;
 * Escape and the backdrop dismiss it and the focus goes back; immutable stops both (and back)
 * until mutable; Overlay.open is reserved by its opener: only it or App closes it. */
static void
test_overlay_modal (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, NULL);
  CxDeskWindow *window = window_open (app);
  CxOverlay *overlay = cx_desk_window_get_overlay (window);
  GtkWidget *selector = GTK_WIDGET (cx_desk_window_get_channel_selector (window));
  GtkWidget *page = cx_overlay_get_child (overlay);
  GtkWidget *name_entry = cx_test_ui_find_by_id (GTK_WIDGET (window), "name_entry");
  g_autoptr (CxTestRecorder) events = cx_test_recorder_new (cx_desk_window_get_bus (window), NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  CxPlugin *opener, *other;

  g_assert_nonnull (page);
  g_assert_nonnull (name_entry);
  g_assert_true (gtk_widget_grab_focus (name_entry));
  g_assert_true (focus_is_in (focus_of (window), name_entry));

  open_selector (window);
  g_assert_false (gtk_widget_is_sensitive (name_entry));
  g_assert_false (gtk_widget_get_sensitive (page));
  /* The window's own ways into the page are off too. */
  g_assert_false (
      gtk_widget_get_sensitive (cx_test_ui_find_by_id (GTK_WIDGET (window), "contact_button")));
  g_assert_false (
      gtk_widget_get_sensitive (cx_test_ui_find_by_id (GTK_WIDGET (window), "chat_button")));
  g_assert_true (focus_is_in (focus_of (window), selector));
  /* Tab, however often, stays in the form. */
  for (guint i = 0; i < 6; i++)
    {
      gtk_widget_child_focus (GTK_WIDGET (window), GTK_DIR_TAB_FORWARD);
      g_assert_true (focus_is_in (focus_of (window), selector));
    }
  gtk_widget_child_focus (GTK_WIDGET (window), GTK_DIR_TAB_BACKWARD);
  g_assert_true (focus_is_in (focus_of (window), selector));

  /* Escape */
  g_assert_true (press_escape (GTK_WIDGET (overlay)));
  cx_test_wait (overlay_gone, window);
  g_assert_false (cx_channel_selector_get_open (CX_CHANNEL_SELECTOR (selector)));
  g_assert_true (gtk_widget_is_sensitive (name_entry));
  g_assert_true (focus_is_in (focus_of (window), name_entry));
  g_assert_cmpuint (cx_test_recorder_count (events, "Overlay.opened"), ==, 1);
  g_assert_cmpuint (cx_test_recorder_count (events, "Overlay.closed"), ==, 1);
  /* Not shown, Escape is not the overlay's. */
  g_assert_false (press_escape (GTK_WIDGET (overlay)));

  /* The backdrop */
  open_selector (window);
  click_backdrop (overlay);
  cx_test_wait (overlay_gone, window);
  g_assert_true (focus_is_in (focus_of (window), name_entry));

  /* Immutable: neither Escape, nor the backdrop, nor back */
  open_selector (window);
  bus_call_ok (window, NULL, "Overlay.immutable", NULL);
  g_assert_true (cx_overlay_get_immutable (overlay));
  g_assert_true (press_escape (GTK_WIDGET (overlay)));
  click_backdrop (overlay);
  reply = bus_call (window, NULL, "Overlay.back", NULL, &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_clear_error (&error);
  g_assert_true (cx_overlay_get_presented (overlay));
  g_assert_true (cx_channel_selector_get_open (CX_CHANNEL_SELECTOR (selector)));
  bus_call_ok (window, NULL, "Overlay.mutable", NULL);
  g_assert_true (press_escape (GTK_WIDGET (overlay)));
  cx_test_wait (overlay_gone, window);
  g_assert_true (focus_is_in (focus_of (window), name_entry));
  g_assert_true (cx_channel_selector_get_open (CX_CHANNEL_SELECTOR (selector)) == FALSE);

  /* Reserved by its opener */
  opener = cx_bus_register_plugin (cx_desk_window_get_bus (window), "Opener", &error);
  g_assert_no_error (error);
  cx_plugin_ready (opener);
  other = cx_bus_register_plugin (cx_desk_window_get_bus (window), "Other", &error);
  g_assert_no_error (error);
  cx_plugin_ready (other);
  bus_call_ok (window, opener, "Overlay.open", NULL);
  g_assert_true (cx_overlay_get_presented (overlay));
  g_assert_false (gtk_widget_get_sensitive (page));
  reply = bus_call (window, other, "Overlay.close", NULL, &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_ACCESS_DENIED);
  g_clear_error (&error);
  g_assert_true (cx_overlay_get_presented (overlay));
  bus_call_ok (window, opener, "Overlay.close", NULL);
  g_assert_false (cx_overlay_get_presented (overlay));
  g_assert_true (gtk_widget_get_sensitive (page));
  bus_call_ok (window, opener, "Overlay.open", NULL);
  bus_call_ok (window, NULL, "Overlay.close", NULL);
  g_assert_false (cx_overlay_get_presented (overlay));

  /* Opened from the Contact Us button, the focus goes back to it. */
  g_assert_true (
      gtk_widget_grab_focus (cx_test_ui_find_by_id (GTK_WIDGET (window), "contact_button")));
  open_selector (window);
  g_assert_true (press_escape (GTK_WIDGET (overlay)));
  cx_test_wait (overlay_gone, window);
  g_assert_true (focus_of (window) ==
                 cx_test_ui_find_by_id (GTK_WIDGET (window), "contact_button"));

  cx_bus_unregister_plugin (cx_desk_window_get_bus (window), opener);
  cx_bus_unregister_plugin (cx_desk_window_get_bus (window), other);
  cx_test_ui_app_free (app);
}

/* The toaster */

static GtkWidget *
find_toast (CxDeskWindow *window, const char *title)
{
  GtkWidget *toaster = GTK_WIDGET (cx_desk_window_get_toaster (window));

  for (GtkWidget *card = gtk_widget_get_first_child (toaster); card != NULL;
       card = gtk_widget_get_next_sibling (card))
    {
      GtkWidget *label = find_by_class (card, "cx-toast-title");

      if (label != NULL && g_strcmp0 (gtk_label_get_text (GTK_LABEL (label)), title) == 0)
        return card;
    }
  return NULL;
}

typedef struct
{
  CxDeskWindow *window;
  const char *title;
} ToastWait;

static gboolean
toast_shown (gpointer data)
{
  ToastWait *wait = data;

  return find_toast (wait->window, wait->title) != NULL;
}

static gboolean
toast_gone (gpointer data)
{
  ToastWait *wait = data;

  return find_toast (wait->window, wait->title) == NULL;
}

static GtkWidget *
wait_toast (CxDeskWindow *window, const char *title)
{
  ToastWait wait = { window, title };

  cx_test_wait (toast_shown, &wait);
  return find_toast (window, title);
}

static char *
toast_open (CxDeskWindow *window, CxPlugin *commander, const char *json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = bus_call (window, commander, "Toaster.open", json, &error);

  g_assert_no_error (error);
  return g_strdup (json_object_get_string_member (json_node_get_object (reply), "id"));
}

static char *
close_json (const char *id)
{
  return g_strdup_printf ("{\"id\": \"%s\"}", id);
}

typedef struct
{
  CxTestRecorder *recorder;
  const char *id;
} ClosedWait;

/* Toaster.closed has been published for the toast @id */
static gboolean
toast_closed (gpointer data)
{
  ClosedWait *wait = data;
  GPtrArray *events = cx_test_recorder_get_events (wait->recorder);

  for (guint i = 0; i < events->len; i++)
    {
      CxEvent *event = g_ptr_array_index (events, i);

      if (g_str_equal (event->event, "Toaster.closed") &&
          g_strcmp0 (cx_test_object_string (cx_test_event_object (event), "id"), wait->id) == 0)
        return TRUE;
    }
  return FALSE;
}

/* A toast shows its text as text; only its opener or App closes it; a toast that is not an
 * error closes by itself, an error stays; a button closes it and says which. */
static void
test_toaster (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, NULL);
  CxDeskWindow *window = window_open (app);
  CxToaster *toaster = cx_desk_window_get_toaster (window);
  CxBus *bus = cx_desk_window_get_bus (window);
  g_autoptr (CxTestRecorder) events = cx_test_recorder_new (cx_desk_window_get_bus (window), NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *markup_id = NULL;
  g_autofree char *json = NULL;
  g_autofree char *error_id = NULL;
  g_autofree char *button_id = NULL;
  CxPlugin *opener, *other;
  GtkWidget *card, *body, *primary = NULL;
  JsonObject *closed;
  g_autofree char *info_id = NULL;
  ClosedWait closed_wait = { events, NULL };

  opener = cx_bus_register_plugin (bus, "Opener", &error);
  g_assert_no_error (error);
  cx_plugin_ready (opener);
  other = cx_bus_register_plugin (bus, "Other", &error);
  g_assert_no_error (error);
  cx_plugin_ready (other);

  /* No clock for this one: it stays until closed. */
  cx_toaster_set_timeout (toaster, 0);
  markup_id = toast_open (window, opener,
                          "{\"title\": \"<b>Bold</b> &amp; <i>offer</i>\","
                          " \"body\": \"<span foreground='red'>Text</span>\"}");
  card = wait_toast (window, "<b>Bold</b> &amp; <i>offer</i>");
  body = find_by_class (card, "cx-toast-body");
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (body)), ==, "<span foreground='red'>Text</span>");
  g_assert_false (gtk_label_get_use_markup (GTK_LABEL (body)));
  g_assert_false (gtk_label_get_use_markup (GTK_LABEL (find_by_class (card, "cx-toast-title"))));
  g_assert_true (gtk_widget_get_mapped (card));
  g_assert_cmpuint (cx_test_recorder_count (events, "Toaster.opened"), ==, 1);

  /* Reserved: another plugin may not close it; its opener may, and so may App. */
  json = close_json (markup_id);
  reply = bus_call (window, other, "Toaster.close", json, &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_ACCESS_DENIED);
  g_clear_error (&error);
  bus_call_ok (window, other, "Toaster.close", NULL); /* every toast of Other's: none */
  g_assert_cmpuint (cx_toaster_get_n_toasts (toaster), ==, 1);
  bus_call_ok (window, opener, "Toaster.close", json);
  g_assert_cmpuint (cx_toaster_get_n_toasts (toaster), ==, 0);
  closed = cx_test_recorder_last_object (events, "Toaster.closed");
  g_assert_cmpstr (json_object_get_string_member (closed, "id"), ==, markup_id);
  g_assert_true (json_object_get_null_member (closed, "button"));
  g_free (json);
  json = close_json ("toast-999");
  reply = bus_call (window, NULL, "Toaster.close", json, &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_clear_error (&error);

  /* Bad input */
  reply =
      bus_call (window, opener, "Toaster.open", "{\"type\": \"shout\", \"title\": \"x\"}", &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_clear_error (&error);
  reply =
      bus_call (window, opener, "Toaster.open", "{\"icon\": \"a/b\", \"title\": \"x\"}", &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_clear_error (&error);
  reply = bus_call (window, opener, "Toaster.open", "{}", &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_clear_error (&error);

  /* The clock: a generic toast goes by itself, an error opened with it stays. */
  cx_toaster_set_timeout (toaster, 200);
  error_id = toast_open (window, opener, "{\"type\": \"error\", \"title\": \"Stays\"}");
  info_id = toast_open (window, opener, "{\"type\": \"info\", \"title\": \"Soon gone\"}");
  closed_wait.id = info_id;
  cx_test_wait (toast_closed, &closed_wait);
  g_assert_null (find_toast (window, "Soon gone"));
  g_assert_nonnull (find_toast (window, "Stays"));
  g_assert_cmpuint (cx_toaster_get_n_toasts (toaster), ==, 1);

  /* A button closes its toast and says which it was. */
  button_id = toast_open (window, opener,
                          "{\"title\": \"Chat invitation\", \"body\": \"Can we help?\","
                          " \"buttons\": {\"primary\": \"Accept\", \"secondary\": \"Decline\"}}");
  card = wait_toast (window, "Chat invitation");
  for (GtkWidget *w = find_by_class (card, "cx-toast-buttons"); w != NULL && primary == NULL;
       w = NULL)
    for (GtkWidget *child = gtk_widget_get_first_child (w); child != NULL;
         child = gtk_widget_get_next_sibling (child))
      if (gtk_widget_has_css_class (child, "suggested-action"))
        primary = child;
  g_assert_nonnull (primary);
  click (primary);
  g_assert_null (find_toast (window, "Chat invitation"));
  closed = cx_test_recorder_last_object (events, "Toaster.closed");
  g_assert_cmpstr (json_object_get_string_member (closed, "id"), ==, button_id);
  g_assert_cmpstr (json_object_get_string_member (closed, "button"), ==, "primary");

  /* App closes what others opened, and, without an id, all of it. */
  g_free (toast_open (window, other, "{\"title\": \"Other's\"}"));
  g_assert_cmpuint (cx_toaster_get_n_toasts (toaster), ==, 2);
  bus_call_ok (window, NULL, "Toaster.close", NULL);
  g_assert_cmpuint (cx_toaster_get_n_toasts (toaster), ==, 0);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (toaster)));

  cx_bus_unregister_plugin (bus, opener);
  cx_bus_unregister_plugin (bus, other);
  cx_test_ui_app_free (app);
}

/* A notification server on the session bus */

static const char notifications_xml[] =
    "<node>"
    "  <interface name='org.freedesktop.Notifications'>"
    "    <method name='GetCapabilities'><arg type='as' direction='out'/></method>"
    "    <method name='Notify'>"
    "      <arg type='s' direction='in'/><arg type='u' direction='in'/>"
    "      <arg type='s' direction='in'/><arg type='s' direction='in'/>"
    "      <arg type='s' direction='in'/><arg type='as' direction='in'/>"
    "      <arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
    "      <arg type='u' direction='out'/>"
    "    </method>"
    "    <method name='CloseNotification'><arg type='u' direction='in'/></method>"
    "    <method name='GetServerInformation'>"
    "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
    "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
    "    </method>"
    "    <signal name='ActionInvoked'><arg type='u'/><arg type='s'/></signal>"
    "    <signal name='NotificationClosed'><arg type='u'/><arg type='u'/></signal>"
    "  </interface>"
    "</node>";

typedef struct
{
  GDBusConnection *connection;
  guint object_id;
  guint owner_id;
  gboolean acquired;
  gboolean asked_capabilities;
  guint next_id;
  GPtrArray *notified; /* GVariant (susssasa{sv}i), in order */
  GArray *closed;      /* guint32 */
} Notifications;

static void
notifications_method_cb (GDBusConnection *connection, const char *sender, const char *path,
                         const char *interface, const char *method, GVariant *parameters,
                         GDBusMethodInvocation *invocation, gpointer user_data)
{
  Notifications *self = user_data;

  if (g_str_equal (method, "GetCapabilities"))
    {
      static const char *const caps[] = { "body", "body-markup", "actions", NULL };

      self->asked_capabilities = TRUE;
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", (char **) caps));
    }
  else if (g_str_equal (method, "Notify"))
    {
      g_ptr_array_add (self->notified, g_variant_ref (parameters));
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", ++self->next_id));
    }
  else if (g_str_equal (method, "CloseNotification"))
    {
      guint32 id = 0;

      g_variant_get (parameters, "(u)", &id);
      g_array_append_val (self->closed, id);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(ssss)", "test", "cxdesk", "1", "1.2"));
}

static const GDBusInterfaceVTable notifications_vtable = { .method_call = notifications_method_cb };

static void
name_acquired_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  ((Notifications *) user_data)->acquired = TRUE;
}

static Notifications *
notifications_new (void)
{
  Notifications *self = g_new0 (Notifications, 1);
  g_autoptr (GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (notifications_xml, NULL);
  g_autoptr (GError) error = NULL;

  self->connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  self->notified = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  self->closed = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->object_id = g_dbus_connection_register_object (
      self->connection, "/org/freedesktop/Notifications", info->interfaces[0],
      &notifications_vtable, self, NULL, &error);
  g_assert_no_error (error);
  self->owner_id = g_bus_own_name_on_connection (self->connection, "org.freedesktop.Notifications",
                                                 G_BUS_NAME_OWNER_FLAGS_NONE, name_acquired_cb,
                                                 NULL, self, NULL);
  cx_test_wait (cx_test_flag_is_set, &self->acquired);
  return self;
}

static void
notifications_free (Notifications *self)
{
  g_bus_unown_name (self->owner_id);
  g_dbus_connection_unregister_object (self->connection, self->object_id);
  g_object_unref (self->connection);
  g_ptr_array_unref (self->notified);
  g_array_unref (self->closed);
  g_free (self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Notifications, notifications_free)

static gboolean
has_notified (gpointer data)
{
  return ((Notifications *) data)->notified->len > 0;
}

static gboolean
has_closed (gpointer data)
{
  return ((Notifications *) data)->closed->len > 0;
}

static gboolean
window_inactive (gpointer data)
{
  return !gtk_window_is_active (GTK_WINDOW (data));
}

static void
ping_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);

  *(gboolean *) user_data = TRUE;
}

/* One round trip on the session bus: what came in before it has been dispatched. */
static void
bus_round_trip (GDBusConnection *connection)
{
  gboolean done = FALSE;

  g_dbus_connection_call (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus.Peer", "Ping", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                          -1, NULL, ping_cb, &done);
  cx_test_wait (cx_test_flag_is_set, &done);
}

/* A toast in a window that is not the active one is also a notification: its text as text
 * (escaped for a server that reads markup), its buttons as the notification's; the
 * notification's button closes the toast as the toast's own would, and a toast closed goes
 * from the notifications too. */
static void
test_toaster_notification (Fixture *f, gconstpointer data)
{
  g_autoptr (Notifications) notifications = notifications_new ();
  CxDeskApplication *app = app_new (f, NULL);
  CxDeskWindow *window = window_open (app);
  CxDeskWindow *front;
  g_autoptr (CxTestRecorder) events = cx_test_recorder_new (cx_desk_window_get_bus (window), NULL);
  g_autofree char *id = NULL;
  g_autofree char *second_id = NULL;
  g_autofree char *json = NULL;
  const char *app_name, *summary, *body;
  g_autofree const char **actions = NULL;
  const char *accept_key = NULL;
  guint32 replaces, notify_id;
  JsonObject *closed;

  /* The toaster has found the server. */
  cx_test_wait (cx_test_flag_is_set, &notifications->asked_capabilities);
  bus_round_trip (notifications->connection);

  front = window_open (app);
  gtk_window_present (GTK_WINDOW (front));
  cx_test_wait (window_inactive, window);

  cx_toaster_set_timeout (cx_desk_window_get_toaster (window), 0);
  id = toast_open (window, NULL,
                   "{\"title\": \"Ada joined\", \"body\": \"<b>Hello</b> & welcome\","
                   " \"buttons\": {\"primary\": \"Accept\", \"secondary\": \"Decline\"}}");
  cx_test_wait (has_notified, notifications);
  g_assert_cmpuint (notifications->notified->len, ==, 1);
  g_variant_get (g_ptr_array_index (notifications->notified, 0), "(&su&s&s&s^a&s@a{sv}i)",
                 &app_name, &replaces, NULL, &summary, &body, &actions, NULL, NULL);
  g_assert_cmpstr (summary, ==, "Ada joined");
  /* The server reads markup: the text is escaped, so it shows as it is. */
  g_assert_cmpstr (body, ==, "&lt;b&gt;Hello&lt;/b&gt; &amp; welcome");
  for (guint i = 0; actions[i] != NULL && actions[i + 1] != NULL; i += 2)
    if (g_str_equal (actions[i + 1], "Accept"))
      accept_key = actions[i];
  g_assert_nonnull (accept_key);

  /* The notification's Accept: the toast closes as if its own button had been pressed. */
  bus_round_trip (notifications->connection);
  notify_id = notifications->next_id;
  g_dbus_connection_emit_signal (notifications->connection, NULL, "/org/freedesktop/Notifications",
                                 "org.freedesktop.Notifications", "ActionInvoked",
                                 g_variant_new ("(us)", notify_id, accept_key), NULL);
  cx_test_recorder_wait (events, "Toaster.closed", 1);
  closed = cx_test_recorder_last_object (events, "Toaster.closed");
  g_assert_cmpstr (json_object_get_string_member (closed, "id"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (closed, "button"), ==, "primary");
  g_assert_cmpuint (cx_toaster_get_n_toasts (cx_desk_window_get_toaster (window)), ==, 0);

  /* A toast closed in the window goes from the notifications. */
  second_id = toast_open (window, NULL, "{\"type\": \"error\", \"title\": \"Chat problem\"}");
  g_assert_cmpuint (notifications->notified->len, <=, 2);
  while (notifications->notified->len < 2)
    g_main_context_iteration (NULL, TRUE);
  bus_round_trip (notifications->connection);
  g_array_set_size (notifications->closed, 0);
  json = close_json (second_id);
  bus_call_ok (window, NULL, "Toaster.close", json);
  cx_test_wait (has_closed, notifications);
  g_assert_cmpuint (g_array_index (notifications->closed, guint32, 0), ==, notifications->next_id);

  /* The active window's toasts stay in it. */
  if (gtk_window_is_active (GTK_WINDOW (front)))
    {
      guint before = notifications->notified->len;

      g_free (toast_open (front, NULL, "{\"title\": \"Here\"}"));
      bus_round_trip (notifications->connection);
      g_assert_cmpuint (notifications->notified->len, ==, before);
    }

  cx_test_ui_app_free (app);
}

/* The chat's troubles, in toasts */

typedef enum
{
  FAKE_NOT_JSON,
  FAKE_HUGE,
} FakeMode;

static void
fake_chat_server_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
                     GHashTable *query, gpointer user_data)
{
  FakeMode mode = GPOINTER_TO_INT (user_data);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_server_message_set_status (msg, 200, NULL);
  if (mode == FAKE_NOT_JSON)
    {
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                        "{\"statusCode\": 0, \"chatId\": <not json", 38);
      return;
    }

  /* Far more than any client should take: the headers say so, the body never ends. */
  soup_message_headers_set_content_type (headers, "application/json", NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CONTENT_LENGTH);
  soup_message_headers_set_content_length (headers, (goffset) 512 * 1024 * 1024);
  soup_message_body_append (soup_server_message_get_response_body (msg), SOUP_MEMORY_STATIC,
                            "{\"statusCode\": 0, ", 18);
}

static SoupServer *
fake_chat_server_new (FakeMode mode, char **base_url)
{
  return cx_test_soup_server_new (fake_chat_server_cb, GINT_TO_POINTER (mode), base_url);
}

static GtkWidget *
panel_widget (CxDeskWindow *window, const char *id)
{
  GtkWidget *widget = cx_test_ui_find_by_id (GTK_WIDGET (cx_desk_window_get_webchat (window)), id);

  if (widget == NULL)
    g_error ("The chat panel has no widget “%s”", id);
  return widget;
}

static gboolean
chat_phase_is_chat (gpointer data)
{
  return cx_webchat_get_phase (cx_desk_window_get_webchat (data)) == CX_WEBCHAT_PHASE_CHAT;
}

/* The customer starts a chat as in the chat panel's own tests. */
static void
press_start_chat (CxDeskWindow *window)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-chat", NULL));
  cx_test_wait (chat_panel_open, window);
  gtk_editable_set_text (GTK_EDITABLE (panel_widget (window, "first_name_entry")), "Grace");
  gtk_editable_set_text (GTK_EDITABLE (panel_widget (window, "last_name_entry")), "Hopper");
  gtk_editable_set_text (GTK_EDITABLE (panel_widget (window, "email_entry")), "grace@example.com");
  click (panel_widget (window, "start_button"));
}

static JsonObject *
config_for_chat_server (CxDeskApplication *app, const char *base_url)
{
  g_autoptr (JsonObject) override = test_config (base_url);

  return cx_desk_config_merge (cx_desk_application_get_config (app), override);
}

/* A chat server that answers something that is not JSON, or something huge, or that goes
 * away: each time the window says so in an error toast, and goes on working. */
static void
test_chat_trouble_toasts (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, NULL);
  g_autofree char *bad_url = NULL;
  g_autofree char *huge_url = NULL;
  g_autoptr (SoupServer) bad = fake_chat_server_new (FAKE_NOT_JSON, &bad_url);
  g_autoptr (SoupServer) huge = fake_chat_server_new (FAKE_HUGE, &huge_url);
  g_autoptr (JsonObject) bad_config = config_for_chat_server (app, bad_url);
  g_autoptr (JsonObject) huge_config = config_for_chat_server (app, huge_url);
  CxDeskWindow *window;
  GtkWidget *card;
  const char *body;

  /* Not JSON */
  window = window_open_with (app, "https://bad.example.org/", bad_config);
  press_start_chat (window);
  card = wait_toast (window, "Chat problem");
  g_assert_true (gtk_widget_has_css_class (card, "cx-toast-error"));
  body = gtk_label_get_text (GTK_LABEL (find_by_class (card, "cx-toast-body")));
  g_assert_cmpuint (strlen (body), >, 0);
  /* It stays: an error is closed by the customer. */
  g_assert_cmpuint (cx_toaster_get_n_toasts (cx_desk_window_get_toaster (window)), ==, 1);
  g_assert_true (gtk_widget_get_sensitive (panel_widget (window, "start_button")) ||
                 cx_webchat_get_phase (cx_desk_window_get_webchat (window)) ==
                     CX_WEBCHAT_PHASE_FORM);
  cx_test_ui_window_close (window);

  /* Huge */
  window = window_open_with (app, "https://huge.example.org/", huge_config);
  press_start_chat (window);
  card = wait_toast (window, "Chat problem");
  body = gtk_label_get_text (GTK_LABEL (find_by_class (card, "cx-toast-body")));
  g_assert_cmpuint (strlen (body), >, 0);
  g_assert_cmpint (cx_webchat_get_phase (cx_desk_window_get_webchat (window)), !=,
                   CX_WEBCHAT_PHASE_CHAT);
  cx_test_ui_window_close (window);

  /* The real server, gone */
  window = window_open (app);
  press_start_chat (window);
  cx_test_wait (chat_phase_is_chat, window);
  cx_test_wait (cx_test_ui_push_settled, window);
  g_assert_null (find_toast (window, "The chat server went offline"));
  cx_test_server_kill9 (f->server);
  card = wait_toast (window, "The chat server went offline");
  g_assert_true (gtk_widget_has_css_class (card, "cx-toast-error"));
  /* The harness needs its server back (on another port: this window stays offline). */
  cx_test_server_restart (f->server);

  cx_test_ui_app_free (app);
}

static gboolean
chat_server_offline (gpointer data)
{
  return cx_webchat_get_server_offline (cx_desk_window_get_webchat (data));
}

static gboolean
chat_server_online (gpointer data)
{
  return !cx_webchat_get_server_offline (cx_desk_window_get_webchat (data));
}

/* The server goes away and comes back at the same address (a forwarder keeps it across the
 * restart): the offline toast stays while it is away, goes when it is back, and says so. */
static void
test_server_back_toasts (Fixture *f, gconstpointer data)
{
  CxTestForwarder *forwarder = cx_test_forwarder_new (f->server);
  g_autoptr (JsonObject) extra = test_config (cx_test_forwarder_get_url (forwarder));
  CxDeskApplication *app = app_new (f, extra);
  CxDeskWindow *window = window_open (app);
  CxToaster *toaster = cx_desk_window_get_toaster (window);
  ToastWait offline = { window, "The chat server went offline" };

  /* The offline toast is an error: it has no clock, it waits for the server. */
  cx_toaster_set_timeout (toaster, 0);
  press_start_chat (window);
  cx_test_wait (chat_phase_is_chat, window);
  cx_test_wait (cx_test_ui_push_settled, window);

  cx_test_server_kill9 (f->server);
  cx_test_wait (chat_server_offline, window);
  wait_toast (window, "The chat server went offline");
  g_assert_cmpuint (cx_toaster_get_n_toasts (toaster), ==, 1);

  cx_test_server_restart (f->server);
  cx_test_wait (chat_server_online, window);
  cx_test_wait (toast_gone, &offline);
  wait_toast (window, "The chat server is back");
  g_assert_cmpuint (cx_toaster_get_n_toasts (toaster), ==, 1);

  cx_test_ui_app_free (app);
  cx_test_forwarder_free (forwarder);
}

/* An agent who answers the chat is announced in a toast. */
static void
test_agent_joined_toast (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, NULL);
  CxDeskWindow *window = window_open (app);
  g_autoptr (CxTestAgent) ada = ada_signs_in (f);
  const char *chat_id;

  cx_test_agent_connect_events (ada);
  cx_test_agent_set_state (ada, "ready");
  press_start_chat (window);
  cx_test_wait (chat_phase_is_chat, window);
  chat_id = cx_webchat_get_chat_id (cx_desk_window_get_webchat (window));
  g_assert_null (find_toast (window, "Ada Lovelace joined the chat"));
  cx_test_agent_wait_invitation (ada, chat_id);
  json_object_unref (cx_test_agent_accept (ada, chat_id));
  wait_toast (window, "Ada Lovelace joined the chat");

  cx_test_ui_app_free (app);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);

  if (!gtk_init_check ())
    {
      g_test_skip ("No display");
      return g_test_run ();
    }

  cx_test_add ("/site-widgets/selector/wait-times", NULL, NULL, test_selector_wait_times);
  cx_test_add ("/site-widgets/selector/choose", NULL, NULL, test_selector_choose);
  cx_test_add ("/site-widgets/sidebar", NULL, NULL, test_sidebar);
  cx_test_add ("/site-widgets/overlay/modal", NULL, NULL, test_overlay_modal);
  cx_test_add ("/site-widgets/toaster/commands", NULL, NULL, test_toaster);
  cx_test_add ("/site-widgets/toaster/notification", NULL, NULL, test_toaster_notification);
  cx_test_add ("/site-widgets/toaster/chat-trouble", NULL, NULL, test_chat_trouble_toasts);
  cx_test_add ("/site-widgets/toaster/server-back", NULL, NULL, test_server_back_toasts);
  cx_test_add ("/site-widgets/toaster/agent-joined", NULL, NULL, test_agent_joined_toast);

  return g_test_run ();
}
