/* cx-agent-service-request.c: CxAgentService's requests to the /cx/1/agent API: one
 * message each (built and sent the one way every service does, through CxHttp), with the session
 * generation it belongs to, and the errors as the service
 * reports them (a 401 ends the session, a 409 says what it means for that request).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-service"

#include "config.h"

#include "services/cx-agent-service-private.h"

/* Requests */

static void
request_free (Request *request)
{
  cx_service_request_clear (&request->base);
  g_free (request->chat_id);
  g_free (request);
}

/* A request to api_base + @path (which starts with "/"). Set its fields, then request_send(). */
Request *
_cx_agent_service_request_new (CxAgentService *self, const char *method, const char *path,
                               JsonNode *body, CxCommand *command, ReplyFunc func)
{
  Request *request = g_new0 (Request, 1);
  g_autofree char *url = g_strconcat (self->api_base, path, NULL);

  request->self = self;
  request->func = func;
  request->generation = self->generation;
  /* api_base was checked at construction and every segment of @path is escaped: a NULL
   * message is reported by _cx_agent_service_request_send(). */
  if (cx_service_request_init (&request->base, method, url, self->cancellable, command, NULL) &&
      body != NULL)
    cx_http_message_set_json (request->base.msg, body);

  return request;
}

/* An error reply's body is read up to this size: a message is a few kilobytes at most. */
#define MAX_REFUSAL_SIZE (64 * 1024)

/* The server's own words for a refusal ({"error": "…"}, validated), if it gave any: they are
 * for the agent, where CxHttp's message (the address, the status) is for support staff. */
static char *
server_refusal (const GError *error)
{
  GBytes *body = cx_http_error_get_body (error);
  g_autoptr (JsonNode) root = NULL;
  const char *data;
  gsize size = 0;

  if (body == NULL)
    return NULL;

  data = g_bytes_get_data (body, &size);
  root = cx_json_parse (data, size, MAX_REFUSAL_SIZE, NULL);
  return cx_agent_api_parse_error (root);
}

/* A failed request's error, as this service reports it. */
static GError *
request_error (Request *request, guint status, GError *error)
{
  if (status == SOUP_STATUS_UNAUTHORIZED)
    {
      g_error_free (error);
      if (request->signing_in)
        return g_error_new_literal (CX_AGENT_SERVICE_ERROR,
                                    CX_AGENT_SERVICE_ERROR_WRONG_CREDENTIALS,
                                    _ ("Wrong user name or password"));
      return g_error_new_literal (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN,
                                  _ ("You are not signed in"));
    }

  if (status == SOUP_STATUS_CONFLICT && request->conflict_message != NULL)
    {
      g_error_free (error);
      return g_error_new_literal (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_REFUSED,
                                  request->conflict_message);
    }

  if (status >= 400 && status < 500 && status != SOUP_STATUS_REQUEST_TIMEOUT)
    {
      g_autofree char *words = server_refusal (error);
      GError *refused = g_error_new_literal (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_REFUSED,
                                             words != NULL ? words : error->message);

      if (words != NULL)
        g_debug ("Refused: %s", error->message);

      g_error_free (error);
      return refused;
    }

  /* No _cx_agent_service_answer, a timeout, or a server error: CxHttp's error says which. */
  return error;
}

void
_cx_agent_service_request_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Request *request = user_data;
  CxAgentService *self;
  g_autoptr (CxAgentService) hold = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  guint status;

  body = cx_http_send_finish (CX_HTTP (source), result, &error);
  if (cx_service_request_service_gone (&request->base))
    {
      /* The window is gone: answer its command, touch nothing else. */
      if (request->base.command != NULL)
        cx_command_reject (request->base.command,
                           g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN,
                                                _ ("The agent window was closed")));
      request_free (request);
      return;
    }

  self = request->self;
  hold = g_object_ref (self);
  status = soup_message_get_status (request->base.msg);

  if (body == NULL)
    {
      error = request_error (request, status, g_steal_pointer (&error));
    }
  else if (g_bytes_get_size (body) > 0)
    {
      gsize size = 0;
      const char *data = g_bytes_get_data (body, &size);

      reply = cx_json_parse (data, size, CX_AGENT_API_MAX_REPLY_SIZE, NULL);
      if (reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply))
        {
          g_clear_pointer (&reply, json_node_unref);
          error = _cx_agent_service_bad_reply_error (
              g_uri_get_path (soup_message_get_uri (request->base.msg)));
        }
    }

  request->func (self, request, reply, error);

  /* The server no longer knows the session: every window signs out. */
  if (status == SOUP_STATUS_UNAUTHORIZED && !request->signing_in)
    _cx_agent_service_session_rejected (self, request->generation);

  request_free (request);
}

void
_cx_agent_service_request_send (CxAgentService *self, Request *request)
{
  if (request->base.msg == NULL)
    {
      g_autoptr (GError) error = g_error_new_literal (CX_HTTP_ERROR, CX_HTTP_ERROR_INVALID_URI,
                                                      _ ("The agent API address is not valid"));

      request->func (self, request, NULL, error);
      request_free (request);
      return;
    }

  cx_service_request_send (&request->base, self->http, 0, CX_AGENT_API_MAX_REPLY_SIZE,
                           _cx_agent_service_request_done_cb, request);
}

/* Resolves or rejects the request's command with @reply or @error. */
void
_cx_agent_service_answer (Request *request, JsonNode *reply, const GError *error)
{
  if (request->base.command == NULL)
    return;

  if (error != NULL)
    cx_command_reject (request->base.command, g_error_copy (error));
  else
    cx_command_resolve (request->base.command, reply);
}

static void
detached_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;

  body = cx_http_send_finish (CX_HTTP (source), result, &error);
  if (body == NULL)
    g_debug ("A request sent by a closed window failed: %s", error->message);
}

/* Sends typing false for a window that is closing: nothing waits for the answer. */
void
_cx_agent_service_send_typing_stop_detached (CxAgentService *self, const char *chat_id)
{
  g_autofree char *path = cx_agent_route_path (CX_AGENT_ROUTE_TYPING, chat_id);
  g_autofree char *url = g_strconcat (self->api_base, path, NULL);
  g_autoptr (SoupMessage) msg =
      cx_http_message_new (cx_agent_route_method (CX_AGENT_ROUTE_TYPING), url, NULL);
  g_autoptr (JsonNode) body = cx_agent_typing_build (FALSE);

  if (msg == NULL)
    return;

  cx_http_message_set_json (msg, body);
  cx_http_send_async (self->http, msg, 0, 0, NULL, detached_done_cb, NULL);
}
