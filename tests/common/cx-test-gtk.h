/* cx-test-gtk.h: wait conditions on widgets that the customer and the agent UI tests share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Conditions for cx_test_wait(): the GtkWidget @data is mapped, or visible. */
gboolean cx_test_widget_is_mapped (gpointer data);
gboolean cx_test_widget_is_visible (gpointer data);

G_END_DECLS
