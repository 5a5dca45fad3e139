/* cx-desk-application.c: the customer application.
 *
 * Command line: `cxdesk [--site URL] [--config FILE] [URL…]`. The first run becomes the
 * primary instance; a later run hands its command line to it over D-Bus (GApplication's
 * HANDLES_COMMAND_LINE) and exits with its status: each site named opens a NEW window in the
 * running instance, as `firefox URL` opens a tab. --config FILE is read relative to the
 * directory the command was run in and overrides the built-in configuration for the windows
 * that command opens (the primary instance's own --config becomes the application's).
 *
 * The application owns the one CxHttp: windows share its cookie jar the way a browser's tabs
 * share theirs, so a chat in one window is restored in the next; a new application instance
 * (after quitting) has an empty jar and restores nothing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-desk-application"

#include "config.h"

#include <glib/gi18n.h>

#include "customer/cx-desk-application.h"
#include "customer/cx-desk-config.h"

#define RESOURCE_BASE_PATH "/io/github/cxdesk/CxDesk"

struct _CxDeskApplication
{
  GtkApplication parent_instance;

  CxHttp *http;
  JsonObject *config;
};

G_DEFINE_FINAL_TYPE (CxDeskApplication, cx_desk_application, GTK_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "site", 's', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_ ("Open a window on the site at URL"), N_ ("URL") },
  { "config", 'c', G_OPTION_FLAG_NONE, G_OPTION_ARG_FILENAME, NULL,
    N_ ("Read the widgets configuration from FILE"), N_ ("FILE") },
  { "version", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL, N_ ("Show the version and exit"),
    NULL },
  { G_OPTION_REMAINING, 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING_ARRAY, NULL, NULL,
    N_ ("[URL…]") },
  { NULL }
};

static CxDeskWindow *
active_desk_window (CxDeskApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  return CX_IS_DESK_WINDOW (window) ? CX_DESK_WINDOW (window) : NULL;
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
  CxDeskApplication *self = user_data;
  GList *windows;

  /* Closing every window ends the application the way closing the last one does. */
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (self))) != NULL)
    gtk_window_destroy (windows->data);
  g_application_quit (G_APPLICATION (self));
}

static void
about_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  CxDeskApplication *self = user_data;
  static const char *const developers[] = { "The CX Desk authors", NULL };

  gtk_show_about_dialog (gtk_application_get_active_window (GTK_APPLICATION (self)), "program-name",
                         _ ("CX Desk"), "logo-icon-name", CX_DESK_APPLICATION_ID, "version",
                         PACKAGE_VERSION, "comments",
                         _ ("Chat with a support agent from a site window"), "license-type",
                         GTK_LICENSE_GPL_3_0, "authors", developers, NULL);
}

static const GActionEntry app_actions[] = {
  { "new-window", new_window_activated },
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
  g_autoptr (GtkCssProvider) css = NULL;
  static const char *const new_window_accels[] = { "<Control>n", NULL };
  static const char *const close_accels[] = { "<Control>w", NULL };
  static const char *const quit_accels[] = { "<Control>q", NULL };
  static const char *const open_chat_accels[] = { "F1", NULL };

  G_APPLICATION_CLASS (cx_desk_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.new-window",
                                         new_window_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "window.close", close_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.open-chat", open_chat_accels);

  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, RESOURCE_BASE_PATH "/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  gtk_window_set_default_icon_name (CX_DESK_APPLICATION_ID);
  self->http = cx_http_new (NULL);
  apply_config (self);
}

static void
cx_desk_application_activate (GApplication *application)
{
  CxDeskApplication *self = CX_DESK_APPLICATION (application);
  CxDeskWindow *window = active_desk_window (self);
  g_autoptr (GError) error = NULL;

  if (window != NULL)
    {
      gtk_window_present (GTK_WINDOW (window));
      return;
    }

  if (cx_desk_application_open_site (self, CX_DESK_DEFAULT_SITE, NULL, &error) == NULL)
    g_message ("Cannot open a window: %s", error->message);
}

static int
cx_desk_application_handle_local_options (GApplication *application, GVariantDict *options)
{
  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("cxdesk %s\n", PACKAGE_VERSION);
      return 0;
    }

  /* Everything else goes to the primary instance. */
  return -1;
}

static int
cx_desk_application_command_line (GApplication *application, GApplicationCommandLine *command_line)
{
  CxDeskApplication *self = CX_DESK_APPLICATION (application);
  GVariantDict *options = g_application_command_line_get_options_dict (command_line);
  g_autoptr (JsonObject) config = json_object_ref (self->config);
  g_autoptr (GPtrArray) sites = g_ptr_array_new ();
  g_autofree const char **remaining = NULL;
  const char *config_path = NULL;
  const char *site = NULL;

  g_variant_dict_lookup (options, "site", "&s", &site);
  g_variant_dict_lookup (options, "config", "^&ay", &config_path);
  g_variant_dict_lookup (options, G_OPTION_REMAINING, "^a&s", &remaining);

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
      CxDeskWindow *window = active_desk_window (self);

      /* Plain `cxdesk` again: show what is there; with a new configuration, a new window. */
      if (window != NULL && config_path == NULL)
        {
          gtk_window_present (GTK_WINDOW (window));
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

      if (cx_desk_application_open_site (self, g_ptr_array_index (sites, i), config, &error) ==
          NULL)
        {
          g_application_command_line_printerr (command_line, "%s\n", error->message);
          return 1;
        }
    }

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

  object_class->dispose = cx_desk_application_dispose;
  object_class->finalize = cx_desk_application_finalize;

  application_class->startup = cx_desk_application_startup;
  application_class->activate = cx_desk_application_activate;
  application_class->handle_local_options = cx_desk_application_handle_local_options;
  application_class->command_line = cx_desk_application_command_line;
  application_class->shutdown = cx_desk_application_shutdown;
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
