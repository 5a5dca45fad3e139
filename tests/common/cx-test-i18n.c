/* cx-test-i18n.c: a window's texts against the message catalog (cx-test-i18n.h).
 *
 * A text that the catalog translates into something else is one the window shows untranslated;
 * a text with no translation (an empty msgstr) comes back unchanged from gettext, which is why
 * the callers also give the English strings their window must not show.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-test-i18n"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "cx-test-i18n.h"

static void
add_text (GPtrArray *texts, const char *text)
{
  if (text != NULL && *text != '\0')
    g_ptr_array_add (texts, g_strdup (text));
}

/* Every text a mapped widget under @widget shows, as set (with its mnemonic) and as shown. */
static void
collect_texts (GtkWidget *widget, GPtrArray *texts)
{
  if (!gtk_widget_get_mapped (widget))
    return;

  add_text (texts, gtk_widget_get_tooltip_text (widget));
  if (GTK_IS_LABEL (widget))
    {
      add_text (texts, gtk_label_get_label (GTK_LABEL (widget)));
      add_text (texts, gtk_label_get_text (GTK_LABEL (widget)));
    }
  else if (GTK_IS_BUTTON (widget))
    add_text (texts, gtk_button_get_label (GTK_BUTTON (widget)));
  else if (GTK_IS_ENTRY (widget))
    add_text (texts, gtk_entry_get_placeholder_text (GTK_ENTRY (widget)));
  else if (GTK_IS_TEXT (widget))
    add_text (texts, gtk_text_get_placeholder_text (GTK_TEXT (widget)));

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_texts (child, texts);
}

/* "Save _Profile" as it shows: "Save Profile". */
static char *
without_mnemonic (const char *text)
{
  GString *shown = g_string_new (NULL);

  for (const char *c = text; *c != '\0'; c++)
    if (*c != '_')
      g_string_append_c (shown, *c);
  return g_string_free (shown, FALSE);
}

guint
cx_test_i18n_assert_translated (GtkWindow *window, const char *const *english)
{
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) untranslated = g_string_new (NULL);

  add_text (texts, gtk_window_get_title (window));
  collect_texts (GTK_WIDGET (window), texts);

  for (guint i = 0; i < texts->len; i++)
    {
      const char *text = g_ptr_array_index (texts, i);

      /* The catalog has this English text with another translation: it was not translated. */
      if (strcmp (gettext (text), text) != 0)
        g_string_append_printf (untranslated, " “%s” (catalog: “%s”)", text, gettext (text));
      for (guint j = 0; english != NULL && english[j] != NULL; j++)
        {
          g_autofree char *shown = without_mnemonic (text);

          if (strstr (shown, english[j]) != NULL)
            g_string_append_printf (untranslated, " “%s” (has “%s”)", text, english[j]);
        }
    }
  if (untranslated->len > 0)
    g_error ("Left in English:%s", untranslated->str);
  return texts->len;
}

gboolean
cx_test_i18n_has_text (GtkWidget *widget, const char *wanted)
{
  if (!gtk_widget_get_mapped (widget))
    return FALSE;
  if ((GTK_IS_LABEL (widget) && strcmp (gtk_label_get_label (GTK_LABEL (widget)), wanted) == 0) ||
      (GTK_IS_BUTTON (widget) &&
       g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), wanted) == 0))
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (cx_test_i18n_has_text (child, wanted))
      return TRUE;
  return FALSE;
}
