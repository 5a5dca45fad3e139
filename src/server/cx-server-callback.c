/* cx-server-callback.c: the GMS Callback API v1 under /genesys/1/service/callback (reference §5,
 * API.md): office hours, slots of a fixed length with a capacity each, create, query,
 * reschedule, cancel and availability. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-protocol.h"
#include "protocol/cx-gms-callback.h"
#include "protocol/cx-protocol.h"
#include "server/cx-server-private.h"

/* How long after its desired time a callback not yet made expires. */
#define EXPIRATION_MS (24 * 3600 * G_GINT64_CONSTANT (1000))
/* The furthest ahead a callback may be booked. */
#define MAX_DAYS_AHEAD 60

static void
reply_callback_error (SoupServerMessage *msg, const GError *error)
{
  g_autoptr (JsonNode) node = cx_callback_error_to_json (error);

  _cx_server_reply_json (msg, cx_callback_error_to_http_status (error), node);
}

static void
reply_callback_internal (SoupServerMessage *msg, const GError *cause)
{
  g_autoptr (GError) error = NULL;

  g_warning ("%s: %s", g_uri_get_path (soup_server_message_get_uri (msg)), cause->message);
  error = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INTERNAL,
                               _ ("The server could not complete the request"));
  reply_callback_error (msg, error);
}

JsonNode *
_cx_server_callback_to_json (const CxCallback *callback)
{
  return cx_callback_build_object (callback->id, callback->service, callback->state,
                                   callback->desired_time, callback->expiration_time,
                                   callback->customer_number, callback->properties);
}

/* Local midnight of the day of @time, in the office's time zone, as a GDateTime. */
static GDateTime *
office_day (CxServer *self, gint64 time)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (time / 1000);
  g_autoptr (GDateTime) local = g_date_time_to_timezone (utc, self->config->callback_timezone);

  return g_date_time_new (self->config->callback_timezone, g_date_time_get_year (local),
                          g_date_time_get_month (local), g_date_time_get_day_of_month (local), 0, 0,
                          0);
}

static gint64
ms_of (GDateTime *time)
{
  return g_date_time_to_unix (time) * 1000 + g_date_time_get_microsecond (time) / 1000;
}

/**
 * _cx_server_callback_slot:
 *
 * The slot [@slot_start, @slot_end) that @time falls in, or %CX_CALLBACK_ERROR_OFFICE_CLOSED
 * (GMS's 7042) when the office is closed then.
 */
gboolean
_cx_server_callback_slot (CxServer *self, gint64 time, gint64 *slot_start, gint64 *slot_end,
                          GError **error)
{
  const CxServerConfig *config = self->config;
  g_autoptr (GDateTime) midnight = office_day (self, time);
  g_autoptr (GDateTime) open = g_date_time_add_minutes (midnight, config->open_minute);
  g_autoptr (GDateTime) close = g_date_time_add_minutes (midnight, config->close_minute);
  gint64 open_ms = ms_of (open), close_ms = ms_of (close);
  gint64 slot_ms = (gint64) config->slot_minutes * 60 * 1000;
  int weekday = g_date_time_get_day_of_week (midnight);
  gint64 index;

  if (!(config->open_days & (1u << weekday)) || time < open_ms || time >= close_ms)
    {
      g_set_error_literal (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_OFFICE_CLOSED,
                           _ ("The office is closed at that time"));
      return FALSE;
    }

  index = (time - open_ms) / slot_ms;
  *slot_start = open_ms + index * slot_ms;
  *slot_end = MIN (*slot_start + slot_ms, close_ms);
  return TRUE;
}

static gboolean
check_time (CxServer *self, gint64 time, gint64 now, GError **error)
{
  if (time < now - 60 * 1000)
    {
      g_set_error_literal (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                           _ ("That time has passed"));
      return FALSE;
    }
  if (time > now + MAX_DAYS_AHEAD * 24 * 3600 * G_GINT64_CONSTANT (1000))
    {
      g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                   _ ("Callbacks can be booked at most %d days ahead"), MAX_DAYS_AHEAD);
      return FALSE;
    }
  return TRUE;
}

static void
notify_agents (CxServer *self)
{
  _cx_server_push_callbacks_changed (self);
}

/* After a store call that wrote @callback: agents told and the callback sent back, or the
 * store's refusal as the API's error. */
