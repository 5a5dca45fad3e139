/* cx-server-gate.c: what libsoup reads from a client passes through here (issue 9 items 8, 16).
 *
 * Every accepted connection is a CxServerGateConnection: a GTcpConnection (so that a WebSocket
 * still shuts down its socket as usual) whose input stream is a CxServerGate that sits between
 * the socket and libsoup. The gate is transparent except where libsoup 3.2.3 fails:
 *
 *  - A request head over the limit. libsoup drops a head over 64 KiB without a reply, and
 *    reads a head up to that size before the server can look at it. The gate counts the bytes
 *    of each head as they pass (until the blank line that ends it); past the limit it stops
 *    feeding libsoup, asks the connection layer to reply 431 or 414 (head_refused), reads and
 *    drops what the client is still sending (bounded), and then ends the connection as below.
 *
 *  - A head whose body framing libsoup does not recognise (a Content-Length that is not a
 *    number, an unknown Transfer-Encoding): libsoup leaks the request path of every such
 *    request. The gate reads the Content-Length and Transfer-Encoding lines as they pass and
 *    refuses such a head with 400 in the same way, before libsoup parses it (and a NUL or a
 *    bare CR in a head, which libsoup would delete or read as a space).
 *
 *  - A pipelined head after a body: libsoup reads ahead while it reads a chunked body (up to
 *    8 KiB at the line after the last chunk), so it would have the next head before the gate
 *    counts or checks it. The gate follows the framing of every head it passed: a
 *    Content-Length body it counts, a chunked one it reads with cx_http_chunked_scan() (strict:
 *    malformed is refused with 400, as a head is); libsoup gets the body and not a byte more,
 *    and the next head is scanned from its first byte. The end of the stream in a body is an
 *    error for libsoup (it took one at a chunk boundary for the end of a chunked body).
 *
 *  - A client that hangs up between two requests of a keep-alive connection. libsoup starts
 *    the next message before its first byte, but gives it a completion callback only once a
 *    line of it has been read: the end of the stream there (or a reset) finishes a message
 *    nobody waits for, and the connection with all its objects is never freed. So when the
 *    socket ends (or fails) while a head is being read, the gate hands libsoup a "poison" line,
 *    "x\n", and then an error: the line makes libsoup start the message properly, the error
 *    makes it abort the message and disconnect, which frees the connection. The line cannot
 *    complete a head (it is not empty), so a half-sent head is never served.
 *
 * If a request ends before libsoup has read its body (told by the connection layer:
 * _cx_server_gate_next_head), libsoup reads what is left as the next head, and so does the
 * gate. After a 101 (_cx_server_gate_open) the gate is transparent for good. The gate also
 * says when the first byte of a head arrives (head_started), for the header timeout. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "protocol/cx-http-chunked.h"
#include "server/cx-server-private.h"

/* What libsoup is given when the client has gone: a line that is not the blank line. */
static const char poison[] = "x\n";

typedef enum
{
  GATE_HEAD,    /* reading a request head: counted and scanned for its end */
  GATE_LENGTH,  /* a body of a Content-Length: pass that many bytes */
  GATE_CHUNKED, /* a chunked body: pass it to its end */
  GATE_OPEN,    /* switched protocols: pass through for good */
  GATE_DISCARD, /* head refused: read and drop what the client still sends */
  GATE_POISON,  /* the client has gone, or was refused: give libsoup the poison line */
  GATE_DEAD,    /* then fail every read */
} GateState;

typedef enum
{
  FIELD_NAME, /* before the colon */
  FIELD_CONTENT_LENGTH,
  FIELD_TRANSFER_ENCODING,
  FIELD_OTHER,
} FieldKind;

typedef enum
{
  VALUE_BEFORE,
  VALUE_TOKEN,
  VALUE_AFTER,
} ValueState;

#define CX_TYPE_SERVER_GATE (cx_server_gate_get_type ())
G_DECLARE_FINAL_TYPE (CxServerGate, cx_server_gate, CX, SERVER_GATE, GInputStream)

