/* cx-agent-service-session.c: CxAgentService's session: sign-in, restore from the
 * app's cookie, sign-out, the agent's state and reason, and the commands that came while
 * signing in. See cx-agent-service.c for the whole design.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-service"

#include "config.h"

#include "services/cx-agent-service-private.h"

/* The session and the agent's state */

static void run_deferred (CxAgentService *self);

void
_cx_agent_service_set_connected (CxAgentService *self, gboolean connected)
{
  if (self->connected == connected)
    return;

  self->connected = connected;
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_CONNECTED]);
}

/* The agent's state as the server reports it; "stateChanged" when it is news. */
void
_cx_agent_service_update_state (CxAgentService *self, CxAgentPresence state, const char *reason)
{
  JsonObject *object;
  g_autoptr (JsonNode) data = NULL;

  if (self->state == state && g_strcmp0 (self->reason, reason) == 0)
    return;

  self->state = state;
  g_free (self->reason);
  self->reason = g_strdup (reason);
  if (self->agent != NULL)
    {
      self->agent->state = state;
      g_free (self->agent->reason);
      self->agent->reason = g_strdup (reason);
    }
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_REASON]);

  object = json_object_new ();
  json_object_set_string_member (object, "state", cx_agent_presence_to_string (state));
  if (reason != NULL)
    json_object_set_string_member (object, "reason", reason);
  else
    json_object_set_null_member (object, "reason");
  data = cx_json_node_new_object (object);
  _cx_agent_service_publish (self, "stateChanged", data);
}

JsonNode *
_cx_agent_service_agent_node (CxAgentService *self)
{
  return cx_agent_info_build (self->agent);
}

static void
session_began (CxAgentService *self, CxAgentInfo *agent, Request *request)
{
  g_autoptr (JsonNode) data = NULL;

  self->session = SESSION_SIGNED_IN;
  self->generation++;
  g_clear_pointer (&self->agent, cx_agent_info_free);
  self->agent = agent;
  self->state = agent->state;
  g_free (self->reason);
  self->reason = g_strdup (agent->reason);
  g_strfreev (self->queues);
  self->queues = g_strdupv (agent->queues);
  self->retry_delay_ms = FIRST_RETRY_MS;

  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_SIGNED_IN]);
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_USERNAME]);
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_DISPLAY_NAME]);
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_REASON]);
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_QUEUES]);
  g_object_thaw_notify (G_OBJECT (self));

  data = _cx_agent_service_agent_node (self);
  _cx_agent_service_publish (self, "signedIn", data);
  _cx_agent_service_answer (request, data, NULL);
  _cx_agent_service_resolve_all (self->restore_waiters, data);

  if (self->session == SESSION_SIGNED_IN)
    _cx_agent_service_connect_events (self);
  run_deferred (self);
}

/* The session is over for this window (signed out here or elsewhere, or refused by the
 * server): everything of it goes, and "signedOut" says so. */
void
_cx_agent_service_session_ended (CxAgentService *self)
{
  if (self->session != SESSION_SIGNED_IN && self->session != SESSION_SIGNING_OUT)
    return;

  g_debug ("Signed out");
  self->session = SESSION_SIGNED_OUT;
  self->generation++;
  self->sync_id++;
  self->sync_pending = 0;
  self->lost = FALSE;
  _cx_agent_service_close_socket (self);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_clear_handle_id (&self->greet_id, g_source_remove);

  g_hash_table_remove_all (self->typing_timers);
  g_hash_table_remove_all (self->chats);
  g_list_store_remove_all (self->conversations);
  g_clear_pointer (&self->agent, cx_agent_info_free);
  g_clear_pointer (&self->reason, g_free);
  g_strfreev (self->queues);
  self->queues = g_new0 (char *, 1);
  self->state = CX_AGENT_PRESENCE_OFFLINE;

  g_object_freeze_notify (G_OBJECT (self));
  _cx_agent_service_set_connected (self, FALSE);
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_SIGNED_IN]);
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_USERNAME]);
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_DISPLAY_NAME]);
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_REASON]);
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_QUEUES]);
  g_object_notify_by_pspec (G_OBJECT (self), _cx_agent_service_properties[PROP_STATE]);
  g_object_thaw_notify (G_OBJECT (self));

  _cx_agent_service_publish_empty (self, "signedOut");
}

static GSList *
session_cookies (CxAgentService *self)
{
  SoupCookieJar *jar = cx_http_get_cookie_jar (self->http);
  GSList *cookies = soup_cookie_jar_get_cookie_list (jar, self->me_uri, TRUE);
  GSList *ours = NULL;

  for (GSList *l = cookies; l != NULL; l = l->next)
    {
      if (g_str_equal (soup_cookie_get_name (l->data), CX_AGENT_API_COOKIE))
        ours = g_slist_prepend (ours, l->data);
      else
        soup_cookie_free (l->data);
    }
  g_slist_free (cookies);

  return ours;
}