static void
reply_stored (CxServer *self, SoupServerMessage *msg, const CxCallback *callback, gboolean stored,
              const char *secret, const GError *error)
{
  g_autoptr (JsonNode) reply = NULL;

  if (!stored && g_error_matches (error, CX_STORE_ERROR, CX_STORE_ERROR_FULL))
    {
      g_autoptr (GError) full = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_SLOT_FULL,
                                                     _ ("That time slot is fully booked"));
      reply_callback_error (msg, full);
      return;
    }
  if (!stored)
    {
      reply_callback_internal (msg, error);
      return;
    }

  notify_agents (self);
  reply = _cx_server_callback_to_json (callback);
  /* Only the reply that created it carries the secret (only its hash is stored). */
  if (secret != NULL)
    json_object_set_string_member (json_node_get_object (reply), CX_CALLBACK_SECRET_MEMBER, secret);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static GHashTable *
read_fields (SoupServerMessage *msg, GError **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  const char *type =
      soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg), NULL);
  GHashTable *fields;
  g_autoptr (JsonNode) root = NULL;
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (g_strcmp0 (type, "application/json") != 0)
    return cx_form_decode (body->data ? body->data : "", body->length, error);

  /* GMS takes JSON as well as forms: string values only, as in a form. */
  root = cx_json_parse (body->data, body->length, 1024 * 1024, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                           _ ("The body must be a JSON object"));
      return NULL;
    }

  fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  json_object_iter_init (&iter, json_node_get_object (root));
  while (json_object_iter_next (&iter, &key, &value))
    {
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        {
          g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                       _ ("“%s” must be a string"), key);
          g_hash_table_unref (fields);
          return NULL;
        }
      g_hash_table_replace (fields, g_strdup (key), json_node_dup_string (value));
    }
  return fields;
}

static void
create_callback (CxServer *self, SoupServerMessage *msg, const char *service)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) fields = read_fields (msg, &error);
  g_autoptr (CxCallbackRequest) request = NULL;
  g_autofree char *id = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *secret_hash = NULL;
  gint64 now = _cx_server_now (), slot_start, slot_end;
  CxCallback callback = { 0 };
  gboolean stored;

  if (fields != NULL)
    request = cx_callback_request_parse (fields, &error);
  if (request == NULL)
    {
      g_autoptr (GError) invalid =
          g_error_new (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID, "%s", error->message);
      reply_callback_error (msg, error->domain == CX_CALLBACK_ERROR ? error : invalid);
      return;
    }

  callback.desired_time = request->desired_time == CX_CALLBACK_ASAP ? now : request->desired_time;
  if (!check_time (self, callback.desired_time, now, &error) ||
      !_cx_server_callback_slot (self, callback.desired_time, &slot_start, &slot_end, &error))
    {
      reply_callback_error (msg, error);
      return;
    }

  id = _cx_server_random_token (12);
  secret = _cx_server_random_token (32);
  secret_hash = _cx_server_hash_token (secret);
  callback.id = id;
  callback.secret_hash = secret_hash;
  callback.service = (char *) service;
  callback.customer_number = request->customer_number;
  callback.state = (char *) (request->desired_time == CX_CALLBACK_ASAP ? "QUEUED" : "SCHEDULED");
  callback.expiration_time = callback.desired_time + EXPIRATION_MS;
  callback.created_at = now;
  callback.properties = request->properties;

  stored = cx_store_create_callback (self->store, &callback, slot_start, slot_end,
                                     self->config->slot_capacity, &error);
  reply_stored (self, msg, &callback, stored, secret, error);
}

/* Access rules (issue 9, item 9; API.md "Callbacks are private") */

static gboolean
secret_matches (SoupServerMessage *msg, const CxCallback *callback)
{
  const char *secret = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                     CX_CALLBACK_SECRET_HEADER);
  g_autofree char *hash = NULL;

  if (callback->secret_hash == NULL || !cx_callback_secret_validate (secret))
    return FALSE;
  hash = _cx_server_hash_token (secret);
  return _cx_server_equal_secret (hash, callback->secret_hash);
}

/* Listing and querying a service's callbacks: open access, or an agent who serves @service
 * signed in (the agent API's session cookie and origin rules). Answers 403 otherwise. */
