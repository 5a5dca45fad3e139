/* bench-first-frame.c: the floor of bench-restore's startup figure. A minimal GtkApplication
 * that shows an empty GtkApplicationWindow of the size of a cxdesk window, prints "first-frame"
 * once the window has drawn its first frame and quits, as `cxdesk` does with
 * CXDESK_EXIT_AFTER_FIRST_FRAME=1 (src/customer/cx-desk-application.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <gtk/gtk.h>

/* As src/customer/cx-desk-window.ui */
#define WIDTH 1100
#define HEIGHT 720

static gboolean
quit_idle_cb (gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
  return G_SOURCE_REMOVE;
}

static void
first_frame_cb (GdkFrameClock *clock, gpointer user_data)
{
  g_signal_handlers_disconnect_by_func (clock, first_frame_cb, user_data);
  g_print ("first-frame\n");
  fflush (stdout);
  g_idle_add_full (G_PRIORITY_DEFAULT, quit_idle_cb, g_object_ref (user_data), g_object_unref);
}

static void
realized_cb (GtkWidget *window, gpointer user_data)
{
  g_signal_handlers_disconnect_by_func (window, realized_cb, user_data);
  g_signal_connect_object (gtk_widget_get_frame_clock (window), "after-paint",
                           G_CALLBACK (first_frame_cb), user_data, 0);
}

static void
activate_cb (GApplication *application, gpointer user_data)
{
  GtkWidget *window = gtk_application_window_new (GTK_APPLICATION (application));

  gtk_window_set_default_size (GTK_WINDOW (window), WIDTH, HEIGHT);
  g_signal_connect (window, "realize", G_CALLBACK (realized_cb), application);
  gtk_window_present (GTK_WINDOW (window));
}

int
main (int argc, char *argv[])
{
  g_autoptr (GtkApplication) application =
      gtk_application_new ("io.github.cxdesk.BenchFirstFrame", G_APPLICATION_DEFAULT_FLAGS);

  g_signal_connect (application, "activate", G_CALLBACK (activate_cb), NULL);
  return g_application_run (G_APPLICATION (application), argc, argv);
}
