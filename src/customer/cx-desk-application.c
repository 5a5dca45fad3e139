/* cx-desk-application.c: the customer application.
 *
 * Command line: `cxdesk [--site URL] [--config FILE] [URL…]`. The first run becomes the
 * primary instance; a later run hands its command line to it over D-Bus (GApplication's
 * HANDLES_COMMAND_LINE) and exits with its status: each site named opens a NEW window in the
 * running instance, as `firefox URL` opens a tab. --config FILE is read relative to the
 * directory the command was run in and overrides the built-in configuration for the windows
 * that command opens (the primary instance's own --config becomes the application's).
 *
 * `cxdesk --command NAME [--data JSON]` runs a bus command in the running instance's active site
 * window (opening one if there is none), as a page script does with CXBus.command: the commander
 * is "App". The command line stays open until the command resolves: its result is printed as
 * JSON on stdout (status 0), a rejection as "Rejected: <message>" on stderr (status 1). --data
 * that is not JSON is refused before anything runs (status 2). Run as the first instance, it
 * opens the window, runs the command and goes on running. Commands that read local files
 * (WebChatService.sendFile) are refused from outside. The same is exported on D-Bus, on the
 * application's object path: io.github.cxdesk.CxDesk.Bus.Command (s name, s data_json) →
 * (s result_json); a rejection is the D-Bus error io.github.cxdesk.CxDesk.Bus.Error.Rejected
 * with the rejection's message, data that is not JSON org.freedesktop.DBus.Error.InvalidArgs.
 *
 * Every site window's bus keeps its recent traffic (CX_CONSOLE_BUS_LOG_SIZE entries) and has the
 * "Console" plugin; app.console (Ctrl+Shift+D) opens the Console of the active site window.
 *
 * The application owns the one CxHttp: windows share its cookie jar the way a browser's tabs
 * share theirs, so a chat in one window is restored in the next; a new application instance
 * (after quitting) has an empty jar and restores nothing.
 *
 * main.lang of the configuration (--config FILE, or the built-in one) sets the language of the
 * application's text before GTK starts (cx_desk_config_apply_lang); without it the locale
 * decides. A later run's --config opens windows but does not change the running instance's
 * language.
 *
 * For benchmarks (not an option, so not in --help): with CXDESK_EXIT_AFTER_FIRST_FRAME=1 in the
 * environment, the application prints "first-frame" on stdout once its first window has drawn
 * its first frame, then quits (tests/bench/bench-restore.c measures startup with it).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-desk-application"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "customer/cx-console.h"
#include "customer/cx-desk-application.h"
#include "customer/cx-desk-config.h"
#include "customer/cx-desk-settings.h"
#include "protocol/cx-protocol.h"
#include "widgets/cx-app-chrome.h"

#define RESOURCE_BASE_PATH "/io/github/cxdesk/CxDesk"
#define BUS_INTERFACE "io.github.cxdesk.CxDesk.Bus"
#define BUS_ERROR_REJECTED BUS_INTERFACE ".Error.Rejected"
#define EXIT_AFTER_FIRST_FRAME_ENV "CXDESK_EXIT_AFTER_FIRST_FRAME"

/* Exit statuses of `cxdesk --command` */
#define STATUS_REJECTED 1
#define STATUS_BAD_DATA 2

static const char bus_introspection_xml[] =
    "<node>"
    "  <interface name='" BUS_INTERFACE "'>"
    "    <method name='Command'>"
    "      <arg type='s' name='name' direction='in'/>"
    "      <arg type='s' name='data_json' direction='in'/>"
    "      <arg type='s' name='result_json' direction='out'/>"
    "    </method>"
    "  </interface>"
    "</node>";

struct _CxDeskApplication
{
  GtkApplication parent_instance;

  CxHttp *http;
  JsonObject *config;

  GDBusConnection *dbus_connection;
  guint dbus_object_id;

