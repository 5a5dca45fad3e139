/* cx-desk-settings.c: what the customer application remembers between launches, in the
 * GSettings schema io.github.cxdesk.CxDesk (data/).
 *
 * - server-url: when set, the chat service address (webchat.dataURL) of the application's
 *   configuration, read at startup (a --config given later still wins for its windows).
 * - site: the site a plain `cxdesk` opens; written each time a site window opens.
 * - theme: light or dark forced through GtkSettings, applied at once when it changes.
 * - sidebar-position: which side of the window the chat panel and its strip are on.
 * - window-width/-height/-maximized: every site window (cx_window_settings_track).
 * - notifications: read by nothing yet here (the toasts' notifications are the widgets').
 *
 * Without the schema installed nothing is remembered and nothing fails.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-desk-settings"

#include "config.h"

#include "customer/cx-desk-config.h"
#include "customer/cx-desk-settings.h"
#include "customer/cx-desk-window.h"
#include "widgets/cx-window-settings.h"

#define SETTINGS_KEY "cx-desk-settings"

enum
{
  THEME_SYSTEM,
  THEME_LIGHT,
  THEME_DARK,
};

enum
{
  SIDEBAR_END,
  SIDEBAR_START,
};

static void
apply_theme (GSettings *settings)
{
  GtkSettings *gtk_settings = gtk_settings_get_default ();

  if (gtk_settings == NULL)
    return;
  /* GTK alone has no system preference to follow: "system" is the theme's own (light) style. */
  g_object_set (gtk_settings, "gtk-application-prefer-dark-theme",
                g_settings_get_enum (settings, "theme") == THEME_DARK, NULL);
}

static void
theme_changed_cb (GSettings *settings, const char *key, gpointer user_data)
{
  apply_theme (settings);
}

/* The chat panel and the sidebar strip are the last children of the window's row: at the start,
 * the strip goes first and the panel next to it, mirrored. */
static void
apply_sidebar_position (GSettings *settings, CxDeskWindow *window)
{
  GtkWidget *sidebar = GTK_WIDGET (cx_desk_window_get_sidebar (window));
  GtkWidget *webchat = GTK_WIDGET (cx_desk_window_get_webchat (window));
  GtkWidget *row = sidebar != NULL ? gtk_widget_get_parent (sidebar) : NULL;

  if (!GTK_IS_BOX (row) || webchat == NULL || gtk_widget_get_parent (webchat) != row)
    return;
  if (g_settings_get_enum (settings, "sidebar-position") == SIDEBAR_START)
    {
      gtk_box_reorder_child_after (GTK_BOX (row), sidebar, NULL);
      gtk_box_reorder_child_after (GTK_BOX (row), webchat, sidebar);
    }
}

static void
window_added_cb (GtkApplication *application, GtkWindow *window, GSettings *settings)
{
  const char *site;

  if (!CX_IS_DESK_WINDOW (window))
    return;
  cx_window_settings_track (settings, window);
  apply_sidebar_position (settings, CX_DESK_WINDOW (window));
  site = cx_desk_window_get_site_url (CX_DESK_WINDOW (window));
  if (site != NULL)
    g_settings_set_string (settings, "site", site);
}

static void
apply_server_url (CxDeskApplication *application, GSettings *settings)
{
  g_autofree char *server_url = g_settings_get_string (settings, "server-url");
  g_autoptr (JsonObject) override = NULL;
  g_autoptr (JsonObject) config = NULL;
  JsonObject *webchat;

  if (*server_url == '\0')
    return;
  override = json_object_new ();
  webchat = json_object_new ();
  json_object_set_string_member (webchat, "dataURL", server_url);
  json_object_set_object_member (override, "webchat", webchat);
  config = cx_desk_config_merge (cx_desk_application_get_config (application), override);
  if (config != NULL)
    cx_desk_application_set_config (application, config);
}

/**
 * cx_desk_settings_attach:
 *
 * At startup: applies the settings and, from then on, keeps them up to date.
 */
void
cx_desk_settings_attach (CxDeskApplication *application)
{
  GSettings *settings = cx_window_settings_new (CX_DESK_APPLICATION_ID);

  if (settings == NULL)
    return;

  g_object_set_data_full (G_OBJECT (application), SETTINGS_KEY, settings, g_object_unref);
  apply_theme (settings);
  apply_server_url (application, settings);
  g_signal_connect_object (settings, "changed::theme", G_CALLBACK (theme_changed_cb), application,
                           0);
  g_signal_connect (application, "window-added", G_CALLBACK (window_added_cb), settings);
}

/**
 * cx_desk_settings_dup_site:
 *
 * Returns: (transfer full) (nullable): the site a plain `cxdesk` opens, if one is remembered
 */
char *
cx_desk_settings_dup_site (CxDeskApplication *application)
{
  GSettings *settings = g_object_get_data (G_OBJECT (application), SETTINGS_KEY);
  char *site;

  if (settings == NULL)
    return NULL;
  site = g_settings_get_string (settings, "site");
  if (*site == '\0')
    g_clear_pointer (&site, g_free);
  return site;
}
