/* cx-callback-service.c: the "CallbackService" plugin of one window's bus: the customer side of
 * the GMS Callback API v1 (schedule, availability, get, reschedule, cancel).
 *
 * Input is checked before any request with the protocol's own parsers (a form built from the
 * command is read back with cx_callback_request_parse(), a reschedule with
 * cx_callback_reschedule_parse(), an availability query with cx_callback_availability_parse()),
 * so the client refuses exactly what the server would, and sends the normalized values.
 *
 * Requests go the one way every service's do (CxServiceRequest through CxHttp), with a
 * timeout per request (ajaxTimeout) and a cap on the reply's size (CX_CALLBACK_MAX_REPLY_SIZE).
 * The callback API explains a refusal in the body of a 4xx reply ({"code": 7042, ...} and a
 * plain 400 differ only there): CxHttp's status error carries that body, and
 * cx_callback_parse_error() reads it.
 *
 * A callback is private to whoever booked it (issue 9): the server answers a booking with the
 * callback's secret, and get, reschedule and cancel send it back (CX_CALLBACK_SECRET_HEADER).
 * The secrets live where the chat keys do, in a session cookie of the application's one jar
 * (CX_CALLBACK_COOKIE_SECRETS, on dataURL's site; the newest SECRETS_MAX), so every window of
 * the app can move or cancel what another booked, and nothing outlives the process. A window
 * that closes cancels its requests (their commands are rejected) and leaves booked callbacks
 * as they are.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-callback-service"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "protocol/cx-gms-callback.h"
#include "protocol/cx-protocol.h"
#include "services/cx-callback-service.h"
#include "services/cx-service-request.h"

#define DEFAULT_NUMBER_OF_DAYS 5
#define MAX_NUMBER_OF_DAYS 30
#define ID_MAX_BYTES 256
/* Secrets kept in the cookie: the newest; each entry is under 100 bytes escaped. */
#define SECRETS_MAX 24

typedef enum
{
  OP_SCHEDULE,
  OP_AVAILABILITY,
  OP_GET,
  OP_RESCHEDULE,
  OP_CANCEL,
} Operation;

struct _CxCallbackService
{
  GObject parent_instance;

  CxBus *bus;
  CxPlugin *plugin;
  CxHttp *http;
  char *data_url; /* no trailing slash */
  guint ajax_timeout_ms;
  guint number_of_days;

  /* Every request; cancelled in dispose. */
  GCancellable *cancellable;
  gboolean disposed;
};

G_DEFINE_FINAL_TYPE (CxCallbackService, cx_callback_service, G_TYPE_OBJECT)

static const char *const event_names[] = {
  "scheduled", "scheduleError", "availableSlots", "availabilityError", "rescheduled", "cancelled",
  NULL,
};

/* Small helpers */

static JsonNode *
node_from_object (JsonObject *object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  return node;
}

static GHashTable *
new_form (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static void
form_add (GHashTable *form, const char *name, const char *value)
{
  g_hash_table_replace (form, g_strdup (name), g_strdup (value));
}

static void
publish (CxCallbackService *self, const char *event, JsonNode *data)
{
  /* A disposed service is off its bus: it has nothing more to say. */
  if (self->disposed || cx_plugin_get_bus (self->plugin) == NULL)
    return;

  cx_plugin_publish (self->plugin, event, data);
}

static void
publish_error (CxCallbackService *self, const char *event, const GError *error)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) data = NULL;

  json_object_set_string_member (object, "message", error->message);
  json_object_set_int_member (object, "code", error->code);
  data = node_from_object (object);
  publish (self, event, data);
}

static GError *invalid_input (const char *format, ...) G_GNUC_PRINTF (1, 2);

static GError *
invalid_input (const char *format, ...)
{
  va_list args;
  GError *error;

  va_start (args, format);
  error = g_error_new_valist (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID, format, args);
  va_end (args);

  return error;
}