  gboolean exit_after_first_frame;
  gboolean first_frame_watched;
};

G_DEFINE_FINAL_TYPE (CxDeskApplication, cx_desk_application, GTK_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "site", 's', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_ ("Open a window on the site at URL"), N_ ("URL") },
  { "config", 'c', G_OPTION_FLAG_NONE, G_OPTION_ARG_FILENAME, NULL,
    N_ ("Read the widgets configuration from FILE"), N_ ("FILE") },
  { "command", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_ ("Run a bus command in the active window and print its result"), N_ ("NAME") },
  { "data", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_ ("The command’s data, as JSON (with --command)"), N_ ("JSON") },
  { "version", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL, N_ ("Show the version and exit"),
    NULL },
  { G_OPTION_REMAINING, 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING_ARRAY, NULL, NULL,
    N_ ("[URL…]") },
  { NULL }
};

/* The site window focused last (a Console in front of it does not count). */
static CxDeskWindow *
active_desk_window (CxDeskApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (CX_IS_DESK_WINDOW (l->data))
      return l->data;

  return NULL;
}

/* The active site window, or a new one on the default site: a command needs a page to run in. */
static CxDeskWindow *
command_window (CxDeskApplication *self, GError **error)
{
  CxDeskWindow *window = active_desk_window (self);

  if (window != NULL)
    return window;
  return cx_desk_application_open_site (self, CX_DESK_DEFAULT_SITE, NULL, error);
}

/* --data and the D-Bus method's data_json: empty is no data, anything else must be JSON. Read
 * with the protocol's parser, which bounds the size and the depth: json-glib alone recurses
 * without limit, and a D-Bus peer must not be able to crash the application. */
#define COMMAND_DATA_MAX_SIZE (1024 * 1024)

static gboolean
parse_command_data (const char *text, JsonNode **data, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  *data = NULL;
  while (text != NULL && g_ascii_isspace (*text))
    text++;
  if (text == NULL || *text == '\0')
    return TRUE;

  *data = cx_json_parse (text, strlen (text), COMMAND_DATA_MAX_SIZE, &local_error);
  if (*data == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _ ("The data is not JSON: %s"),
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* What a command from outside the application may not do: read a local file and send it to
 * the contact center. Any program on the session bus may call the D-Bus method. */
static const char *const local_only_commands[] = {
  "WebChatService.sendFile",
  NULL,
};

static gboolean
check_remote_command (const char *name, GError **error)
{
  if (name == NULL || !g_strv_contains (local_only_commands, name))
    return TRUE;

  g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_ACCESS_DENIED,
               _ ("%s can only be run from inside the application"), name);
  return FALSE;
}

static char *
result_to_json (JsonNode *result)
{
  if (result == NULL)
    return g_strdup ("null");
  return json_to_string (result, FALSE);
}

/* `cxdesk --command` */

static void
command_line_command_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GApplicationCommandLine) command_line = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);

  if (reply == NULL)
    {
      /* Translators: the answer of `cxdesk --command` to a rejected command, %s says why */
      g_application_command_line_printerr (command_line, _ ("Rejected: %s\n"), error->message);
      g_application_command_line_set_exit_status (command_line, STATUS_REJECTED);
    }
  else
    {
      g_autofree char *text = result_to_json (reply);

      g_application_command_line_print (command_line, "%s\n", text);
      g_application_command_line_set_exit_status (command_line, 0);
    }
  /* The last reference: a remote `cxdesk` exits now, with the status. */
}

/* The D-Bus method */

static void
dbus_command_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GDBusMethodInvocation *invocation = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  g_autofree char *text = NULL;

  if (reply == NULL)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, BUS_ERROR_REJECTED, error->message);
      return;
    }

  text = result_to_json (reply);
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", text));
}

