/* cx-cobrowse-relay.c: the co-browse relay's replies and its own frames (see the header). */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-cobrowse-relay.h"

/* A relay frame is small: a name and a sentence. */
#define RELAY_FRAME_MAX 4096
#define NAME_MAX_CHARS 256
#define SECRET_MAX_BYTES 256

static gboolean
invalid (GError **error, const char *member)
{
  g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
               _ ("“%s” is missing or not valid"), member);
  return FALSE;
}

/* A string member, present, valid UTF-8 without control characters, at most @max bytes. */
static const char *
get_text (JsonObject *object, const char *member, gsize max, GError **error)
{
  const char *text = cx_json_get_string (object, member);

  if (text == NULL || *text == '\0' || strlen (text) > max || !g_utf8_validate (text, -1, NULL))
    {
      invalid (error, member);
      return NULL;
    }
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      {
        invalid (error, member);
        return NULL;
      }
  return text;
}

void
cx_cobrowse_session_info_free (CxCobrowseSessionInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->id);
  g_free (info->code);
  g_free (info->secret);
  g_free (info);
}

JsonNode *
cx_cobrowse_session_info_build (const CxCobrowseSessionInfo *info)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, info->id);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, info->code);
  json_builder_set_member_name (builder, "secret");
  json_builder_add_string_value (builder, info->secret);
  json_builder_set_member_name (builder, "expiresAt");
  json_builder_add_int_value (builder, info->expires_at);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

gboolean
cx_cobrowse_session_info_parse (JsonNode *node, CxCobrowseSessionInfo **out, GError **error)
{
  JsonObject *object = cx_json_node_get_object (node);
  g_autoptr (CxCobrowseSessionInfo) info = g_new0 (CxCobrowseSessionInfo, 1);
  const char *id, *code, *secret;

  if (object == NULL)
    return invalid (error, "session");
  id = cx_json_get_string (object, "id");
  if (id == NULL || !cx_id_is_valid (id))
    return invalid (error, "id");
  code = cx_json_get_string (object, "code");
  if (code == NULL || !cx_cobrowse_code_is_valid (code))
    return invalid (error, "code");
  secret = get_text (object, "secret", SECRET_MAX_BYTES, error);
  if (secret == NULL)
    return FALSE;
  if (!cx_json_get_int (object, "expiresAt", 0, G_MAXINT64, &info->expires_at))
    return invalid (error, "expiresAt");
  info->id = g_strdup (id);
  info->code = g_strdup (code);
  info->secret = g_strdup (secret);
  *out = g_steal_pointer (&info);
  return TRUE;
}

gboolean
cx_cobrowse_code_is_valid (const char *code)
{
  if (code == NULL || strlen (code) != CX_COBROWSE_CODE_DIGITS)
    return FALSE;
  for (guint i = 0; i < CX_COBROWSE_CODE_DIGITS; i++)
    if (!g_ascii_isdigit (code[i]))
      return FALSE;
  return TRUE;
}

static JsonNode *
build_one (const char *member, const char *value)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

JsonNode *
cx_cobrowse_join_request_build (const char *code)
{
  return build_one ("code", code);
}

gboolean
cx_cobrowse_join_request_parse (JsonNode *node, char **code, GError **error)
{
  JsonObject *object = cx_json_node_get_object (node);
  const char *text = object ? cx_json_get_string (object, "code") : NULL;

  if (text == NULL || !cx_cobrowse_code_is_valid (text))
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                   _ ("A session code is %u digits"), CX_COBROWSE_CODE_DIGITS);
      return FALSE;
    }
  *code = g_strdup (text);
  return TRUE;
}

JsonNode *
cx_cobrowse_join_reply_build (const char *id)
{
  return build_one ("id", id);
}

gboolean
cx_cobrowse_join_reply_parse (JsonNode *node, char **id, GError **error)
{
  JsonObject *object = cx_json_node_get_object (node);
  const char *text = object ? cx_json_get_string (object, "id") : NULL;

  if (text == NULL || !cx_id_is_valid (text))
    return invalid (error, "id");
  *id = g_strdup (text);
  return TRUE;
}

void
cx_cobrowse_relay_frame_free (CxCobrowseRelayFrame *frame)
{
  if (frame == NULL)
    return;
  g_free (frame->type);
  g_free (frame->agent);
  g_free (frame->refused);
  g_free (frame->reason);
  g_free (frame);
}

JsonNode *
cx_cobrowse_relay_build_joined (const char *agent)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "joined");
  json_builder_set_member_name (builder, "agent");
  json_builder_add_string_value (builder, agent);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

JsonNode *
cx_cobrowse_relay_build_refused (const char *refused, const char *reason)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "refused");
  json_builder_set_member_name (builder, "refused");
  json_builder_add_string_value (builder, refused);
  json_builder_set_member_name (builder, "reason");
  json_builder_add_string_value (builder, reason);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

gboolean
cx_cobrowse_relay_frame_parse (const char *text, gsize length, CxCobrowseRelayFrame **out,
                               GError **error)
{
  g_autoptr (JsonNode) root = cx_json_parse (text, length, RELAY_FRAME_MAX, error);
  g_autoptr (CxCobrowseRelayFrame) frame = NULL;
  JsonObject *object;
  const char *type;

  if (root == NULL)
    return FALSE;
  object = cx_json_node_get_object (root);
  type = object ? cx_json_get_string (object, "type") : NULL;
  if (type == NULL)
    return invalid (error, "type");

  frame = g_new0 (CxCobrowseRelayFrame, 1);
  if (g_str_equal (type, "joined"))
    {
      const char *agent = get_text (object, "agent", NAME_MAX_CHARS, error);

      if (agent == NULL)
        return FALSE;
      frame->agent = g_strdup (agent);
    }
  else if (g_str_equal (type, "refused"))
    {
      const char *refused = get_text (object, "refused", NAME_MAX_CHARS, error);
      const char *reason = refused ? get_text (object, "reason", RELAY_FRAME_MAX, error) : NULL;

      if (reason == NULL)
        return FALSE;
      frame->refused = g_strdup (refused);
      frame->reason = g_strdup (reason);
    }
  else
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_UNKNOWN_TYPE,
                   _ ("“%s” is not a frame of the relay"), type);
      return FALSE;
    }
  frame->type = g_strdup (type);
  *out = g_steal_pointer (&frame);
  return TRUE;
}
