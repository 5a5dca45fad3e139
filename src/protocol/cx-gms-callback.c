/* cx-gms-callback.c: GMS Callback API v1: request parsing, ISO-8601 times (always written in
 * UTC, so no local time zone or DST ever enters the wire format), reply and error building. */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-gms-callback.h"
#include "protocol/cx-protocol-private.h"

#define ISO8601_MAX_BYTES 64
#define NUMBER_MAX_BYTES 64
#define NUMBER_MIN_DIGITS 3
#define NUMBER_MAX_DIGITS 20
#define PROPERTY_KEY_MAX_CHARS 64
#define PROPERTY_VALUE_MAX_CHARS 1024
#define PROPERTIES_MAX 64
#define STATE_MAX_CHARS 32
#define MAX_DAYS 30

GQuark
cx_callback_error_quark (void)
{
  return g_quark_from_static_string ("cx-callback-error-quark");
}

/* Keys the server assigns: a client cannot set them, and properties never shadow them. */
static const char *const reserved_keys[] = {
  "_id",
  "_desired_time",
  "_service_name",
  "_callback_state",
  "_expiration_time",
  "_customer_number",
  CX_CALLBACK_SECRET_MEMBER,
};

/**
 * cx_callback_secret_validate:
 * @secret: (nullable): a callback's secret
 *
 * Returns: whether @secret has the shape of a secret: 1 to %CX_CALLBACK_SECRET_MAX_BYTES
 *   letters, digits, - or _ (safe in a header and a cookie)
 */
gboolean
cx_callback_secret_validate (const char *secret)
{
  gsize length = 0;

  if (secret == NULL)
    return FALSE;
  for (const char *p = secret; *p != '\0'; p++, length++)
    if (length >= CX_CALLBACK_SECRET_MAX_BYTES || (!g_ascii_isalnum (*p) && *p != '-' && *p != '_'))
      return FALSE;
  return length > 0;
}

static gboolean
is_reserved (const char *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (reserved_keys); i++)
    {
      if (g_str_equal (key, reserved_keys[i]))
        return TRUE;
    }

  return FALSE;
}

/* ISO-8601 */

typedef enum
{
  TIME_OK,
  TIME_MALFORMED,
  TIME_NO_ZONE,
  TIME_OUT_OF_RANGE,
} TimeStatus;

static TimeStatus
iso8601_parse (const char *text, gint64 *out_ms)
{
  g_autoptr (GDateTime) date = NULL;
  g_autoptr (GDateTime) utc = NULL;
  g_autoptr (GTimeZone) utc_zone = NULL;

  if (strnlen (text, ISO8601_MAX_BYTES + 1) > ISO8601_MAX_BYTES)
    return TIME_MALFORMED;

  /* GLib's parser takes more forms than GMS sends (week and ordinal dates, basic format); that
   * is fine, but keep to the characters any of them uses. */
  for (const char *p = text; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p) && strchr ("TtZzW:+-.,", *p) == NULL)
        return TIME_MALFORMED;
    }

  date = g_date_time_new_from_iso8601 (text, NULL);
  if (date == NULL)
    {
      g_autoptr (GDateTime) zoneless = NULL;

      utc_zone = g_time_zone_new_utc ();
      zoneless = g_date_time_new_from_iso8601 (text, utc_zone);
      return zoneless != NULL ? TIME_NO_ZONE : TIME_MALFORMED;
    }

  utc = g_date_time_to_utc (date);
  if (utc == NULL || g_date_time_get_year (utc) < 1970)
    return TIME_OUT_OF_RANGE;

  *out_ms = g_date_time_to_unix (utc) * 1000 + g_date_time_get_microsecond (utc) / 1000;
  return TIME_OK;
}

static gboolean
time_field (const char *field, const char *text, gint64 *out_ms, GError **error)
{
  switch (iso8601_parse (text, out_ms))
    {
      case TIME_OK:
        return TRUE;
      case TIME_NO_ZONE:
        g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                     _ ("“%s” has no time zone"), field);
        return FALSE;
      case TIME_OUT_OF_RANGE:
        g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID, _ ("“%s” is before 1970"),
                     field);
        return FALSE;
      case TIME_MALFORMED:
      default:
        g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                     _ ("“%s” is not an ISO-8601 date and time"), field);
        return FALSE;
    }
}

