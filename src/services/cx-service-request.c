/* cx-service-request.c: the scaffolding every service plugin shares (see the header): the
 * backoff, a number from the settings, a request for a bus command, leaving the bus.
 *
 * A request's own cancellable is what CxHttp sees: the service's cancellable (cancelled in its
 * dispose) and, when the service follows one, a caller's (say the command's: its caller gave
 * up) both cancel it, so a callback tells "the service is gone" (cx_service_request_service_gone())
 * from "the caller gave up" and from a timeout (a CxHttpError) without keeping the service alive.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-service"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "services/cx-service-request.h"

/* Backoff */

/* The wait before the next attempt, after one of @retry_ms (0: none yet) failed. */
guint
cx_service_next_retry_ms (guint retry_ms)
{
  if (retry_ms < CX_SERVICE_FIRST_RETRY_MS)
    return CX_SERVICE_FIRST_RETRY_MS;

  return MIN (retry_ms, CX_SERVICE_MAX_RETRY_MS / 2) * 2;
}

/* Settings */

/* A whole number of @config (a double is rounded towards zero) clamped to @min..@max, or
 * @fallback when absent or null; FALSE with @error when it is something else. */
gboolean
cx_service_config_get_uint (JsonObject *config, const char *member, guint fallback, guint min,
                            guint max, guint *out, GError **error)
{
  JsonNode *node = config != NULL ? json_object_get_member (config, member) : NULL;
  gint64 value;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      *out = fallback;
      return TRUE;
    }

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    value = json_node_get_int (node);
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_DOUBLE)
    value = (gint64) CLAMP (json_node_get_double (node), G_MININT64, G_MAXINT64);
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The setting “%s” must be a number"), member);
      return FALSE;
    }

  *out = (guint) CLAMP (value, (gint64) min, (gint64) max);
  return TRUE;
}

gboolean
cx_service_config_get_ajax_timeout (JsonObject *config, guint *out, GError **error)
{
  return cx_service_config_get_uint (config, "ajaxTimeout", CX_SERVICE_DEFAULT_AJAX_TIMEOUT_MS,
                                     CX_SERVICE_MIN_AJAX_TIMEOUT_MS, CX_SERVICE_MAX_AJAX_TIMEOUT_MS,
                                     out, error);
}

/* Dispose */

/* For a service's dispose: requests under way end (each rejects its command from the main
 * loop), and the plugin leaves its bus, so that no command reaches the service after this. */
void
cx_service_leave_bus (GCancellable *cancellable, CxPlugin **plugin)
{
  if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
  cx_plugin_leave_bus (plugin);
}

/* Requests */

static void
cancel_request_cb (GCancellable *cancellable, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

/* Builds @method @url (a JSON request: see cx_http_message_new()) for @command; FALSE with a
 * CX_HTTP_ERROR_INVALID_URI if @url is not an http(s) address. Clear it in any case. */
gboolean
cx_service_request_init (CxServiceRequest *request, const char *method, const char *url,
                         GCancellable *service_cancellable, CxCommand *command, GError **error)
{
  g_return_val_if_fail (G_IS_CANCELLABLE (service_cancellable), FALSE);

  request->command = command != NULL ? g_object_ref (command) : NULL;
  request->cancellable = g_cancellable_new ();
  request->service_cancellable = g_object_ref (service_cancellable);
  /* Runs at once (and returns 0) if the service is already gone. */
  request->service_handler_id =
      g_cancellable_connect (service_cancellable, G_CALLBACK (cancel_request_cb),
                             g_object_ref (request->cancellable), g_object_unref);

  request->msg = cx_http_message_new (method, url, error);
  return request->msg != NULL;
}

/* The request also ends when @cancellable (nullable) is cancelled: the caller of its command
 * gave up (the bus has then answered the command already), or the service's caller did. */
void
cx_service_request_follow (CxServiceRequest *request, GCancellable *cancellable)
{
  g_return_if_fail (request->caller_cancellable == NULL);

  if (cancellable == NULL)
    return;

  request->caller_cancellable = g_object_ref (cancellable);
  request->caller_handler_id =
      g_cancellable_connect (cancellable, G_CALLBACK (cancel_request_cb),
                             g_object_ref (request->cancellable), g_object_unref);
}

/* TRUE once the service was disposed: its request must not touch it. */
gboolean
cx_service_request_service_gone (CxServiceRequest *request)
{
  return g_cancellable_is_cancelled (request->service_cancellable);
}

/* Sends the request through @http (see cx_http_send_async()); @callback gets @http as its
 * source object. */
void
cx_service_request_send (CxServiceRequest *request, CxHttp *http, guint timeout_ms, gsize max_size,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (SOUP_IS_MESSAGE (request->msg));

  cx_http_send_async (http, request->msg, timeout_ms, max_size, request->cancellable, callback,
                      user_data);
}

void
cx_service_request_clear (CxServiceRequest *request)
{
  /* g_cancellable_disconnect() waits for a running handler: none can run here, on the one
   * thread that cancels. */
  if (request->service_cancellable != NULL)
    g_cancellable_disconnect (request->service_cancellable, request->service_handler_id);
  request->service_handler_id = 0;
  if (request->caller_cancellable != NULL)
    g_cancellable_disconnect (request->caller_cancellable, request->caller_handler_id);
  request->caller_handler_id = 0;

  g_clear_object (&request->service_cancellable);
  g_clear_object (&request->caller_cancellable);
  g_clear_object (&request->cancellable);
  g_clear_object (&request->command);
  g_clear_object (&request->msg);
}
