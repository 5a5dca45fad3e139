/* cx-test-ui.h: what the customer application's UI tests (tests/ui) and bench-restore share.
 * Wait conditions for cx_test_wait(), finding a widget by its template id, the test
 * application's life (a unique id, a reference baseline, windows closed as their close button
 * closes them) and a bus command made the way a page script makes one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "bus/cx-bus.h"
#include "customer/cx-desk-application.h"
#include "customer/cx-desk-window.h"
#include "services/cx-chat-message.h"
#include "widgets/cx-chat-row.h"

G_BEGIN_DECLS

/* Wait conditions */

gboolean cx_test_ui_pointer_is_set (gpointer data);
gboolean cx_test_ui_pointer_is_null (gpointer data);
gboolean cx_test_ui_flag_is_set (gpointer data);
gboolean cx_test_ui_only_one_ref (gpointer data);
gboolean cx_test_ui_widget_is_mapped (gpointer data);
gboolean cx_test_ui_widget_is_visible (gpointer data);

/* Widgets */

GtkWidget *cx_test_ui_find_by_id (GtkWidget *root, const char *id);
CxChatRow *cx_test_ui_find_row (GtkWidget *root, CxChatMessage *message);

/* The application and its site windows */

char *cx_test_ui_unique_app_id (const char *name);
void cx_test_ui_app_set_baseline (CxDeskApplication *app);
void cx_test_ui_app_free (CxDeskApplication *app);
gboolean cx_test_ui_push_settled (gpointer data);
gboolean cx_test_ui_panel_is_open (gpointer data);
void cx_test_ui_window_close (CxDeskWindow *window);

/* The bus */

JsonNode *cx_test_ui_bus_command (CxBus *bus, CxPlugin *commander, const char *name, JsonNode *data,
                                  guint timeout_ms, GError **error);
void cx_test_ui_store_result_cb (GObject *source, GAsyncResult *result, gpointer user_data);
guint cx_test_ui_count_names (GPtrArray *names, const char *name);

G_END_DECLS
