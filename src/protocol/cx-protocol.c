/* cx-protocol.c: the safe entry points (JSON text, urlencoded forms) and the validation helpers
 * every parser of src/protocol uses, so that each rejection reads the same way everywhere. */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-protocol-private.h"

/* Longer number literals than this are not numbers anyone sends us. */
#define NUMBER_MAX_CHARS 64
/* json-glib wraps integers that do not fit in 64 bits without a word; 18 digits always fit. */
#define INTEGER_MAX_DIGITS 18

GQuark
cx_protocol_error_quark (void)
{
  return g_quark_from_static_string ("cx-protocol-error-quark");
}

/* Number literals: refuse the ones json-glib would silently turn into something else (an
 * integer that wrapped, a double that became infinity). */
static gboolean
check_number (const char *text, gsize length, GError **error)
{
  char buffer[NUMBER_MAX_CHARS + 1];
  gboolean is_integer = TRUE;
  guint digits = 0;
  double value;

  if (length > NUMBER_MAX_CHARS)
    {
      g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("The JSON data has a number that is too long"));
      return FALSE;
    }

  for (gsize i = 0; i < length; i++)
    {
      if (g_ascii_isdigit (text[i]))
        digits++;
      else if (text[i] == '.' || text[i] == 'e' || text[i] == 'E')
        is_integer = FALSE;
    }

  if (is_integer)
    {
      if (digits > INTEGER_MAX_DIGITS)
        {
          g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                               _ ("The JSON data has an integer out of range"));
          return FALSE;
        }
      return TRUE;
    }

  memcpy (buffer, text, length);
  buffer[length] = '\0';
  value = g_ascii_strtod (buffer, NULL);
  if (!isfinite (value))
    {
      g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("The JSON data has a number out of range"));
      return FALSE;
    }

  /* json-glib writes a double with g_ascii_dtostr() and appends ".0" when that has no point:
   * 1e21 comes out as "1e+21.0", which is not JSON. Such a number could never be sent on. */
  {
    char written[G_ASCII_DTOSTR_BUF_SIZE];

    g_ascii_dtostr (written, sizeof written, value);
    if (strchr (written, '.') == NULL && (strchr (written, 'e') || strchr (written, 'E')))
      {
        g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                             _ ("The JSON data has a number out of range"));
        return FALSE;
      }
  }

  return TRUE;
}

/* The value of the four hex digits at @text, or -1. */
static int
hex4 (const char *text)
{
  int value = 0;

  for (int i = 0; i < 4; i++)
    {
      int digit = g_ascii_xdigit_value (text[i]);

      if (digit < 0)
        return -1;
      value = value * 16 + digit;
    }
  return value;
}

static gsize
escape_error (GError **error, const char *message)
{
  g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, message);
  return 0;
}

/* The escape at @text (its backslash): how many bytes it takes, or 0 with @error set. json-glib
 * accepts escapes JSON does not ("\q"), turns "\u0000" into a silently truncated string, and
 * decodes an unpaired surrogate ("\ude00") into bytes that are not UTF-8, which could then never
 * be written back as JSON. */
static gsize
check_escape (const char *text, gsize length, GError **error)
{
  int value, low;

  if (length < 2)
    return length;
  if (strchr ("\"\\/bfnrt", text[1]) != NULL && text[1] != '\0')
    return 2;
  if (text[1] != 'u')
    return escape_error (error, _ ("The JSON data has a string with an invalid escape"));
  /* json-glib decodes "\udd-D" as far as it goes: a \u takes exactly four hex digits. */
  if (length < 6 || (value = hex4 (text + 2)) < 0)
    return escape_error (error, _ ("The JSON data has a string with an invalid escape"));

  if (value == 0)
    return escape_error (error, _ ("The JSON data has a string with a NUL character"));
  if (value >= 0xdc00 && value <= 0xdfff)
    return escape_error (error, _ ("The JSON data has a string with an unpaired surrogate"));
  if (value < 0xd800 || value > 0xdbff)
    return 6;

  /* A high surrogate: the low one must follow at once. */
  if (length < 12 || text[6] != '\\' || text[7] != 'u' || (low = hex4 (text + 8)) < 0xdc00 ||
      low > 0xdfff)
    return escape_error (error, _ ("The JSON data has a string with an unpaired surrogate"));
  return 12;
}