gboolean
_cx_agent_service_has_session_cookie (CxAgentService *self)
{
  GSList *cookies = session_cookies (self);
  gboolean found = cookies != NULL;

  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);
  return found;
}

static void
delete_session_cookie (CxAgentService *self)
{
  SoupCookieJar *jar = cx_http_get_cookie_jar (self->http);
  GSList *cookies = session_cookies (self);

  for (GSList *l = cookies; l != NULL; l = l->next)
    soup_cookie_jar_delete_cookie (jar, l->data);
  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);
}

/* A request of session @generation was answered 401: the server has forgotten the session.
 * Deleting the cookie signs out every window of the app. */
void
_cx_agent_service_session_rejected (CxAgentService *self, guint generation)
{
  if (generation != self->generation ||
      (self->session != SESSION_SIGNED_IN && self->session != SESSION_SIGNING_OUT))
    return;

  g_debug ("The server no longer knows the session");
  _cx_agent_service_session_ended (self);
  delete_session_cookie (self);
}

static void
sign_in_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (CxAgentInfo) agent = NULL;
  g_autoptr (GError) local_error = NULL;

  if (request->generation != self->generation || self->session != SESSION_SIGNING_IN)
    {
      _cx_agent_service_answer (request, NULL, error);
      return;
    }

  if (error == NULL && !cx_agent_info_parse (reply, &agent, NULL))
    local_error = _cx_agent_service_bad_reply_error (CX_AGENT_API_PREFIX);

  if (agent == NULL)
    {
      const GError *failure = error != NULL ? error : local_error;

      g_debug ("Signing in failed: %s", failure->message);
      self->session = SESSION_SIGNED_OUT;
      _cx_agent_service_answer (request, NULL, failure);
      _cx_agent_service_reject_all (self->restore_waiters, failure);
      run_deferred (self);
      return;
    }

  session_began (self, g_steal_pointer (&agent), request);
}

/* GET /me with the cookie the app has: a window restores the app's session. */
void
_cx_agent_service_begin_restore (CxAgentService *self)
{
  Request *request;

  self->session = SESSION_SIGNING_IN;
  request =
      _cx_agent_service_route_request (self, CX_AGENT_ROUTE_ME, NULL, NULL, NULL, sign_in_reply);
  _cx_agent_service_request_send (self, request);
}

/* Deferred commands: those that came while signing in run once it is settled */

static void
defer (CxAgentService *self, CxCommand *command, CxCommandFunc func)
{
  Deferred deferred = { g_object_ref (command), func };

  g_array_append_val (self->deferred, deferred);
}

static void
run_deferred (CxAgentService *self)
{
  g_autoptr (GArray) taken = NULL;

  if (self->deferred->len == 0)
    return;

  taken = self->deferred;
  self->deferred = g_array_new (FALSE, FALSE, sizeof (Deferred));
  for (guint i = 0; i < taken->len; i++)
    {
      Deferred *deferred = &g_array_index (taken, Deferred, i);

      if (!self->disposed)
        deferred->func (NULL, deferred->command, self);
      g_clear_object (&deferred->command);
    }
}

/* Whether @command may run now; if not it is deferred (signing in) or rejected. */
gboolean
_cx_agent_service_require_session (CxAgentService *self, CxCommand *command, CxCommandFunc func)
{
  if (self->session == SESSION_SIGNED_IN)
    return TRUE;

  if (self->session == SESSION_SIGNING_IN)
    defer (self, command, func);
  else
    _cx_agent_service_reject_not_signed_in (command);

  return FALSE;
}

/* Commands: the session */

void
_cx_agent_service_sign_in_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *username = _cx_agent_service_command_string (command, "username");
  const char *password = _cx_agent_service_command_string (command, "password");
  g_autoptr (JsonNode) body = NULL;
  Request *request;

  if (!cx_id_is_valid (username) || password == NULL)
    {
      _cx_agent_service_reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                                        _ ("Signing in needs a user name and a password"));
      return;
    }

  switch (self->session)
    {
      case SESSION_SIGNING_IN:
        defer (self, command, _cx_agent_service_sign_in_cb);
        return;

      case SESSION_SIGNED_IN:
        cx_command_reject (command,
                           g_error_new (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_BUSY,
                                        _ ("You are already signed in as %s: sign out first"),
                                        self->agent->username));
        return;

      case SESSION_SIGNING_OUT:
        _cx_agent_service_reject_literal (command, CX_AGENT_SERVICE_ERROR_BUSY,
                                          _ ("Signing out is under way"));
        return;

      case SESSION_SIGNED_OUT:
      default:
        break;
    }

  body = cx_agent_sign_in_build (username, password);
  self->session = SESSION_SIGNING_IN;
  request = _cx_agent_service_route_request (self, CX_AGENT_ROUTE_SIGN_IN, NULL, body, command,
                                             sign_in_reply);
  request->signing_in = TRUE;
  _cx_agent_service_request_send (self, request);
}