/**
 * cx_iso8601_parse:
 * @text: an ISO-8601 date and time with a time zone ("2026-11-25T14:30:00.000Z",
 *   "2026-11-25T15:30:00+01:00")
 * @out_ms: (out): milliseconds since the epoch
 * @error: return location for a %CX_CALLBACK_ERROR_INVALID
 *
 * Parses a time as GMS sends it. A time without a zone is refused (it would mean something
 * else in every time zone), as are times before 1970 and text longer than 64 bytes.
 *
 * Returns: %TRUE with @out_ms set
 */
gboolean
cx_iso8601_parse (const char *text, gint64 *out_ms, GError **error)
{
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (out_ms != NULL, FALSE);

  return time_field ("time", text, out_ms, error);
}

/**
 * cx_iso8601_format:
 * @ms: milliseconds since the epoch, 0 to %CX_ISO8601_MAX_MS
 *
 * Formats a time the way GMS writes it, in UTC with milliseconds:
 * "2026-11-25T14:30:00.000Z".
 *
 * Returns: (transfer full): the text
 */
char *
cx_iso8601_format (gint64 ms)
{
  g_autoptr (GDateTime) date = NULL;

  g_return_val_if_fail (ms >= 0 && ms <= CX_ISO8601_MAX_MS, NULL);

  date = g_date_time_new_from_unix_utc (ms / 1000);
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", g_date_time_get_year (date),
                          g_date_time_get_month (date), g_date_time_get_day_of_month (date),
                          g_date_time_get_hour (date), g_date_time_get_minute (date),
                          g_date_time_get_second (date), (int) (ms % 1000));
}

/* Requests */

/* An optional "+", then digits; spaces, dashes and parentheses are dropped. */
static char *
normalize_number (const char *text)
{
  g_autoptr (GString) number = NULL;
  guint digits = 0;

  if (strnlen (text, NUMBER_MAX_BYTES + 1) > NUMBER_MAX_BYTES)
    return NULL;

  number = g_string_new (NULL);
  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p))
        {
          g_string_append_c (number, *p);
          digits++;
        }
      else if (*p == '+' && number->len == 0)
        {
          g_string_append_c (number, '+');
        }
      else if (strchr (" -()", *p) == NULL)
        {
          return NULL;
        }
    }

  if (digits < NUMBER_MIN_DIGITS || digits > NUMBER_MAX_DIGITS)
    return NULL;

  return g_string_free (g_steal_pointer (&number), FALSE);
}

static gboolean
valid_state (const char *state)
{
  gsize length = 0;

  for (const char *p = state; *p != '\0'; p++, length++)
    {
      if (length >= STATE_MAX_CHARS || !(g_ascii_isupper (*p) || *p == '_'))
        return FALSE;
    }

  return length > 0;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
add_property (JsonObject *properties, const char *key, const char *value, GError **error)
{
  switch (cx_text_check (key, CX_TEXT_SINGLE_LINE, PROPERTY_KEY_MAX_CHARS))
    {
      case CX_TEXT_OK:
        break;
      case CX_TEXT_TOO_LONG:
        g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                     _ ("A property name is longer than %u characters"), PROPERTY_KEY_MAX_CHARS);
        return FALSE;
      case CX_TEXT_EMPTY:
      case CX_TEXT_INVALID_UTF8:
      case CX_TEXT_CONTROL:
      default:
        g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                     _ ("A property name is malformed"));
        return FALSE;
    }

  /* The key is valid: it can name the field in the message. */
  if (!cx_text_validate (key, value, CX_TEXT_MULTI_LINE | CX_TEXT_ALLOW_EMPTY,
                         PROPERTY_VALUE_MAX_CHARS, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                         CX_CALLBACK_ERROR_INVALID, error))
    return FALSE;

  if (g_str_equal (key, "_call_direction") && !g_str_equal (value, "USERORIGINATED") &&
      !g_str_equal (value, "USERTERMINATED"))
    {
      g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                   _ ("“%s” is neither USERORIGINATED nor USERTERMINATED"), key);
      return FALSE;
    }

  json_object_set_string_member (properties, key, value);
  return TRUE;
}