static void
dbus_method_call_cb (GDBusConnection *connection, const char *sender, const char *object_path,
                     const char *interface_name, const char *method_name, GVariant *parameters,
                     GDBusMethodInvocation *invocation, gpointer user_data)
{
  CxDeskApplication *self = user_data;
  g_autoptr (JsonNode) data = NULL;
  g_autoptr (GError) error = NULL;
  const char *name = NULL;
  const char *data_json = NULL;
  CxDeskWindow *window;

  if (g_strcmp0 (method_name, "Command") != 0)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                             _ ("No such method: %s"), method_name);
      return;
    }

  g_variant_get (parameters, "(&s&s)", &name, &data_json);
  if (!check_remote_command (name, &error))
    {
      g_dbus_method_invocation_return_dbus_error (invocation, BUS_ERROR_REJECTED, error->message);
      return;
    }
  if (!parse_command_data (data_json, &data, &error))
    {
      g_dbus_method_invocation_return_error_literal (invocation, G_DBUS_ERROR,
                                                     G_DBUS_ERROR_INVALID_ARGS, error->message);
      return;
    }

  window = command_window (self, &error);
  if (window == NULL)
    {
      g_dbus_method_invocation_return_error_literal (invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                                                     error->message);
      return;
    }

  /* The invocation is answered, and freed, when the command resolves. */
  cx_bus_command_async (cx_desk_window_get_bus (window), NULL, name, data, 0, NULL, dbus_command_cb,
                        invocation);
}

static const GDBusInterfaceVTable bus_interface_vtable = {
  .method_call = dbus_method_call_cb,
};

static GDBusInterfaceInfo *
bus_interface_info (void)
{
  static GDBusNodeInfo *info;

  if (g_once_init_enter (&info))
    {
      GDBusNodeInfo *parsed = g_dbus_node_info_new_for_xml (bus_introspection_xml, NULL);

      g_assert (parsed != NULL);
      g_once_init_leave (&info, parsed);
    }
  return info->interfaces[0];
}

/* The Console, and the benchmark's first frame */

static void
console_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  CxDeskApplication *self = user_data;
  CxDeskWindow *window = active_desk_window (self);

  if (window != NULL)
    cx_console_present_for (GTK_WINDOW (window), cx_desk_window_get_bus (window));
}

static gboolean
quit_idle_cb (gpointer user_data)
{
  g_action_group_activate_action (G_ACTION_GROUP (user_data), "quit", NULL);
  return G_SOURCE_REMOVE;
}

static void
first_frame_cb (GdkFrameClock *clock, gpointer user_data)
{
  CxDeskApplication *self = user_data;

  g_signal_handlers_disconnect_by_func (clock, first_frame_cb, user_data);
  g_print ("first-frame\n");
  fflush (stdout);
  g_idle_add_full (G_PRIORITY_DEFAULT, quit_idle_cb, g_object_ref (self), g_object_unref);
}

static void
first_window_realized_cb (GtkWidget *window, gpointer user_data)
{
  g_signal_handlers_disconnect_by_func (window, first_window_realized_cb, user_data);
  g_signal_connect_object (gtk_widget_get_frame_clock (window), "after-paint",
                           G_CALLBACK (first_frame_cb), user_data, 0);
}

static void
new_window_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  CxDeskApplication *self = user_data;
  CxDeskWindow *active = active_desk_window (self);
  g_autoptr (GError) error = NULL;

  /* Another tab on the same site: it shares (and restores) the site's chat. */
  if (cx_desk_application_open_site (
          self, active != NULL ? cx_desk_window_get_site_url (active) : CX_DESK_DEFAULT_SITE,
          active != NULL ? cx_desk_window_get_config (active) : NULL, &error) == NULL)
    g_message ("Cannot open a window: %s", error->message);
}

static void
quit_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  cx_app_chrome_quit (GTK_APPLICATION (user_data));
}

static void
about_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  cx_app_chrome_show_about (GTK_APPLICATION (user_data), _ ("CX Desk"), CX_DESK_APPLICATION_ID,
                            _ ("Chat with a support agent from a site window"));
}