static gboolean
may_list (CxServer *self, SoupServerMessage *msg, const char *service)
{
  g_autoptr (CxAgent) agent = NULL;
  g_autoptr (GError) error = NULL;

  if (self->config->callback_open_access)
    return TRUE;
  if (_cx_server_agent_request_allowed (self, msg))
    agent = _cx_server_session_agent (self, msg, NULL);
  if (agent != NULL && (agent->queues == NULL || agent->queues[0] == NULL ||
                        g_strv_contains ((const char *const *) agent->queues, service)))
    return TRUE;

  error = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_FORBIDDEN,
                               _ ("Listing callbacks needs an agent who serves this service"));
  reply_callback_error (msg, error);
  return FALSE;
}

static CxCallback *
find_callback (CxServer *self, SoupServerMessage *msg, const char *service, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxCallback) callback = cx_store_get_callback (self->store, id, &error);

  if (callback == NULL && error != NULL)
    {
      reply_callback_internal (msg, error);
      return NULL;
    }
  /* A wrong or missing secret is answered as an unknown id: the reply does not tell which
   * ids exist (issue 9). Callbacks without a secret (made before there were secrets) are for
   * agents only, unless access is open. */
  if (callback == NULL || !g_str_equal (callback->service, service) ||
      (!self->config->callback_open_access && !secret_matches (msg, callback)))
    {
      error = g_error_new (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_NOT_FOUND,
                           _ ("There is no callback %s"), id);
      reply_callback_error (msg, error);
      return NULL;
    }
  return g_steal_pointer (&callback);
}

static void
reschedule_callback (CxServer *self, SoupServerMessage *msg, CxCallback *callback)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) fields = read_fields (msg, &error);
  gint64 time, slot_start, slot_end;
  gboolean stored;

  if (fields == NULL || !cx_callback_reschedule_parse (fields, &time, &error))
    {
      g_autoptr (GError) invalid =
          g_error_new (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID, "%s", error->message);
      reply_callback_error (msg, error->domain == CX_CALLBACK_ERROR ? error : invalid);
      return;
    }
  if (g_str_equal (callback->state, "CANCELLED") || g_str_equal (callback->state, "COMPLETED"))
    {
      error = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                                   _ ("This callback is closed"));
      reply_callback_error (msg, error);
      return;
    }
  if (!check_time (self, time, _cx_server_now (), &error) ||
      !_cx_server_callback_slot (self, time, &slot_start, &slot_end, &error))
    {
      reply_callback_error (msg, error);
      return;
    }

  callback->desired_time = time;
  callback->expiration_time = time + EXPIRATION_MS;
  g_free (callback->state);
  callback->state = g_strdup ("SCHEDULED");
  stored = cx_store_update_callback (self->store, callback, slot_start, slot_end,
                                     self->config->slot_capacity, &error);
  reply_stored (self, msg, callback, stored, NULL, error);
}

static void
cancel_callback (CxServer *self, SoupServerMessage *msg, CxCallback *callback)
{
  g_autoptr (GError) error = NULL;
  gboolean stored;

  g_free (callback->state);
  callback->state = g_strdup ("CANCELLED");
  stored = cx_store_update_callback (self->store, callback, 0, 0, 0, &error);
  reply_stored (self, msg, callback, stored, NULL, error);
}

