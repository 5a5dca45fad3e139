/* cx-agent-application.c: the agent workspace application.
 *
 * Command line: `cxdesk-agent [--server URL]`. Single instance: a later run presents the
 * running one. The application owns the one CxHttp: every window's AgentService shares its
 * cookie jar, so signing in in one window signs in all of them, and a new window (Ctrl+N)
 * opens signed in.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-application"

#include "config.h"

#include <glib/gi18n.h>

#include "agent/cx-agent-application.h"
#include "agent/cx-agent-window.h"

#define RESOURCE_BASE_PATH "/io/github/cxdesk/CxDesk/Agent"

struct _CxAgentApplication
{
  GtkApplication parent_instance;

  CxHttp *http;
  char *server_url;
};

G_DEFINE_FINAL_TYPE (CxAgentApplication, cx_agent_application, GTK_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "server", 's', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_ ("Connect to the CX Desk server at URL"), N_ ("URL") },
  { NULL }
};

static void
new_window_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  cx_agent_application_new_window (CX_AGENT_APPLICATION (user_data));
}

static void
quit_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  CxAgentApplication *self = user_data;
  GList *windows;

  while ((windows = gtk_application_get_windows (GTK_APPLICATION (self))) != NULL)
    gtk_window_destroy (windows->data);
  g_application_quit (G_APPLICATION (self));
}

static void
about_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  CxAgentApplication *self = user_data;
  static const char *const developers[] = { "The CX Desk authors", NULL };

  gtk_show_about_dialog (gtk_application_get_active_window (GTK_APPLICATION (self)), "program-name",
                         _ ("CX Desk Agent"), "logo-icon-name", CX_AGENT_APPLICATION_ID, "version",
                         PACKAGE_VERSION, "comments", _ ("Answer customers' chats"), "license-type",
                         GTK_LICENSE_GPL_3_0, "authors", developers, NULL);
}

static const GActionEntry app_actions[] = {
  { "new-window", new_window_activated },
  { "quit", quit_activated },
  { "about", about_activated },
};

static void
cx_agent_application_startup (GApplication *application)
{
  CxAgentApplication *self = CX_AGENT_APPLICATION (application);
  g_autoptr (GtkCssProvider) css = NULL;
  static const char *const new_window_accels[] = { "<Control>n", NULL };
  static const char *const close_accels[] = { "<Control>w", NULL };
  static const char *const quit_accels[] = { "<Control>q", NULL };

  G_APPLICATION_CLASS (cx_agent_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.new-window",
                                         new_window_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "window.close", close_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);

  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, RESOURCE_BASE_PATH "/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  self->http = cx_http_new (NULL);
}

static void
cx_agent_application_activate (GApplication *application)
{
  CxAgentApplication *self = CX_AGENT_APPLICATION (application);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = cx_agent_application_new_window (self);
  gtk_window_present (window);
}

static int
cx_agent_application_handle_local_options (GApplication *application, GVariantDict *options)
{
  CxAgentApplication *self = CX_AGENT_APPLICATION (application);
  const char *server = NULL;

  if (g_variant_dict_lookup (options, "server", "&s", &server))
    cx_agent_application_set_server_url (self, server);
  return -1;
}

static void
cx_agent_application_dispose (GObject *object)
{
  CxAgentApplication *self = CX_AGENT_APPLICATION (object);

  g_clear_object (&self->http);

  G_OBJECT_CLASS (cx_agent_application_parent_class)->dispose (object);
}

static void
cx_agent_application_finalize (GObject *object)
{
  CxAgentApplication *self = CX_AGENT_APPLICATION (object);

  g_free (self->server_url);

  G_OBJECT_CLASS (cx_agent_application_parent_class)->finalize (object);
}

static void
cx_agent_application_class_init (CxAgentApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *application_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = cx_agent_application_dispose;
  object_class->finalize = cx_agent_application_finalize;
  application_class->startup = cx_agent_application_startup;
  application_class->activate = cx_agent_application_activate;
  application_class->handle_local_options = cx_agent_application_handle_local_options;
}

static void
cx_agent_application_init (CxAgentApplication *self)
{
  self->server_url = g_strdup (CX_AGENT_DEFAULT_SERVER);
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
}

CxAgentApplication *
cx_agent_application_new (const char *application_id, GApplicationFlags flags)
{
  CxAgentApplication *self = g_object_new (
      CX_TYPE_AGENT_APPLICATION, "application-id",
      application_id != NULL ? application_id : CX_AGENT_APPLICATION_ID, "flags", flags, NULL);

  /* Templates are found under the real id's path, whatever the id. */
  g_application_set_resource_base_path (G_APPLICATION (self), RESOURCE_BASE_PATH);
  return self;
}

/**
 * cx_agent_application_get_http:
 *
 * Returns: (transfer none) (nullable): the application's one CxHttp, once registered
 */
CxHttp *
cx_agent_application_get_http (CxAgentApplication *self)
{
  g_return_val_if_fail (CX_IS_AGENT_APPLICATION (self), NULL);

  return self->http;
}

const char *
cx_agent_application_get_server_url (CxAgentApplication *self)
{
  g_return_val_if_fail (CX_IS_AGENT_APPLICATION (self), NULL);

  return self->server_url;
}

void
cx_agent_application_set_server_url (CxAgentApplication *self, const char *server_url)
{
  g_return_if_fail (CX_IS_AGENT_APPLICATION (self));
  g_return_if_fail (server_url != NULL);

  g_free (self->server_url);
  self->server_url = g_strdup (server_url);
}

/**
 * cx_agent_application_new_window:
 *
 * Opens a window; it is signed in if the application is.
 *
 * Returns: (transfer none): the window
 */
GtkWindow *
cx_agent_application_new_window (CxAgentApplication *self)
{
  GtkWindow *window;

  g_return_val_if_fail (CX_IS_AGENT_APPLICATION (self), NULL);

  window = GTK_WINDOW (cx_agent_window_new (self));
  gtk_window_present (window);
  return window;
}