static const GActionEntry app_actions[] = {
  { "new-window", new_window_activated },
  { "console", console_activated },
  { "quit", quit_activated },
  { "about", about_activated },
};

static void
apply_config (CxDeskApplication *self)
{
  if (self->http != NULL)
    cx_http_set_cookie_domain_override (self->http,
                                        cx_desk_config_get_cookie_domain (self->config));
}

static void
cx_desk_application_startup (GApplication *application)
{
  CxDeskApplication *self = CX_DESK_APPLICATION (application);
  static const char *const open_chat_accels[] = { "F1", NULL };
  static const char *const console_accels[] = { "<Control><Shift>d", NULL };

  G_APPLICATION_CLASS (cx_desk_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  cx_app_chrome_startup (GTK_APPLICATION (self), RESOURCE_BASE_PATH "/style.css");
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.open-chat", open_chat_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.console", console_accels);

  gtk_window_set_default_icon_name (CX_DESK_APPLICATION_ID);
  self->http = cx_http_new (NULL);
  apply_config (self);
  cx_desk_settings_attach (self);
  self->exit_after_first_frame = g_strcmp0 (g_getenv (EXIT_AFTER_FIRST_FRAME_ENV), "1") == 0;
}

static void
cx_desk_application_window_added (GtkApplication *application, GtkWindow *window)
{
  CxDeskApplication *self = CX_DESK_APPLICATION (application);
  CxBus *bus;

  GTK_APPLICATION_CLASS (cx_desk_application_parent_class)->window_added (application, window);

  if (!CX_IS_DESK_WINDOW (window) ||
      (bus = cx_desk_window_get_bus (CX_DESK_WINDOW (window))) == NULL)
    return;

  /* What the Console shows when it opens. */
  if (cx_bus_get_log_size (bus) == 0)
    cx_bus_set_log_size (bus, CX_CONSOLE_BUS_LOG_SIZE);
  if (cx_bus_lookup_plugin (bus, CX_CONSOLE_NAME) == NULL)
    {
      g_autoptr (GError) error = NULL;

      if (!cx_console_add_to_bus (bus, window, &error))
        g_debug ("No Console plugin on this window's bus: %s", error->message);
    }

  if (self->exit_after_first_frame && !self->first_frame_watched)
    {
      self->first_frame_watched = TRUE;
      g_signal_connect_object (window, "realize", G_CALLBACK (first_window_realized_cb), self, 0);
    }
}

static gboolean
cx_desk_application_dbus_register (GApplication *application, GDBusConnection *connection,
                                   const char *object_path, GError **error)
{
  CxDeskApplication *self = CX_DESK_APPLICATION (application);

  if (!G_APPLICATION_CLASS (cx_desk_application_parent_class)
           ->dbus_register (application, connection, object_path, error))
    return FALSE;

  self->dbus_object_id = g_dbus_connection_register_object (
      connection, object_path, bus_interface_info (), &bus_interface_vtable, self, NULL, error);
  if (self->dbus_object_id == 0)
    return FALSE;
  self->dbus_connection = g_object_ref (connection);
  return TRUE;
}

static void
cx_desk_application_dbus_unregister (GApplication *application, GDBusConnection *connection,
                                     const char *object_path)
{
  CxDeskApplication *self = CX_DESK_APPLICATION (application);

  if (self->dbus_object_id != 0 && self->dbus_connection == connection)
    {
      g_dbus_connection_unregister_object (connection, self->dbus_object_id);
      self->dbus_object_id = 0;
      g_clear_object (&self->dbus_connection);
    }

  G_APPLICATION_CLASS (cx_desk_application_parent_class)
      ->dbus_unregister (application, connection, object_path);
}

