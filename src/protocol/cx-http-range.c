/* cx-http-range.c: one `bytes=a-b`, `bytes=a-` or `bytes=-n` range against a resource of a known
 * size. Everything else (several ranges, another unit, a malformed or overflowing number) is
 * no range at all, so the caller sends the whole resource: RFC 9110 lets a server ignore Range.
 * Reads exactly @length bytes of the header, never past them. */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include <string.h>

#include "protocol/cx-http-range.h"

/* Decimal digits into a 64-bit value; FALSE when there are none or they overflow. */
static gboolean
parse_digits (const char **p, const char *end, guint64 *value)
{
  const char *start = *p;
  guint64 v = 0;

  while (*p < end && g_ascii_isdigit (**p))
    {
      guint digit = **p - '0';

      if (v > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      v = v * 10 + digit;
      (*p)++;
    }
  *value = v;
  return *p > start;
}

static const char *
skip_ows (const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  return p;
}

/**
 * cx_http_range_parse:
 * @header: the Range header's value (need not be NUL-terminated)
 * @length: its length in bytes
 * @size: the resource's size in bytes
 * @start: (out): the first byte of the range, on %CX_HTTP_RANGE_OK
 * @end: (out): the last byte of the range (inclusive), on %CX_HTTP_RANGE_OK
 *
 * Returns: what to reply
 */
CxHttpRangeResult
cx_http_range_parse (const char *header, gsize length, guint64 size, guint64 *start, guint64 *end)
{
  const char *p, *stop;
  guint64 first = 0, last = 0;
  gboolean have_first, have_last;

  g_return_val_if_fail (header != NULL || length == 0, CX_HTTP_RANGE_NONE);
  g_return_val_if_fail (start != NULL && end != NULL, CX_HTTP_RANGE_NONE);

  if (length > CX_HTTP_RANGE_MAX_LENGTH || length < strlen ("bytes=") ||
      g_ascii_strncasecmp (header, "bytes=", strlen ("bytes=")) != 0)
    return CX_HTTP_RANGE_NONE;
  stop = header + length;
  p = skip_ows (header + strlen ("bytes="), stop);

  have_first = parse_digits (&p, stop, &first);
  if (p == stop && !have_first)
    return CX_HTTP_RANGE_NONE;
  if (p == stop || *p != '-')
    return CX_HTTP_RANGE_NONE;
  p++;
  have_last = parse_digits (&p, stop, &last);
  if (p < stop && !g_ascii_isdigit (*p) && *p != ' ' && *p != '\t')
    return CX_HTTP_RANGE_NONE; /* a comma (several ranges) or anything else */
  if (p < stop && g_ascii_isdigit (*p))
    return CX_HTTP_RANGE_NONE; /* digits that overflowed */
  if (skip_ows (p, stop) != stop)
    return CX_HTTP_RANGE_NONE;

  if (have_first)
    {
      if (have_last && last < first)
        return CX_HTTP_RANGE_NONE; /* invalid: ignored, as RFC 9110 says */
      if (first >= size)
        return CX_HTTP_RANGE_UNSATISFIABLE;
      *start = first;
      *end = have_last ? MIN (last, size - 1) : size - 1;
      return CX_HTTP_RANGE_OK;
    }

  /* A suffix: the last n bytes. */
  if (!have_last)
    return CX_HTTP_RANGE_NONE;
  if (last == 0 || size == 0)
    return CX_HTTP_RANGE_UNSATISFIABLE;
  *start = size - MIN (last, size);
  *end = size - 1;
  return CX_HTTP_RANGE_OK;
}
