/* cx-app-chrome.c: the application chrome both apps share, so that their accelerators, style
 * sheet, quitting and About dialog stay alike: each application's startup calls
 * cx_app_chrome_startup() and adds its own actions and accelerators after it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-app-chrome"

#include "config.h"

#include "widgets/cx-app-chrome.h"

/**
 * cx_app_chrome_startup:
 * @style_resource: the application's style sheet in its GResource
 *
 * Sets the accelerators every CX Desk app has (Ctrl+N app.new-window, Ctrl+W window.close,
 * Ctrl+Q app.quit) and loads @style_resource for the display.
 */
void
cx_app_chrome_startup (GtkApplication *application, const char *style_resource)
{
  g_autoptr (GtkCssProvider) css = NULL;
  static const char *const new_window_accels[] = { "<Control>n", NULL };
  static const char *const close_accels[] = { "<Control>w", NULL };
  static const char *const quit_accels[] = { "<Control>q", NULL };

  g_return_if_fail (GTK_IS_APPLICATION (application));
  g_return_if_fail (style_resource != NULL);

  gtk_application_set_accels_for_action (application, "app.new-window", new_window_accels);
  gtk_application_set_accels_for_action (application, "window.close", close_accels);
  gtk_application_set_accels_for_action (application, "app.quit", quit_accels);

  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, style_resource);
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

/**
 * cx_app_chrome_quit:
 *
 * app.quit: closing every window ends the application the way closing the last one does.
 */
void
cx_app_chrome_quit (GtkApplication *application)
{
  GList *windows;

  g_return_if_fail (GTK_IS_APPLICATION (application));

  while ((windows = gtk_application_get_windows (application)) != NULL)
    gtk_window_destroy (windows->data);
  g_application_quit (G_APPLICATION (application));
}

/**
 * cx_app_chrome_show_about:
 * @program_name: (translated): the application's name
 * @comments: (translated): one line on what it is for
 *
 * app.about: the About dialog, over the active window.
 */
void
cx_app_chrome_show_about (GtkApplication *application, const char *program_name,
                          const char *icon_name, const char *comments)
{
  static const char *const developers[] = { "The CX Desk authors", NULL };

  g_return_if_fail (GTK_IS_APPLICATION (application));

  gtk_show_about_dialog (gtk_application_get_active_window (application), "program-name",
                         program_name, "logo-icon-name", icon_name, "version", PACKAGE_VERSION,
                         "comments", comments, "license-type", GTK_LICENSE_GPL_3_0, "authors",
                         developers, NULL);
}
