/* cx-app-chrome.h: what both applications (cxdesk, cxdesk-agent) do alike at startup and for
 * their app.quit and app.about actions.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void cx_app_chrome_startup (GtkApplication *application, const char *style_resource);
void cx_app_chrome_quit (GtkApplication *application);
void cx_app_chrome_show_about (GtkApplication *application, const char *program_name,
                               const char *icon_name, const char *comments);

G_END_DECLS