/**
 * cx_callback_request_parse:
 * @form: (element-type utf8 utf8): the decoded form of `POST .../callback/{service}`
 * @error: return location for a %CX_CALLBACK_ERROR
 *
 * Reads a create request. "_customer_number" is required: an optional leading "+" and 3 to
 * 20 digits, with spaces, dashes and parentheses allowed and stripped. "_desired_time" is an
 * ISO-8601 time with a zone, absent or empty for as soon as possible. "_callback_state", if
 * sent, is an upper-case word. "_call_direction" is USERORIGINATED or USERTERMINATED. Every
 * other key is a property (names up to 64 characters, values up to 1024, at most 64 of them)
 * except the ones the server assigns ("_id", "_service_name", "_expiration_time"), which are
 * ignored.
 *
 * Returns: (transfer full): the request, or %NULL with @error set
 */
CxCallbackRequest *
cx_callback_request_parse (GHashTable *form, GError **error)
{
  g_autoptr (CxCallbackRequest) request = NULL;
  g_autoptr (JsonObject) properties = NULL;
  g_autofree const char **keys = NULL;
  const char *value;
  guint n_keys = 0;
  guint count = 0;

  g_return_val_if_fail (form != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  request = g_new0 (CxCallbackRequest, 1);
  request->desired_time = CX_CALLBACK_ASAP;

  value = g_hash_table_lookup (form, "_customer_number");
  if (value == NULL || *value == '\0')
    {
      g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID, _ ("“%s” is missing"),
                   "_customer_number");
      return NULL;
    }
  request->customer_number = normalize_number (value);
  if (request->customer_number == NULL)
    {
      g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                   _ ("“%s” is not a phone number of %u to %u digits"), "_customer_number",
                   NUMBER_MIN_DIGITS, NUMBER_MAX_DIGITS);
      return NULL;
    }

  value = g_hash_table_lookup (form, "_desired_time");
  if (value != NULL && *value != '\0' &&
      !time_field ("_desired_time", value, &request->desired_time, error))
    return NULL;

  value = g_hash_table_lookup (form, "_callback_state");
  if (value != NULL && *value != '\0')
    {
      if (!valid_state (value))
        {
          g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID, _ ("“%s” is malformed"),
                       "_callback_state");
          return NULL;
        }
      request->state = g_strdup (value);
    }

  properties = json_object_new ();
  keys = (const char **) g_hash_table_get_keys_as_array (form, &n_keys);
  qsort (keys, n_keys, sizeof (char *), compare_strings);
  for (guint i = 0; i < n_keys; i++)
    {
      if (is_reserved (keys[i]))
        continue;

      if (++count > PROPERTIES_MAX)
        {
          g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                       _ ("The request has more than %u properties"), PROPERTIES_MAX);
          return NULL;
        }

      if (!add_property (properties, keys[i], g_hash_table_lookup (form, keys[i]), error))
        return NULL;
    }

  request->properties = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (request->properties, properties);

  return g_steal_pointer (&request);
}

/**
 * cx_callback_request_free:
 * @request: (nullable) (transfer full): a request
 */
void
cx_callback_request_free (CxCallbackRequest *request)
{
  if (request == NULL)
    return;

  g_free (request->customer_number);
  g_free (request->state);
  g_clear_pointer (&request->properties, json_node_unref);
  g_free (request);
}

/**
 * cx_callback_reschedule_parse:
 * @form: (element-type utf8 utf8): the decoded form of `PUT .../callback/{service}/{id}`
 * @new_desired_time: (out): milliseconds since the epoch
 * @error: return location for a %CX_CALLBACK_ERROR
 *
 * Reads "_new_desired_time", required, an ISO-8601 time with a zone.
 *
 * Returns: %TRUE with @new_desired_time set
 */
