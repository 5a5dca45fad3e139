/* cx-multipart.c: a multipart/form-data parser for hostile input (RFC 7578, RFC 2046 §5.1).
 *
 * Invariants: every read is bounded by the body's length (no NUL termination is assumed); the
 * number of parts and the bytes of each part's header section are capped; a part's body is a
 * slice of the input, its length computed from two offsets found in order, so it can never be
 * negative; anything that does not follow the grammar is an error, never a guess. Lines end in
 * CRLF exactly. The preamble (before the first boundary) and the epilogue (after the last) are
 * ignored, as RFC 2046 says. */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-multipart.h"
#include "protocol/cx-protocol.h"

/**
 * cx_multipart_part_free:
 * @part: (nullable) (transfer full): a part
 */
void
cx_multipart_part_free (CxMultipartPart *part)
{
  if (part == NULL)
    return;

  g_free (part->name);
  g_free (part->filename);
  g_free (part->content_type);
  g_clear_pointer (&part->body, g_bytes_unref);
  g_free (part);
}

/* The first @needle in @haystack. Linear here: the needles are CRLF, CRLF CRLF, or CRLF and
 * the dash-boundary, which has no CR, so a comparison never reads past the next CR of the
 * haystack after its first byte (or past four bytes). */
static const char *
find (const char *haystack, gsize length, const char *needle, gsize needle_length)
{
  const char *end = haystack + length;

  for (const char *p = haystack; (gsize) (end - p) >= needle_length; p++)
    {
      p = memchr (p, needle[0], (end - p) - needle_length + 1);
      if (p == NULL)
        return NULL;
      if (memcmp (p, needle, needle_length) == 0)
        return p;
    }
  return NULL;
}

static gboolean
set_invalid (GError **error, const char *message)
{
  g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, message);
  return FALSE;
}

/* RFC 7230 tchar */
static gboolean
is_tchar (guchar c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 2046 bchars */
static gboolean
is_bchar (guchar c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("'()+_,-./:=? ", c) != NULL);
}

static const char *
skip_ows (const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  return p;
}

/* A header value's parameters after its first token, `; name=value` each, value a token or a
 * quoted-string. Names are lower-cased; a name given twice is an error. */
static GHashTable *
parse_params (const char *p, const char *end, GError **error)
{
  g_autoptr (GHashTable) params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (;;)
    {
      const char *name_start;
      g_autofree char *name = NULL;
      g_autoptr (GString) value = NULL;

      p = skip_ows (p, end);
      if (p == end)
        break;
      if (*p != ';')
        {
          set_invalid (error, _ ("A multipart header has a malformed parameter"));
          return NULL;
        }
      p = skip_ows (p + 1, end);
      if (p == end) /* a trailing ";" is common enough and harmless */
        break;

      name_start = p;
      while (p < end && is_tchar (*p))
        p++;
      if (p == name_start || p == end || *p != '=')
        {
          set_invalid (error, _ ("A multipart header has a malformed parameter"));
          return NULL;
        }
      name = g_ascii_strdown (name_start, p - name_start);
      p++;

      value = g_string_new (NULL);
      if (p < end && *p == '"')
        {
          gboolean closed = FALSE;

          for (p++; p < end; p++)
            {
              if (*p == '"')
                {
                  closed = TRUE;
                  p++;
                  break;
                }
              if (*p == '\\' && p + 1 < end)
                p++;
              g_string_append_c (value, *p);
            }
          if (!closed)
            {
              set_invalid (error, _ ("A multipart header has an unterminated quoted string"));
              return NULL;
            }
        }
      else
        {
          const char *value_start = p;

          while (p < end && is_tchar (*p))
            p++;
          if (p == value_start)
            {
              set_invalid (error, _ ("A multipart header has a parameter without a value"));
              return NULL;
            }
          g_string_append_len (value, value_start, p - value_start);
        }

      if (g_hash_table_contains (params, name))
        {
          set_invalid (error, _ ("A multipart header has a parameter twice"));
          return NULL;
        }
      g_hash_table_insert (params, g_steal_pointer (&name),
                           g_string_free (g_steal_pointer (&value), FALSE));
    }

  return g_steal_pointer (&params);
}

