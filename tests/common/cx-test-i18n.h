/* cx-test-i18n.h: checks that a window shows no text left in English, for the customer and the
 * agent UI tests in another language.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Fails (g_error) on any text @window shows (title, labels, buttons, placeholders, tooltips of
 * mapped widgets) that the catalog translates into something else, or that holds one of the
 * NULL-terminated @english strings (compared without mnemonics). Returns how many texts were
 * looked at. */
guint cx_test_i18n_assert_translated (GtkWindow *window, const char *const *english);

/* A mapped label or button under @widget has the label @wanted (with its mnemonic). */
gboolean cx_test_i18n_has_text (GtkWidget *widget, const char *wanted);

G_END_DECLS
