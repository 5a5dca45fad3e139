/* cx-webchat-service-files.c: CxWebChatService's files: getFileLimits, and sendFile, whose
 * file is checked against the server's limits (and MAX_UPLOAD_SIZE) before it is read.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-webchat-service"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "services/cx-webchat-service-private.h"

/* Files */

/* The file limits of a file/limits reply (its userData). */
static gboolean
reply_file_limits (CxGmsReply *reply, CxGmsFileLimits *limits, GError **error)
{
  if (reply->user_data == NULL)
    {
      g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("The chat server did not give its file limits"));
      return FALSE;
    }
  return cx_gms_file_limits_parse (reply->user_data, limits, error);
}

static void
file_limits_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (CxCommand) command = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (CxGmsFileLimits) limits = { 0 };
  Outcome outcome;

  reply = _cx_webchat_service_gms_post_finish (result, &outcome, &command, &error);
  if (outcome == OUTCOME_CANCELLED)
    {
      cx_command_reject (command, g_steal_pointer (&error));
      return;
    }

  if (outcome != OUTCOME_OK)
    {
      cx_command_reject (command, g_error_copy (error));
      if (outcome == OUTCOME_FAILED)
        _cx_webchat_service_exchange_failed (self, error);
      return;
    }

  _cx_webchat_service_exchange_succeeded (self);
  if (!reply_file_limits (reply, &limits, &error))
    cx_command_reject (command, g_steal_pointer (&error));
  else
    cx_command_resolve (command, reply->user_data);
}

void
_cx_webchat_service_get_file_limits_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (GHashTable) form = NULL;

  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  /* Resolves with GMS's own userData: upload-max-files, upload-max-file-size,
   * upload-max-total-size, upload-file-types, checked first. */
  form = _cx_webchat_service_new_form ();
  _cx_webchat_service_gms_post_async (self, "file/limits", form, command, file_limits_reply_cb);
}

/* sendFile: the file's size and name are checked against the server's limits before it is read,
 * so a file the server would refuse is neither read nor sent. Each step finds the command's
 * FileToSend on the command; a step that finds its work cancelled (the service disposed, or
 * the chat ended) rejects the command and touches nothing else. */
typedef struct
{
  CxWebChatService *self;
  GFile *file;
  char *name;
  char *content_type;
  guint64 size;
  guint generation;
} FileToSend;

#define FILE_TO_SEND_KEY "cx-webchat-file-to-send"

static void
file_to_send_free (gpointer data)
{
  FileToSend *send = data;

  g_clear_object (&send->file);
  g_free (send->name);
  g_free (send->content_type);
  g_free (send);
}

static FileToSend *
file_to_send (CxCommand *command)
{
  return g_object_get_data (G_OBJECT (command), FILE_TO_SEND_KEY);
}

/* A step of sendFile failed: the command says why; a failed exchange also counts against the
 * connection, as it does for every other request. */
static void
send_file_failed (CxWebChatService *self, CxCommand *command, Outcome outcome, GError *error)
{
  g_autoptr (GError) rejection = NULL;

  if (outcome == OUTCOME_FAILED)
    _cx_webchat_service_exchange_failed (self, error);
  rejection = g_error_new (CX_BUS_ERROR, CX_BUS_ERROR_REJECTED, _ ("The file was not sent: %s"),
                           error->message);
  cx_command_reject (command, g_steal_pointer (&rejection));
}

static void
file_uploaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (CxCommand) command = NULL;
  g_autoptr (GError) error = NULL;
  JsonNode *id;
  guint generation;
  Outcome outcome;

  reply = _cx_webchat_service_gms_post_finish (result, &outcome, &command, &error);
  if (outcome == OUTCOME_CANCELLED)
    {
      cx_command_reject (command, g_steal_pointer (&error));
      return;
    }
  if (outcome != OUTCOME_OK)
    {
      send_file_failed (self, command, outcome, error);
      return;
    }

  _cx_webchat_service_exchange_succeeded (self);
  /* {file-id, file-name, file-size, file-type}, as GMS gives them: at least the id. */
  id = reply->user_data != NULL && JSON_NODE_HOLDS_OBJECT (reply->user_data)
           ? json_object_get_member (json_node_get_object (reply->user_data), "file-id")
           : NULL;
  if (id == NULL || json_node_get_value_type (id) != G_TYPE_STRING)
    {
      g_autoptr (GError) invalid =
          g_error_new_literal (CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                               _ ("The chat server did not say which file it stored"));

      send_file_failed (self, command, OUTCOME_REFUSED, invalid);
    }
  else
    cx_command_resolve (command, reply->user_data);

  /* The FileUploaded entry comes over the push socket, or with the next refresh. */
  generation = self->generation;
  _cx_webchat_service_handle_reply (self, reply);
  if (_cx_webchat_service_still_in_chat (self, generation) && self->push_state != PUSH_ACTIVE &&
      !self->refresh_in_flight)
    _cx_webchat_service_poll_now (self);
}

