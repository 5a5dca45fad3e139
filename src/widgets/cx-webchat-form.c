/* cx-webchat-form.c: CxWebChat's pre-chat form: its fields, their validation (an error beside
 * each field that needs one, the first such field focused), and startChat from it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-webchat"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "widgets/cx-webchat-private.h"

/* The pre-chat form */

static gboolean
email_is_valid (const char *email)
{
  const char *at = strchr (email, '@');
  const char *domain;
  gsize length;

  if (at == NULL || at == email || strchr (at + 1, '@') != NULL)
    return FALSE;

  domain = at + 1;
  length = strlen (domain);
  if (length < 3 || strchr (domain, '.') == NULL || domain[0] == '.' || domain[length - 1] == '.' ||
      strstr (domain, "..") != NULL)
    return FALSE;

  for (const char *p = email; *p != '\0'; p++)
    if (g_ascii_isspace (*p) || g_ascii_iscntrl (*p))
      return FALSE;

  return TRUE;
}

static void
set_field_error (GtkEntry *entry, GtkLabel *label, const char *error)
{
  gtk_label_set_text (label, error != NULL ? error : "");
  gtk_widget_set_visible (GTK_WIDGET (label), error != NULL);
  if (error != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
  gtk_accessible_update_state (
      GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_STATE_INVALID,
      error != NULL ? GTK_ACCESSIBLE_INVALID_TRUE : GTK_ACCESSIBLE_INVALID_FALSE, -1);
}

/* Shows an error beside every field that needs one; focuses the first. */
static gboolean
validate_form (CxWebChat *self)
{
  g_autofree char *first = _cx_webchat_entry_text_stripped (self->first_name_entry);
  g_autofree char *last = _cx_webchat_entry_text_stripped (self->last_name_entry);
  g_autofree char *email = _cx_webchat_entry_text_stripped (self->email_entry);
  const char *email_error = NULL;
  GtkWidget *first_invalid = NULL;

  set_field_error (self->first_name_entry, self->first_name_error,
                   first[0] == '\0' ? _ ("Enter your first name") : NULL);
  set_field_error (self->last_name_entry, self->last_name_error,
                   last[0] == '\0' ? _ ("Enter your last name") : NULL);
  if (email[0] == '\0')
    email_error = _ ("Enter your email address");
  else if (!email_is_valid (email))
    email_error = _ ("Enter an email address like name@example.com");
  set_field_error (self->email_entry, self->email_error, email_error);

  if (first[0] == '\0')
    first_invalid = GTK_WIDGET (self->first_name_entry);
  else if (last[0] == '\0')
    first_invalid = GTK_WIDGET (self->last_name_entry);
  else if (email_error != NULL)
    first_invalid = GTK_WIDGET (self->email_entry);

  if (first_invalid != NULL)
    {
      gtk_widget_grab_focus (first_invalid);
      return FALSE;
    }
  return TRUE;
}

void
_cx_webchat_entry_changed_cb (CxWebChat *self, GtkEntry *entry)
{
  /* An error goes once the customer corrects the field; it comes back on the next try. */
  if (entry == self->first_name_entry)
    set_field_error (entry, self->first_name_error, NULL);
  else if (entry == self->last_name_entry)
    set_field_error (entry, self->last_name_error, NULL);
  else if (entry == self->email_entry)
    set_field_error (entry, self->email_error, NULL);
}

void
_cx_webchat_entry_activate_cb (CxWebChat *self, GtkEntry *entry)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "webchat.start", NULL);
}

void
_cx_webchat_fill_form (CxWebChat *self, JsonObject *form)
{
  static const struct
  {
    const char *member;
    gsize offset;
  } fields[] = {
    { "firstname", G_STRUCT_OFFSET (CxWebChat, first_name_entry) },
    { "lastname", G_STRUCT_OFFSET (CxWebChat, last_name_entry) },
    { "email", G_STRUCT_OFFSET (CxWebChat, email_entry) },
    { "subject", G_STRUCT_OFFSET (CxWebChat, subject_entry) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      const char *value = _cx_webchat_object_string (form, fields[i].member);
      GtkEntry *entry = G_STRUCT_MEMBER (GtkEntry *, self, fields[i].offset);

      if (value != NULL)
        gtk_editable_set_text (GTK_EDITABLE (entry), value);
    }
}

static void
start_chat_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChat *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *text = NULL;

  reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (reply != NULL)
    {
      /* Usually "started" or "restored" came first and did this. */
      if (self->phase == CX_WEBCHAT_PHASE_STARTING && JSON_NODE_HOLDS_OBJECT (reply))
        _cx_webchat_enter_chat (
            self, _cx_webchat_object_string (json_node_get_object (reply), "chatId"), FALSE);
      return;
    }

  if (self->phase != CX_WEBCHAT_PHASE_STARTING)
    return;

  _cx_webchat_set_phase (self, CX_WEBCHAT_PHASE_FORM);
  /* Translators: %s says why, from the chat service */
  text = g_strdup_printf (_ ("The chat could not start: %s"), error->message);
  gtk_label_set_text (self->form_error, text);
  gtk_widget_set_visible (GTK_WIDGET (self->form_error), TRUE);
  gtk_widget_grab_focus (self->start_button);
}

void
_cx_webchat_start_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);
  g_autofree char *first = NULL;
  g_autofree char *last = NULL;
  g_autofree char *email = NULL;
  g_autofree char *subject = NULL;
  g_autoptr (JsonNode) data = NULL;
  JsonObject *form;

  /* The action is disabled while a start is under way; this guards a queued activation. */
  if (self->phase != CX_WEBCHAT_PHASE_FORM || !validate_form (self))
    return;

  first = _cx_webchat_entry_text_stripped (self->first_name_entry);
  last = _cx_webchat_entry_text_stripped (self->last_name_entry);
  email = _cx_webchat_entry_text_stripped (self->email_entry);
  subject = _cx_webchat_entry_text_stripped (self->subject_entry);

  gtk_widget_set_visible (GTK_WIDGET (self->form_error), FALSE);
  _cx_webchat_set_phase (self, CX_WEBCHAT_PHASE_STARTING);

  form = json_object_new ();
  json_object_set_string_member (form, "firstname", first);
  json_object_set_string_member (form, "lastname", last);
  json_object_set_string_member (form, "email", email);
  if (subject[0] != '\0')
    json_object_set_string_member (form, "subject", subject);
  data = cx_json_node_new_object (form);

  _cx_webchat_publish (self, "submitted", data);
  _cx_webchat_command_service (self, "startChat", data, 0, start_chat_cb, self);
}
