/* cx-http-chunked.h: where a chunked request body ends (RFC 9112 §7.1), read strictly and a
 * piece at a time, so that the server's gate (src/server/cx-server-gate.c) knows exactly where
 * the next pipelined request head begins. It only frames the body; the data is not copied.
 * Pure, no I/O, a few bytes of state: any input is bounded by the limits below. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A chunk-size line, extensions and CRLF included, is at most this long (libsoup 3.2.3 reads
 * one into 128 bytes and fails a longer one without a reply). */
#define CX_HTTP_CHUNKED_MAX_LINE 128
/* A chunk size has at most this many hex digits (leading zeros included): under 2^60. */
#define CX_HTTP_CHUNKED_MAX_DIGITS 15

/**
 * CxHttpChunkedStatus:
 * @CX_HTTP_CHUNKED_MORE: every byte given belongs to the body, which goes on
 * @CX_HTTP_CHUNKED_END: the body ends within the bytes given
 * @CX_HTTP_CHUNKED_ERROR: the body is malformed: the connection cannot be trusted further
 */
typedef enum
{
  CX_HTTP_CHUNKED_MORE,
  CX_HTTP_CHUNKED_END,
  CX_HTTP_CHUNKED_ERROR,
} CxHttpChunkedStatus;

/* The reader's state; fields private. Initialise with cx_http_chunked_init(). */
typedef struct
{
  guint state;
  guint line;   /* bytes of the chunk-size line so far */
  guint digits; /* of its size */
  guint64 left; /* the chunk's size, then its data bytes still to come */
} CxHttpChunked;

void cx_http_chunked_init (CxHttpChunked *self);
CxHttpChunkedStatus cx_http_chunked_scan (CxHttpChunked *self, const char *bytes, gsize length,
                                          gsize *used);

G_END_DECLS