struct _CxServerGate
{
  GInputStream parent_instance;

  GInputStream *base; /* the socket's input stream */
  GateState state;
  gsize max_head_bytes;
  gsize max_line_bytes;
  gsize drain_bytes;
  const CxServerGateFuncs *funcs; /* NULL once detached */
  gpointer data;

  /* The head being read */
  gsize head_bytes;
  gsize line_bytes;    /* of its first line */
  gboolean first_line; /* the first line is not complete yet */
  gboolean seen_token; /* a byte other than CR or LF: blank lines before a head do not end it */
  /* Its header line being read, for the framing headers (field_byte) */
  guint field_pos;
  char field_name[20]; /* lower case, up to the colon; full: not a framing header */
  guint field_name_len;
  FieldKind field_kind;
  char value[10]; /* a Transfer-Encoding's, lower case */
  guint value_len;
  ValueState value_state;
  guint content_lengths;
  guint transfer_encodings;
  guint length_digits;
  guint64 content_length; /* its value */
  gboolean chunked;       /* Transfer-Encoding: chunked */
  /* The body after it */
  guint64 body_left; /* GATE_LENGTH */
  CxHttpChunked chunks;
  char last[2];      /* the two bytes before, [1] the latest */
  gsize drained;     /* GATE_DISCARD */
  gsize poison_sent; /* GATE_POISON */
  /* Read past the end of a head: handed out before anything else is read, and scanned if it
   * is the next head (a pipelined request) */
  char *pending;
  gsize pending_len;
  gsize pending_off;
};

static void cx_server_gate_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CxServerGate, cx_server_gate, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      cx_server_gate_pollable_init))

static void
start_head (CxServerGate *self)
{
  self->state = GATE_HEAD;
  self->head_bytes = 0;
  self->line_bytes = 0;
  self->first_line = TRUE;
  self->seen_token = FALSE;
  self->last[0] = self->last[1] = '\0';
  self->field_pos = 0;
  self->field_name_len = 0;
  self->field_kind = FIELD_NAME;
  self->content_lengths = 0;
  self->transfer_encodings = 0;
  self->length_digits = 0;
  self->content_length = 0;
  self->chunked = FALSE;
}

/* The end of a head libsoup is given: the body it announces, as libsoup 3.2.3 reads it
 * (chunked wins over a Content-Length; neither is no body), and then the next head. */
static void
start_body (CxServerGate *self)
{
  if (self->chunked)
    {
      self->state = GATE_CHUNKED;
      cx_http_chunked_init (&self->chunks);
    }
  else if (self->content_length > 0)
    {
      self->state = GATE_LENGTH;
      self->body_left = self->content_length;
    }
  else
    {
      start_head (self);
    }
}

/* The end of a header line: TRUE if it makes the body's framing one libsoup 3.2.3 does not
 * recognise (it then leaks the request path, for every such request). */
static gboolean
field_end (CxServerGate *self)
{
  gboolean bad = FALSE;

  if (self->field_kind == FIELD_TRANSFER_ENCODING)
    {
      self->value[self->value_len] = '\0';
      self->chunked = strcmp (self->value, "chunked") == 0;
      bad = !self->chunked && strcmp (self->value, "identity") != 0;
    }
  self->field_pos = 0;
  self->field_name_len = 0;
  self->field_kind = FIELD_NAME;
  return bad;
}

/* A byte of a header line. Returns: %TRUE if the framing headers are refused: a
 * Content-Length that is not one plain number (of at most 18 digits), a Transfer-Encoding
 * other than chunked (or identity), either twice, or a folded line (which could continue
 * either). The exact checks on a head libsoup has parsed are _cx_server_net_check_head's;
 * these are the ones that must come before libsoup parses it. */
