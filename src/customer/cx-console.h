/* cx-console.h: CxConsole, the bus Console of one site window (Genesys Widgets' "Console"):
 * the window's bus traffic, live, starting with the bus's ring buffer (cx_bus_get_log()).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "bus/cx-bus.h"

G_BEGIN_DECLS

/* The namespace of the Console plugin on a window's bus: commands open and close, events
 * opened and closed. */
#define CX_CONSOLE_NAME "Console"
/* How many entries a window's bus keeps for a Console opened later. */
#define CX_CONSOLE_BUS_LOG_SIZE 500

#define CX_TYPE_CONSOLE (cx_console_get_type ())

G_DECLARE_FINAL_TYPE (CxConsole, cx_console, CX, CONSOLE, GtkWindow)

CxConsole *cx_console_new (GtkApplication *application, CxBus *bus, GtkWindow *parent);
gboolean cx_console_add_to_bus (CxBus *bus, GtkWindow *window, GError **error);
CxConsole *cx_console_find (GtkWindow *window, CxBus *bus);
CxConsole *cx_console_present_for (GtkWindow *window, CxBus *bus);

CxBus *cx_console_get_bus (CxConsole *self);
GListModel *cx_console_get_entries (CxConsole *self);
gboolean cx_console_get_paused (CxConsole *self);
void cx_console_set_paused (CxConsole *self, gboolean paused);
void cx_console_clear (CxConsole *self);
void cx_console_set_filter_text (CxConsole *self, const char *text);

G_END_DECLS
