/* cx-test-gtk.c: wait conditions on widgets. See cx-test-gtk.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-test-gtk"

#include "config.h"

#include "cx-test-gtk.h"

#include "cx-test-server.h"

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

typedef struct
{
  GType type;
  GtkWindow *dialog;
} DialogWait;

static gboolean
dialog_shown (gpointer data)
{
  DialogWait *wait = data;
  g_autoptr (GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, wait->type) && gtk_widget_get_mapped (l->data))
      wait->dialog = l->data;
  return wait->dialog != NULL;
}

GtkWindow *
cx_test_wait_dialog (GType type)
{
  DialogWait wait = { type, NULL };

  cx_test_wait (dialog_shown, &wait);
  return wait.dialog;
}