/* One lexical pass before json-glib: nesting depth, number literals and escapes (see
 * check_escape). Syntax errors are left to json-glib. */
static gboolean
json_prescan (const char *text, gsize length, GError **error)
{
  guint depth = 0;
  gsize i = 0;

  while (i < length)
    {
      char c = text[i];

      if (c == '"')
        {
          i++;
          while (i < length && text[i] != '"')
            {
              if (text[i] == '\\')
                {
                  gsize used = check_escape (text + i, length - i, error);

                  if (used == 0)
                    return FALSE;
                  i += used;
                }
              else
                {
                  i++;
                }
            }
          i++;
        }
      else if (c == '[' || c == '{')
        {
          if (++depth > CX_JSON_MAX_DEPTH)
            {
              g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                           _ ("The JSON data is nested deeper than %u levels"), CX_JSON_MAX_DEPTH);
              return FALSE;
            }
          i++;
        }
      else if (c == ']' || c == '}')
        {
          if (depth > 0)
            depth--;
          i++;
        }
      else if (c == '-' || g_ascii_isdigit (c))
        {
          gsize start = i;

          while (i < length && (g_ascii_isdigit (text[i]) || text[i] == '.' || text[i] == 'e' ||
                                text[i] == 'E' || text[i] == '+' || text[i] == '-'))
            i++;
          if (!check_number (text + start, i - start, error))
            return FALSE;
        }
      else
        {
          i++;
        }
    }

  return TRUE;
}

/**
 * cx_json_parse:
 * @text: JSON text off the network, not necessarily nul-terminated
 * @length: its length in bytes
 * @max_size: the largest @length accepted
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Parses untrusted JSON: refuses data over @max_size, invalid UTF-8, NUL bytes or "\u0000"
 * escapes, nesting deeper than %CX_JSON_MAX_DEPTH, integers json-glib would wrap and numbers it
 * would make infinite, and empty documents. Use it for everything that comes off a socket
 * before handing the tree to a parser of this library.
 *
 * Returns: (transfer full): the root node (sealed: immutable), or %NULL with @error set
 */
JsonNode *
cx_json_parse (const char *text, gsize length, gsize max_size, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonNode *root;

  g_return_val_if_fail (text != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length > max_size)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                   g_dngettext (GETTEXT_PACKAGE, "The JSON data is larger than %llu byte",
                                "The JSON data is larger than %llu bytes", (gulong) max_size),
                   (unsigned long long) max_size);
      return NULL;
    }

  if (length == 0)
    {
      g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("The JSON data is empty"));
      return NULL;
    }

  if (!g_utf8_validate_len (text, length, NULL))
    {
      g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("The JSON data is not valid UTF-8"));
      return NULL;
    }

  if (!json_prescan (text, length, error))
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, (gssize) length, error))
    {
      /* json-glib's own domain: keep its message, but in ours. */
      if (error != NULL && (*error)->domain != CX_PROTOCOL_ERROR)
        {
          (*error)->domain = CX_PROTOCOL_ERROR;
          (*error)->code = CX_PROTOCOL_ERROR_INVALID;
        }
      return NULL;
    }

  root = json_parser_steal_root (parser);
  if (root == NULL)
    {
      g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("The JSON data is empty"));
      return NULL;
    }

  return root;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static char *