/* The refusals people meet most, in their words rather than the server's. */
static GError *
word_for_people (GError *error)
{
  if (g_error_matches (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_OFFICE_CLOSED))
    {
      g_clear_error (&error);
      return g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_OFFICE_CLOSED,
                                  _ ("We are closed at that time"));
    }

  if (g_error_matches (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_SLOT_FULL))
    {
      g_clear_error (&error);
      return g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_SLOT_FULL,
                                  _ ("That time is fully booked: please choose another"));
    }

  return error;
}

/* Replies */

static void
add_time (JsonObject *object, const char *member, gint64 ms)
{
  g_autofree char *text = NULL;

  if (ms < 0 || ms > CX_ISO8601_MAX_MS)
    return;

  text = cx_iso8601_format (ms);
  json_object_set_string_member (object, member, text);
}

static JsonNode *
callback_to_json (const CxCallbackInfo *info)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "id", info->id);
  if (info->service != NULL)
    json_object_set_string_member (object, "serviceName", info->service);
  if (info->state != NULL)
    json_object_set_string_member (object, "state", info->state);
  add_time (object, "desiredTime", info->desired_time);
  add_time (object, "expirationTime", info->expiration_time);
  if (info->customer_number != NULL)
    json_object_set_string_member (object, "customerNumber", info->customer_number);
  json_object_set_member (object, "properties", json_node_copy (info->properties));

  return node_from_object (object);
}

static JsonNode *
slots_to_json (GArray *slots)
{
  JsonObject *object = json_object_new ();
  JsonArray *array = json_array_new ();

  for (guint i = 0; i < slots->len; i++)
    {
      const CxCallbackSlot *slot = &g_array_index (slots, CxCallbackSlot, i);
      JsonObject *entry = json_object_new ();

      add_time (entry, "time", slot->start);
      json_object_set_int_member (entry, "capacity", slot->capacity);
      json_array_add_object_element (array, entry);
    }
  json_object_set_array_member (object, "slots", array);

  return node_from_object (object);
}

/* Secrets (issue 9): id -> secret in CX_CALLBACK_COOKIE_SECRETS */