static void
cx_desk_application_activate (GApplication *application)
{
  CxDeskApplication *self = CX_DESK_APPLICATION (application);
  CxDeskWindow *window = active_desk_window (self);
  g_autoptr (GError) error = NULL;
  g_autofree char *site = NULL;

  if (window != NULL)
    {
      gtk_window_present (GTK_WINDOW (window));
      return;
    }

  site = cx_desk_settings_dup_site (self);
  if (cx_desk_application_open_site (self, site != NULL ? site : CX_DESK_DEFAULT_SITE, NULL,
                                     &error) == NULL)
    g_message ("Cannot open a window: %s", error->message);
}

/* main.lang of the configuration this command line names, or of the built-in one, before
 * startup (GTK) in this process; command_line reads the file again and reports its errors. */
static void
apply_lang (CxDeskApplication *self, GVariantDict *options)
{
  const char *config_path = NULL;
  g_autoptr (JsonObject) override = NULL;

  if (g_variant_dict_lookup (options, "config", "^&ay", &config_path))
    {
      g_autoptr (GFile) file = g_file_new_for_commandline_arg (config_path);

      override = cx_desk_config_load_file (file, NULL);
    }
  if (override == NULL || !cx_desk_config_apply_lang (override))
    cx_desk_config_apply_lang (self->config);
}

static int
cx_desk_application_handle_local_options (GApplication *application, GVariantDict *options)
{
  const char *data = NULL;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("cxdesk %s\n", PACKAGE_VERSION);
      return 0;
    }

  /* Bad data is refused here, before any instance is asked to run anything. */
  if (g_variant_dict_lookup (options, "data", "&s", &data))
    {
      g_autoptr (JsonNode) node = NULL;
      g_autoptr (GError) error = NULL;

      if (!g_variant_dict_contains (options, "command"))
        {
          g_printerr ("%s\n", _ ("--data goes with --command NAME"));
          return STATUS_BAD_DATA;
        }
      if (!parse_command_data (data, &node, &error))
        {
          g_printerr ("%s\n", error->message);
          return STATUS_BAD_DATA;
        }
    }

  apply_lang (CX_DESK_APPLICATION (application), options);

  /* Everything else goes to the primary instance. */
  return -1;
}

/* The command line stays open until the command is answered. */
static void
run_command_line_command (GApplicationCommandLine *command_line, CxDeskWindow *window,
                          const char *command, JsonNode *data)
{
  cx_bus_command_async (cx_desk_window_get_bus (window), NULL, command, data, 0, NULL,
                        command_line_command_cb, g_object_ref (command_line));
}

