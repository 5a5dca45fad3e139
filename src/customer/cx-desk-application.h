/* cx-desk-application.h: CxDeskApplication, the customer application (io.github.cxdesk.CxDesk):
 * one instance per session, owning the one CxHttp (SoupSession and cookie jar) that all its
 * windows share; `cxdesk --site URL` run again opens a window in the running instance.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "customer/cx-desk-window.h"
#include "services/cx-http.h"

G_BEGIN_DECLS

#define CX_DESK_APPLICATION_ID "io.github.cxdesk.CxDesk"
/* The site a window shows when none is given. */
#define CX_DESK_DEFAULT_SITE "https://shop.example.com/account"

#define CX_TYPE_DESK_APPLICATION (cx_desk_application_get_type ())

G_DECLARE_FINAL_TYPE (CxDeskApplication, cx_desk_application, CX, DESK_APPLICATION, GtkApplication)

CxDeskApplication *cx_desk_application_new (const char *application_id, GApplicationFlags flags);
CxHttp *cx_desk_application_get_http (CxDeskApplication *self);
JsonObject *cx_desk_application_get_config (CxDeskApplication *self);
void cx_desk_application_set_config (CxDeskApplication *self, JsonObject *config);
CxDeskWindow *cx_desk_application_open_site (CxDeskApplication *self, const char *site_url,
                                             JsonObject *config, GError **error);

G_END_DECLS