static JsonObject *
read_secrets (CxCallbackService *self)
{
  g_autofree char *text =
      cx_http_get_site_cookie (self->http, self->data_url, CX_CALLBACK_COOKIE_SECRETS);
  g_autoptr (JsonNode) root = NULL;

  if (text != NULL)
    root = cx_json_parse (text, strlen (text), 16 * 1024, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return json_object_new ();
  return json_object_ref (json_node_get_object (root));
}

/* The secret of @id, or NULL. */
static char *
lookup_secret (CxCallbackService *self, const char *id)
{
  g_autoptr (JsonObject) secrets = read_secrets (self);
  const char *secret = json_object_get_string_member_with_default (secrets, id, NULL);

  return cx_callback_secret_validate (secret) ? g_strdup (secret) : NULL;
}

static void
remember_secret (CxCallbackService *self, const char *id, const char *secret)
{
  g_autoptr (JsonObject) secrets = read_secrets (self);
  g_autoptr (JsonObject) kept = json_object_new ();
  g_autoptr (GList) ids = json_object_get_members (secrets);
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  guint skip;

  /* Members in the order they were added: drop the oldest past SECRETS_MAX. */
  json_object_remove_member (secrets, id);
  g_clear_pointer (&ids, g_list_free);
  ids = json_object_get_members (secrets);
  skip = g_list_length (ids) + 1 > SECRETS_MAX ? g_list_length (ids) + 1 - SECRETS_MAX : 0;
  for (GList *l = ids; l != NULL; l = l->next)
    {
      const char *value = json_object_get_string_member_with_default (secrets, l->data, NULL);

      if (skip > 0)
        skip--;
      else if (cx_callback_secret_validate (value))
        json_object_set_string_member (kept, l->data, value);
    }
  json_object_set_string_member (kept, id, secret);

  json_node_set_object (root, kept);
  text = json_to_string (root, FALSE);
  if (!cx_http_set_site_cookie (self->http, self->data_url, CX_CALLBACK_COOKIE_SECRETS, text,
                                &error))
    g_debug ("Could not keep the secret of callback %s: %s", id, error->message);
}

/* Requests
 *
 * One Request per command: the part every service's request has (the message, the command,
 * a cancellable that the service's dispose and the command's caller both cancel), and what
 * the reply is checked against. */

typedef struct
{
  CxServiceRequest base;
  CxCallbackService *self; /* not a reference: alive while the service is not gone */
  Operation op;
  char *id;  /* the callback asked for (get, reschedule, cancel) */
  char *uri; /* for messages: no query */
  guint timeout_ms;
} Request;

static void
request_free (Request *request)
{
  cx_service_request_clear (&request->base);
  g_free (request->id);
  g_free (request->uri);
  g_free (request);
}

/* CxHttp's failures to get a reply at all, as the callback API's: the service is unavailable
 * (or answered too much), and the message says why. */
static GError *
transport_error (Request *request, const GError *error)
{
  if (g_error_matches (error, CX_HTTP_ERROR, CX_HTTP_ERROR_TIMED_OUT))
    return g_error_new (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_UNAVAILABLE,
                        _ ("The callback service at %s did not answer within %u ms"), request->uri,
                        request->timeout_ms);

  if (g_error_matches (error, CX_HTTP_ERROR, CX_HTTP_ERROR_TOO_LARGE))
    return g_error_new (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INTERNAL,
                        _ ("The reply of the callback service at %s is larger than %d bytes"),
                        request->uri, CX_CALLBACK_MAX_REPLY_SIZE);

  /* CxHttp's message names the address and says what failed. */
  return g_error_new (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_UNAVAILABLE,
                      _ ("Could not reach the callback service: %s"), error->message);
}

static void handle_reply (CxCallbackService *self, Request *request, GBytes *body,
                          const GError *http_error);

/* The request is over, one way or the other: answer its command. */
static void
request_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Request *request = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;

  body = cx_http_send_finish (CX_HTTP (source), result, &error);

  /* The service went away, whatever else happened: it cannot be touched. */
  if (cx_service_request_service_gone (&request->base))
    {
      cx_command_reject (request->base.command,
                         g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN,
                                              _ ("The callback service was closed")));
      request_free (request);
      return;
    }

  /* The caller gave up (a timeout is a CxHttpError): the bus has answered the command
   * already, and drops this. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      cx_command_reject (request->base.command, g_steal_pointer (&error));
      request_free (request);
      return;
    }

  handle_reply (request->self, request, body, error);
  request_free (request);
}

/* Sends @method @url (with @form, if any, as the urlencoded body) for @command. */
static void
request_start (CxCallbackService *self, CxCommand *command, Operation op, const char *id,
               const char *method, const char *url, GHashTable *form)
{
  g_autoptr (GError) error = NULL;
  Request *request;

  request = g_new0 (Request, 1);
  request->self = self;
  request->op = op;
  request->id = g_strdup (id);
  request->timeout_ms = self->ajax_timeout_ms;

  /* Built from dataURL, which parsed, and escaped parts: this does not fail. */
  if (!cx_service_request_init (&request->base, method, url, self->cancellable, command, &error))
    {
      GError *invalid = invalid_input ("%s", error->message);

      if (op == OP_SCHEDULE || op == OP_AVAILABILITY)
        publish_error (self, op == OP_SCHEDULE ? "scheduleError" : "availabilityError", invalid);
      cx_command_reject (command, invalid);
      request_free (request);
      return;
    }

  request->uri =
      g_uri_to_string_partial (soup_message_get_uri (request->base.msg),
                               G_URI_HIDE_USERINFO | G_URI_HIDE_QUERY | G_URI_HIDE_FRAGMENT);
  if (id != NULL)
    {
      g_autofree char *secret = lookup_secret (self, id);

      if (secret != NULL)
        soup_message_headers_replace (soup_message_get_request_headers (request->base.msg),
                                      CX_CALLBACK_SECRET_HEADER, secret);
    }
  if (form != NULL)
    cx_http_message_set_form (request->base.msg, form);

  cx_service_request_follow (&request->base, cx_command_get_cancellable (command));
  cx_service_request_send (&request->base, self->http, request->timeout_ms,
                           CX_CALLBACK_MAX_REPLY_SIZE, request_done_cb, request);
}

