/* test-desk-settings.c: the customer application's GSettings (io.github.cxdesk.CxDesk, compiled
 * in the build tree, GSETTINGS_BACKEND=memory) are read at start and written on change: the site
 * a plain launch opens, the window size, the style, the chat panel's side and the chat service
 * address. Real windows (suite ui); the address is a closed local port: nothing is served.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-desk-settings"

#include "config.h"

#include <gtk/gtk.h>

#include "customer/cx-desk-application.h"
#include "customer/cx-desk-config.h"
#include "customer/cx-desk-window.h"
#include "cx-test-ui.h"

#define SITE "http://127.0.0.1:9/remembered"
#define OTHER_SITE "http://127.0.0.1:9/other"
#define DATA_URL "http://127.0.0.1:9/genesys/2/chat/remembered"

static gboolean
prefers_dark (void)
{
  gboolean dark = FALSE;

  g_object_get (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", &dark, NULL);
  return dark;
}

static void
test_remembered (void)
{
  g_autoptr (GSettings) settings = g_settings_new (CX_DESK_APPLICATION_ID);
  g_autofree char *id = cx_test_ui_unique_app_id ("Settings");
  g_autofree char *site = NULL;
  g_autoptr (GError) error = NULL;
  CxDeskApplication *app;
  CxDeskWindow *window;
  JsonObject *webchat;
  GtkWidget *sidebar;
  int width = 0, height = 0;

  g_settings_set_string (settings, "site", SITE);
  g_settings_set_string (settings, "server-url", DATA_URL);
  g_settings_set_int (settings, "window-width", 930);
  g_settings_set_int (settings, "window-height", 630);
  g_settings_set_enum (settings, "theme", 2 /* dark */);
  g_settings_set_enum (settings, "sidebar-position", 1 /* start */);

  app = cx_desk_application_new (id, G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  cx_test_ui_app_set_baseline (app);
  g_assert_true (prefers_dark ());
  webchat = cx_desk_config_get_section (cx_desk_application_get_config (app), "webchat");
  g_assert_cmpstr (json_object_get_string_member (webchat, "dataURL"), ==, DATA_URL);

  /* A plain launch opens the remembered site, at the remembered size, the panel at the start. */
  g_application_activate (G_APPLICATION (app));
  window = CX_DESK_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  g_assert_cmpstr (cx_desk_window_get_site_url (window), ==, SITE);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 930);
  g_assert_cmpint (height, ==, 630);
  sidebar = GTK_WIDGET (cx_desk_window_get_sidebar (window));
  g_assert_true (gtk_widget_get_prev_sibling (sidebar) == NULL);
  g_assert_true (gtk_widget_get_next_sibling (sidebar) ==
                 GTK_WIDGET (cx_desk_window_get_webchat (window)));

  /* The style follows the setting at once. */
  g_settings_set_enum (settings, "theme", 1 /* light */);
  g_assert_false (prefers_dark ());

  /* The last site opened is the one to come back to; the last size too. */
  g_assert_nonnull (cx_desk_application_open_site (app, OTHER_SITE, NULL, &error));
  g_assert_no_error (error);
  site = g_settings_get_string (settings, "site");
  g_assert_cmpstr (site, ==, OTHER_SITE);
  gtk_window_set_default_size (GTK_WINDOW (window), 1030, 730);
  cx_test_ui_window_close (window);
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 1030);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 730);

  cx_test_ui_app_free (app);
}

int
main (int argc, char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/desk-settings/remembered", test_remembered);
  return g_test_run ();
}