gboolean
cx_callback_reschedule_parse (GHashTable *form, gint64 *new_desired_time, GError **error)
{
  const char *value;

  g_return_val_if_fail (form != NULL, FALSE);
  g_return_val_if_fail (new_desired_time != NULL, FALSE);

  value = g_hash_table_lookup (form, "_new_desired_time");
  if (value == NULL || *value == '\0')
    {
      g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID, _ ("“%s” is missing"),
                   "_new_desired_time");
      return FALSE;
    }

  return time_field ("_new_desired_time", value, new_desired_time, error);
}

static gboolean
optional_count (GHashTable *query, const char *field, guint min, guint max, guint *out,
                GError **error)
{
  const char *value = g_hash_table_lookup (query, field);
  guint64 number;

  if (value == NULL || *value == '\0')
    return TRUE;

  if (!cx_parse_uint (value, max, &number) || number < min)
    {
      g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                   _ ("“%s” is not an integer from %u to %u"), field, min, max);
      return FALSE;
    }

  *out = (guint) number;
  return TRUE;
}

/**
 * cx_callback_availability_parse:
 * @query: (element-type utf8 utf8): the decoded query of `GET .../availability`
 * @out: (out caller-allocates): the query
 * @error: return location for a %CX_CALLBACK_ERROR
 *
 * Reads "start" and "end" (ISO-8601 with a zone, optional; "end" must be after "start"),
 * "number-of-days" (1 to 30, default 1) and "max-time-slots" (from 1, optional).
 *
 * Returns: %TRUE with @out filled
 */
gboolean
cx_callback_availability_parse (GHashTable *query, CxCallbackAvailabilityQuery *out, GError **error)
{
  CxCallbackAvailabilityQuery result = { -1, 1, -1, 0 };
  const char *value;

  g_return_val_if_fail (query != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  value = g_hash_table_lookup (query, "start");
  if (value != NULL && *value != '\0' && !time_field ("start", value, &result.start, error))
    return FALSE;

  value = g_hash_table_lookup (query, "end");
  if (value != NULL && *value != '\0' && !time_field ("end", value, &result.end, error))
    return FALSE;

  if (result.start >= 0 && result.end >= 0 && result.end <= result.start)
    {
      g_set_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID,
                   _ ("“%s” is not after “%s”"), "end", "start");
      return FALSE;
    }

  if (!optional_count (query, "number-of-days", 1, MAX_DAYS, &result.number_of_days, error) ||
      !optional_count (query, "max-time-slots", 1, G_MAXUINT, &result.max_time_slots, error))
    return FALSE;

  *out = result;
  return TRUE;
}

/* Replies */

static void
add_time (JsonBuilder *builder, const char *member, gint64 ms)
{
  g_autofree char *text = NULL;

  if (ms < 0 || ms > CX_ISO8601_MAX_MS)
    return;

  text = cx_iso8601_format (ms);
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, text);
}

static void
add_string (JsonBuilder *builder, const char *member, const char *value)
{
  if (value == NULL)
    return;

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
}

/**
 * cx_callback_build_object:
 * @id: (nullable): the callback's id
 * @service_name: (nullable): its service
 * @state: (nullable): its state (SCHEDULED, QUEUED, PROCESSING, COMPLETED, CANCELLED)
 * @desired_time: milliseconds since the epoch; negative to leave it out
 * @expiration_time: milliseconds since the epoch; negative to leave it out
 * @customer_number: (nullable): the number to call
 * @properties: (nullable): a JSON object of the other keys
 *
 * Builds a callback as GMS returns it: "_id", "_desired_time", "_service_name",
 * "_callback_state", "_expiration_time", "_customer_number", then the properties (a property
 * named like one of those is left out). Times are ISO-8601 in UTC; %NULL strings are left out.
 *
 * Returns: (transfer full): a JSON object
 */
