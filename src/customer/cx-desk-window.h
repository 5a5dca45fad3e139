/* cx-desk-window.h: CxDeskWindow, one site window of the customer application: the site page
 * and the widgets on it, with its own CxBus carrying "WebChatService", "StatsService",
 * "CallbackService", "WebChat", "Overlay", "ChannelSelector", "Callback" (and "Calendar"),
 * "SideBar" and "Toaster" (a window is what a browser tab is to the Widgets).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "bus/cx-bus.h"
#include "services/cx-webchat-service.h"
#include "widgets/cx-callback.h"
#include "widgets/cx-channel-selector.h"
#include "widgets/cx-overlay.h"
#include "widgets/cx-sidebar.h"
#include "widgets/cx-toaster.h"
#include "widgets/cx-webchat.h"

G_BEGIN_DECLS

#define CX_TYPE_DESK_WINDOW (cx_desk_window_get_type ())

G_DECLARE_FINAL_TYPE (CxDeskWindow, cx_desk_window, CX, DESK_WINDOW, GtkApplicationWindow)

typedef struct _CxDeskApplication CxDeskApplication;

CxDeskWindow *cx_desk_window_new (CxDeskApplication *application, const char *site_url,
                                  JsonObject *config);
const char *cx_desk_window_get_site_url (CxDeskWindow *self);
JsonObject *cx_desk_window_get_config (CxDeskWindow *self);
CxBus *cx_desk_window_get_bus (CxDeskWindow *self);
CxWebChat *cx_desk_window_get_webchat (CxDeskWindow *self);
CxWebChatService *cx_desk_window_get_service (CxDeskWindow *self);
const char *cx_desk_window_get_chat_error (CxDeskWindow *self);
CxOverlay *cx_desk_window_get_overlay (CxDeskWindow *self);
CxChannelSelector *cx_desk_window_get_channel_selector (CxDeskWindow *self);
CxCallback *cx_desk_window_get_callback (CxDeskWindow *self);
CxSideBar *cx_desk_window_get_sidebar (CxDeskWindow *self);
CxToaster *cx_desk_window_get_toaster (CxDeskWindow *self);

G_END_DECLS
