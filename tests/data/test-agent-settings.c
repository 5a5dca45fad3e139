/* test-agent-settings.c: the agent application's GSettings (io.github.cxdesk.CxDesk.Agent,
 * compiled in the build tree, GSETTINGS_BACKEND=memory) are read at start and written on change:
 * the window size, the server address, the user name to fill in and the conversations open in
 * windows of their own; and its icon is found without installing. Real windows (suite ui); no
 * server is needed: nothing signs in.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-agent-settings"

#include "config.h"

#include <gtk/gtk.h>

#include "agent/cx-agent-application.h"
#include "agent/cx-agent-settings.h"
#include "agent/cx-agent-window.h"
#include "cx-test-agent-ui.h"
#include "cx-test-server.h"

static gboolean
strv_has (GSettings *settings, const char *key, const char *value)
{
  g_auto (GStrv) values = g_settings_get_strv (settings, key);

  return g_strv_contains ((const char *const *) values, value);
}

static void
test_remembered (void)
{
  g_autoptr (GSettings) settings = g_settings_new (CX_AGENT_APPLICATION_ID);
  g_autoptr (GError) error = NULL;
  g_autofree char *server_url = NULL;
  CxAgentApplication *app;
  GtkWindow *window, *chat_window;
  gpointer weak;
  int width = 0, height = 0;

  g_settings_set_int (settings, "window-width", 910);
  g_settings_set_int (settings, "window-height", 610);
  g_settings_set_string (settings, "server-url", "http://127.0.0.1:9/");
  g_settings_set_string (settings, "last-user", "anna");

  /* What handle_local_options does when the command line names no server and no user. */
  app = cx_agent_application_new ("io.github.cxdesk.CxDesk.Agent.TestSettings",
                                  G_APPLICATION_NON_UNIQUE);
  cx_agent_settings_restore_sign_in (app, FALSE, FALSE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (cx_agent_application_get_server_url (app), ==, "http://127.0.0.1:9/");
  /* The About window's logo, found in the GResource when the app is not installed. */
  g_assert_true (gtk_icon_theme_has_icon (
      gtk_icon_theme_get_for_display (gdk_display_get_default ()), CX_AGENT_APPLICATION_ID));

  /* The size comes back; the size at closing is kept. */
  window = cx_agent_application_new_window (app);
  gtk_window_get_default_size (window, &width, &height);
  g_assert_cmpint (width, ==, 910);
  g_assert_cmpint (height, ==, 610);
  gtk_window_set_default_size (window, 1010, 710);

  /* A changed server is remembered. */
  g_assert_true (cx_agent_application_set_server_url (app, "http://127.0.0.1:10/", &error));
  g_assert_no_error (error);
  g_assert_nonnull (cx_agent_application_get_service (app, &error));
  server_url = g_settings_get_string (settings, "server-url");
  g_assert_cmpstr (server_url, ==, "http://127.0.0.1:10/");

  /* A conversation in a window of its own is listed while the window is open, and dropped
   * when the agent closes it. */
  chat_window = cx_agent_application_open_chat_window (app, "chat-settings-1");
  g_assert_true (strv_has (settings, "open-conversations", "chat-settings-1"));
  weak = chat_window;
  g_object_add_weak_pointer (G_OBJECT (chat_window), &weak);
  gtk_window_close (chat_window);
  cx_test_wait (cx_test_pointer_is_null, &weak);
  g_assert_false (strv_has (settings, "open-conversations", "chat-settings-1"));

  /* Quitting keeps the list: app.quit destroys windows without a close request. */
  cx_agent_application_open_chat_window (app, "chat-settings-2");
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  g_assert_true (strv_has (settings, "open-conversations", "chat-settings-2"));
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 1010);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 710);

  cx_test_agent_ui_app_free (app);
}

int
main (int argc, char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/agent-settings/remembered", test_remembered);
  return g_test_run ();
}