JsonNode *
cx_callback_build_object (const char *id, const char *service_name, const char *state,
                          gint64 desired_time, gint64 expiration_time, const char *customer_number,
                          JsonNode *properties)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (properties == NULL || JSON_NODE_HOLDS_OBJECT (properties), NULL);

  json_builder_begin_object (builder);
  add_string (builder, "_id", id);
  add_time (builder, "_desired_time", desired_time);
  add_string (builder, "_service_name", service_name);
  add_string (builder, "_callback_state", state);
  add_time (builder, "_expiration_time", expiration_time);
  add_string (builder, "_customer_number", customer_number);

  if (properties != NULL)
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *value;

      json_object_iter_init_ordered (&iter, json_node_get_object (properties));
      while (json_object_iter_next_ordered (&iter, &name, &value))
        {
          if (is_reserved (name))
            continue;
          json_builder_set_member_name (builder, name);
          json_builder_add_value (builder, json_node_copy (value));
        }
    }

  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/**
 * cx_callback_build_availability:
 * @slots: (array length=n_slots): free slots, in the order to list them
 * @n_slots: how many
 *
 * Builds GMS's availability reply: `{"2026-11-25T09:00:00.000Z": 2, ...}`, each slot start in
 * UTC mapped to the callbacks it can still take. Slots with a start out of the ISO-8601 range
 * are left out.
 *
 * Returns: (transfer full): a JSON object
 */
JsonNode *
cx_callback_build_availability (const CxCallbackSlot *slots, gsize n_slots)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (slots != NULL || n_slots == 0, NULL);

  json_builder_begin_object (builder);
  for (gsize i = 0; i < n_slots; i++)
    {
      g_autofree char *start = NULL;

      if (slots[i].start < 0 || slots[i].start > CX_ISO8601_MAX_MS)
        continue;
      start = cx_iso8601_format (slots[i].start);
      json_builder_set_member_name (builder, start);
      json_builder_add_int_value (builder, slots[i].capacity);
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static void
error_to_callback (const GError *error, int *code, const char **message, guint *status)
{
  *message = error->message;

  if (error->domain == CX_CALLBACK_ERROR)
    {
      *code = error->code;
      switch (error->code)
        {
          case CX_CALLBACK_ERROR_INVALID:
          case CX_CALLBACK_ERROR_OFFICE_CLOSED:
            *status = 400;
            return;
          case CX_CALLBACK_ERROR_FORBIDDEN:
            *status = 403;
            return;
          case CX_CALLBACK_ERROR_NOT_FOUND:
            *status = 404;
            return;
          case CX_CALLBACK_ERROR_SLOT_FULL:
            *status = 409;
            return;
          case CX_CALLBACK_ERROR_UNAVAILABLE:
            *status = 503;
            return;
          case CX_CALLBACK_ERROR_INTERNAL:
          default:
            *status = 500;
            return;
        }
    }

  if (error->domain == CX_PROTOCOL_ERROR)
    {
      *code = CX_CALLBACK_ERROR_INVALID;
      *status = 400;
      return;
    }

  *code = CX_CALLBACK_ERROR_INTERNAL;
  *status = 500;
  *message = _ ("Internal server error");
}

/**
 * cx_callback_error_to_json:
 * @error: an error of any domain
 *
 * Builds the callback API's error reply, `{"code":N, "message":"..."}`. %CX_CALLBACK_ERROR
 * keeps its code and message, %CX_PROTOCOL_ERROR becomes 400, any other domain 500 with a
 * generic message.
 *
 * Returns: (transfer full): the reply
 */
JsonNode *
cx_callback_error_to_json (const GError *error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  const char *message;
  guint status;
  int code;

  g_return_val_if_fail (error != NULL, NULL);

  error_to_callback (error, &code, &message, &status);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_int_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/**
 * cx_callback_error_to_http_status:
 * @error: an error of any domain
 *
 * Returns: the HTTP status to send with cx_callback_error_to_json(): 400 (7042 included),
 *   403, 404, 409, 503, or 500
 */
guint
cx_callback_error_to_http_status (const GError *error)
{
  const char *message;
  guint status;
  int code;

  g_return_val_if_fail (error != NULL, 500);

  error_to_callback (error, &code, &message, &status);
  return status;
}

/* Client side: replies */

#define MESSAGE_MAX_CHARS 1024
#define CAPACITY_MAX G_MAXINT32

static gboolean
reply_time (JsonObject *object, const char *member, gint64 *out_ms, GError **error)
{
  const char *text;

  *out_ms = -1;
  if (!cx_json_member_string (object, member, FALSE, CX_TEXT_SINGLE_LINE, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;

  if (iso8601_parse (text, out_ms) != TIME_OK)
    {
      *out_ms = -1;
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                   _ ("“%s” is not an ISO-8601 date and time with a time zone"), member);
      return FALSE;
    }

  return TRUE;
}

/* A property of a callback: a short name, and a string, number or boolean. */
static gboolean
reply_property (JsonObject *properties, const char *name, JsonNode *value, GError **error)
{
  GType type;

  if (cx_text_check (name, CX_TEXT_SINGLE_LINE, PROPERTY_KEY_MAX_CHARS) != CX_TEXT_OK)
    {
      g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("The callback has a malformed property name"));
      return FALSE;
    }

  if (JSON_NODE_HOLDS_NULL (value))
    return TRUE;

  type = JSON_NODE_HOLDS_VALUE (value) ? json_node_get_value_type (value) : G_TYPE_INVALID;
  if (type == G_TYPE_STRING)
    {
      /* The name was checked: it can name the field in the message. */
      if (!cx_text_validate (name, json_node_get_string (value),
                             CX_TEXT_MULTI_LINE | CX_TEXT_ALLOW_EMPTY, PROPERTY_VALUE_MAX_CHARS,
                             CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                             CX_PROTOCOL_ERROR_INVALID, error))
        return FALSE;
    }
  else if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE && type != G_TYPE_BOOLEAN)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                   _ ("The callback property “%s” is not a string, number or boolean"), name);
      return FALSE;
    }

  json_object_set_member (properties, name, json_node_copy (value));
  return TRUE;
}