static gboolean
field_byte (CxServerGate *self, char c)
{
  if (c == '\n')
    return field_end (self);
  if (c == '\r')
    return FALSE;
  if (self->field_pos++ == 0 && (c == ' ' || c == '\t'))
    return TRUE;

  switch (self->field_kind)
    {
      case FIELD_NAME:
        if (c != ':')
          {
            if (self->field_name_len < sizeof self->field_name - 1)
              self->field_name[self->field_name_len++] = g_ascii_tolower (c);
            else
              self->field_name_len = sizeof self->field_name; /* too long for either */
            return FALSE;
          }
        self->field_kind = FIELD_OTHER;
        self->value_len = 0;
        self->value_state = VALUE_BEFORE;
        if (self->field_name_len < sizeof self->field_name)
          {
            self->field_name[self->field_name_len] = '\0';
            if (strcmp (self->field_name, "content-length") == 0)
              {
                self->field_kind = FIELD_CONTENT_LENGTH;
                return ++self->content_lengths > 1;
              }
            if (strcmp (self->field_name, "transfer-encoding") == 0)
              {
                self->field_kind = FIELD_TRANSFER_ENCODING;
                return ++self->transfer_encodings > 1;
              }
          }
        return FALSE;

      case FIELD_CONTENT_LENGTH:
      case FIELD_TRANSFER_ENCODING:
        if (c == ' ' || c == '\t')
          {
            if (self->value_state == VALUE_TOKEN)
              self->value_state = VALUE_AFTER;
            return FALSE;
          }
        if (self->value_state == VALUE_AFTER)
          return TRUE;
        self->value_state = VALUE_TOKEN;
        if (self->field_kind == FIELD_CONTENT_LENGTH)
          {
            if (!g_ascii_isdigit (c) || ++self->length_digits > 18)
              return TRUE;
            self->content_length = self->content_length * 10 + (guint64) (c - '0');
            return FALSE;
          }
        if (self->value_len >= sizeof self->value - 1)
          return TRUE;
        self->value[self->value_len++] = g_ascii_tolower (c);
        return FALSE;

      case FIELD_OTHER:
      default:
        return FALSE;
    }
}

/* Scans @n bytes read while a head is expected, up to the end of the head; sets *@used to how
 * many it scanned (fewer than @n if the head ended).
 * Returns: 0, or the status to refuse the head with */
static guint
scan_head (CxServerGate *self, const char *bytes, gsize n, gsize *used)
{
  *used = n;
  for (gsize i = 0; i < n; i++)
    {
      char c = bytes[i];
      gboolean end = FALSE;

      if (self->head_bytes == 0 && self->funcs != NULL && self->funcs->head_started != NULL)
        self->funcs->head_started (self->data);
      self->head_bytes++;
      /* libsoup deletes a NUL from a header and reads a bare CR as a space, after the checks
       * below would have seen them: refused. */
      if (c == '\0' || (self->last[1] == '\r' && c != '\n'))
        return SOUP_STATUS_BAD_REQUEST;
      if (!self->first_line && field_byte (self, c))
        return SOUP_STATUS_BAD_REQUEST;
      if (c == '\n')
        {
          /* libsoup ends a head at LF LF, or at LF CR LF with at least 3 bytes before the
           * CR LF; the gate waits for a request line too (libsoup refuses a head without). */
          end = self->seen_token &&
                (self->last[1] == '\n' ||
                 (self->last[1] == '\r' && self->last[0] == '\n' && self->head_bytes >= 5));
          if (self->seen_token)
            self->first_line = FALSE;
        }
      else if (c != '\r')
        {
          self->seen_token = TRUE;
        }
      if (self->first_line && self->seen_token)
        self->line_bytes++;
      self->last[0] = self->last[1];
      self->last[1] = c;

      if (self->head_bytes > self->max_head_bytes)
        return self->line_bytes > self->max_line_bytes ? SOUP_STATUS_REQUEST_URI_TOO_LONG : 431;
      if (end)
        {
          start_body (self);
          *used = i + 1;
          return 0;
        }
    }
  return 0;
}

