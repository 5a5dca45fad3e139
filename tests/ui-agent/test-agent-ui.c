/* test-agent-ui.c: the agent workspace's real windows against the real cxdesk-server.
 *
 * The application is built in this process (a per-test application id, so runs never meet);
 * its windows are driven the way an agent drives them: entry text set, buttons and actions
 * activated, and what they show is read back from the real widgets. Customers are played over
 * HTTP by tests/server/cx-test-server.c.
 *
 * Every wait iterates the main context until a condition holds (cx_test_wait): no sleeps, and
 * a generous hang guard that fails naming the condition; nothing measures time.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-agent-ui"

#include "config.h"

#include <gtk/gtk.h>
#include <string.h>

#include "agent/cx-agent-application.h"
#include "agent/cx-agent-window.h"
#include "cx-test-agent-ui.h"
#include "cx-test-server.h"

#define SERVICE "customer-support"

typedef CxTestFixture Fixture;

/* The application and its windows */

static void
sign_in (CxAgentWindow *window, const char *username, const char *password)
{
  gtk_editable_set_text (GTK_EDITABLE (cx_test_agent_ui_child (window, "username_entry")),
                         username);
  gtk_editable_set_text (GTK_EDITABLE (cx_test_agent_ui_child (window, "password_entry")),
                         password);
  g_assert_true (
      gtk_widget_activate (GTK_WIDGET (cx_test_agent_ui_child (window, "sign_in_button"))));
}

static gboolean
state_ready (gpointer data)
{
  CxAgentWindow *window = data;

  return gtk_drop_down_get_selected (cx_test_agent_ui_child (window, "state_dropdown")) == 0 &&
         g_strcmp0 (cx_agent_service_get_state (cx_agent_window_get_service (window)), "ready") ==
             0;
}

static gboolean
invitation_shown (gpointer data)
{
  CxAgentWindow *window = data;

  return gtk_revealer_get_reveal_child (cx_test_agent_ui_child (window, "invitation_revealer"));
}

static gboolean
one_conversation (gpointer data)
{
  CxAgentWindow *window = data;
  GtkSelectionModel *model =
      gtk_list_view_get_model (cx_test_agent_ui_child (window, "conversation_list"));

  return model != NULL && g_list_model_get_n_items (G_LIST_MODEL (model)) == 1 &&
         cx_agent_window_get_selected (window) != NULL;
}

/* Tests */

/* Sign in (a wrong password first), a second window signed in already, state in both, an
 * invitation accepted, messages both ways, and signing out everywhere. */
