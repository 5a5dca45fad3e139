/* cx-http.h: the application's one HTTP client (SoupSession + cookie jar), shared by every
 * window and service, with capped requests, WebSockets and site cookies. Every service sends
 * its requests the one way: cx_http_message_new() (+ a form or JSON body), cx_http_send_async(),
 * and cx_http_send_finish() or cx_http_send_json_finish().
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define CX_HTTP_ERROR (cx_http_error_quark ())

/**
 * CxHttpError:
 * @CX_HTTP_ERROR_STATUS: the server answered with a status of 400 or more; the message has the
 *   server's explanation when its JSON body has one (errors[0].advice, "message" or "error"),
 *   and the error carries the status and the body (cx_http_error_get_status(),
 *   cx_http_error_get_body()) for a service that reads the refusal itself
 * @CX_HTTP_ERROR_TOO_LARGE: the reply is over #CxHttp:max-response-size
 * @CX_HTTP_ERROR_NOT_JSON: JSON was expected and the reply is empty or something else
 * @CX_HTTP_ERROR_TIMED_OUT: the request's timeout fired
 * @CX_HTTP_ERROR_INVALID_URI: the address does not parse, or has the wrong scheme or no host
 * @CX_HTTP_ERROR_NETWORK: the server could not be reached, or the connection failed
 *
 * A cancellation by the caller is G_IO_ERROR_CANCELLED, not one of these.
 */
typedef enum
{
  CX_HTTP_ERROR_STATUS,
  CX_HTTP_ERROR_TOO_LARGE,
  CX_HTTP_ERROR_NOT_JSON,
  CX_HTTP_ERROR_TIMED_OUT,
  CX_HTTP_ERROR_INVALID_URI,
  CX_HTTP_ERROR_NETWORK,
} CxHttpError;

GQuark cx_http_error_quark (void);
guint cx_http_error_get_status (const GError *error);
GBytes *cx_http_error_get_body (const GError *error);

#define CX_TYPE_HTTP (cx_http_get_type ())

G_DECLARE_FINAL_TYPE (CxHttp, cx_http, CX, HTTP, GObject)

CxHttp *cx_http_new (const char *user_agent);

SoupSession *cx_http_get_session (CxHttp *self);
SoupCookieJar *cx_http_get_cookie_jar (CxHttp *self);
const char *cx_http_get_user_agent (CxHttp *self);

guint cx_http_get_timeout (CxHttp *self);
void cx_http_set_timeout (CxHttp *self, guint timeout_ms);
gsize cx_http_get_max_response_size (CxHttp *self);
void cx_http_set_max_response_size (CxHttp *self, gsize size);

SoupMessage *cx_http_message_new (const char *method, const char *uri, GError **error);
void cx_http_message_set_form (SoupMessage *msg, GHashTable *form);
void cx_http_message_set_json (SoupMessage *msg, JsonNode *node);

void cx_http_send_async (CxHttp *self, SoupMessage *msg, guint timeout_ms, gsize max_size,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data);
GBytes *cx_http_send_finish (CxHttp *self, GAsyncResult *result, GError **error);
JsonNode *cx_http_send_json_finish (CxHttp *self, GAsyncResult *result, GError **error);

void cx_http_websocket_connect_async (CxHttp *self, const char *uri, const char *origin,
                                      const char *const *protocols, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
SoupWebsocketConnection *cx_http_websocket_connect_finish (CxHttp *self, GAsyncResult *result,
                                                           GError **error);

gboolean cx_http_set_site_cookie (CxHttp *self, const char *site_url, const char *name,
                                  const char *value, GError **error);
char *cx_http_get_site_cookie (CxHttp *self, const char *site_url, const char *name);
void cx_http_delete_site_cookie (CxHttp *self, const char *site_url, const char *name);
char *cx_http_get_cookie_domain (CxHttp *self, const char *site_url, GError **error);
void cx_http_set_cookie_domain_override (CxHttp *self, const char *domain);

G_END_DECLS