static void
file_loaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CxCommand) command = user_data;
  FileToSend *send = file_to_send (command);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GHashTable) form = NULL;
  char *contents = NULL;
  gsize length = 0;
  Upload upload;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        cx_command_reject (command, g_steal_pointer (&error));
      else
        cx_command_reject_message (command, _ ("“%s” cannot be read: %s"), send->name,
                                   error->message);
      return;
    }
  bytes = g_bytes_new_take (contents, length);

  /* The size was checked; the file may have changed since. */
  if (length != send->size || length > MAX_UPLOAD_SIZE)
    {
      cx_command_reject_message (command, _ ("“%s” changed while it was being sent"), send->name);
      return;
    }

  if (!_cx_webchat_service_still_in_chat (send->self, send->generation))
    {
      cx_command_reject_message (command, _ ("The chat has ended"));
      return;
    }

  upload.name = send->name;
  upload.content_type = send->content_type;
  upload.bytes = bytes;
  form = _cx_webchat_service_new_form ();
  _cx_webchat_service_gms_post_full_async (send->self, "file", form, command, &upload,
                                           file_uploaded_cb);
}

static void
send_file_limits_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (CxCommand) command = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (CxGmsFileLimits) limits = { 0 };
  FileToSend *send;
  Outcome outcome;

  reply = _cx_webchat_service_gms_post_finish (result, &outcome, &command, &error);
  if (outcome == OUTCOME_CANCELLED)
    {
      cx_command_reject (command, g_steal_pointer (&error));
      return;
    }
  if (outcome != OUTCOME_OK)
    {
      send_file_failed (self, command, outcome, error);
      return;
    }
  _cx_webchat_service_exchange_succeeded (self);

  send = file_to_send (command);
  if (reply_file_limits (reply, &limits, &error))
    /* The server counts the chat's earlier files; this checks the file itself. */
    cx_gms_file_limits_check (&limits, send->name, send->size, 0, 0, &error);
  if (error == NULL && send->size > MAX_UPLOAD_SIZE)
    {
      g_autofree char *largest = g_format_size (MAX_UPLOAD_SIZE);

      error = g_error_new (CX_GMS_ERROR, CX_GMS_ERROR_FILE_LIMIT, _ ("The file is larger than %s"),
                           largest);
    }
  if (error != NULL)
    {
      send_file_failed (self, command, OUTCOME_REFUSED, error);
      return;
    }

  g_file_load_contents_async (send->file, self->cancellable, file_loaded_cb,
                              g_object_ref (command));
}

static void
file_info_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CxCommand) command = user_data;
  FileToSend *send = file_to_send (command);
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) form = NULL;
  const char *type;

  info = g_file_query_info_finish (G_FILE (source), result, &error);
  if (info == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        cx_command_reject (command, g_steal_pointer (&error));
      else
        cx_command_reject_message (command, _ ("The file cannot be read: %s"), error->message);
      return;
    }
  if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    {
      cx_command_reject_message (command, _ ("“%s” is not a file"),
                                 g_file_info_get_display_name (info));
      return;
    }
  if (!_cx_webchat_service_still_in_chat (send->self, send->generation))
    {
      cx_command_reject_message (command, _ ("The chat has ended"));
      return;
    }

  send->name = g_strdup (g_file_info_get_display_name (info));
  send->size = g_file_info_get_size (info);
  type = g_file_info_get_content_type (info);
  send->content_type = type != NULL ? g_content_type_get_mime_type (type) : NULL;
  if (send->content_type == NULL)
    send->content_type = g_strdup ("application/octet-stream");

  form = _cx_webchat_service_new_form ();
  _cx_webchat_service_gms_post_async (send->self, "file/limits", form, command,
                                      send_file_limits_cb);
}

void
_cx_webchat_service_send_file_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonNode *path = NULL;
  FileToSend *send;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    path = json_object_get_member (json_node_get_object (data), "path");
  if (path == NULL || json_node_get_value_type (path) != G_TYPE_STRING ||
      *json_node_get_string (path) == '\0')
    {
      cx_command_reject_message (command, _ ("sendFile needs the “path” of a file"));
      return;
    }
  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  send = g_new0 (FileToSend, 1);
  send->self = self;
  send->file = g_file_new_for_path (json_node_get_string (path));
  send->generation = self->generation;
  g_object_set_data_full (G_OBJECT (command), FILE_TO_SEND_KEY, send, file_to_send_free);

  g_file_query_info_async (send->file,
                           G_FILE_ATTRIBUTE_STANDARD_TYPE
                           "," G_FILE_ATTRIBUTE_STANDARD_SIZE
                           "," G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME
                           "," G_FILE_ATTRIBUTE_STANDARD_CONTENT_TYPE,
                           G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, self->cancellable,
                           file_info_cb, g_object_ref (command));
}