/* The outcome of a finished request, as an error or as the command's result. */
static JsonNode *
read_reply (Request *request, GBytes *body, const GError *http_error, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonNode) root = NULL;
  guint status = soup_message_get_status (request->base.msg);
  const char *data = NULL;
  gsize size = 0;

  /* A refusal comes with its explanation in the body of a 4xx reply ({"code": 7042, ...} and
   * a plain 400 differ only there): CxHttp hands it over with the error. */
  if (http_error != NULL && !g_error_matches (http_error, CX_HTTP_ERROR, CX_HTTP_ERROR_STATUS))
    {
      g_propagate_error (error, transport_error (request, http_error));
      return NULL;
    }
  if (http_error != NULL)
    body = cx_http_error_get_body (http_error);

  if (body != NULL)
    data = g_bytes_get_data (body, &size);
  root = cx_json_parse (data, size, CX_CALLBACK_MAX_REPLY_SIZE, &local_error);

  if (status >= 400)
    {
      cx_callback_parse_error (root, status, error);
      return NULL;
    }

  if (status < 200 || status >= 300)
    {
      g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INTERNAL,
                   _ ("The callback service at %s answered with the unexpected status %u"),
                   request->uri, status);
      return NULL;
    }

  if (root != NULL && request->op == OP_AVAILABILITY)
    {
      g_autoptr (GArray) slots = NULL;

      if (cx_callback_parse_availability (root, &slots, &local_error))
        return slots_to_json (slots);
    }
  else if (root != NULL)
    {
      g_autoptr (CxCallbackInfo) info = NULL;

      if (cx_callback_parse_object (root, &info, &local_error))
        {
          if (request->op == OP_SCHEDULE && info->secret != NULL)
            remember_secret (request->self, info->id, info->secret);
          if (request->id == NULL || g_str_equal (info->id, request->id))
            return callback_to_json (info);

          g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INTERNAL,
                       _ ("The callback service at %s answered with another callback"),
                       request->uri);
          return NULL;
        }
    }

  g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INTERNAL,
               _ ("The reply of the callback service at %s is not valid: %s"), request->uri,
               local_error->message);
  return NULL;
}

static void
handle_reply (CxCallbackService *self, Request *request, GBytes *body, const GError *http_error)
{
  static const struct
  {
    const char *done;
    const char *failed;
  } events[] = {
    [OP_SCHEDULE] = { "scheduled", "scheduleError" },
    [OP_AVAILABILITY] = { "availableSlots", "availabilityError" },
    [OP_GET] = { NULL, NULL },
    [OP_RESCHEDULE] = { "rescheduled", NULL },
    [OP_CANCEL] = { "cancelled", NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;

  result = read_reply (request, body, http_error, &error);
  if (result == NULL)
    {
      error = word_for_people (g_steal_pointer (&error));
      g_debug ("%s failed: %s", cx_command_get_name (request->base.command), error->message);
      if (events[request->op].failed != NULL)
        publish_error (self, events[request->op].failed, error);
      cx_command_reject (request->base.command, g_steal_pointer (&error));
      return;
    }

  if (events[request->op].done != NULL)
    publish (self, events[request->op].done, result);
  cx_command_resolve (request->base.command, result);
}

/* Command data */

/* The command's data as an object; NULL (with @error) if it is something else. An absent
 * data is an empty object when @optional. */
static JsonObject *
command_object (CxCommand *command, gboolean optional, GError **error)
{
  JsonNode *data = cx_command_get_data (command);

  if ((data == NULL || JSON_NODE_HOLDS_NULL (data)) && optional)
    return json_object_new ();

  if (data == NULL || !JSON_NODE_HOLDS_OBJECT (data))
    {
      g_propagate_error (error, invalid_input (_ ("%s needs an object of options"),
                                               cx_command_get_short_name (command)));
      return NULL;
    }

  return json_object_ref (json_node_get_object (data));
}

/* A string member; absent (or null) gives NULL, and an error if @required. */
static gboolean
member_string (JsonObject *object, const char *member, gboolean required, const char **out,
               GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        g_propagate_error (error, invalid_input (_ ("“%s” is missing"), member));
      return !required;
    }

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING ||
      !g_utf8_validate (json_node_get_string (node), -1, NULL))
    {
      g_propagate_error (error, invalid_input (_ ("“%s” must be text"), member));
      return FALSE;
    }

  *out = json_node_get_string (node);
  return TRUE;
}

