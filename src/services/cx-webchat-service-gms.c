/* cx-webchat-service-gms.c: CxWebChatService's requests to GMS: a POST of a form (or a
 * multipart form with a file) to dataURL, and how it ended (an Outcome, and an error a customer
 * can read). Every request runs on the service's cancellable, so it ends with the chat.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-webchat-service"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "services/cx-webchat-service-private.h"

/* Requests to GMS */

static void
request_free (gpointer data)
{
  cx_service_request_clear (data);
  g_free (data);
}

GHashTable *
_cx_webchat_service_new_form (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

void
_cx_webchat_service_form_add (GHashTable *form, const char *name, const char *value)
{
  g_hash_table_replace (form, g_strdup (name), g_strdup (value));
}

void
_cx_webchat_service_form_add_uint (GHashTable *form, const char *name, guint value)
{
  g_hash_table_replace (form, g_strdup (name), g_strdup_printf ("%u", value));
}

static void
gms_post_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (JsonNode) root = NULL;
  CxGmsReply *reply = NULL;
  const char *data;
  gsize size = 0;

  body = cx_http_send_finish (CX_HTTP (source), result, &error);
  if (body == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  data = g_bytes_get_data (body, &size);
  root = cx_json_parse (data, size, CX_GMS_MAX_REPLY_SIZE, &error);
  if (root == NULL || !cx_gms_parse_reply (root, &reply, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The callback may run from inside g_task_return_pointer(): the tree of a long transcript
   * (two kilobytes a message) goes first, so that what the callback builds reuses its memory. */
  g_clear_pointer (&root, json_node_unref);
  g_clear_pointer (&body, g_bytes_unref);
  g_task_return_pointer (task, reply, (GDestroyNotify) cx_gms_reply_free);
}

/* The request body: @form url-encoded or, with @upload, as the fields of a multipart form
 * beside the file. */
static void
set_request_body (SoupMessage *msg, GHashTable *form, const Upload *upload)
{
  g_autoptr (GBytes) body = NULL;

  if (upload == NULL)
    {
      cx_http_message_set_form (msg, form);
    }
  else
    {
      g_autoptr (SoupMultipart) multipart = soup_multipart_new (SOUP_FORM_MIME_TYPE_MULTIPART);
      GHashTableIter iter;
      gpointer name, value;

      g_hash_table_iter_init (&iter, form);
      while (g_hash_table_iter_next (&iter, &name, &value))
        soup_multipart_append_form_string (multipart, name, value);
      soup_multipart_append_form_file (multipart, "file", upload->name, upload->content_type,
                                       upload->bytes);
      soup_multipart_to_message (multipart, soup_message_get_request_headers (msg), &body);
      soup_message_set_request_body_from_bytes (msg, NULL, body);
    }
}

/* POSTs @form (with @upload, as a multipart form) to dataURL (@op NULL: start a chat) or, with
 * the chat's keys added to @form, to dataURL/{chatId}/{op}. @command, if any, comes back from
 * _cx_webchat_service_gms_post_finish(). */
void
_cx_webchat_service_gms_post_full_async (CxWebChatService *self, const char *op, GHashTable *form,
                                         CxCommand *command, const Upload *upload,
                                         GAsyncReadyCallback callback)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *url = NULL;
  g_autoptr (GError) error = NULL;
  CxServiceRequest *request;

  /* No source object: a request must not keep the service alive. A callback finds its task
   * cancelled once the service is disposed (or the chat ended), and then touches nothing. */
  task = g_task_new (NULL, self->cancellable, callback, self);
  g_task_set_source_tag (task, _cx_webchat_service_gms_post_full_async);

  if (op != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (self->chat_id, NULL, FALSE);

      url = g_strdup_printf ("%s/%s/%s", self->data_url, escaped, op);
      _cx_webchat_service_form_add (form, "userId", self->user_id);
      _cx_webchat_service_form_add (form, "secureKey", self->secure_key);
      _cx_webchat_service_form_add (form, "alias", self->alias);
    }
  else
    {
      url = g_strdup (self->data_url);
    }

  request = g_new0 (CxServiceRequest, 1);
  g_task_set_task_data (task, request, request_free);

  /* The address was built from dataURL, which parsed, and an escaped id. */
  if (!cx_service_request_init (request, SOUP_METHOD_POST, url, self->cancellable, command, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  set_request_body (request->msg, form, upload);
  cx_service_request_send (request, self->http, self->ajax_timeout_ms, 0, gms_post_cb,
                           g_steal_pointer (&task));
}

void
_cx_webchat_service_gms_post_async (CxWebChatService *self, const char *op, GHashTable *form,
                                    CxCommand *command, GAsyncReadyCallback callback)
{
  _cx_webchat_service_gms_post_full_async (self, op, form, command, NULL, callback);
}

/* What a customer can read about a failed request. CxHttp's messages name the address and the
 * HTTP status: they are for support staff, and go to the debug log. The domain and code stay,
 * so that callers can still tell the cases apart. */
static GError *
human_error (const GError *error, guint status)
{
  const char *text = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);

  g_debug ("Request failed (HTTP status %u): %s", status, error->message);

  if (error->domain == CX_HTTP_ERROR)
    {
      switch (error->code)
        {
          case CX_HTTP_ERROR_TIMED_OUT:
            text = _ ("The chat server did not answer in time");
            break;
          case CX_HTTP_ERROR_NETWORK:
            text = _ ("The chat server cannot be reached");
            break;
          case CX_HTTP_ERROR_INVALID_URI:
            text = _ ("The chat is not set up correctly: its server address is not valid");
            break;
          case CX_HTTP_ERROR_TOO_LARGE:
          case CX_HTTP_ERROR_NOT_JSON:
            text = _ ("The chat server gave an answer that could not be understood");
            break;
          case CX_HTTP_ERROR_STATUS:
          default:
            break;
        }
    }
  else if (error->domain == CX_GMS_ERROR)
    {
      switch (error->code)
        {
          case CX_GMS_ERROR_CHAT_NOT_FOUND:
            text = _ ("This chat no longer exists on the chat server");
            break;
          case CX_GMS_ERROR_INVALID_KEY:
            text = _ ("The chat server no longer accepts this chat");
            break;
          case CX_GMS_ERROR_TOO_LONG:
            text = _ ("That is too long for the chat server");
            break;
          case CX_GMS_ERROR_FILE_LIMIT:
            text = _ ("The chat server does not accept this file");
            break;
          case CX_GMS_ERROR_RATE_LIMITED:
            text = _ ("Too much at once: wait a moment and try again");
            break;
          case CX_GMS_ERROR_UNAVAILABLE:
            text = _ ("The chat service is not available now");
            break;
          case CX_GMS_ERROR_INVALID_OPERATION:
            text = _ ("The chat server refused this now (the chat may have ended)");
            break;
          default:
            text = _ ("The chat server refused the request");
            break;
        }
    }
  else if (error->domain == CX_PROTOCOL_ERROR || error->domain == JSON_PARSER_ERROR)
    {
      text = _ ("The chat server gave an answer that could not be understood");
    }

  if (text == NULL && status != 0)
    {
      if (status == SOUP_STATUS_NOT_FOUND)
        text = _ ("This chat no longer exists on the chat server");
      else if (status == SOUP_STATUS_FORBIDDEN || status == SOUP_STATUS_UNAUTHORIZED)
        text = _ ("The chat server no longer accepts this chat");
      else if (status == SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE)
        text = _ ("That is too large for the chat server");
      else if (status == 429)
        text = _ ("Too much at once: wait a moment and try again");
      else if (status == SOUP_STATUS_SERVICE_UNAVAILABLE)
        text = _ ("The chat service is not available now");
      else if (status >= 500)
        text = _ ("The chat server has a problem: try again later");
      else if (status == SOUP_STATUS_BAD_REQUEST)
        text = _ ("The chat server refused it as not valid");
    }

  if (text == NULL)
    text = _ ("The chat server refused the request");

  return g_error_new_literal (error->domain, error->code, text);
}

/* How a request ended, from its error and the HTTP status it got. */
static Outcome
classify_failure (const GError *error, guint status)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return OUTCOME_CANCELLED;
  if (error->domain == CX_GMS_ERROR)
    return OUTCOME_REFUSED;
  if (g_error_matches (error, CX_HTTP_ERROR, CX_HTTP_ERROR_STATUS) && status >= 400 &&
      status < 500 && status != SOUP_STATUS_REQUEST_TIMEOUT)
    return OUTCOME_REFUSED;
  return OUTCOME_FAILED;
}

CxGmsReply *
_cx_webchat_service_gms_post_finish (GAsyncResult *result, Outcome *outcome, CxCommand **command,
                                     GError **error)
{
  GTask *task = G_TASK (result);
  CxServiceRequest *request = g_task_get_task_data (task);
  g_autoptr (GError) local_error = NULL;
  CxGmsReply *reply;
  guint status;

  *outcome = OUTCOME_FAILED;
  g_return_val_if_fail (g_task_get_source_tag (task) == _cx_webchat_service_gms_post_full_async,
                        NULL);

  if (command != NULL)
    *command = request->command != NULL ? g_object_ref (request->command) : NULL;

  reply = g_task_propagate_pointer (task, &local_error);
  if (reply != NULL)
    {
      *outcome = OUTCOME_OK;
      return reply;
    }

  status = request->msg != NULL ? soup_message_get_status (request->msg) : 0;
  *outcome = classify_failure (local_error, status);
  g_propagate_error (error, human_error (local_error, status));
  return NULL;
}
