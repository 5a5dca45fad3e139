/* cx-http-private.h: what the files of CxHttp share: the instance struct and the helpers
 * that turn libsoup's outcomes into CxHttpErrors. cx-http.c is the class (properties, the
 * session); cx-http-request.c sends requests and opens WebSockets with a timeout and a cap on
 * the reply; cx-http-cookies.c keeps the site cookies of the one jar.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "services/cx-http.h"

G_BEGIN_DECLS

struct _CxHttp
{
  GObject parent_instance;

  SoupSession *session;
  SoupCookieJar *cookie_jar;
  char *user_agent;
  char *cookie_domain_override;
  guint timeout_ms;
  gsize max_response_size;
};

GUri *_cx_http_parse_uri (const char *uri, gboolean websocket, GError **error);

G_END_DECLS
