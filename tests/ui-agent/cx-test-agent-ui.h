/* cx-test-agent-ui.h: what the agent workspace's UI tests (tests/ui-agent) share: the test
 * application's life (a unique id, windows opened and closed), the window's widgets by their
 * template id, the stack page shown, and labels found by their text. The wait conditions, the
 * event recorder and bus commands every suite shares come with it (cx-test-server.h,
 * tests/common/cx-test-gtk.h, tests/common/cx-test-bus.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "agent/cx-agent-application.h"
#include "agent/cx-agent-window.h"
#include "cx-test-bus.h"
#include "cx-test-gtk.h"
#include "cx-test-server.h"

G_BEGIN_DECLS

/* The application and its windows */

CxAgentApplication *cx_test_agent_ui_app_new (const char *name, const char *server_url);
void cx_test_agent_ui_app_free (CxAgentApplication *app);
gpointer cx_test_agent_ui_child (CxAgentWindow *window, const char *id);
CxAgentWindow *cx_test_agent_ui_window_open (CxAgentApplication *app);
CxAgentWindow *cx_test_agent_ui_window_open_with_action (CxAgentApplication *app);
void cx_test_agent_ui_wait_page (CxAgentWindow *window, const char *page);

/* Labels */

GtkLabel *cx_test_agent_ui_find_label (GtkWidget *widget, const char *text);
GtkLabel *cx_test_agent_ui_find_label_line (GtkWidget *widget, const char *text);
GtkLabel *cx_test_agent_ui_wait_label (GtkWidget *root, const char *text);

G_END_DECLS
