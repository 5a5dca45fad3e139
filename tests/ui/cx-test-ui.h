/* cx-test-ui.h: what the customer application's UI tests (tests/ui) and bench-restore share.
 * Finding a widget by its template id and the test application's life (a unique id, a
 * reference baseline, windows closed as their close button closes them). The wait conditions,
 * the event recorder and bus commands every suite shares are in cx-test-server.h,
 * tests/common/cx-test-gtk.h and tests/common/cx-test-bus.h, which this includes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "bus/cx-bus.h"
#include "cx-test-bus.h"
#include "cx-test-gtk.h"
#include "cx-test-server.h"
#include "customer/cx-desk-application.h"
#include "customer/cx-desk-window.h"
#include "services/cx-chat-message.h"
#include "widgets/cx-chat-row.h"

G_BEGIN_DECLS

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

G_END_DECLS
