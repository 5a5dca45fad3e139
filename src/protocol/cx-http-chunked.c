/* cx-http-chunked.c: the framing of a chunked body, strictly:
 *
 *   chunked-body = *( chunk-size [ ext ] CRLF chunk-data CRLF ) last-chunk CRLF
 *   last-chunk   = chunk-size [ ext ] CRLF, of size 0
 *   chunk-size   = 1*15HEXDIG
 *   ext          = *( SP / HTAB ) ";" *( SP / HTAB / VCHAR )
 *
 * with a chunk-size line of at most CX_HTTP_CHUNKED_MAX_LINE bytes. Everything else is an
 * error: a bare LF or CR, anything but CRLF after the data, and trailer fields (libsoup 3.2.3
 * ends the body at the first line after the last chunk, whatever it holds, so with a trailer
 * it would read the rest as the next request). What this accepts, libsoup reads the same way.
 * Each call goes on where the last stopped, so the body can come in pieces of any size. */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include "protocol/cx-http-chunked.h"

typedef enum
{
  STATE_SIZE,    /* the chunk size's hex digits */
  STATE_SPACE,   /* whitespace after them: an extension must follow */
  STATE_EXT,     /* an extension, up to the CR */
  STATE_SIZE_LF, /* the LF of the size line */
  STATE_DATA,
  STATE_DATA_CR, /* the CRLF after the data */
  STATE_DATA_LF,
  STATE_LAST_CR, /* the CRLF after the last chunk: the end */
  STATE_LAST_LF,
  STATE_END,
  STATE_ERROR,
} State;

void
cx_http_chunked_init (CxHttpChunked *self)
{
  g_return_if_fail (self != NULL);

  self->state = STATE_SIZE;
  self->line = 0;
  self->digits = 0;
  self->left = 0;
}

static int
hex_value (char c)
{
  return g_ascii_isxdigit (c) ? g_ascii_xdigit_value (c) : -1;
}

/* One byte of a chunk-size line: the next state. */
static State
size_line_byte (CxHttpChunked *self, char c)
{
  int digit;

  /* At most CX_HTTP_CHUNKED_MAX_LINE bytes: the last of them can only be the LF. */
  if (++self->line >= CX_HTTP_CHUNKED_MAX_LINE && c != '\n')
    return STATE_ERROR;

  switch (self->state)
    {
      case STATE_SIZE:
        digit = hex_value (c);
        if (digit >= 0)
          {
            if (++self->digits > CX_HTTP_CHUNKED_MAX_DIGITS)
              return STATE_ERROR;
            self->left = self->left * 16 + (guint) digit;
            return STATE_SIZE;
          }
        if (self->digits == 0)
          return STATE_ERROR;
        if (c == ';')
          return STATE_EXT;
        if (c == ' ' || c == '\t')
          return STATE_SPACE;
        return c == '\r' ? STATE_SIZE_LF : STATE_ERROR;

      case STATE_SPACE:
        if (c == ' ' || c == '\t')
          return STATE_SPACE;
        return c == ';' ? STATE_EXT : STATE_ERROR;

      case STATE_EXT:
        if (c == '\r')
          return STATE_SIZE_LF;
        return c == '\t' || (c >= ' ' && c <= '~') ? STATE_EXT : STATE_ERROR;

      case STATE_SIZE_LF:
        if (c != '\n')
          return STATE_ERROR;
        return self->left > 0 ? STATE_DATA : STATE_LAST_CR;

      default:
        g_return_val_if_reached (STATE_ERROR);
    }
}

/**
 * cx_http_chunked_scan:
 * @self: the reader, where the last call left it
 * @bytes: the next bytes of the body (or of what follows it); need not be NUL-terminated
 * @length: how many
 * @used: (out): how many of them belong to the body: all of them on %CX_HTTP_CHUNKED_MORE;
 *   on %CX_HTTP_CHUNKED_END those up to the end of the body (what follows is not the body's);
 *   on %CX_HTTP_CHUNKED_ERROR those before the first malformed byte
 *
 * Follows the body through @bytes. Once it has ended, or was malformed, every later call says
 * so again with *@used 0.
 *
 * Returns: whether the body goes on, ended, or is malformed
 */
CxHttpChunkedStatus
cx_http_chunked_scan (CxHttpChunked *self, const char *bytes, gsize length, gsize *used)
{
  gsize i = 0;

  g_return_val_if_fail (self != NULL, CX_HTTP_CHUNKED_ERROR);
  g_return_val_if_fail (bytes != NULL || length == 0, CX_HTTP_CHUNKED_ERROR);
  g_return_val_if_fail (used != NULL, CX_HTTP_CHUNKED_ERROR);

  *used = 0;
  if (self->state == STATE_END)
    return CX_HTTP_CHUNKED_END;
  if (self->state == STATE_ERROR)
    return CX_HTTP_CHUNKED_ERROR;

  while (i < length)
    {
      char c = bytes[i];
      State next;

      switch (self->state)
        {
          case STATE_DATA:
            {
              /* The data in one step, however long. */
              guint64 take = MIN (self->left, (guint64) (length - i));

              self->left -= take;
              i += take;
              if (self->left == 0)
                self->state = STATE_DATA_CR;
              continue;
            }

          case STATE_DATA_CR:
          case STATE_LAST_CR:
            next = c != '\r'                      ? STATE_ERROR
                   : self->state == STATE_DATA_CR ? STATE_DATA_LF
                                                  : STATE_LAST_LF;
            break;

          case STATE_DATA_LF:
            next = c == '\n' ? STATE_SIZE : STATE_ERROR;
            self->line = 0;
            self->digits = 0;
            self->left = 0;
            break;

          case STATE_LAST_LF:
            next = c == '\n' ? STATE_END : STATE_ERROR;
            break;

          default:
            next = size_line_byte (self, c);
            break;
        }

      self->state = next;
      if (next == STATE_ERROR)
        {
          *used = i;
          return CX_HTTP_CHUNKED_ERROR;
        }
      i++;
      if (next == STATE_END)
        {
          *used = i;
          return CX_HTTP_CHUNKED_END;
        }
    }
  *used = i;
  return CX_HTTP_CHUNKED_MORE;
}
