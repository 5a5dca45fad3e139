/* cx-test-gtk.c: wait conditions on widgets. See cx-test-gtk.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-test-gtk"

#include "config.h"

#include "cx-test-gtk.h"

gboolean
cx_test_widget_is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (GTK_WIDGET (data));
}

gboolean
cx_test_widget_is_visible (gpointer data)
{
  return gtk_widget_get_visible (GTK_WIDGET (data));
}
