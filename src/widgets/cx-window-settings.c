/* cx-window-settings.c: GSettings for an application, when its schema is installed, and a
 * window's size kept in them.
 *
 * g_settings_new() aborts when the schema is not installed (an uninstalled build run without
 * GSETTINGS_SCHEMA_DIR); cx_window_settings_new() looks the schema up first and answers %NULL,
 * so the application runs and remembers nothing. Both applications' schemas have the keys
 * window-width, window-height and window-maximized: cx_window_settings_track() gives a window
 * that size before it is shown and writes the window's size back when it closes (closed by the
 * user or destroyed by app.quit alike).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-window-settings"

#include "config.h"

#include "widgets/cx-window-settings.h"

/**
 * cx_window_settings_new:
 * @schema_id: the application's schema
 *
 * Returns: (transfer full) (nullable): the settings, or %NULL if @schema_id is not installed
 */
GSettings *
cx_window_settings_new (const char *schema_id)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  g_return_val_if_fail (schema_id != NULL, NULL);

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, schema_id, TRUE);
  if (schema == NULL)
    {
      g_debug ("The settings schema %s is not installed: nothing is remembered", schema_id);
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}

/**
 * cx_window_settings_save:
 * @settings: (nullable): the application's settings; %NULL does nothing
 *
 * Keeps @window's size for the next window.
 */
void
cx_window_settings_save (GSettings *settings, GtkWindow *window)
{
  int width = 0, height = 0;

  g_return_if_fail (settings == NULL || G_IS_SETTINGS (settings));
  g_return_if_fail (GTK_IS_WINDOW (window));

  if (settings == NULL)
    return;
  /* A maximized window keeps the size it had before: that is the size to come back to. */
  gtk_window_get_default_size (window, &width, &height);
  g_settings_delay (settings);
  if (width > 0 && height > 0)
    {
      g_settings_set_int (settings, "window-width", MAX (width, 360));
      g_settings_set_int (settings, "window-height", MAX (height, 294));
    }
  g_settings_set_boolean (settings, "window-maximized", gtk_window_is_maximized (window));
  g_settings_apply (settings);
}

/**
 * cx_window_settings_restore:
 * @settings: (nullable): the application's settings; %NULL does nothing
 * @window: a window not shown yet
 *
 * Gives @window the size last saved.
 */
void
cx_window_settings_restore (GSettings *settings, GtkWindow *window)
{
  g_return_if_fail (settings == NULL || G_IS_SETTINGS (settings));
  g_return_if_fail (GTK_IS_WINDOW (window));

  if (settings == NULL)
    return;
  gtk_window_set_default_size (window, g_settings_get_int (settings, "window-width"),
                               g_settings_get_int (settings, "window-height"));
  if (g_settings_get_boolean (settings, "window-maximized"))
    gtk_window_maximize (window);
}

static void
settings_unref_notify (gpointer data, GClosure *closure)
{
  g_object_unref (data);
}

static void
window_unrealize_cb (GtkWindow *window, GSettings *settings)
{
  cx_window_settings_save (settings, window);
}

/**
 * cx_window_settings_track:
 * @settings: (nullable): the application's settings; %NULL does nothing
 * @window: a window not shown yet
 *
 * Gives @window the size last saved, and saves its size when it goes away.
 */
void
cx_window_settings_track (GSettings *settings, GtkWindow *window)
{
  g_return_if_fail (settings == NULL || G_IS_SETTINGS (settings));
  g_return_if_fail (GTK_IS_WINDOW (window));

  if (settings == NULL)
    return;
  cx_window_settings_restore (settings, window);
  /* Unrealize: both a closed window and one destroyed by app.quit pass there, still whole. */
  g_signal_connect_data (window, "unrealize", G_CALLBACK (window_unrealize_cb),
                         g_object_ref (settings), settings_unref_notify, 0);
}
