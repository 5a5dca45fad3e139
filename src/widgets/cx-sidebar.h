/* cx-sidebar.h: CxSideBar, the "SideBar" UI plugin of one window's bus (reference §2): a narrow
 * strip of channel buttons docked at the window's right edge (icon, accessible name, tooltip),
 * which expands to show their labels. A button runs its channel's clickCommand with its
 * clickOptions on the bus, as "SideBar".
 *
 * Commands (JSON data → result):
 *   open → null (shows the strip), close → null (hides it)
 *   expand → null (labels shown), contract → null (icons only)
 *   addButton {name, displayName, icon, clickCommand, clickOptions} → null; rejects a name
 *     already in use or a button without name, displayName or clickCommand
 * Events: ready, opened, closed, expanded, contracted.
 *
 * Configuration: "sidebar" {expanded?: bool, channels?: [...]} and the "channelselector"
 *   channels (the same list of channels the selector shows) when the sidebar has none.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "bus/cx-bus.h"

G_BEGIN_DECLS

/* The namespace the sidebar registers on its bus. */
#define CX_SIDEBAR_NAME "SideBar"

#define CX_TYPE_SIDEBAR (cx_sidebar_get_type ())

G_DECLARE_FINAL_TYPE (CxSideBar, cx_sidebar, CX, SIDEBAR, GtkWidget)

GtkWidget *cx_sidebar_new (void);
gboolean cx_sidebar_attach (CxSideBar *self, CxBus *bus, JsonObject *sidebar_config,
                            JsonObject *channelselector_config, GError **error);
CxPlugin *cx_sidebar_get_plugin (CxSideBar *self);

G_END_DECLS
