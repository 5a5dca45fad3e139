/* cx-test-json.c: JSON text, errors and long inputs for unit tests. See cx-test-json.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-test-json"

#include "config.h"

#include "cx-test-json.h"

#include <string.h>

JsonNode *
cx_test_json_parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

char *
cx_test_json_text (JsonNode *node)
{
  return node != NULL ? json_to_string (node, FALSE) : g_strdup ("NULL");
}

void
cx_test_assert_error (const GError *error, GQuark domain, int code, const char *needle)
{
  g_assert_nonnull (error);
  if (error->domain != domain || error->code != code)
    g_error ("expected %s %d, got %s %d: %s", g_quark_to_string (domain), code,
             g_quark_to_string (error->domain), error->code, error->message);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("“%s” does not mention “%s”", error->message, needle);
}

char *
cx_test_repeat (const char *unit, gsize count)
{
  GString *text = g_string_sized_new (strlen (unit) * count);

  for (gsize i = 0; i < count; i++)
    g_string_append (text, unit);
  return g_string_free (text, FALSE);
}