static int
cx_desk_application_command_line (GApplication *application, GApplicationCommandLine *command_line)
{
  CxDeskApplication *self = CX_DESK_APPLICATION (application);
  GVariantDict *options = g_application_command_line_get_options_dict (command_line);
  g_autoptr (JsonObject) config = json_object_ref (self->config);
  g_autoptr (GPtrArray) sites = g_ptr_array_new ();
  g_autofree const char **remaining = NULL;
  g_autoptr (JsonNode) command_data = NULL;
  const char *config_path = NULL;
  const char *site = NULL;
  const char *command = NULL;
  const char *data = NULL;
  CxDeskWindow *window = NULL;

  g_variant_dict_lookup (options, "site", "&s", &site);
  g_variant_dict_lookup (options, "command", "&s", &command);
  g_variant_dict_lookup (options, "data", "&s", &data);
  g_variant_dict_lookup (options, "config", "^&ay", &config_path);
  g_variant_dict_lookup (options, G_OPTION_REMAINING, "^a&s", &remaining);

  if (command != NULL)
    {
      g_autoptr (GError) error = NULL;

      if (!check_remote_command (command, &error))
        {
          g_application_command_line_printerr (command_line, _ ("Rejected: %s\n"), error->message);
          return STATUS_REJECTED;
        }
      /* Checked by the calling process too; this instance checks what it runs. */
      if (!parse_command_data (data, &command_data, &error))
        {
          g_application_command_line_printerr (command_line, "%s\n", error->message);
          return STATUS_BAD_DATA;
        }
    }

  if (config_path != NULL)
    {
      g_autoptr (GFile) file =
          g_application_command_line_create_file_for_arg (command_line, config_path);
      g_autoptr (JsonObject) override = NULL;
      g_autoptr (GError) error = NULL;

      override = cx_desk_config_load_file (file, &error);
      if (override == NULL)
        {
          g_application_command_line_printerr (command_line, "%s\n", error->message);
          return 1;
        }

      g_clear_pointer (&config, json_object_unref);
      config = cx_desk_config_merge (self->config, override);
      /* The first instance's configuration is the application's. */
      if (!g_application_command_line_get_is_remote (command_line))
        cx_desk_application_set_config (self, config);
    }

  if (site != NULL)
    g_ptr_array_add (sites, (gpointer) site);
  for (guint i = 0; remaining != NULL && remaining[i] != NULL; i++)
    g_ptr_array_add (sites, (gpointer) remaining[i]);

  if (sites->len == 0)
    {
      window = active_desk_window (self);

      /* Plain `cxdesk` again: show what is there; with a new configuration, a new window. A
       * command runs in the active window, without bringing it up. */
      if (window != NULL && config_path == NULL)
        {
          if (command == NULL)
            gtk_window_present (GTK_WINDOW (window));
          else
            run_command_line_command (command_line, window, command, command_data);
          return 0;
        }
      g_ptr_array_add (sites, (gpointer) CX_DESK_DEFAULT_SITE);
    }

  /* Every address is checked before any window opens. */
  for (guint i = 0; i < sites->len; i++)
    {
      g_autofree char *domain = NULL;
      g_autoptr (GError) error = NULL;

      domain = cx_http_get_cookie_domain (self->http, g_ptr_array_index (sites, i), &error);
      if (domain == NULL)
        {
          g_application_command_line_printerr (command_line, "%s\n", error->message);
          return 1;
        }
    }

  for (guint i = 0; i < sites->len; i++)
    {
      g_autoptr (GError) error = NULL;

      window = cx_desk_application_open_site (self, g_ptr_array_index (sites, i), config, &error);
      if (window == NULL)
        {
          g_application_command_line_printerr (command_line, "%s\n", error->message);
          return 1;
        }
    }

  /* With sites named, the command runs in the last window opened. */
  if (command != NULL)
    run_command_line_command (command_line, window, command, command_data);

  return 0;
}

static void
cx_desk_application_shutdown (GApplication *application)
{
  G_APPLICATION_CLASS (cx_desk_application_parent_class)->shutdown (application);
}

static void
cx_desk_application_dispose (GObject *object)
{
  CxDeskApplication *self = CX_DESK_APPLICATION (object);

  if (self->dbus_object_id != 0)
    {
      g_dbus_connection_unregister_object (self->dbus_connection, self->dbus_object_id);
      self->dbus_object_id = 0;
    }
  g_clear_object (&self->dbus_connection);
  g_clear_object (&self->http);

  G_OBJECT_CLASS (cx_desk_application_parent_class)->dispose (object);
}

static void
cx_desk_application_finalize (GObject *object)
{
  CxDeskApplication *self = CX_DESK_APPLICATION (object);

  g_clear_pointer (&self->config, json_object_unref);

  G_OBJECT_CLASS (cx_desk_application_parent_class)->finalize (object);
}

static void
cx_desk_application_class_init (CxDeskApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *application_class = G_APPLICATION_CLASS (klass);
  GtkApplicationClass *gtk_application_class = GTK_APPLICATION_CLASS (klass);

  object_class->dispose = cx_desk_application_dispose;
  object_class->finalize = cx_desk_application_finalize;

  application_class->startup = cx_desk_application_startup;
  application_class->activate = cx_desk_application_activate;
  application_class->handle_local_options = cx_desk_application_handle_local_options;
  application_class->command_line = cx_desk_application_command_line;
  application_class->shutdown = cx_desk_application_shutdown;
  application_class->dbus_register = cx_desk_application_dbus_register;
  application_class->dbus_unregister = cx_desk_application_dbus_unregister;

  gtk_application_class->window_added = cx_desk_application_window_added;
}

