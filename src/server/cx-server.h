/* cx-server.h: cxdesk-server, the backend: GMS chat and callback APIs, the agent API, routing
 * and push, over one CxStore. */
#pragma once

#include <libsoup/soup.h>

#include "server/cx-server-config.h"
#include "server/cx-store.h"

G_BEGIN_DECLS

#define CX_TYPE_SERVER (cx_server_get_type ())

G_DECLARE_FINAL_TYPE (CxServer, cx_server, CX, SERVER, GObject)

CxServer *cx_server_new (CxServerConfig *config, CxStore *store, GError **error);
gboolean cx_server_listen (CxServer *self, const char *address, guint port, GError **error);
guint cx_server_get_port (CxServer *self);
void cx_server_shutdown (CxServer *self);

G_END_DECLS