static void
test_workspace (Fixture *f, gconstpointer data)
{
  CxAgentApplication *app = cx_test_agent_ui_app_new ("Test", cx_test_server_get_url (f->server));
  const char *markup = "<b>x</b>";
  const char *reply = "Hi <i>Grace</i> & welcome";
  g_autoptr (CxTestCustomer) customer = NULL;
  CxAgentWindow *a;
  CxAgentWindow *b;
  GtkLabel *label;

  /* Sign in: a wrong password is told inline. */
  a = cx_test_agent_ui_window_open (app);
  cx_test_agent_ui_wait_page (a, "sign-in");
  sign_in (a, "ada", "not-the-password");
  cx_test_wait (cx_test_widget_is_visible, cx_test_agent_ui_child (a, "sign_in_error"));
  g_assert_cmpstr (gtk_label_get_text (cx_test_agent_ui_child (a, "sign_in_error")), ==,
                   "Wrong user name or password.");
  cx_test_agent_ui_wait_page (a, "sign-in");
  sign_in (a, "ada", CX_TEST_ADA_PASSWORD);
  cx_test_agent_ui_wait_page (a, "workspace");
  g_assert_false (gtk_widget_get_visible (cx_test_agent_ui_child (a, "sign_in_error")));
  g_assert_cmpstr (gtk_label_get_text (cx_test_agent_ui_child (a, "title_label")), ==,
                   "Ada Lovelace");
  g_assert_cmpstr (
      gtk_editable_get_text (GTK_EDITABLE (cx_test_agent_ui_child (a, "password_entry"))), ==, "");

  /* A new window is signed in already. */
  b = cx_test_agent_ui_window_open_with_action (app);
  cx_test_agent_ui_wait_page (b, "workspace");

  /* Ready in one window: the other follows. */
  gtk_drop_down_set_selected (cx_test_agent_ui_child (a, "state_dropdown"), 0);
  cx_test_wait (state_ready, b);
  cx_test_wait (state_ready, a);

  /* A customer: the invitation shows, with their name as text. */
  customer = cx_test_customer_start (f->server, SERVICE, "Grace <b>&amp;");
  cx_test_wait (invitation_shown, a);
  cx_test_wait (invitation_shown, b);
  g_assert_nonnull (strstr (gtk_label_get_text (cx_test_agent_ui_child (a, "invitation_label")),
                            "Grace <b>&amp;"));
  g_assert_nonnull (
      strstr (gtk_label_get_text (cx_test_agent_ui_child (a, "invitation_label")), SERVICE));

  /* Accepted: in both windows' lists, the banner gone. A button activates once it is on
   * screen (GtkButton's activate needs it realized): the banner slides in first. */
  cx_test_wait (cx_test_widget_is_mapped, cx_test_agent_ui_child (a, "accept_button"));
  g_assert_true (gtk_widget_activate (cx_test_agent_ui_child (a, "accept_button")));
  cx_test_wait (one_conversation, a);
  cx_test_wait (one_conversation, b);
  g_assert_false (invitation_shown (a));
  g_assert_false (invitation_shown (b));

  /* The customer writes markup: it shows as text in both. */
  cx_test_customer_send (customer, markup);
  label = cx_test_agent_ui_wait_label (cx_test_agent_ui_child (a, "transcript_list"), markup);
  g_assert_false (gtk_label_get_use_markup (label));
  g_assert_true (gtk_label_get_selectable (label));
  g_assert_true (gtk_label_get_wrap (label));
  label = cx_test_agent_ui_wait_label (cx_test_agent_ui_child (b, "transcript_list"), markup);
  g_assert_false (gtk_label_get_use_markup (label));

  /* The agent writes from the composer: the customer has it, both windows show it. */
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (cx_test_agent_ui_child (a, "composer")),
                            reply, -1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (a), "win.send", NULL));
  cx_test_customer_poll_until (customer, 1, "Message", "Agent", reply);
  cx_test_agent_ui_wait_label (cx_test_agent_ui_child (a, "transcript_list"), reply);
  cx_test_agent_ui_wait_label (cx_test_agent_ui_child (b, "transcript_list"), reply);
  /* The customer's queue-position notice is not shown to the agent. */
  g_assert_null (cx_test_agent_ui_find_label (cx_test_agent_ui_child (a, "transcript_list"),
                                              "You are number 1 in the queue."));

  /* Signing out in one window signs out both. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (b), "win.sign-out", NULL));
  cx_test_agent_ui_wait_page (a, "sign-in");
  cx_test_agent_ui_wait_page (b, "sign-in");

  cx_test_agent_ui_app_free (app);
}

typedef struct
{
  CxAgentWindow *window;
  const char *text;
} RowWait;

static gboolean
row_says (gpointer data)
{
  RowWait *wait = data;

  return cx_test_agent_ui_find_label_line (
             cx_test_agent_ui_child (wait->window, "conversation_list"), wait->text) != NULL;
}

/* End chat asks first; cancelled, the chat goes on; confirmed, it ends for the customer too. */
static void
test_end_chat (Fixture *f, gconstpointer data)
{
  CxAgentApplication *app = cx_test_agent_ui_app_new ("Test", cx_test_server_get_url (f->server));
  g_autoptr (CxTestCustomer) customer = NULL;
  GtkWindow *dialog = NULL;
  RowWait ended;
  CxAgentWindow *a;

  a = cx_test_agent_ui_window_open (app);
  sign_in (a, "ada", CX_TEST_ADA_PASSWORD);
  cx_test_agent_ui_wait_page (a, "workspace");
  gtk_drop_down_set_selected (cx_test_agent_ui_child (a, "state_dropdown"), 0);
  cx_test_wait (state_ready, a);
  customer = cx_test_customer_start (f->server, SERVICE, "Grace");
  cx_test_wait (invitation_shown, a);
  cx_test_wait (cx_test_widget_is_mapped, cx_test_agent_ui_child (a, "accept_button"));
  g_assert_true (gtk_widget_activate (cx_test_agent_ui_child (a, "accept_button")));
  cx_test_wait (one_conversation, a);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (a), "win.end-chat", NULL));
  dialog = cx_test_wait_dialog (GTK_TYPE_MESSAGE_DIALOG);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  g_assert_cmpint (cx_agent_conversation_get_status (cx_agent_window_get_selected (a)), ==,
                   CX_AGENT_CONVERSATION_ACTIVE);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (a), "win.end-chat", NULL));
  dialog = cx_test_wait_dialog (GTK_TYPE_MESSAGE_DIALOG);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  cx_test_customer_poll_until_ended (customer);
  ended = (RowWait){ a, "Ended" };
  cx_test_wait (row_says, &ended);
  g_assert_false (gtk_widget_get_sensitive (cx_test_agent_ui_child (a, "composer")));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (a), "win.sign-out", NULL));
  cx_test_agent_ui_wait_page (a, "sign-in");
  cx_test_agent_ui_app_free (app);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  /* A real display is part of the test: without one this fails, it does not skip. */
  if (!gtk_init_check ())
    {
      g_printerr ("Bail out! test-agent-ui needs a display (run it under xvfb-run)\n");
      return 1;
    }

  cx_test_add ("/agent-ui/workspace", NULL, NULL, test_workspace);
  cx_test_add ("/agent-ui/end-chat", NULL, NULL, test_end_chat);

  return g_test_run ();
}
