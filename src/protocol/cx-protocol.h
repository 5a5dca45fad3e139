/* cx-protocol.h: what every wire format of src/protocol shares: the error domain for data that
 * is malformed at the JSON or form level, and the two safe entry points that turn bytes off the
 * network into something to validate (a JSON tree, a form table). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define CX_PROTOCOL_ERROR (cx_protocol_error_quark ())

/**
 * CxProtocolError:
 * @CX_PROTOCOL_ERROR_INVALID: malformed data: not JSON, wrong member type, bad value
 * @CX_PROTOCOL_ERROR_TOO_LARGE: over a size limit (bytes, depth, array length)
 * @CX_PROTOCOL_ERROR_UNKNOWN_TYPE: a frame or message type this version does not know
 *
 * Errors about the shape of data. The HTTP-facing domains (%CX_GMS_ERROR, %CX_CALLBACK_ERROR)
 * map these to their own replies.
 */
typedef enum
{
  CX_PROTOCOL_ERROR_INVALID,
  CX_PROTOCOL_ERROR_TOO_LARGE,
  CX_PROTOCOL_ERROR_UNKNOWN_TYPE,
} CxProtocolError;

GQuark cx_protocol_error_quark (void);

/* JSON nested deeper than this is refused before json-glib sees it: its parser recurses once
 * per level and overflows the stack on a few hundred kilobytes of "[[[[". */
#define CX_JSON_MAX_DEPTH 64

/* A form with more fields than this is refused. */
#define CX_FORM_MAX_FIELDS 1024

JsonNode *cx_json_parse (const char *text, gsize length, gsize max_size, GError **error);
GHashTable *cx_form_decode (const char *data, gsize length, GError **error);

/* Reading JSON that a peer sent, leniently: each returns NULL (or FALSE) when the member is
 * absent, null or of another type, and the caller decides what a missing member means. The
 * strict readers that report why are the parsers' own (cx-protocol-private.h). */
JsonNode *cx_json_node_new_object (JsonObject *object);
JsonObject *cx_json_node_get_object (JsonNode *node);
JsonNode *cx_json_get_member (JsonObject *object, const char *member);
const char *cx_json_get_string (JsonObject *object, const char *member);
gboolean cx_json_get_int (JsonObject *object, const char *member, gint64 min, gint64 max,
                          gint64 *out);
JsonArray *cx_json_get_array (JsonObject *object, const char *member);
JsonObject *cx_json_get_object (JsonObject *object, const char *member);
gboolean cx_json_is_null_or_absent (JsonObject *object, const char *member);

/* An identifier (chat id, user name, callback id): non-empty, at most CX_ID_MAX_BYTES of UTF-8,
 * no control character. */
#define CX_ID_MAX_BYTES 256
gboolean cx_id_is_valid (const char *id);

G_END_DECLS