/* An integer member from @min to @max; absent (or null) leaves @out as it is. */
static gboolean
member_uint (JsonObject *object, const char *member, guint min, guint max, guint *out,
             GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  gint64 value;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
      (value = json_node_get_int (node)) < min || value > max)
    {
      g_propagate_error (
          error, invalid_input (_ ("“%s” must be a whole number from %u to %u"), member, min, max));
      return FALSE;
    }

  *out = (guint) value;
  return TRUE;
}

/* An ISO-8601 time with a zone, as the canonical UTC text GMS writes; NULL with @error. */
static char *
normalize_time (const char *member, const char *text, GError **error)
{
  gint64 ms;

  if (!cx_iso8601_parse (text, &ms, NULL) || ms > CX_ISO8601_MAX_MS)
    {
      g_propagate_error (error,
                         invalid_input (_ ("“%s” must be a date and time in ISO-8601 with a time "
                                           "zone, like 2026-11-25T14:30:00Z"),
                                        member));
      return NULL;
    }

  return cx_iso8601_format (ms);
}

/* A callback id: one line of text, not a name the availability path or "." could take. */
static gboolean
valid_id (const char *id)
{
  if (id == NULL || id[0] == '\0' || strnlen (id, ID_MAX_BYTES + 1) > ID_MAX_BYTES ||
      !g_utf8_validate (id, -1, NULL) || g_str_equal (id, ".") || g_str_equal (id, "..") ||
      g_str_equal (id, "availability"))
    return FALSE;

  for (const guchar *p = (const guchar *) id; *p != '\0'; p++)
    {
      if (*p < 0x20 || *p == 0x7f)
        return FALSE;
    }

  return TRUE;
}

static char *
callback_url (CxCallbackService *self, const char *id)
{
  g_autofree char *escaped = g_uri_escape_string (id, NULL, FALSE);

  return g_strdup_printf ("%s/%s", self->data_url, escaped);
}

/* The id of get, reschedule and cancel; NULL with @error. */
static const char *
command_id (JsonObject *object, GError **error)
{
  const char *id;

  if (!member_string (object, "id", TRUE, &id, error))
    return NULL;

  if (!valid_id (id))
    {
      g_propagate_error (error, invalid_input (_ ("“%s” is not a callback id"), "id"));
      return NULL;
    }

  return id;
}

/* The form fields schedule sets itself, and the ones the server assigns: userData cannot. */
static const char *const own_fields[] = {
  "firstname", "lastname",      "subject",         "_customer_number", "_desired_time",
  "_id",       "_service_name", "_callback_state", "_expiration_time",
};

static gboolean
add_user_data (GHashTable *form, JsonObject *object, GError **error)
{
  JsonNode *node = json_object_get_member (object, "userData");
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_propagate_error (error, invalid_input (_ ("“%s” must be an object"), "userData"));
      return FALSE;
    }

  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &name, &value))
    {
      GType type = JSON_NODE_HOLDS_VALUE (value) ? json_node_get_value_type (value) : G_TYPE_NONE;
      char buffer[G_ASCII_DTOSTR_BUF_SIZE];

      if (!g_utf8_validate (name, -1, NULL))
        {
          g_propagate_error (error, invalid_input (_ ("A userData name is not valid text")));
          return FALSE;
        }

      for (guint i = 0; i < G_N_ELEMENTS (own_fields); i++)
        {
          if (g_str_equal (name, own_fields[i]))
            {
              g_propagate_error (error, invalid_input (_ ("userData cannot set “%s”"), name));
              return FALSE;
            }
        }

      /* A form carries text: numbers and booleans are written as JSON writes them. */
      if (JSON_NODE_HOLDS_NULL (value))
        continue;
      else if (type == G_TYPE_STRING)
        form_add (form, name, json_node_get_string (value));
      else if (type == G_TYPE_BOOLEAN)
        form_add (form, name, json_node_get_boolean (value) ? "true" : "false");
      else if (type == G_TYPE_INT64)
        g_hash_table_replace (form, g_strdup (name),
                              g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (value)));
      else if (type == G_TYPE_DOUBLE)
        form_add (form, name, g_ascii_dtostr (buffer, sizeof buffer, json_node_get_double (value)));
      else
        {
          g_propagate_error (
              error, invalid_input (_ ("userData “%s” must be text, a number or a boolean"), name));
          return FALSE;
        }
    }

  return TRUE;
}

