/* cx-service-request.h: what every service plugin of a window's bus shares, written once: the
 * limits on ajaxTimeout and the reconnection backoff, reading a number from the settings, a
 * request sent for a bus command through CxHttp, and leaving the bus on dispose.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "bus/cx-bus.h"
#include "services/cx-http.h"

G_BEGIN_DECLS

/* ajaxTimeout, the time a service gives one request, as Genesys's widgets bound it. */
#define CX_SERVICE_DEFAULT_AJAX_TIMEOUT_MS 3000
#define CX_SERVICE_MIN_AJAX_TIMEOUT_MS 500
#define CX_SERVICE_MAX_AJAX_TIMEOUT_MS 120000

/* Reconnecting after a failure: the first wait, doubled after each failure up to the last. */
#define CX_SERVICE_FIRST_RETRY_MS 1000
#define CX_SERVICE_MAX_RETRY_MS 30000

/* Typing stops being announced after this long without a keystroke. */
#define CX_SERVICE_TYPING_IDLE_MS 5000

guint cx_service_next_retry_ms (guint retry_ms);

gboolean cx_service_config_get_uint (JsonObject *config, const char *member, guint fallback,
                                     guint min, guint max, guint *out, GError **error);
gboolean cx_service_config_get_ajax_timeout (JsonObject *config, guint *out, GError **error);

void cx_service_leave_bus (GCancellable *cancellable, CxPlugin **plugin);

/**
 * CxServiceRequest:
 * @msg: the message, built by cx_http_message_new()
 * @command: (nullable): the bus command the request answers
 * @cancellable: the request's own: cancelled with the service's (in its dispose) and, after
 *   cx_service_request_follow(), with a caller's (say the command's)
 *
 * The part of a service's request that every service has. A service embeds it as the first
 * member of its own request struct, calls cx_service_request_init() and, when the request is
 * over, cx_service_request_clear().
 */
typedef struct
{
  SoupMessage *msg;
  CxCommand *command;
  GCancellable *cancellable;

  /*< private >*/
  GCancellable *service_cancellable;
  gulong service_handler_id;
  GCancellable *caller_cancellable;
  gulong caller_handler_id;
} CxServiceRequest;

gboolean cx_service_request_init (CxServiceRequest *request, const char *method, const char *url,
                                  GCancellable *service_cancellable, CxCommand *command,
                                  GError **error);
void cx_service_request_follow (CxServiceRequest *request, GCancellable *cancellable);
gboolean cx_service_request_service_gone (CxServiceRequest *request);
void cx_service_request_send (CxServiceRequest *request, CxHttp *http, guint timeout_ms,
                              gsize max_size, GAsyncReadyCallback callback, gpointer user_data);
void cx_service_request_clear (CxServiceRequest *request);

G_END_DECLS