static void
refuse (CxServerGate *self, guint status)
{
  /* In a body, libsoup has its message: the error after the drain is enough. */
  self->poison_sent = self->state == GATE_HEAD ? 0 : sizeof poison - 1;
  self->state = GATE_DISCARD;
  self->drained = 0;
  if (self->funcs != NULL && self->funcs->head_refused != NULL)
    self->funcs->head_refused (self->data, status);
}

static gboolean
is_would_block (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

static gboolean
has_pending (CxServerGate *self)
{
  return self->pending_off < self->pending_len;
}

/* What was read past a head, else the socket. */
static gssize
base_read (CxServerGate *self, void *buffer, gsize count, gboolean blocking,
           GCancellable *cancellable, GError **error)
{
  gsize n;

  if (!has_pending (self))
    return g_pollable_stream_read (self->base, buffer, count, blocking, cancellable, error);
  n = MIN (count, self->pending_len - self->pending_off);
  memcpy (buffer, self->pending + self->pending_off, n);
  self->pending_off += n;
  if (!has_pending (self))
    {
      g_clear_pointer (&self->pending, g_free);
      self->pending_len = self->pending_off = 0;
    }
  return n;
}

/* Gives back the last @n bytes base_read() returned (in @buffer) for a later read. */
static void
unread (CxServerGate *self, const char *bytes, gsize n)
{
  if (self->pending != NULL)
    {
      /* They came from pending: step back. */
      self->pending_off -= n;
      return;
    }
  self->pending = g_memdup2 (bytes, n);
  self->pending_len = n;
  self->pending_off = 0;
}

static gssize
gate_read (CxServerGate *self, void *buffer, gsize count, gboolean blocking,
           GCancellable *cancellable, GError **error)
{
  char scratch[8192];

  if (count == 0)
    return 0;

  for (;;)
    {
      g_autoptr (GError) local_error = NULL;
      gssize n;

      switch (self->state)
        {
          case GATE_OPEN:
            return base_read (self, buffer, count, blocking, cancellable, error);

          case GATE_LENGTH:
            n = base_read (self, buffer, (gsize) MIN ((guint64) count, self->body_left), blocking,
                           cancellable, error);
            if (n == 0)
              {
                self->state = GATE_DEAD; /* the end of the stream, in the body */
                continue;
              }
            if (n > 0)
              {
                self->body_left -= n;
                if (self->body_left == 0)
                  start_head (self);
              }
            return n;

          case GATE_CHUNKED:
            {
              CxHttpChunkedStatus status;
              gsize used;

              n = base_read (self, buffer, count, blocking, cancellable, error);
              if (n < 0)
                return -1;
              if (n == 0)
                {
                  self->state = GATE_DEAD;
                  continue;
                }
              status = cx_http_chunked_scan (&self->chunks, buffer, n, &used);
              if (status == CX_HTTP_CHUNKED_ERROR)
                {
                  /* Nothing more of it goes to libsoup. */
                  refuse (self, SOUP_STATUS_BAD_REQUEST);
                  continue;
                }
              if (status == CX_HTTP_CHUNKED_END)
                {
                  /* libsoup gets the body alone: what follows is the next head. */
                  if (used < (gsize) n)
                    unread (self, (const char *) buffer + used, n - used);
                  start_head (self);
                }
              return used;
            }

          case GATE_POISON:
            {
              gsize left = sizeof poison - 1 - self->poison_sent;

              if (left > 0 && count > 0)
                {
                  n = MIN (left, count);
                  memcpy (buffer, poison + self->poison_sent, n);
                  self->poison_sent += n;
                  return n;
                }
              self->state = GATE_DEAD;
              continue;
            }

          case GATE_DEAD:
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                 _ ("The connection is closed"));
            return -1;

          case GATE_DISCARD:
            n = base_read (self, scratch, sizeof scratch, blocking, cancellable, &local_error);
            if (n < 0 && is_would_block (local_error))
              {
                g_propagate_error (error, g_steal_pointer (&local_error));
                return -1;
              }
            if (n > 0)
              self->drained += n;
            if (n <= 0 || self->drained >= self->drain_bytes)
              self->state = GATE_POISON;
            continue;

          case GATE_HEAD:
          default:
            {
              guint status;
              gsize used;

              n = base_read (self, buffer, count, blocking, cancellable, &local_error);
              if (n < 0 && is_would_block (local_error))
                {
                  g_propagate_error (error, g_steal_pointer (&local_error));
                  return -1;
                }
              if (n <= 0)
                {
                  /* The end, or a reset, while libsoup waits for a head. */
                  self->state = GATE_POISON;
                  self->poison_sent = 0;
                  continue;
                }
              status = scan_head (self, buffer, n, &used);
              if (status == 0)
                {
                  /* libsoup gets the head alone: what follows may be the next head, to be
                   * scanned once this request is done. */
                  if (used < (gsize) n)
                    unread (self, (const char *) buffer + used, n - used);
                  return used;
                }
              /* Nothing more of the head goes to libsoup (so it never parses it); the poison
               * line that ends it makes sure libsoup has a line of it, however little it had
               * before. */
              refuse (self, status);
              continue;
            }
        }
    }
}

