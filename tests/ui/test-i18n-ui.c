/* test-i18n-ui.c: the customer application in German and, through main.lang, in French: the
 * real site window with its chat panel open, against the real cxdesk-server.
 *
 * The translations are the build tree's (CXDESK_LOCALEDIR, the .mo files of po/), the language
 * LANGUAGE=de under LC_ALL=C.UTF-8 (tests/ui/meson.build), so no installed locale is needed.
 *
 * A text left in English is found two ways: every text the window shows (labels, buttons,
 * placeholders, tooltips, the title) is looked up in the catalog, and a text that the catalog
 * translates into something else is one the window shows untranslated; and a list of the main
 * window's English strings must not appear at all, not even inside a longer text.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-i18n-ui"

#include "config.h"

#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <locale.h>
#include <string.h>

#include "customer/cx-desk-config.h"
#include "cx-test-server.h"
#include "cx-test-i18n.h"
#include "cx-test-ui.h"

#define SERVICE "customer-support"
#define SITE "https://www.example.com/"

typedef CxTestFixture Fixture;

/* What the main window and its chat form show in English (as the msgids spell them, without
 * mnemonics): none of them may be seen in another language. */
static const char *const english[] = {
  "Chat with Us",
  "Chat with us",
  "Contact Us",
  "Your Account",
  "Profile",
  "Full name",
  "E-mail address",
  "Save Profile",
  "Payment Method",
  "Card number",
  "Expiry",
  "Save Payment",
  "Main menu",
  "Talk to a support agent",
  "You are signed in",
  "First name",
  "Last name",
  "Subject (optional)",
  "Start Chat",
  "Tell us who you are",
  "Minimize",
  "Close the chat",
  "Enter your",
  "Waiting for an agent",
  "Show icons only",
  "Show the channel names",
  "Contact channels",
  "Receive a Call",
  "Available",
  "Unavailable",
  "Wait time",
};

static CxDeskApplication *
app_new (Fixture *f)
{
  g_autofree char *id = cx_test_ui_unique_app_id ("I18n");
  g_autofree char *data_url =
      g_strconcat (cx_test_server_get_url (f->server), "genesys/2/chat/" SERVICE, NULL);
  g_autoptr (JsonObject) override = json_object_new ();
  g_autoptr (JsonObject) config = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *webchat = json_object_new ();
  CxDeskApplication *app = cx_desk_application_new (id, G_APPLICATION_DEFAULT_FLAGS);

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);

  json_object_set_string_member (webchat, "dataURL", data_url);
  json_object_set_int_member (webchat, "ajaxTimeout", 10000);
  json_object_set_object_member (override, "webchat", webchat);
  config = cx_desk_config_merge (cx_desk_application_get_config (app), override);
  cx_desk_application_set_config (app, config);
  cx_test_ui_app_set_baseline (app);
  return app;
}

/* Opens a site window, checks it, opens its chat panel and checks that too. @wanted: a text
 * the window must show in the language expected. */
static void
check_window (Fixture *f, const char *wanted_window, const char *wanted_panel)
{
  CxDeskApplication *app = app_new (f);
  g_autoptr (GError) error = NULL;
  CxDeskWindow *window = cx_desk_application_open_site (app, SITE, NULL, &error);
  guint seen;

  g_assert_no_error (error);
  cx_test_wait (cx_test_widget_is_mapped, window);
  g_assert_true (cx_test_i18n_has_text (GTK_WIDGET (window), wanted_window));
  seen = cx_test_i18n_assert_translated (GTK_WINDOW (window), english);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-chat", NULL));
  cx_test_wait (cx_test_ui_panel_is_open, window);
  cx_test_wait (cx_test_widget_is_mapped, cx_desk_window_get_webchat (window));
  g_assert_true (cx_test_i18n_has_text (GTK_WIDGET (window), wanted_panel));
  seen += cx_test_i18n_assert_translated (GTK_WINDOW (window), english);
  g_test_message ("%u texts looked at", seen);
  /* The site page, the sidebar and the chat form hold dozens: a few mean nothing was read. */
  g_assert_cmpuint (seen, >, 20);

  cx_test_ui_app_free (app);
}

/* The locale decides: LANGUAGE=de (the test's environment), no main.lang. */
static void
test_german (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) config = cx_desk_config_load_default (NULL);

  g_assert_nonnull (config);
  g_assert_null (cx_desk_config_get_lang (config));
  g_assert_false (cx_desk_config_apply_lang (config));
  g_assert_cmpstr (g_getenv ("LANGUAGE"), ==, "de");
  /* The catalog is the build tree's: without it, nothing below means anything. */
  g_assert_cmpstr (_ ("Close"), ==, "Schließen");

  check_window (f, "_Chatten Sie mit uns", "Chat _starten");
}

/* main.lang overrides the locale: French, although LANGUAGE says German. */
static void
test_main_lang (Fixture *f, gconstpointer data)
{
  static const char json[] = "{\"main\": {\"lang\": \"fr-FR\"}}";
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) config = cx_desk_config_parse (json, -1, "test", &error);
  g_autofree char *lang = NULL;

  g_assert_no_error (error);
  lang = cx_desk_config_get_lang (config);
  g_assert_cmpstr (lang, ==, "fr_FR");
  g_assert_true (cx_desk_config_apply_lang (config));
  g_assert_cmpstr (_ ("Close"), ==, "Fermer");

  check_window (f, "_Discutez avec nous", "_Commencer le chat");
}

/* A main.lang that is not a language is refused with the configuration, saying why. */
static void
test_main_lang_invalid (Fixture *f, gconstpointer data)
{
  static const char *const bad[] = {
    "{\"main\": {\"lang\": \"\"}}",
    "{\"main\": {\"lang\": 7}}",
    "{\"main\": {\"lang\": \"d\"}}",
    "{\"main\": {\"lang\": \"de/../../etc\"}}",
    "{\"main\": {\"lang\": \"de-\"}}",
    "{\"main\": {\"lang\": \"en-abcdefghijklmnopqrstuvwxyzabcdefgh\"}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonObject) config = cx_desk_config_parse (bad[i], -1, "bad.json", &error);

      g_assert_null (config);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, "main.lang"));
    }
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

  /* A real display is part of the test: without one this fails, it does not skip. */
  if (!gtk_init_check ())
    {
      g_printerr ("Bail out! test-i18n-ui needs a display (run it under xvfb-run)\n");
      return 1;
    }

  cx_test_add ("/i18n-ui/german", NULL, NULL, test_german);
  cx_test_add ("/i18n-ui/main-lang", NULL, NULL, test_main_lang);
  cx_test_add ("/i18n-ui/main-lang-invalid", NULL, NULL, test_main_lang_invalid);
  return g_test_run ();
}