/**
 * cx_callback_parse_object:
 * @node: (nullable): a callback as a GMS server returns it (see cx_callback_build_object())
 * @out: (out) (transfer full): the callback
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Reads a callback off the network. "_id" is required (1 to 256 bytes, one line);
 * "_service_name" is an id too; "_callback_state" an upper-case word; the times ISO-8601 with
 * a zone; "_customer_number" a phone number as cx_callback_request_parse() takes it (it is
 * normalized). Every other member is a property: a name of up to 64 characters and a string
 * of up to 1024 characters, a number or a boolean (a null is skipped), at most 64 of them.
 *
 * Returns: %TRUE with @out set
 */
gboolean
cx_callback_parse_object (JsonNode *node, CxCallbackInfo **out, GError **error)
{
  g_autoptr (CxCallbackInfo) info = NULL;
  g_autoptr (JsonObject) properties = NULL;
  JsonObjectIter iter;
  JsonObject *object;
  const char *name;
  const char *text;
  JsonNode *value;
  guint count = 0;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  object = cx_json_root_object (node, "callback", error);
  if (object == NULL)
    return FALSE;

  info = g_new0 (CxCallbackInfo, 1);
  info->desired_time = -1;
  info->expiration_time = -1;

  if (!cx_json_member_id (object, "_id", TRUE, &info->id, error) ||
      !cx_json_member_id (object, "_service_name", FALSE, &info->service, error) ||
      !reply_time (object, "_desired_time", &info->desired_time, error) ||
      !reply_time (object, "_expiration_time", &info->expiration_time, error) ||
      !cx_json_member_string (object, "_callback_state", FALSE, CX_TEXT_SINGLE_LINE, &text, error))
    return FALSE;

  if (text != NULL)
    {
      if (!valid_state (text))
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, _ ("“%s” is malformed"),
                       "_callback_state");
          return FALSE;
        }
      info->state = g_strdup (text);
    }

  if (!cx_json_member_string (object, CX_CALLBACK_SECRET_MEMBER, FALSE, CX_TEXT_SINGLE_LINE, &text,
                              error))
    return FALSE;
  if (text != NULL)
    {
      if (!cx_callback_secret_validate (text))
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, _ ("“%s” is malformed"),
                       CX_CALLBACK_SECRET_MEMBER);
          return FALSE;
        }
      info->secret = g_strdup (text);
    }

  if (!cx_json_member_string (object, "_customer_number", FALSE, CX_TEXT_SINGLE_LINE, &text, error))
    return FALSE;
  if (text != NULL)
    {
      info->customer_number = normalize_number (text);
      if (info->customer_number == NULL)
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                       _ ("“%s” is not a phone number of %u to %u digits"), "_customer_number",
                       NUMBER_MIN_DIGITS, NUMBER_MAX_DIGITS);
          return FALSE;
        }
    }

  properties = json_object_new ();
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &value))
    {
      if (is_reserved (name))
        continue;

      if (++count > PROPERTIES_MAX)
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                       _ ("The callback has more than %u properties"), PROPERTIES_MAX);
          return FALSE;
        }

      if (!reply_property (properties, name, value, error))
        return FALSE;
    }

  info->properties = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (info->properties, properties);

  *out = g_steal_pointer (&info);
  return TRUE;
}