/* `type/subtype` or `type` then parameters; @first is the lower-cased token(s). */
static GHashTable *
parse_header_value (const char *value, gsize length, gboolean with_subtype, char **first,
                    GError **error)
{
  const char *end = value + length;
  const char *p = skip_ows (value, end);
  const char *start = p;
  GHashTable *params;

  while (p < end && is_tchar (*p))
    p++;
  if (p == start)
    {
      set_invalid (error, _ ("A multipart header has no type"));
      return NULL;
    }
  if (with_subtype)
    {
      const char *subtype;

      if (p == end || *p != '/')
        {
          set_invalid (error, _ ("The content type has no subtype"));
          return NULL;
        }
      subtype = ++p;
      while (p < end && is_tchar (*p))
        p++;
      if (p == subtype)
        {
          set_invalid (error, _ ("The content type has no subtype"));
          return NULL;
        }
    }

  params = parse_params (p, end, error);
  if (params != NULL)
    *first = g_ascii_strdown (start, p - start);
  return params;
}

/* A name or file name: valid UTF-8 without any control character. */
static gboolean
check_name (const char *text)
{
  if (!g_utf8_validate (text, -1, NULL))
    return FALSE;
  for (const guchar *c = (const guchar *) text; *c != '\0'; c++)
    if (*c < 0x20 || *c == 0x7f)
      return FALSE;
  return TRUE;
}

/**
 * cx_multipart_boundary:
 * @content_type: a request's Content-Type header, as sent
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Checks that @content_type is multipart/form-data with one valid boundary parameter (1 to 70
 * characters of RFC 2046's bchars, not ending in a space).
 *
 * Returns: (transfer full): the boundary, or %NULL with @error set
 */
char *
cx_multipart_boundary (const char *content_type, GError **error)
{
  g_autoptr (GHashTable) params = NULL;
  g_autofree char *type = NULL;
  const char *boundary;
  gsize length;

  g_return_val_if_fail (content_type != NULL, NULL);

  params = parse_header_value (content_type, strlen (content_type), TRUE, &type, error);
  if (params == NULL)
    return NULL;
  if (!g_str_equal (type, "multipart/form-data"))
    {
      set_invalid (error, _ ("The content type is not multipart/form-data"));
      return NULL;
    }

  boundary = g_hash_table_lookup (params, "boundary");
  length = boundary ? strlen (boundary) : 0;
  if (length == 0 || length > CX_MULTIPART_MAX_BOUNDARY || boundary[length - 1] == ' ')
    {
      set_invalid (error, _ ("The multipart boundary is missing or malformed"));
      return NULL;
    }
  for (gsize i = 0; i < length; i++)
    if (!is_bchar (boundary[i]))
      {
        set_invalid (error, _ ("The multipart boundary is missing or malformed"));
        return NULL;
      }

  return g_strdup (boundary);
}