static void
availability (CxServer *self, SoupServerMessage *msg, const char *service, GHashTable *query)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) slots = g_array_new (FALSE, FALSE, sizeof (CxCallbackSlot));
  g_autoptr (GHashTable) empty = NULL;
  g_autoptr (JsonNode) reply = NULL;
  CxCallbackAvailabilityQuery q;
  gint64 now = _cx_server_now ();
  gint64 slot_ms = (gint64) self->config->slot_minutes * 60 * 1000;
  gint64 start, end;

  if (query == NULL)
    query = empty = g_hash_table_new (g_str_hash, g_str_equal);
  if (!cx_callback_availability_parse (query, &q, &error))
    {
      reply_callback_error (msg, error);
      return;
    }

  start = q.start < 0 ? now : MAX (q.start, now);
  end = q.end >= 0 ? q.end : start + (gint64) q.number_of_days * 24 * 3600 * 1000;
  end = MIN (end, now + MAX_DAYS_AHEAD * 24 * 3600 * G_GINT64_CONSTANT (1000));

  /* Walk the office days from the first, and each day's slots from its opening. */
  for (gint64 day = start; day < end; day += 24 * 3600 * 1000)
    {
      g_autoptr (GDateTime) midnight = office_day (self, day);
      g_autoptr (GDateTime) open = g_date_time_add_minutes (midnight, self->config->open_minute);
      gint64 open_ms = ms_of (open);
      gint64 close_ms =
          open_ms + (gint64) (self->config->close_minute - self->config->open_minute) * 60 * 1000;

      if (!(self->config->open_days & (1u << g_date_time_get_day_of_week (midnight))))
        continue;

      for (gint64 slot = open_ms; slot < close_ms; slot += slot_ms)
        {
          CxCallbackSlot entry;
          guint booked = 0;

          /* A slot already under way still takes callbacks until it ends. */
          if (slot + slot_ms <= start || slot >= end)
            continue;
          if (q.max_time_slots > 0 && slots->len >= q.max_time_slots)
            break;
          if (!cx_store_count_callbacks (self->store, service, slot, MIN (slot + slot_ms, close_ms),
                                         &booked, &error))
            {
              reply_callback_internal (msg, error);
              return;
            }
          entry.start = slot;
          entry.capacity =
              booked < self->config->slot_capacity ? self->config->slot_capacity - booked : 0;
          g_array_append_val (slots, entry);
        }
    }

  reply = cx_callback_build_availability ((CxCallbackSlot *) slots->data, slots->len);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static void
query_callbacks (CxServer *self, SoupServerMessage *msg, const char *service, GHashTable *query)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) callbacks = NULL;
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (JsonNode) reply = json_node_new (JSON_NODE_ARRAY);
  GHashTableIter iter;
  const char *key = NULL, *value = NULL;

  if (query != NULL && g_hash_table_size (query) > 1)
    {
      error = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                                   _ ("Query callbacks by one property at a time"));
      reply_callback_error (msg, error);
      return;
    }
  if (query != NULL)
    {
      g_hash_table_iter_init (&iter, query);
      g_hash_table_iter_next (&iter, (gpointer *) &key, (gpointer *) &value);
    }

  callbacks = cx_store_find_callbacks (self->store, service, key, value, &error);
  if (callbacks == NULL)
    {
      reply_callback_internal (msg, error);
      return;
    }
  for (guint i = 0; i < callbacks->len; i++)
    json_array_add_element (array, _cx_server_callback_to_json (g_ptr_array_index (callbacks, i)));
  json_node_set_array (reply, array);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static void
callback_handler_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
                     GHashTable *query, gpointer user_data)
{
  CxServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_auto (GStrv) parts = g_strsplit (path + strlen ("/genesys/1/service/callback"), "/", 0);
  g_autoptr (CxCallback) callback = NULL;
  g_autoptr (GError) error = NULL;
  guint n = g_strv_length (parts);
  const char *service = n >= 2 ? parts[1] : "";

  if (n < 2 || parts[0][0] != '\0' || !cx_server_config_is_callback_service (self->config, service))
    {
      error = g_error_new (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_NOT_FOUND,
                           _ ("There is no callback service %s"), service);
      reply_callback_error (msg, error);
      return;
    }

  if (n == 2 && g_str_equal (method, "POST"))
    create_callback (self, msg, service);
  else if (n == 2 && g_str_equal (method, "GET"))
    {
      if (may_list (self, msg, service))
        query_callbacks (self, msg, service, query);
    }
  else if (n == 3 && g_str_equal (parts[2], "availability") && g_str_equal (method, "GET"))
    availability (self, msg, service, query);
  else if (n == 3 && (callback = find_callback (self, msg, service, parts[2])) != NULL)
    {
      if (g_str_equal (method, "GET"))
        {
          g_autoptr (JsonNode) reply = _cx_server_callback_to_json (callback);
          _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
        }
      else if (g_str_equal (method, "PUT"))
        reschedule_callback (self, msg, callback);
      else if (g_str_equal (method, "DELETE"))
        cancel_callback (self, msg, callback);
      else
        {
          error = g_error_new (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                               _ ("%s is not allowed here"), method);
          reply_callback_error (msg, error);
        }
    }
  else if (n != 3)
    {
      error = g_error_new (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_NOT_FOUND,
                           _ ("There is nothing at %s"), path);
      reply_callback_error (msg, error);
    }
}

void
_cx_server_callback_init (CxServer *self)
{
  soup_server_add_handler (self->soup, "/genesys/1/service/callback", callback_handler_cb, self,
                           NULL);
}