/* The create request for schedule's data, checked as the server will check it, with the
 * number and the time normalized. NULL with @error. */
static GHashTable *
schedule_form (JsonObject *object, GError **error)
{
  g_autoptr (GHashTable) form = new_form ();
  g_autoptr (GHashTable) number_only = new_form ();
  g_autoptr (CxCallbackRequest) request = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *first_name, *last_name, *phone, *desired, *subject;

  if (!member_string (object, "firstname", FALSE, &first_name, error) ||
      !member_string (object, "lastname", FALSE, &last_name, error) ||
      !member_string (object, "phoneNumber", TRUE, &phone, error) ||
      !member_string (object, "desiredTime", FALSE, &desired, error) ||
      !member_string (object, "subject", FALSE, &subject, error) ||
      !add_user_data (form, object, error))
    return NULL;

  /* The number alone first, for a message that says what is wrong with it. */
  form_add (number_only, "_customer_number", phone);
  request = cx_callback_request_parse (number_only, NULL);
  if (request == NULL)
    {
      g_propagate_error (error, invalid_input (_ ("That is not a phone number: give 3 to 20 "
                                                  "digits, with + and the country code first")));
      return NULL;
    }
  form_add (form, "_customer_number", request->customer_number);
  g_clear_pointer (&request, cx_callback_request_free);

  if (desired != NULL && desired[0] != '\0' && g_ascii_strcasecmp (desired, "now") != 0)
    {
      g_autofree char *canonical = normalize_time ("desiredTime", desired, error);

      if (canonical == NULL)
        return NULL;
      form_add (form, "_desired_time", canonical);
    }

  if (first_name != NULL)
    form_add (form, "firstname", first_name);
  if (last_name != NULL)
    form_add (form, "lastname", last_name);
  if (subject != NULL)
    form_add (form, "subject", subject);

  /* Everything else by the server's own rules: lengths, text, how many properties. */
  request = cx_callback_request_parse (form, &local_error);
  if (request == NULL)
    {
      g_propagate_error (error, invalid_input ("%s", local_error->message));
      return NULL;
    }

  return g_steal_pointer (&form);
}

/* Commands */

static void
reject_input (CxCallbackService *self, CxCommand *command, const char *event, GError *error)
{
  if (event != NULL)
    publish_error (self, event, error);
  cx_command_reject (command, error);
}

static void
schedule_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxCallbackService *self = user_data;
  g_autoptr (JsonObject) object = NULL;
  g_autoptr (GHashTable) form = NULL;
  GError *error = NULL;

  object = command_object (command, FALSE, &error);
  if (object != NULL)
    form = schedule_form (object, &error);
  if (form == NULL)
    {
      reject_input (self, command, "scheduleError", error);
      return;
    }

  request_start (self, command, OP_SCHEDULE, NULL, SOUP_METHOD_POST, self->data_url, form);
}

