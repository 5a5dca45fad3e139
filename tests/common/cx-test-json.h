/* cx-test-json.h: what the unit tests of JSON-speaking code share: JSON text in and out, an
 * error checked by domain, code and what its message says, and long inputs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* @text parsed by json-glib, which must accept it. */
JsonNode *cx_test_json_parse (const char *text);
/* @node as compact JSON text, "NULL" for none. */
char *cx_test_json_text (JsonNode *node);

/* @error is @domain @code and its message mentions @needle (nullable). */
void cx_test_assert_error (const GError *error, GQuark domain, int code, const char *needle);

/* @unit @count times over. */
char *cx_test_repeat (const char *unit, gsize count);

G_END_DECLS
