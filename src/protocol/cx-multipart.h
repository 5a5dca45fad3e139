/* cx-multipart.h: multipart/form-data (RFC 7578 over RFC 2046) as the customer's browser sends
 * it: a bounded parser of our own, so that no hostile body reaches a library's multipart code.
 * Pure: bytes in, parts out; no I/O and no libsoup. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 2046 §5.1.1: a boundary is 1 to 70 characters. */
#define CX_MULTIPART_MAX_BOUNDARY 70
/* Defaults for #CxMultipartLimits. */
#define CX_MULTIPART_MAX_PARTS 256
#define CX_MULTIPART_MAX_HEADER_BYTES 8192

/**
 * CxMultipartLimits:
 * @max_parts: parts in one body; more is an error
 * @max_header_bytes: bytes of one part's header section, its final empty line included
 */
typedef struct
{
  guint max_parts;
  gsize max_header_bytes;
} CxMultipartLimits;

/**
 * CxMultipartPart:
 * @name: the form field's name: valid UTF-8, no control character, never %NULL (may be "")
 * @filename: (nullable): the file name, when the part is a file: valid UTF-8, no control
 *   character
 * @content_type: (nullable): the media type of the part's Content-Type, `type/subtype` in
 *   lower case, without parameters
 * @body: the part's content, a slice of the parsed body
 */
typedef struct
{
  char *name;
  char *filename;
  char *content_type;
  GBytes *body;
} CxMultipartPart;

void cx_multipart_part_free (CxMultipartPart *part);

char *cx_multipart_boundary (const char *content_type, GError **error);
GPtrArray *cx_multipart_parse (GBytes *body, const char *boundary, const CxMultipartLimits *limits,
                               GError **error);
GHashTable *cx_multipart_form_fields (GPtrArray *parts, GError **error);
const CxMultipartPart *cx_multipart_find_file (GPtrArray *parts, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxMultipartPart, cx_multipart_part_free)

G_END_DECLS
