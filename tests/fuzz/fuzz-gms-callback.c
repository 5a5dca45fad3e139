/* fuzz-gms-callback.c: an urlencoded form through the callback create, reschedule and
 * availability parsers, the reply builders on what was accepted, and the input as an ISO-8601
 * time (format → parse must give the same instant). */
#include "config.h"

#include "fuzz-common.h"
#include "protocol/cx-gms-callback.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  return 0;
}

static void
check_error (const GError *error)
{
  g_autoptr (JsonNode) reply = cx_callback_error_to_json (error);
  guint status = cx_callback_error_to_http_status (error);

  fuzz_check (error->domain == CX_CALLBACK_ERROR);
  fuzz_check (status >= 400 && status < 600);
  fuzz_check (reply != NULL);
}

static void
check_time (const char *text)
{
  g_autofree char *formatted = NULL;
  gint64 ms = 0;
  gint64 back = 0;

  if (!cx_iso8601_parse (text, &ms, NULL))
    return;

  fuzz_check (ms >= 0 && ms <= CX_ISO8601_MAX_MS);
  formatted = cx_iso8601_format (ms);
  fuzz_check (cx_iso8601_parse (formatted, &back, NULL));
  fuzz_check (back == ms);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (CxCallbackRequest) request = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  CxCallbackAvailabilityQuery query;
  gint64 new_time;

  text = g_strndup ((const char *) data, size);
  check_time (text);

  form = cx_form_decode ((const char *) data, size, &error);
  if (form == NULL)
    return 0;

  request = cx_callback_request_parse (form, &error);
  if (request == NULL)
    {
      check_error (error);
      g_clear_error (&error);
    }
  else
    {
      g_autoptr (JsonNode) object = NULL;
      g_autofree char *json = NULL;
      const char *number = request->customer_number;
      gsize digits = strspn (number[0] == '+' ? number + 1 : number, "0123456789");

      fuzz_check (digits >= 3 && digits <= 20);
      fuzz_check (strlen (number) == digits + (number[0] == '+'));
      object = cx_callback_build_object ("cb", "svc", request->state, request->desired_time,
                                         request->desired_time, number, request->properties);
      json = json_to_string (object, FALSE);
      fuzz_check (json != NULL);
    }

  if (!cx_callback_reschedule_parse (form, &new_time, &error))
    {
      check_error (error);
      g_clear_error (&error);
    }

  if (!cx_callback_availability_parse (form, &query, &error))
    {
      check_error (error);
      g_clear_error (&error);
    }
  else
    {
      CxCallbackSlot slot = { query.start, query.max_time_slots };
      g_autoptr (JsonNode) reply = cx_callback_build_availability (&slot, 1);

      fuzz_check (query.number_of_days >= 1 && query.number_of_days <= 30);
      fuzz_check (query.start < 0 || query.end < 0 || query.end > query.start);
      fuzz_check (reply != NULL);
    }

  return 0;
}
