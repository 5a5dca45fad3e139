/* cx-test-agent-ui.c: what the agent workspace's UI tests (tests/ui-agent) share. See
 * cx-test-agent-ui.h. Every wait iterates the main context until a condition holds (cx_test_wait
 * of tests/server/cx-test-server.c): no sleeps, no wall-clock deadlines.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-test-agent-ui"

#include "config.h"

#include "cx-test-agent-ui.h"

#include <unistd.h>

#include "cx-test-server.h"

/* The application and its windows */

/* A new application instance with a per-test id (runs never meet),
 * io.github.cxdesk.CxDesk.Agent.@name<pid>_<n>, talking to @server_url. */
CxAgentApplication *
cx_test_agent_ui_app_new (const char *name, const char *server_url)
{
  static guint counter;
  g_autofree char *id =
      g_strdup_printf ("io.github.cxdesk.CxDesk.Agent.%s%u_%u", name, (guint) getpid (), counter++);
  g_autoptr (GError) error = NULL;
  CxAgentApplication *app = cx_agent_application_new (id, G_APPLICATION_NON_UNIQUE);

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (cx_agent_application_get_http (app));
  g_assert_true (cx_agent_application_set_server_url (app, server_url, &error));
  g_assert_no_error (error);
  return app;
}

static gboolean
http_only_held_by_app (gpointer data)
{
  CxAgentApplication *app = data;
  g_autoptr (CxAgentService) service = NULL;

  g_object_get (app, "service", &service, NULL);
  /* The app's reference, and the disposed session's until the app drops it. */
  return G_OBJECT (cx_agent_application_get_http (app))->ref_count <= (service != NULL ? 2 : 1);
}

/* Closes the windows of @app one by one, waits until the requests they cancelled have unwound,
 * and drops @app. */
void
cx_test_agent_ui_app_free (CxAgentApplication *app)
{
  GList *windows;

  while ((windows = gtk_application_get_windows (GTK_APPLICATION (app))) != NULL)
    {
      gpointer weak = windows->data;

      g_object_add_weak_pointer (G_OBJECT (weak), &weak);
      gtk_window_destroy (windows->data);
      cx_test_wait (cx_test_pointer_is_null, &weak);
    }

  /* The app's session goes with the app; requests cancelled by it hold the CxHttp until they
   * have unwound. */
  {
    g_autoptr (CxAgentService) service = NULL;

    g_object_get (app, "service", &service, NULL);
    if (service != NULL)
      {
        g_object_run_dispose (G_OBJECT (service));
        g_clear_object (&service);
      }
  }
  cx_test_wait (http_only_held_by_app, app);
  g_object_unref (app);
}

/* The one place that knows the window's widgets: by their template (buildable) id. */
gpointer
cx_test_agent_ui_child (CxAgentWindow *window, const char *id)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (window), CX_TYPE_AGENT_WINDOW, id);

  g_assert_nonnull (object);
  return object;
}

CxAgentWindow *
cx_test_agent_ui_window_open (CxAgentApplication *app)
{
  CxAgentWindow *window = CX_AGENT_WINDOW (cx_agent_application_new_window (app));

  cx_test_wait (cx_test_widget_is_mapped, window);
  return window;
}

/* The window app.new-window opened: the one that was not there before. */
CxAgentWindow *
cx_test_agent_ui_window_open_with_action (CxAgentApplication *app)
{
  g_autoptr (GList) before = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (app)));
  CxAgentWindow *window = NULL;

  g_action_group_activate_action (G_ACTION_GROUP (app), "new-window", NULL);
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l != NULL; l = l->next)
    if (g_list_find (before, l->data) == NULL)
      window = l->data;
  g_assert_nonnull (window);
  cx_test_wait (cx_test_widget_is_mapped, window);
  return window;
}

typedef struct
{
  CxAgentWindow *window;
  const char *page;
} PageWait;

static gboolean
page_shown (gpointer data)
{
  PageWait *wait = data;

  return g_strcmp0 (
             gtk_stack_get_visible_child_name (cx_test_agent_ui_child (wait->window, "stack")),
             wait->page) == 0;
}

/* Waits until the window's stack shows @page. */
void
cx_test_agent_ui_wait_page (CxAgentWindow *window, const char *page)
{
  PageWait wait = { window, page };

  cx_test_wait (page_shown, &wait);
}

/* Labels */

/* A GtkLabel under @widget whose text is @text, or NULL. */
GtkLabel *
cx_test_agent_ui_find_label (GtkWidget *widget, const char *text)
{
  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return GTK_LABEL (widget);

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkLabel *found = cx_test_agent_ui_find_label (c, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* A label under @widget one of whose lines is @text (a conversation row is one label: the name,
 * then the channel and queue or what the chat is doing). */
GtkLabel *
cx_test_agent_ui_find_label_line (GtkWidget *widget, const char *text)
{
  if (GTK_IS_LABEL (widget))
    {
      g_auto (GStrv) lines = g_strsplit (gtk_label_get_text (GTK_LABEL (widget)), "\n", -1);

      if (g_strv_contains ((const char *const *) lines, text))
        return GTK_LABEL (widget);
    }

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkLabel *found = cx_test_agent_ui_find_label_line (c, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct
{
  GtkWidget *root;
  const char *text;
} LabelWait;

static gboolean
label_shown (gpointer data)
{
  LabelWait *wait = data;

  return cx_test_agent_ui_find_label (wait->root, wait->text) != NULL;
}

/* Waits until a GtkLabel under @root says @text, and returns it. */
GtkLabel *
cx_test_agent_ui_wait_label (GtkWidget *root, const char *text)
{
  LabelWait wait = { root, text };

  cx_test_wait (label_shown, &wait);
  return cx_test_agent_ui_find_label (root, text);
}