void
_cx_agent_service_restore_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  g_autoptr (JsonNode) result = NULL;

  switch (self->session)
    {
      case SESSION_SIGNED_IN:
        result = _cx_agent_service_agent_node (self);
        cx_command_resolve (command, result);
        return;

      case SESSION_SIGNING_IN:
        g_ptr_array_add (self->restore_waiters, g_object_ref (command));
        return;

      case SESSION_SIGNING_OUT:
        _cx_agent_service_reject_literal (command, CX_AGENT_SERVICE_ERROR_BUSY,
                                          _ ("Signing out is under way"));
        return;

      case SESSION_SIGNED_OUT:
      default:
        g_ptr_array_add (self->restore_waiters, g_object_ref (command));
        _cx_agent_service_begin_restore (self);
        return;
    }
}

static void
sign_out_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (JsonNode) nothing = json_node_new (JSON_NODE_NULL);

  if (error != NULL &&
      !g_error_matches (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN))
    {
      /* The server did not hear it: still signed in. */
      if (self->session == SESSION_SIGNING_OUT && request->generation == self->generation)
        self->session = SESSION_SIGNED_IN;
      _cx_agent_service_reject_all (self->sign_out_waiters, error);
      return;
    }

  if (request->generation == self->generation)
    {
      _cx_agent_service_session_ended (self);
      /* The reply deleted it; a 401 did not: every window follows either way. */
      delete_session_cookie (self);
    }
  _cx_agent_service_resolve_all (self->sign_out_waiters, nothing);
}

void
_cx_agent_service_sign_out_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;

  switch (self->session)
    {
      case SESSION_SIGNED_OUT:
        cx_command_resolve (command, NULL);
        return;

      case SESSION_SIGNING_IN:
        defer (self, command, _cx_agent_service_sign_out_cb);
        return;

      case SESSION_SIGNING_OUT:
        g_ptr_array_add (self->sign_out_waiters, g_object_ref (command));
        return;

      case SESSION_SIGNED_IN:
      default:
        break;
    }

  g_ptr_array_add (self->sign_out_waiters, g_object_ref (command));
  self->session = SESSION_SIGNING_OUT;
  _cx_agent_service_request_send (
      self, _cx_agent_service_route_request (self, CX_AGENT_ROUTE_SIGN_OUT, NULL, NULL, NULL,
                                             sign_out_reply));
}

static void
set_state_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (CxAgentInfo) agent = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonNode) result = NULL;

  if (error != NULL)
    {
      _cx_agent_service_answer (request, NULL, error);
      return;
    }

  if (!cx_agent_info_parse (reply, &agent, NULL))
    {
      local_error = _cx_agent_service_bad_reply_error (CX_AGENT_API_PREFIX);
      _cx_agent_service_answer (request, NULL, local_error);
      return;
    }

  if (request->generation == self->generation && self->session == SESSION_SIGNED_IN)
    _cx_agent_service_update_state (self, agent->state, agent->reason);

  result = cx_agent_info_build (agent);
  _cx_agent_service_answer (request, result, NULL);
}

void
_cx_agent_service_set_state_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  JsonObject *data = _cx_agent_service_command_object (command);
  const char *state = cx_json_get_string (data, "state");
  const char *reason = cx_json_get_string (data, "reason");
  CxAgentPresence presence;
  g_autoptr (JsonNode) body = NULL;

  if (!cx_agent_presence_from_string (state, &presence))
    {
      _cx_agent_service_reject_literal (
          command, CX_AGENT_SERVICE_ERROR_INVALID,
          _ ("setState needs a “state”: ready, not_ready or offline"));
      return;
    }
  if (reason == NULL && !cx_json_is_null_or_absent (data, "reason"))
    {
      _cx_agent_service_reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                                        _ ("setState: “reason” must be text"));
      return;
    }

  if (!_cx_agent_service_require_session (self, command, _cx_agent_service_set_state_cb))
    return;

  body = cx_agent_state_request_build (presence, reason);
  _cx_agent_service_request_send (self,
                                  _cx_agent_service_route_request (self, CX_AGENT_ROUTE_STATE, NULL,
                                                                   body, command, set_state_reply));
}