static gssize
cx_server_gate_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                     GError **error)
{
  return gate_read (CX_SERVER_GATE (stream), buffer, count, TRUE, cancellable, error);
}

static gssize
cx_server_gate_read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count,
                                 GError **error)
{
  return gate_read (CX_SERVER_GATE (stream), buffer, count, FALSE, NULL, error);
}

static gboolean
cx_server_gate_can_poll (GPollableInputStream *stream)
{
  return TRUE;
}

static gboolean
cx_server_gate_is_readable (GPollableInputStream *stream)
{
  CxServerGate *self = CX_SERVER_GATE (stream);

  return self->state == GATE_POISON || self->state == GATE_DEAD || has_pending (self) ||
         g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (self->base));
}

static GSource *
cx_server_gate_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  CxServerGate *self = CX_SERVER_GATE (stream);
  g_autoptr (GSource) base_source = NULL;
  GSource *source;

  /* What the gate has to say next needs no socket. */
  if (self->state == GATE_POISON || self->state == GATE_DEAD || has_pending (self))
    base_source = g_timeout_source_new (0);
  else
    base_source =
        g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (self->base), cancellable);
  g_source_set_dummy_callback (base_source);
  source = g_pollable_source_new (G_OBJECT (stream));
  g_source_add_child_source (source, base_source);
  return source;
}

static void
cx_server_gate_finalize (GObject *object)
{
  CxServerGate *self = CX_SERVER_GATE (object);

  g_clear_object (&self->base);
  g_free (self->pending);
  G_OBJECT_CLASS (cx_server_gate_parent_class)->finalize (object);
}

static void
cx_server_gate_class_init (CxServerGateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *stream_class = G_INPUT_STREAM_CLASS (klass);

  object_class->finalize = cx_server_gate_finalize;
  stream_class->read_fn = cx_server_gate_read;
}

static void
cx_server_gate_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = cx_server_gate_can_poll;
  iface->is_readable = cx_server_gate_is_readable;
  iface->read_nonblocking = cx_server_gate_read_nonblocking;
  iface->create_source = cx_server_gate_create_source;
}

static void
cx_server_gate_init (CxServerGate *self)
{
  start_head (self);
}

/* The connection: a GTcpConnection whose input is the gate. */

#define CX_TYPE_SERVER_GATE_CONNECTION (cx_server_gate_connection_get_type ())
G_DECLARE_FINAL_TYPE (CxServerGateConnection, cx_server_gate_connection, CX, SERVER_GATE_CONNECTION,
                      GTcpConnection)

struct _CxServerGateConnection
{
  GTcpConnection parent_instance;

  CxServerGate *gate;
};

G_DEFINE_FINAL_TYPE (CxServerGateConnection, cx_server_gate_connection, G_TYPE_TCP_CONNECTION)