static void
availability_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxCallbackService *self = user_data;
  g_autoptr (JsonObject) object = NULL;
  g_autoptr (GHashTable) query = new_form ();
  g_autoptr (GError) local_error = NULL;
  g_autofree char *encoded = NULL;
  g_autofree char *url = NULL;
  CxCallbackAvailabilityQuery parsed;
  guint days = self->number_of_days;
  guint max_slots = 0;
  const char *start;
  GError *error = NULL;

  object = command_object (command, TRUE, &error);
  if (object == NULL || !member_string (object, "startDate", FALSE, &start, &error) ||
      !member_uint (object, "numberOfDays", 1, MAX_NUMBER_OF_DAYS, &days, &error) ||
      !member_uint (object, "maxTimeSlots", 1, CX_CALLBACK_MAX_SLOTS, &max_slots, &error))
    {
      reject_input (self, command, "availabilityError", error);
      return;
    }

  if (start != NULL && start[0] != '\0')
    {
      g_autofree char *canonical = normalize_time ("startDate", start, &error);

      if (canonical == NULL)
        {
          reject_input (self, command, "availabilityError", error);
          return;
        }
      form_add (query, "start", canonical);
    }
  g_hash_table_replace (query, g_strdup ("number-of-days"), g_strdup_printf ("%u", days));
  if (max_slots > 0)
    g_hash_table_replace (query, g_strdup ("max-time-slots"), g_strdup_printf ("%u", max_slots));

  /* The server's own reading of the query. */
  if (!cx_callback_availability_parse (query, &parsed, &local_error))
    {
      reject_input (self, command, "availabilityError", invalid_input ("%s", local_error->message));
      return;
    }

  encoded = soup_form_encode_hash (query);
  url = g_strdup_printf ("%s/availability?%s", self->data_url, encoded);
  request_start (self, command, OP_AVAILABILITY, NULL, SOUP_METHOD_GET, url, NULL);
}

/* get and cancel: a command on one callback by its id, without a body. */
static void
request_by_id (CxCallbackService *self, CxCommand *command, Operation op, const char *method)
{
  g_autoptr (JsonObject) object = NULL;
  g_autofree char *url = NULL;
  GError *error = NULL;
  const char *id = NULL;

  object = command_object (command, FALSE, &error);
  if (object != NULL)
    id = command_id (object, &error);
  if (id == NULL)
    {
      reject_input (self, command, NULL, error);
      return;
    }

  url = callback_url (self, id);
  request_start (self, command, op, id, method, url, NULL);
}

static void
get_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  request_by_id (user_data, command, OP_GET, SOUP_METHOD_GET);
}

static void
reschedule_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxCallbackService *self = user_data;
  g_autoptr (JsonObject) object = NULL;
  g_autoptr (GHashTable) form = new_form ();
  g_autoptr (GError) local_error = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *url = NULL;
  const char *id = NULL;
  const char *desired = NULL;
  GError *error = NULL;
  gint64 ms;

  object = command_object (command, FALSE, &error);
  if (object != NULL && (id = command_id (object, &error)) != NULL &&
      member_string (object, "desiredTime", TRUE, &desired, &error))
    canonical = normalize_time ("desiredTime", desired, &error);
  if (canonical == NULL)
    {
      reject_input (self, command, NULL, error);
      return;
    }

  form_add (form, "_new_desired_time", canonical);
  if (!cx_callback_reschedule_parse (form, &ms, &local_error))
    {
      reject_input (self, command, NULL, invalid_input ("%s", local_error->message));
      return;
    }

  url = callback_url (self, id);
  request_start (self, command, OP_RESCHEDULE, id, SOUP_METHOD_PUT, url, form);
}

static void
cancel_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  request_by_id (user_data, command, OP_CANCEL, SOUP_METHOD_DELETE);
}

static const CxCommandSpec command_specs[] = {
  { "schedule", schedule_cb }, { "availability", availability_cb },
  { "get", get_cb },           { "reschedule", reschedule_cb },
  { "cancel", cancel_cb },
};

/* Configuration */

static gboolean
parse_config (CxCallbackService *self, JsonObject *config, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GUri) trimmed = NULL;
  g_autofree char *path = NULL;
  JsonNode *node;
  JsonObject *calendar = NULL;
  const char *data_url = NULL;
  const char *scheme;
  gsize length;

  node = config != NULL ? json_object_get_member (config, "dataURL") : NULL;
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    data_url = json_node_get_string (node);
  if (data_url == NULL || data_url[0] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The callback settings have no “dataURL”"));
      return FALSE;
    }

  uri = g_uri_parse (data_url, SOUP_HTTP_URI_FLAGS, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
      g_uri_get_query (uri) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The callback “dataURL” “%s” is not an http:// or https:// address"),
                   data_url);
      return FALSE;
    }

  /* Callback addresses are dataURL + "/{id}" and dataURL + "/availability". */
  path = g_strdup (g_uri_get_path (uri));
  length = strlen (path);
  while (length > 0 && path[length - 1] == '/')
    path[--length] = '\0';
  trimmed = soup_uri_copy (uri, SOUP_URI_PATH, path, SOUP_URI_FRAGMENT, NULL, SOUP_URI_NONE);
  self->data_url = g_uri_to_string (trimmed);

  /* The calendar's settings, as the widgets configuration has them beside the callback's. */
  node = config != NULL ? json_object_get_member (config, "calendar") : NULL;
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    calendar = json_node_get_object (node);
  else if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The callback setting “%s” must be an object"), "calendar");
      return FALSE;
    }

  return cx_service_config_get_ajax_timeout (config, &self->ajax_timeout_ms, error) &&
         cx_service_config_get_uint (calendar, "numberOfDays", DEFAULT_NUMBER_OF_DAYS, 1,
                                     MAX_NUMBER_OF_DAYS, &self->number_of_days, error);
}