form_unescape (const char *text, gsize length, GError **error)
{
  g_autofree char *out = g_malloc (length + 1);
  gsize o = 0;

  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];

      if (c == '+')
        {
          c = ' ';
        }
      else if (c == '%')
        {
          int high, low;

          if (i + 2 >= length)
            {
              high = low = -1;
            }
          else
            {
              high = hex_value (text[i + 1]);
              low = hex_value (text[i + 2]);
            }
          if (high < 0 || low < 0)
            {
              g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                                   _ ("The form data has a malformed escape"));
              return NULL;
            }
          c = (char) (high * 16 + low);
          i += 2;
        }

      if (c == '\0')
        {
          g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                               _ ("The form data has a NUL character"));
          return NULL;
        }
      out[o++] = c;
    }
  out[o] = '\0';

  return g_steal_pointer (&out);
}

/**
 * cx_form_decode:
 * @data: an application/x-www-form-urlencoded body or query, not necessarily nul-terminated
 * @length: its length in bytes
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Decodes a form like soup_form_decode() does (the last of repeated keys wins, a pair without
 * "=" is skipped) but strictly: a malformed escape, a NUL (raw or "%00", which libsoup silently
 * truncates at) or more than %CX_FORM_MAX_FIELDS fields is an error. Values are not checked for
 * UTF-8 here: the request parsers do that and name the field.
 *
 * Returns: (transfer full) (element-type utf8 utf8): the fields, or %NULL with @error set
 */
GHashTable *
cx_form_decode (const char *data, gsize length, GError **error)
{
  g_autoptr (GHashTable) form = NULL;
  gsize position = 0;
  guint fields = 0;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  form = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  while (position < length)
    {
      const char *pair = data + position;
      const char *amp = memchr (pair, '&', length - position);
      gsize pair_length = amp ? (gsize) (amp - pair) : length - position;
      const char *equals = memchr (pair, '=', pair_length);

      position += pair_length + 1;

      if (memchr (pair, '\0', pair_length) != NULL)
        {
          g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                               _ ("The form data has a NUL character"));
          return NULL;
        }

      if (equals != NULL)
        {
          gsize key_length = equals - pair;
          g_autofree char *key = NULL;
          g_autofree char *value = NULL;

          if (++fields > CX_FORM_MAX_FIELDS)
            {
              g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                           _ ("The form data has more than %u fields"), CX_FORM_MAX_FIELDS);
              return NULL;
            }

          key = form_unescape (pair, key_length, error);
          if (key == NULL)
            return NULL;
          value = form_unescape (equals + 1, pair_length - key_length - 1, error);
          if (value == NULL)
            return NULL;
          g_hash_table_replace (form, g_steal_pointer (&key), g_steal_pointer (&value));
        }
    }

  return g_steal_pointer (&form);
}

/* Validation helpers, see cx-protocol-private.h */

CxTextStatus
cx_text_check (const char *text, CxTextFlags flags, gsize max_chars)
{
  gsize chars = 0;

  if (!g_utf8_validate (text, -1, NULL))
    return CX_TEXT_INVALID_UTF8;

  if (*text == '\0')
    return (flags & CX_TEXT_ALLOW_EMPTY) ? CX_TEXT_OK : CX_TEXT_EMPTY;

  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      if (*p < 0x20 || *p == 0x7f)
        {
          if (!(flags & CX_TEXT_MULTI_LINE) || (*p != '\t' && *p != '\n' && *p != '\r'))
            return CX_TEXT_CONTROL;
        }
      /* Count characters as the bytes that start one. */
      if ((*p & 0xc0) != 0x80)
        chars++;
    }

  if (max_chars > 0 && chars > max_chars)
    return CX_TEXT_TOO_LONG;

  return CX_TEXT_OK;
}

