/* cx-http-range.h: the one HTTP Range form the server honours on file downloads (issue 9
 * item 3): a single `bytes=` range (RFC 9110 §14.1.2). Several ranges, other units and
 * anything malformed are ignored, so a reply is never larger than the file. Pure, no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A Range header longer than this is ignored unread. */
#define CX_HTTP_RANGE_MAX_LENGTH 256

/**
 * CxHttpRangeResult:
 * @CX_HTTP_RANGE_NONE: no usable range: reply with the whole file (200)
 * @CX_HTTP_RANGE_OK: one satisfiable range: reply 206 with it
 * @CX_HTTP_RANGE_UNSATISFIABLE: one well-formed range outside the file: reply 416
 */
typedef enum
{
  CX_HTTP_RANGE_NONE,
  CX_HTTP_RANGE_OK,
  CX_HTTP_RANGE_UNSATISFIABLE,
} CxHttpRangeResult;

CxHttpRangeResult cx_http_range_parse (const char *header, gsize length, guint64 size,
                                       guint64 *start, guint64 *end);

G_END_DECLS