/* One part's header section, [p, end) without its final empty line: CRLF-separated lines. */
static gboolean
parse_part_headers (const char *p, const char *end, CxMultipartPart *part, GError **error)
{
  gboolean have_disposition = FALSE;

  while (p < end)
    {
      const char *line_end = find (p, end - p, "\r\n", 2);
      const char *colon;
      const char *value;
      const char *value_end;

      if (line_end == NULL)
        line_end = end;

      /* No control character but tab in a header line: no bare CR or LF, no NUL. */
      for (const char *c = p; c < line_end; c++)
        if (((guchar) *c < 0x20 && *c != '\t') || *c == 0x7f)
          return set_invalid (error, _ ("A multipart header has a control character"));

      colon = p;
      while (colon < line_end && is_tchar (*colon))
        colon++;
      if (colon == p || colon == line_end || *colon != ':')
        return set_invalid (error, _ ("A multipart header line is malformed"));

      value = skip_ows (colon + 1, line_end);
      value_end = line_end;
      while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'))
        value_end--;

      if (colon - p == strlen ("Content-Disposition") &&
          g_ascii_strncasecmp (p, "Content-Disposition", colon - p) == 0)
        {
          g_autoptr (GHashTable) params = NULL;
          g_autofree char *type = NULL;
          const char *name, *filename;

          if (have_disposition)
            return set_invalid (error, _ ("A multipart part has two Content-Disposition headers"));
          have_disposition = TRUE;

          params = parse_header_value (value, value_end - value, FALSE, &type, error);
          if (params == NULL)
            return FALSE;
          if (!g_str_equal (type, "form-data"))
            return set_invalid (error, _ ("A multipart part is not form-data"));

          name = g_hash_table_lookup (params, "name");
          filename = g_hash_table_lookup (params, "filename");
          if (name == NULL || !check_name (name))
            return set_invalid (error, _ ("A multipart part has a missing or malformed name"));
          if (filename != NULL && (*filename == '\0' || !check_name (filename)))
            return set_invalid (error, _ ("A multipart part has a malformed file name"));
          part->name = g_strdup (name);
          part->filename = g_strdup (filename);
        }
      else if (colon - p == strlen ("Content-Type") &&
               g_ascii_strncasecmp (p, "Content-Type", colon - p) == 0)
        {
          g_autoptr (GHashTable) params = NULL;

          if (part->content_type != NULL)
            return set_invalid (error, _ ("A multipart part has two Content-Type headers"));
          params = parse_header_value (value, value_end - value, TRUE, &part->content_type, error);
          if (params == NULL)
            return FALSE;
        }
      /* Other headers (Content-Transfer-Encoding, deprecated by RFC 7578) are ignored. */

      p = line_end + 2;
    }

  if (!have_disposition)
    return set_invalid (error, _ ("A multipart part has no Content-Disposition"));
  return TRUE;
}

/**
 * cx_multipart_parse:
 * @body: the request body
 * @boundary: the boundary, from cx_multipart_boundary()
 * @limits: (nullable): the caps; %NULL for %CX_MULTIPART_MAX_PARTS and
 *   %CX_MULTIPART_MAX_HEADER_BYTES
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Splits a multipart/form-data body into its parts. Every part needs a Content-Disposition of
 * form-data with a name; the body must end with the close delimiter (`--boundary--`).
 *
 * Returns: (transfer full) (element-type CxMultipartPart): the parts in order (maybe none), or
 *   %NULL with @error set
 */
