/* cx-test-ui.c: what the customer application's UI tests (tests/ui) and bench-restore share.
 * See cx-test-ui.h. Every wait iterates the main context until a condition holds (cx_test_wait
 * of tests/server/cx-test-server.c): no sleeps, no wall-clock deadlines.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-test-ui"

#include "config.h"

#include "cx-test-ui.h"

#include <unistd.h>

#include "cx-test-server.h"
#include "services/cx-webchat-service.h"
#include "widgets/cx-webchat.h"

/* Widgets */

/* The widget under @root whose template (buildable) id is @id, or NULL. */
GtkWidget *
cx_test_ui_find_by_id (GtkWidget *root, const char *id)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (g_strcmp0 (gtk_buildable_get_buildable_id (GTK_BUILDABLE (child)), id) == 0)
        return child;
      found = cx_test_ui_find_by_id (child, id);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The CxChatRow under @root that shows @message, or NULL. */
CxChatRow *
cx_test_ui_find_row (GtkWidget *root, CxChatMessage *message)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      CxChatRow *found;

      if (CX_IS_CHAT_ROW (child) && cx_chat_row_get_message (CX_CHAT_ROW (child)) == message)
        return CX_CHAT_ROW (child);
      found = cx_test_ui_find_row (child, message);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The application and its site windows */

/* A per-test application id (runs never meet): io.github.cxdesk.CxDesk.@name<pid>_<n>. */
char *
cx_test_ui_unique_app_id (const char *name)
{
  static guint counter;

  return g_strdup_printf ("io.github.cxdesk.CxDesk.%s%u_%u", name, (guint) getpid (), counter++);
}

static GQuark
baseline_quark (void)
{
  return g_quark_from_static_string ("test-baseline-refs");
}

/* GtkApplication keeps a reference to itself once registered (it is released at shutdown,
 * which only g_application_run() reaches): what the application holds beyond that is counted
 * here, when it is made, and must be all that is left once its windows are gone. */
void
cx_test_ui_app_set_baseline (CxDeskApplication *app)
{
  g_object_set_qdata (G_OBJECT (app), baseline_quark (),
                      GUINT_TO_POINTER (G_OBJECT (app)->ref_count));
}

/* Closes the windows of @app, waits until the requests they cancelled have unwound and checks
 * the references against the baseline; then drops @app. */
void
cx_test_ui_app_free (CxDeskApplication *app)
{
  guint baseline = GPOINTER_TO_UINT (g_object_get_qdata (G_OBJECT (app), baseline_quark ()));
  GList *windows;
  CxHttp *http;

  while ((windows = gtk_application_get_windows (GTK_APPLICATION (app))) != NULL)
    cx_test_ui_window_close (windows->data);

  /* Requests cancelled by the services hold the CxHttp until they have unwound; then only
   * the application holds it. */
  http = cx_desk_application_get_http (app);
  cx_test_wait (cx_test_has_one_ref, http);
  g_assert_cmpuint (G_OBJECT (app)->ref_count, ==, baseline);
  g_object_unref (app);
}

/* The site window @data has no push socket half open: no chat, push in use, or the server
 * offline. */
gboolean
cx_test_ui_push_settled (gpointer data)
{
  CxDeskWindow *window = data;
  CxWebChatService *service = cx_desk_window_get_service (window);

  return service == NULL || cx_webchat_service_get_chat_id (service) == NULL ||
         cx_webchat_service_get_uses_push (service) ||
         cx_webchat_get_server_offline (cx_desk_window_get_webchat (window));
}

/* The chat panel of the site window @data is open. */
gboolean
cx_test_ui_panel_is_open (gpointer data)
{
  return cx_webchat_get_open (cx_desk_window_get_webchat (data));
}

/* Closes a window as its close button does, and waits until it is gone. The push socket is
 * let open first: cxdesk-server warns about a client that hangs up in the middle of the
 * WebSocket upgrade, and G_DEBUG=fatal-warnings makes that fatal. */
void
cx_test_ui_window_close (CxDeskWindow *window)
{
  gpointer weak = window;

  cx_test_wait (cx_test_ui_push_settled, window);
  g_object_add_weak_pointer (G_OBJECT (window), &weak);
  gtk_window_destroy (GTK_WINDOW (window));
  cx_test_wait (cx_test_pointer_is_null, &weak);
}