static void
cx_desk_application_init (CxDeskApplication *self)
{
  g_autoptr (GError) error = NULL;

  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _ ("[URL…]"));
  g_application_set_option_context_summary (
      G_APPLICATION (self), _ ("Open site windows with a support chat at their side."));

  self->config = cx_desk_config_load_default (&error);
  if (self->config == NULL)
    g_error ("The built-in configuration is missing: %s", error->message);
}

/**
 * cx_desk_application_new:
 * @application_id: (nullable): the id; %NULL for %CX_DESK_APPLICATION_ID
 * @flags: extra #GApplicationFlags (tests add %G_APPLICATION_NON_UNIQUE)
 *
 * Returns: (transfer full): the application
 */
CxDeskApplication *
cx_desk_application_new (const char *application_id, GApplicationFlags flags)
{
  CxDeskApplication *self = g_object_new (
      CX_TYPE_DESK_APPLICATION, "application-id",
      application_id != NULL ? application_id : CX_DESK_APPLICATION_ID, "flags",
      flags | G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_CAN_OVERRIDE_APP_ID, NULL);

  /* Templates and the help overlay are found under the real id's path, whatever the id. */
  g_application_set_resource_base_path (G_APPLICATION (self), RESOURCE_BASE_PATH);
  return self;
}

/**
 * cx_desk_application_get_http:
 *
 * Returns: (transfer none): the application's HTTP client (after startup)
 */
CxHttp *
cx_desk_application_get_http (CxDeskApplication *self)
{
  g_return_val_if_fail (CX_IS_DESK_APPLICATION (self), NULL);

  return self->http;
}

/**
 * cx_desk_application_get_config:
 *
 * Returns: (transfer none): the application's widgets configuration
 */
JsonObject *
cx_desk_application_get_config (CxDeskApplication *self)
{
  g_return_val_if_fail (CX_IS_DESK_APPLICATION (self), NULL);

  return self->config;
}

/**
 * cx_desk_application_set_config:
 * @config: the complete configuration (see cx_desk_config_merge())
 *
 * Windows opened from now on without a configuration of their own use @config; its
 * main.cookieOptions.domain applies to the application's cookie jar.
 */
void
cx_desk_application_set_config (CxDeskApplication *self, JsonObject *config)
{
  g_return_if_fail (CX_IS_DESK_APPLICATION (self));
  g_return_if_fail (config != NULL);

  json_object_ref (config);
  g_clear_pointer (&self->config, json_object_unref);
  self->config = config;
  apply_config (self);
}

/**
 * cx_desk_application_open_site:
 * @site_url: the site's address (http:// or https://)
 * @config: (nullable): the window's widgets configuration; %NULL for the application's
 * @error: return location for a #GError
 *
 * Opens and presents a new window on @site_url. The application must be registered.
 *
 * Returns: (transfer none): the window, or %NULL with @error set (not a site's address)
 */
CxDeskWindow *
cx_desk_application_open_site (CxDeskApplication *self, const char *site_url, JsonObject *config,
                               GError **error)
{
  g_autofree char *domain = NULL;
  CxDeskWindow *window;

  g_return_val_if_fail (CX_IS_DESK_APPLICATION (self), NULL);
  g_return_val_if_fail (site_url != NULL, NULL);
  g_return_val_if_fail (self->http != NULL, NULL);

  domain = cx_http_get_cookie_domain (self->http, site_url, error);
  if (domain == NULL)
    return NULL;

  window = cx_desk_window_new (self, site_url, config != NULL ? config : self->config);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}