GPtrArray *
cx_multipart_parse (GBytes *body, const char *boundary, const CxMultipartLimits *limits,
                    GError **error)
{
  g_autoptr (GPtrArray) parts = NULL;
  g_autofree char *dash = NULL;
  g_autofree char *delimiter = NULL;
  CxMultipartLimits defaults = { CX_MULTIPART_MAX_PARTS, CX_MULTIPART_MAX_HEADER_BYTES };
  gsize length, dash_length, position;
  const char *data;
  const char *found;

  g_return_val_if_fail (body != NULL, NULL);
  g_return_val_if_fail (boundary != NULL && *boundary != '\0', NULL);

  if (limits == NULL)
    limits = &defaults;

  data = g_bytes_get_data (body, &length);
  if (data == NULL)
    data = "";
  dash = g_strconcat ("--", boundary, NULL);
  delimiter = g_strconcat ("\r\n--", boundary, NULL);
  dash_length = strlen (dash);
  parts = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_multipart_part_free);

  /* The first boundary: at the very start, or after a preamble and a CRLF. */
  if (length >= dash_length && memcmp (data, dash, dash_length) == 0)
    position = dash_length;
  else if ((found = find (data, length, delimiter, dash_length + 2)) != NULL)
    position = (found - data) + dash_length + 2;
  else
    {
      set_invalid (error, _ ("The multipart body has no boundary"));
      return NULL;
    }

  for (;;)
    {
      g_autoptr (CxMultipartPart) part = NULL;
      gsize header_start, header_window, body_start;

      /* After a boundary: "--" closes the body, anything after is the epilogue. */
      if (length - position >= 2 && memcmp (data + position, "--", 2) == 0)
        break;
      while (position < length && (data[position] == ' ' || data[position] == '\t'))
        position++;
      if (length - position < 2 || memcmp (data + position, "\r\n", 2) != 0)
        {
          set_invalid (error, _ ("A multipart boundary is not followed by a line end"));
          return NULL;
        }
      position += 2;

      if (parts->len >= limits->max_parts)
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                       _ ("The multipart body has more than %u parts"), limits->max_parts);
          return NULL;
        }
      part = g_new0 (CxMultipartPart, 1);

      /* The header section ends with an empty line, within max_header_bytes. */
      header_start = position;
      if (length - position >= 2 && memcmp (data + position, "\r\n", 2) == 0)
        body_start = position + 2;
      else
        {
          header_window = MIN (length - position, limits->max_header_bytes);
          found = find (data + position, header_window, "\r\n\r\n", 4);
          if (found == NULL)
            {
              if (length - position > limits->max_header_bytes)
                g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                             g_dngettext (GETTEXT_PACKAGE,
                                          "A multipart part has more than %llu byte of headers",
                                          "A multipart part has more than %llu bytes of headers",
                                          (gulong) limits->max_header_bytes),
                             (unsigned long long) limits->max_header_bytes);
              else
                set_invalid (error, _ ("A multipart part's headers do not end"));
              return NULL;
            }
          body_start = (found - data) + 4;
        }
      if (!parse_part_headers (data + header_start, data + MAX (body_start, header_start + 2) - 2,
                               part, error))
        return NULL;

      /* The body runs to the next delimiter, whose CRLF belongs to the delimiter. */
      found = find (data + body_start, length - body_start, delimiter, dash_length + 2);
      if (found == NULL)
        {
          set_invalid (error, _ ("A multipart part does not end with a boundary"));
          return NULL;
        }
      part->body = g_bytes_new_from_bytes (body, body_start, (found - data) - body_start);
      g_ptr_array_add (parts, g_steal_pointer (&part));
      position = (found - data) + dash_length + 2;
    }

  return g_steal_pointer (&parts);
}

/**
 * cx_multipart_form_fields:
 * @parts: (element-type CxMultipartPart): parsed parts
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * The text fields of a form: every part without a file name, by name (the last one wins, as in
 * cx_form_decode()). A value with a NUL byte is an error; other checks are the fields' own.
 *
 * Returns: (transfer full) (element-type utf8 utf8): the fields, or %NULL with @error set
 */
GHashTable *
cx_multipart_form_fields (GPtrArray *parts, GError **error)
{
  g_autoptr (GHashTable) form = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < parts->len; i++)
    {
      const CxMultipartPart *part = g_ptr_array_index (parts, i);
      gsize size;
      const char *value = g_bytes_get_data (part->body, &size);

      if (part->filename != NULL)
        continue;
      if (size > 0 && memchr (value, '\0', size) != NULL)
        {
          set_invalid (error, _ ("The form data has a NUL character"));
          return NULL;
        }
      g_hash_table_replace (form, g_strdup (part->name), g_strndup (size ? value : "", size));
    }

  return g_steal_pointer (&form);
}

/**
 * cx_multipart_find_file:
 * @parts: (element-type CxMultipartPart): parsed parts
 * @name: a field name
 *
 * Returns: (nullable) (transfer none): the last part named @name that has a file name
 */
const CxMultipartPart *
cx_multipart_find_file (GPtrArray *parts, const char *name)
{
  for (guint i = parts->len; i > 0; i--)
    {
      const CxMultipartPart *part = g_ptr_array_index (parts, i - 1);

      if (part->filename != NULL && g_str_equal (part->name, name))
        return part;
    }
  return NULL;
}