gboolean
cx_text_validate (const char *field, const char *text, CxTextFlags flags, gsize max_chars,
                  GQuark domain, int invalid_code, int too_long_code, GError **error)
{
  switch (cx_text_check (text, flags, max_chars))
    {
      case CX_TEXT_OK:
        return TRUE;
      case CX_TEXT_EMPTY:
        g_set_error (error, domain, invalid_code, _ ("“%s” is empty"), field);
        return FALSE;
      case CX_TEXT_INVALID_UTF8:
        g_set_error (error, domain, invalid_code, _ ("“%s” is not valid UTF-8"), field);
        return FALSE;
      case CX_TEXT_CONTROL:
        g_set_error (error, domain, invalid_code, _ ("“%s” contains a control character"), field);
        return FALSE;
      case CX_TEXT_TOO_LONG:
        g_set_error (error, domain, too_long_code,
                     g_dngettext (GETTEXT_PACKAGE, "“%s” is longer than %llu character",
                                  "“%s” is longer than %llu characters", (gulong) max_chars),
                     field, (unsigned long long) max_chars);
        return FALSE;
      default:
        break;
    }

  g_assert_not_reached ();
  return FALSE;
}

gboolean
cx_id_validate (const char *field, const char *text, GQuark domain, int code, GError **error)
{
  if (strnlen (text, CX_ID_MAX_BYTES + 1) > CX_ID_MAX_BYTES)
    {
      g_set_error (error, domain, code, _ ("“%s” is longer than %u bytes"), field, CX_ID_MAX_BYTES);
      return FALSE;
    }

  return cx_text_validate (field, text, CX_TEXT_SINGLE_LINE, 0, domain, code, code, error);
}

/* Strictly decimal digits, nothing else (no sign, no space), at most @max. */
gboolean
cx_parse_uint (const char *text, guint64 max, guint64 *out)
{
  guint64 value = 0;

  if (*text == '\0')
    return FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      guint digit;

      if (!g_ascii_isdigit (*p))
        return FALSE;
      digit = *p - '0';
      if (value > (max - digit) / 10)
        return FALSE;
      value = value * 10 + digit;
    }

  *out = value;
  return TRUE;
}

/* JSON members */

typedef enum
{
  KIND_STRING,
  KIND_INT,
  KIND_BOOLEAN,
  KIND_OBJECT,
  KIND_ARRAY,
} MemberKind;

static gboolean
node_is_kind (JsonNode *node, MemberKind kind)
{
  switch (kind)
    {
      case KIND_STRING:
        return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
      case KIND_INT:
        return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64;
      case KIND_BOOLEAN:
        return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN;
      case KIND_OBJECT:
        return JSON_NODE_HOLDS_OBJECT (node);
      case KIND_ARRAY:
        return JSON_NODE_HOLDS_ARRAY (node);
      default:
        g_assert_not_reached ();
    }
}

/* The one reader under every cx_json_member_*(): @member of @kind in *@out, or NULL (and
 * TRUE) when it is absent or null and not @required; FALSE with @error naming @member when it
 * is missing but required, or of another kind. */
static gboolean
member_node (JsonObject *object, const char *member, gboolean required, MemberKind kind,
             JsonNode **out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (!required)
        return TRUE;
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, _ ("“%s” is missing"),
                   member);
      return FALSE;
    }

  if (!node_is_kind (node, kind))
    {
      switch (kind)
        {
          case KIND_STRING:
            g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                         _ ("“%s” is not a string"), member);
            break;
          case KIND_INT:
            g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                         _ ("“%s” is not an integer"), member);
            break;
          case KIND_BOOLEAN:
            g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                         _ ("“%s” is not a boolean"), member);
            break;
          case KIND_OBJECT:
            g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                         _ ("“%s” is not an object"), member);
            break;
          case KIND_ARRAY:
            g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                         _ ("“%s” is not an array"), member);
            break;
          default:
            g_assert_not_reached ();
        }
      return FALSE;
    }

  *out = node;
  return TRUE;
}