/* Object */

static void
cx_callback_service_dispose (GObject *object)
{
  CxCallbackService *self = CX_CALLBACK_SERVICE (object);

  self->disposed = TRUE;

  /* Requests under way end, and reject their commands, from the main loop. */
  cx_service_leave_bus (self->cancellable, &self->plugin);
  g_clear_object (&self->bus);
  g_clear_object (&self->http);

  G_OBJECT_CLASS (cx_callback_service_parent_class)->dispose (object);
}

static void
cx_callback_service_finalize (GObject *object)
{
  CxCallbackService *self = CX_CALLBACK_SERVICE (object);

  g_clear_object (&self->cancellable);
  g_free (self->data_url);

  G_OBJECT_CLASS (cx_callback_service_parent_class)->finalize (object);
}

static void
cx_callback_service_class_init (CxCallbackServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cx_callback_service_dispose;
  object_class->finalize = cx_callback_service_finalize;
}

static void
cx_callback_service_init (CxCallbackService *self)
{
  self->cancellable = g_cancellable_new ();
}

/**
 * cx_callback_service_new:
 * @bus: the window's bus
 * @http: the application's #CxHttp (its session carries the requests)
 * @config: (nullable): the `callback` object of a `_genesys.widgets` configuration: dataURL
 *   (required: the service's address, e.g. https://gms.example.com/genesys/1/service/callback/
 *   customer-support), ajaxTimeout (ms, default 3000), and calendar.numberOfDays (the default
 *   number of days availability looks at, 1 to 30, default 5)
 * @error: return location for a #GError
 *
 * Registers the "CallbackService" plugin on @bus and makes it ready.
 *
 * Returns: (transfer full): the service, or %NULL with @error set (bad configuration, or the
 *   name is taken on @bus)
 */
CxCallbackService *
cx_callback_service_new (CxBus *bus, CxHttp *http, JsonObject *config, GError **error)
{
  g_autoptr (CxCallbackService) self = NULL;
  CxPlugin *plugin;

  g_return_val_if_fail (CX_IS_BUS (bus), NULL);
  g_return_val_if_fail (CX_IS_HTTP (http), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (CX_TYPE_CALLBACK_SERVICE, NULL);
  self->http = g_object_ref (http);

  if (!parse_config (self, config, error))
    return NULL;

  self->plugin =
      cx_bus_register_plugin_with_table (bus, CX_CALLBACK_SERVICE_NAME, event_names, command_specs,
                                         G_N_ELEMENTS (command_specs), self, error);
  if (self->plugin == NULL)
    return NULL;
  plugin = self->plugin;
  self->bus = g_object_ref (bus);

  cx_plugin_ready (plugin);

  return g_steal_pointer (&self);
}

CxPlugin *
cx_callback_service_get_plugin (CxCallbackService *self)
{
  g_return_val_if_fail (CX_IS_CALLBACK_SERVICE (self), NULL);

  return self->plugin;
}

/**
 * cx_callback_service_get_data_url:
 *
 * Returns: the service's address, without a trailing slash
 */
const char *
cx_callback_service_get_data_url (CxCallbackService *self)
{
  g_return_val_if_fail (CX_IS_CALLBACK_SERVICE (self), NULL);

  return self->data_url;
}
