/* cx-window-settings.h: GSettings for an application, when its schema is installed, and a
 * window's size kept in them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

GSettings *cx_window_settings_new (const char *schema_id);
void cx_window_settings_restore (GSettings *settings, GtkWindow *window);
void cx_window_settings_save (GSettings *settings, GtkWindow *window);
void cx_window_settings_track (GSettings *settings, GtkWindow *window);

G_END_DECLS
