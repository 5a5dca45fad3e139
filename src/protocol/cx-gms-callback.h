/* cx-gms-callback.h: the GMS Callback API v1 wire format (reference §5): create, reschedule
 * and availability requests, ISO-8601 times, callback and availability replies, errors. */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "protocol/cx-protocol.h"

G_BEGIN_DECLS

#define CX_CALLBACK_ERROR (cx_callback_error_quark ())

/**
 * CxCallbackError:
 * @CX_CALLBACK_ERROR_INVALID: 400, a parameter is missing or malformed; HTTP 400
 * @CX_CALLBACK_ERROR_FORBIDDEN: 403, listing or querying callbacks needs an agent session;
 *   HTTP 403
 * @CX_CALLBACK_ERROR_NOT_FOUND: 404, no such callback or service (or not with that secret);
 *   HTTP 404
 * @CX_CALLBACK_ERROR_SLOT_FULL: 409, the requested time slot has no room left; HTTP 409
 * @CX_CALLBACK_ERROR_INTERNAL: 500, the server failed; HTTP 500
 * @CX_CALLBACK_ERROR_UNAVAILABLE: 503, the service is not available; HTTP 503
 * @CX_CALLBACK_ERROR_OFFICE_CLOSED: 7042, GMS's "office closed": the desired time is outside
 *   the service's office hours; HTTP 400
 *
 * The codes are what goes into the error reply's "code".
 */
typedef enum
{
  CX_CALLBACK_ERROR_INVALID = 400,
  CX_CALLBACK_ERROR_FORBIDDEN = 403,
  CX_CALLBACK_ERROR_NOT_FOUND = 404,
  CX_CALLBACK_ERROR_SLOT_FULL = 409,
  CX_CALLBACK_ERROR_INTERNAL = 500,
  CX_CALLBACK_ERROR_UNAVAILABLE = 503,
  CX_CALLBACK_ERROR_OFFICE_CLOSED = 7042,
} CxCallbackError;

GQuark cx_callback_error_quark (void);

/* Private callbacks (issue 9, API.md): creating a callback answers its secret in this member,
 * and reading, rescheduling or cancelling it sends the secret back in this header. */
#define CX_CALLBACK_SECRET_MEMBER "_secret"
#define CX_CALLBACK_SECRET_HEADER "X-Cx-Callback-Secret"
/* A secret is 1 to this many bytes of letters, digits, - and _. */
#define CX_CALLBACK_SECRET_MAX_BYTES 256

gboolean cx_callback_secret_validate (const char *secret);

/* A desired time of "as soon as possible". */
#define CX_CALLBACK_ASAP ((gint64) -1)
/* The last millisecond ISO-8601 helpers handle: 9999-12-31T23:59:59.999Z. */
#define CX_ISO8601_MAX_MS G_GINT64_CONSTANT (253402300799999)

/**
 * CxCallbackRequest:
 * @customer_number: never %NULL: an optional "+" and 3 to 20 digits, separators stripped
 * @desired_time: milliseconds since the epoch, or %CX_CALLBACK_ASAP
 * @state: (nullable): "_callback_state" if the client sent one
 * @properties: a JSON object of string values, never %NULL: every other key ("subject",
 *   "_call_direction", "_customer_name", ...)
 */
typedef struct
{
  char *customer_number;
  gint64 desired_time;
  char *state;
  JsonNode *properties;
} CxCallbackRequest;

CxCallbackRequest *cx_callback_request_parse (GHashTable *form, GError **error);
void cx_callback_request_free (CxCallbackRequest *request);

gboolean cx_callback_reschedule_parse (GHashTable *form, gint64 *new_desired_time, GError **error);

/**
 * CxCallbackAvailabilityQuery:
 * @start: milliseconds since the epoch, or -1 for now
 * @number_of_days: 1 to 30, default 1
 * @end: milliseconds since the epoch, or -1 for @start plus @number_of_days
 * @max_time_slots: at most this many slots in the reply; 0 for no limit
 */
typedef struct
{
  gint64 start;
  guint number_of_days;
  gint64 end;
  guint max_time_slots;
} CxCallbackAvailabilityQuery;

gboolean cx_callback_availability_parse (GHashTable *query, CxCallbackAvailabilityQuery *out,
                                         GError **error);

gboolean cx_iso8601_parse (const char *text, gint64 *out_ms, GError **error);
char *cx_iso8601_format (gint64 ms);

/**
 * CxCallbackSlot:
 * @start: slot start, milliseconds since the epoch
 * @capacity: callbacks it can still take
 */
typedef struct
{
  gint64 start;
  guint capacity;
} CxCallbackSlot;

JsonNode *cx_callback_build_object (const char *id, const char *service_name, const char *state,
                                    gint64 desired_time, gint64 expiration_time,
                                    const char *customer_number, JsonNode *properties);
JsonNode *cx_callback_build_availability (const CxCallbackSlot *slots, gsize n_slots);
JsonNode *cx_callback_error_to_json (const GError *error);
guint cx_callback_error_to_http_status (const GError *error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxCallbackRequest, cx_callback_request_free)

/* Client side: reading what a GMS callback server answers. */

/* The largest reply body a client reads: 30 days of 5-minute slots fit well within it. */
#define CX_CALLBACK_MAX_REPLY_SIZE (1024 * 1024)
/* An availability reply with more slots than this is refused. */
#define CX_CALLBACK_MAX_SLOTS 10000

/**
 * CxCallbackInfo:
 * @id: "_id", never %NULL
 * @service: (nullable): "_service_name"
 * @state: (nullable): "_callback_state" (SCHEDULED, QUEUED, PROCESSING, COMPLETED, CANCELLED, ...)
 * @desired_time: "_desired_time", milliseconds since the epoch, or -1 if absent
 * @expiration_time: "_expiration_time", milliseconds since the epoch, or -1 if absent
 * @customer_number: (nullable): "_customer_number", normalized ("+" and digits)
 * @properties: a JSON object of every other member (strings, numbers, booleans), never %NULL
 * @secret: (nullable): "_secret", in the reply that created the callback only
 *
 * A callback as a client reads it from cx_callback_parse_object().
 */
typedef struct
{
  char *id;
  char *service;
  char *state;
  gint64 desired_time;
  gint64 expiration_time;
  char *customer_number;
  JsonNode *properties;
  char *secret;
} CxCallbackInfo;

gboolean cx_callback_parse_object (JsonNode *node, CxCallbackInfo **out, GError **error);
void cx_callback_info_free (CxCallbackInfo *info);
gboolean cx_callback_parse_availability (JsonNode *node, GArray **slots, GError **error);
gboolean cx_callback_parse_error (JsonNode *node, guint http_status, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxCallbackInfo, cx_callback_info_free)

G_END_DECLS
