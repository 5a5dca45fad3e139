/* cx-protocol-private.h: validation helpers shared by the parsers of src/protocol. Not installed,
 * not for other layers. */
#pragma once

#include "protocol/cx-protocol.h"

G_BEGIN_DECLS

typedef enum
{
  CX_TEXT_OK,
  CX_TEXT_EMPTY,
  CX_TEXT_INVALID_UTF8,
  CX_TEXT_CONTROL,
  CX_TEXT_TOO_LONG,
} CxTextStatus;

typedef enum
{
  CX_TEXT_SINGLE_LINE = 0,      /* no C0 control character at all */
  CX_TEXT_MULTI_LINE = 1 << 0,  /* tab, newline and carriage return allowed */
  CX_TEXT_ALLOW_EMPTY = 1 << 1, /* "" is fine */
} CxTextFlags;

CxTextStatus cx_text_check (const char *text, CxTextFlags flags, gsize max_chars);
gboolean cx_text_validate (const char *field, const char *text, CxTextFlags flags, gsize max_chars,
                           GQuark domain, int invalid_code, int too_long_code, GError **error);
gboolean cx_id_validate (const char *field, const char *text, GQuark domain, int code,
                         GError **error);
gboolean cx_parse_uint (const char *text, guint64 max, guint64 *out);

/* JSON members. A null member counts as absent. Errors are CX_PROTOCOL_ERROR_INVALID. */
gboolean cx_json_member_string (JsonObject *object, const char *member, gboolean required,
                                CxTextFlags flags, const char **out, GError **error);
gboolean cx_json_member_int (JsonObject *object, const char *member, gboolean required, gint64 min,
                             gint64 max, gint64 *out, GError **error);
gboolean cx_json_member_id (JsonObject *object, const char *member, gboolean required, char **out,
                            GError **error);
gboolean cx_json_member_boolean (JsonObject *object, const char *member, gboolean required,
                                 gboolean *out, GError **error);
gboolean cx_json_member_object (JsonObject *object, const char *member, gboolean required,
                                JsonNode **out, GError **error);
gboolean cx_json_member_array (JsonObject *object, const char *member, gboolean required,
                               JsonArray **out, GError **error);
JsonObject *cx_json_root_object (JsonNode *root, const char *what, GError **error);
/* A JSON array of transcript entries (cx-agent-protocol.c): unknown types skipped, at most @max. */
gboolean cx_json_messages_parse (JsonArray *array, guint max, GPtrArray **out, GError **error);
/* "messages": [the GMS form of each CxMessage] (cx-agent-protocol.c). */
void cx_json_add_messages (JsonBuilder *builder, GPtrArray *messages);

G_END_DECLS
