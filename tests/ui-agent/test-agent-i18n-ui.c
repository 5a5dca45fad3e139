/* test-agent-i18n-ui.c: the agent workspace in German: its window before sign-in, against the
 * real cxdesk-server, with the build tree's translations (CXDESK_LOCALEDIR) and LANGUAGE=de
 * under LC_ALL=C.UTF-8 (tests/ui-agent/meson.build). No text may be left in English
 * (cx-test-i18n.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-agent-i18n-ui"

#include "config.h"

#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <locale.h>

#include "cx-test-agent-ui.h"
#include "cx-test-i18n.h"

typedef CxTestFixture Fixture;

/* What the signed-out window shows in English (without mnemonics), leaving out what German
 * spells the same ("Server", "CX Desk Agent"). */
static const char *const english[] = {
  "Sign In", "User name", "Password", "Enter your user name", "Server address", "Your state", NULL,
};

static void
test_german (Fixture *f, gconstpointer data)
{
  CxAgentApplication *app = cx_test_agent_ui_app_new ("I18n", cx_test_server_get_url (f->server));
  CxAgentWindow *window = cx_test_agent_ui_window_open (app);
  guint seen;

  /* The catalog is the build tree's: without it, nothing below means anything. */
  g_assert_cmpstr (_ ("Close"), ==, "Schließen");
  g_assert_true (cx_test_i18n_has_text (GTK_WIDGET (window), "_Anmelden"));
  seen = cx_test_i18n_assert_translated (GTK_WINDOW (window), english);
  g_test_message ("%u texts looked at", seen);
  g_assert_cmpuint (seen, >, 5);

  cx_test_agent_ui_app_free (app);
}

int
main (int argc, char *argv[])
{
  const char *localedir = g_getenv ("CXDESK_LOCALEDIR");

  /* As main.c does, with the build tree's translations. */
  setlocale (LC_ALL, "");
  g_assert_nonnull (localedir);
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_test_init (&argc, &argv, NULL);

  if (!gtk_init_check ())
    {
      g_printerr ("Bail out! test-agent-i18n-ui needs a display (run it under xvfb-run)\n");
      return 1;
    }

  cx_test_add ("/agent-i18n-ui/german", NULL, NULL, test_german);
  return g_test_run ();
}