static GInputStream *
cx_server_gate_connection_get_input_stream (GIOStream *stream)
{
  return G_INPUT_STREAM (CX_SERVER_GATE_CONNECTION (stream)->gate);
}

static gboolean
cx_server_gate_connection_close (GIOStream *stream, GCancellable *cancellable, GError **error)
{
  CxServerGateConnection *self = CX_SERVER_GATE_CONNECTION (stream);

  /* The socket's own input stream is closed by the parent, with the socket. */
  g_input_stream_close (G_INPUT_STREAM (self->gate), NULL, NULL);
  return G_IO_STREAM_CLASS (cx_server_gate_connection_parent_class)
      ->close_fn (stream, cancellable, error);
}

static void
cx_server_gate_connection_finalize (GObject *object)
{
  CxServerGateConnection *self = CX_SERVER_GATE_CONNECTION (object);

  g_clear_object (&self->gate);
  G_OBJECT_CLASS (cx_server_gate_connection_parent_class)->finalize (object);
}

static void
cx_server_gate_connection_class_init (CxServerGateConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);

  object_class->finalize = cx_server_gate_connection_finalize;
  stream_class->get_input_stream = cx_server_gate_connection_get_input_stream;
  stream_class->close_fn = cx_server_gate_connection_close;
}

static void
cx_server_gate_connection_init (CxServerGateConnection *self)
{
}

static CxServerGate *
gate_of (GIOStream *stream)
{
  g_return_val_if_fail (CX_IS_SERVER_GATE_CONNECTION (stream), NULL);
  return CX_SERVER_GATE_CONNECTION (stream)->gate;
}

/**
 * _cx_server_gate_new:
 * @socket: an accepted TCP connection
 * @max_head_bytes: the request line and headers, as sent, at most this (else 431)
 * @max_line_bytes: a head over @max_head_bytes whose request line is longer than this gets
 *   414 rather than 431
 * @drain_bytes: after a refused head, read and drop at most this much before closing
 * @funcs: (nullable): called from within libsoup's reads; must outlive the stream or be
 *   detached
 *
 * Returns: (transfer full): the stream to hand to soup_server_accept_iostream()
 */
GIOStream *
_cx_server_gate_new (GSocket *socket, gsize max_head_bytes, gsize max_line_bytes, gsize drain_bytes,
                     const CxServerGateFuncs *funcs, gpointer data)
{
  CxServerGateConnection *self =
      g_object_new (CX_TYPE_SERVER_GATE_CONNECTION, "socket", socket, NULL);
  GInputStream *base = G_IO_STREAM_CLASS (cx_server_gate_connection_parent_class)
                           ->get_input_stream (G_IO_STREAM (self));

  self->gate = g_object_new (CX_TYPE_SERVER_GATE, NULL);
  self->gate->base = g_object_ref (base);
  self->gate->max_head_bytes = max_head_bytes;
  self->gate->max_line_bytes = max_line_bytes;
  self->gate->drain_bytes = drain_bytes;
  self->gate->funcs = funcs;
  self->gate->data = data;
  return G_IO_STREAM (self);
}

/* No more callbacks: their data is gone. */
void
_cx_server_gate_detach (GIOStream *stream)
{
  CxServerGate *self = gate_of (stream);

  self->funcs = NULL;
  self->data = NULL;
}

/* A request has ended. The gate is past its body already, unless libsoup did not read it all:
 * then if the connection is kept, libsoup reads the rest as the next head, and so does the
 * gate. */
void
_cx_server_gate_next_head (GIOStream *stream)
{
  CxServerGate *self = gate_of (stream);

  if (self->state == GATE_LENGTH || self->state == GATE_CHUNKED)
    start_head (self);
}

/* The connection has switched protocols (a WebSocket): the gate lets everything through. */
void
_cx_server_gate_open (GIOStream *stream)
{
  CxServerGate *self = gate_of (stream);

  if (self->state == GATE_HEAD || self->state == GATE_LENGTH || self->state == GATE_CHUNKED)
    self->state = GATE_OPEN;
}