/**
 * cx_callback_info_free:
 * @info: (nullable) (transfer full): a callback
 */
void
cx_callback_info_free (CxCallbackInfo *info)
{
  if (info == NULL)
    return;

  g_free (info->id);
  g_free (info->service);
  g_free (info->state);
  g_free (info->customer_number);
  g_clear_pointer (&info->properties, json_node_unref);
  if (info->secret != NULL)
    explicit_bzero (info->secret, strlen (info->secret));
  g_free (info->secret);
  g_free (info);
}

static int
compare_slots (gconstpointer a, gconstpointer b)
{
  const CxCallbackSlot *first = a;
  const CxCallbackSlot *second = b;

  return first->start < second->start ? -1 : first->start > second->start;
}

/**
 * cx_callback_parse_availability:
 * @node: (nullable): an availability reply, `{"2026-11-25T09:00:00.000Z": 2, ...}`
 * @slots: (out) (transfer full) (element-type CxCallbackSlot): the slots, by start time
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Reads GMS's availability reply: each member an ISO-8601 slot start with a zone, mapped to the
 * callbacks the slot can still take (an integer from 0). Two members for the same instant, or
 * more than %CX_CALLBACK_MAX_SLOTS of them, are refused.
 *
 * Returns: %TRUE with @slots set
 */
gboolean
cx_callback_parse_availability (JsonNode *node, GArray **slots, GError **error)
{
  g_autoptr (GArray) result = NULL;
  JsonObjectIter iter;
  JsonObject *object;
  const char *name;
  JsonNode *value;

  g_return_val_if_fail (slots != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  object = cx_json_root_object (node, "availability", error);
  if (object == NULL)
    return FALSE;

  if (json_object_get_size (object) > CX_CALLBACK_MAX_SLOTS)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                   _ ("The availability has more than %u time slots"), CX_CALLBACK_MAX_SLOTS);
      return FALSE;
    }

  result = g_array_sized_new (FALSE, FALSE, sizeof (CxCallbackSlot), json_object_get_size (object));
  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &name, &value))
    {
      CxCallbackSlot slot;
      gint64 capacity;

      if (!g_utf8_validate (name, -1, NULL) || iso8601_parse (name, &slot.start) != TIME_OK)
        {
          g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                               _ ("A time slot is not an ISO-8601 date and time with a time zone"));
          return FALSE;
        }

      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_INT64 ||
          (capacity = json_node_get_int (value)) < 0 || capacity > CAPACITY_MAX)
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                       _ ("The capacity of the time slot %s is not an integer from 0 to %d"), name,
                       CAPACITY_MAX);
          return FALSE;
        }

      slot.capacity = (guint) capacity;
      g_array_append_val (result, slot);
    }

  g_array_sort (result, compare_slots);
  for (guint i = 1; i < result->len; i++)
    {
      if (g_array_index (result, CxCallbackSlot, i).start ==
          g_array_index (result, CxCallbackSlot, i - 1).start)
        {
          g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                               _ ("The availability lists a time slot twice"));
          return FALSE;
        }
    }

  *slots = g_steal_pointer (&result);
  return TRUE;
}