gboolean
cx_json_member_string (JsonObject *object, const char *member, gboolean required, CxTextFlags flags,
                       const char **out, GError **error)
{
  JsonNode *node;
  const char *value;

  *out = NULL;
  if (!member_node (object, member, required, KIND_STRING, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;

  value = json_node_get_string (node);
  if (value == NULL)
    value = "";
  if (!cx_text_validate (member, value, flags | CX_TEXT_ALLOW_EMPTY, 0, CX_PROTOCOL_ERROR,
                         CX_PROTOCOL_ERROR_INVALID, CX_PROTOCOL_ERROR_INVALID, error))
    return FALSE;

  *out = value;
  return TRUE;
}

gboolean
cx_json_member_int (JsonObject *object, const char *member, gboolean required, gint64 min,
                    gint64 max, gint64 *out, GError **error)
{
  JsonNode *node;
  gint64 value;

  if (!member_node (object, member, required, KIND_INT, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;

  value = json_node_get_int (node);
  if (value < min || value > max)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                   _ ("“%s” is out of range (%lld to %lld)"), member, (long long) min,
                   (long long) max);
      return FALSE;
    }

  *out = value;
  return TRUE;
}

/* A member that is an identifier (cx_id_is_valid()), copied to @out; NULL when absent. */
gboolean
cx_json_member_id (JsonObject *object, const char *member, gboolean required, char **out,
                   GError **error)
{
  const char *value;

  *out = NULL;
  if (!cx_json_member_string (object, member, required, CX_TEXT_SINGLE_LINE, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  if (!cx_id_validate (member, value, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, error))
    return FALSE;

  *out = g_strdup (value);
  return TRUE;
}

gboolean
cx_json_member_boolean (JsonObject *object, const char *member, gboolean required, gboolean *out,
                        GError **error)
{
  JsonNode *node;

  if (!member_node (object, member, required, KIND_BOOLEAN, &node, error))
    return FALSE;
  if (node != NULL)
    *out = json_node_get_boolean (node);
  return TRUE;
}

gboolean
cx_json_member_object (JsonObject *object, const char *member, gboolean required, JsonNode **out,
                       GError **error)
{
  return member_node (object, member, required, KIND_OBJECT, out, error);
}

gboolean
cx_json_member_array (JsonObject *object, const char *member, gboolean required, JsonArray **out,
                      GError **error)
{
  JsonNode *node;

  *out = NULL;
  if (!member_node (object, member, required, KIND_ARRAY, &node, error))
    return FALSE;
  if (node != NULL)
    *out = json_node_get_array (node);
  return TRUE;
}

JsonObject *
cx_json_root_object (JsonNode *root, const char *what, GError **error)
{
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                   _ ("“%s” is not a JSON object"), what);
      return NULL;
    }

  return json_node_get_object (root);
}

/* Lenient JSON readers (cx-protocol.h) */

/**
 * cx_json_node_new_object:
 * @object: (transfer full): the object
 *
 * Returns: (transfer full): a node holding @object
 */
JsonNode *
cx_json_node_new_object (JsonObject *object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  return node;
}

JsonObject *
cx_json_node_get_object (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

JsonNode *
cx_json_get_member (JsonObject *object, const char *member)
{
  return object != NULL ? json_object_get_member (object, member) : NULL;
}

const char *
cx_json_get_string (JsonObject *object, const char *member)
{
  JsonNode *node = cx_json_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

gboolean
cx_json_get_int (JsonObject *object, const char *member, gint64 min, gint64 max, gint64 *out)
{
  JsonNode *node = cx_json_get_member (object, member);
  gint64 value;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;

  value = json_node_get_int (node);
  if (value < min || value > max)
    return FALSE;

  *out = value;
  return TRUE;
}

JsonArray *
cx_json_get_array (JsonObject *object, const char *member)
{
  JsonNode *node = cx_json_get_member (object, member);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

JsonObject *
cx_json_get_object (JsonObject *object, const char *member)
{
  return cx_json_node_get_object (cx_json_get_member (object, member));
}

gboolean
cx_json_is_null_or_absent (JsonObject *object, const char *member)
{
  JsonNode *node = cx_json_get_member (object, member);

  return node == NULL || JSON_NODE_HOLDS_NULL (node);
}

gboolean
cx_id_is_valid (const char *id)
{
  return id != NULL && strnlen (id, CX_ID_MAX_BYTES + 1) <= CX_ID_MAX_BYTES &&
         cx_text_check (id, CX_TEXT_SINGLE_LINE, 0) == CX_TEXT_OK;
}
