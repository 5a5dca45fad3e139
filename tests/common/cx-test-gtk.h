/* cx-test-gtk.h: wait conditions on widgets that the customer and the agent UI tests share, and
 * the dialog a window opened.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Conditions for cx_test_wait(): the GtkWidget @data is mapped, or visible. */
gboolean cx_test_widget_is_mapped (gpointer data);
gboolean cx_test_widget_is_visible (gpointer data);

/* Waits until a toplevel of @type (a GtkDialog type) is shown, and returns it. */
GtkWindow *cx_test_wait_dialog (GType type);

G_END_DECLS