static gboolean
is_known_code (gint64 code)
{
  switch (code)
    {
      case CX_CALLBACK_ERROR_INVALID:
      case CX_CALLBACK_ERROR_FORBIDDEN:
      case CX_CALLBACK_ERROR_NOT_FOUND:
      case CX_CALLBACK_ERROR_SLOT_FULL:
      case CX_CALLBACK_ERROR_INTERNAL:
      case CX_CALLBACK_ERROR_UNAVAILABLE:
      case CX_CALLBACK_ERROR_OFFICE_CLOSED:
        return TRUE;
      default:
        return FALSE;
    }
}

static CxCallbackError
code_for_status (guint http_status)
{
  switch (http_status)
    {
      case 401:
      case 403:
        return CX_CALLBACK_ERROR_FORBIDDEN;
      case 404:
        return CX_CALLBACK_ERROR_NOT_FOUND;
      case 409:
        return CX_CALLBACK_ERROR_SLOT_FULL;
      case 429:
      case 503:
        return CX_CALLBACK_ERROR_UNAVAILABLE;
      default:
        return http_status >= 400 && http_status < 500 ? CX_CALLBACK_ERROR_INVALID
                                                       : CX_CALLBACK_ERROR_INTERNAL;
    }
}

/**
 * cx_callback_parse_error:
 * @node: (nullable): the body of an error reply, `{"code": N, "message": "..."}`, if it was JSON
 * @http_status: the reply's HTTP status
 * @error: return location for the %CX_CALLBACK_ERROR the reply describes
 *
 * Turns an error reply of the callback API into a %CX_CALLBACK_ERROR. A "code" this library
 * knows (400, 403, 404, 409, 500, 503, 7042) is kept; otherwise (absent, malformed, or a code of
 * another GMS version) the code follows @http_status: 403 (and 401), 404, 409, 503 (and 429) as
 * they are,
 * any other 4xx 400, anything else 500. The server's "message" is kept when it is one line of
 * valid text of up to 1024 characters; otherwise a generic message for the code is used.
 *
 * Returns: %FALSE, always, with @error set: the reply is an error whatever its shape
 */
gboolean
cx_callback_parse_error (JsonNode *node, guint http_status, GError **error)
{
  CxCallbackError code = code_for_status (http_status);
  const char *message = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      gint64 number = -1;
      const char *text = NULL;

      if (cx_json_member_int (object, "code", FALSE, 0, G_MAXINT32, &number, NULL) &&
          is_known_code (number))
        code = (CxCallbackError) number;

      if (cx_json_member_string (object, "message", FALSE, CX_TEXT_SINGLE_LINE, &text, NULL) &&
          text != NULL &&
          cx_text_check (text, CX_TEXT_SINGLE_LINE, MESSAGE_MAX_CHARS) == CX_TEXT_OK)
        message = text;
    }

  if (message != NULL)
    {
      g_set_error_literal (error, CX_CALLBACK_ERROR, code, message);
      return FALSE;
    }

  switch (code)
    {
      case CX_CALLBACK_ERROR_NOT_FOUND:
        g_set_error_literal (error, CX_CALLBACK_ERROR, code, _ ("There is no such callback"));
        break;
      case CX_CALLBACK_ERROR_SLOT_FULL:
        g_set_error_literal (error, CX_CALLBACK_ERROR, code, _ ("That time slot is fully booked"));
        break;
      case CX_CALLBACK_ERROR_OFFICE_CLOSED:
        g_set_error_literal (error, CX_CALLBACK_ERROR, code,
                             _ ("The office is closed at that time"));
        break;
      case CX_CALLBACK_ERROR_UNAVAILABLE:
        g_set_error_literal (error, CX_CALLBACK_ERROR, code,
                             _ ("The callback service is not available"));
        break;
      case CX_CALLBACK_ERROR_INVALID:
        g_set_error (error, CX_CALLBACK_ERROR, code,
                     _ ("The callback server refused the request (HTTP %u)"), http_status);
        break;
      case CX_CALLBACK_ERROR_INTERNAL:
      default:
        g_set_error (error, CX_CALLBACK_ERROR, code, _ ("The callback server failed (HTTP %u)"),
                     http_status);
        break;
    }

  return FALSE;
}
