/* cx-desk-config.h: the widgets configuration of the customer application, JSON shaped like
 * the Widgets' `_genesys.widgets` ({main{cookieOptions, …}, webchat{dataURL, transport,
 * restoreTimeout, …}}): the built-in default, a file given with --config, and the two merged.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The built-in configuration, in the application's GResource. */
#define CX_DESK_CONFIG_RESOURCE "/io/github/cxdesk/CxDesk/cxdesk-widgets.json"

JsonObject *cx_desk_config_load_default (GError **error);
JsonObject *cx_desk_config_load_file (GFile *file, GError **error);
JsonObject *cx_desk_config_parse (const char *data, gssize length, const char *origin,
                                  GError **error);
JsonObject *cx_desk_config_merge (JsonObject *base, JsonObject *override);
JsonObject *cx_desk_config_get_section (JsonObject *config, const char *name);
const char *cx_desk_config_get_cookie_domain (JsonObject *config);
char *cx_desk_config_get_lang (JsonObject *config);
gboolean cx_desk_config_apply_lang (JsonObject *config);

G_END_DECLS
