/* cx-callback-form.c: CxCallback's request form: the errors beside its fields, the country
 * list and the phone number (its rule is the protocol's, cx_callback_request_parse()), the
 * form's validation, the calendar's glue (the chosen time, its loading) and the form filled
 * from an open command.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-callback"

#include "config.h"

#include "widgets/cx-callback-private.h"

static const Country countries[N_COUNTRIES] = {
  /* Translators: a country, in the list of phone country codes */
  { N_ ("Argentina"), "54", "AR" },
  { N_ ("Australia"), "61", "AU" },
  { N_ ("Austria"), "43", "AT" },
  { N_ ("Belgium"), "32", "BE" },
  { N_ ("Brazil"), "55", "BR" },
  { N_ ("Canada"), "1", "CA" },
  { N_ ("Chile"), "56", "CL" },
  { N_ ("China"), "86", "CN" },
  { N_ ("Colombia"), "57", "CO" },
  { N_ ("Czechia"), "420", "CZ" },
  { N_ ("Denmark"), "45", "DK" },
  { N_ ("Egypt"), "20", "EG" },
  { N_ ("Finland"), "358", "FI" },
  { N_ ("France"), "33", "FR" },
  { N_ ("Germany"), "49", "DE" },
  { N_ ("Greece"), "30", "GR" },
  { N_ ("Hong Kong"), "852", "HK" },
  { N_ ("Hungary"), "36", "HU" },
  { N_ ("India"), "91", "IN" },
  { N_ ("Indonesia"), "62", "ID" },
  { N_ ("Ireland"), "353", "IE" },
  { N_ ("Israel"), "972", "IL" },
  { N_ ("Italy"), "39", "IT" },
  { N_ ("Japan"), "81", "JP" },
  { N_ ("Kenya"), "254", "KE" },
  { N_ ("Luxembourg"), "352", "LU" },
  { N_ ("Malaysia"), "60", "MY" },
  { N_ ("Mexico"), "52", "MX" },
  { N_ ("Morocco"), "212", "MA" },
  { N_ ("Netherlands"), "31", "NL" },
  { N_ ("New Zealand"), "64", "NZ" },
  { N_ ("Nigeria"), "234", "NG" },
  { N_ ("Norway"), "47", "NO" },
  { N_ ("Pakistan"), "92", "PK" },
  { N_ ("Peru"), "51", "PE" },
  { N_ ("Philippines"), "63", "PH" },
  { N_ ("Poland"), "48", "PL" },
  { N_ ("Portugal"), "351", "PT" },
  { N_ ("Romania"), "40", "RO" },
  { N_ ("Saudi Arabia"), "966", "SA" },
  { N_ ("Singapore"), "65", "SG" },
  { N_ ("South Africa"), "27", "ZA" },
  { N_ ("South Korea"), "82", "KR" },
  { N_ ("Spain"), "34", "ES" },
  { N_ ("Sweden"), "46", "SE" },
  { N_ ("Switzerland"), "41", "CH" },
  { N_ ("Taiwan"), "886", "TW" },
  { N_ ("Thailand"), "66", "TH" },
  { N_ ("Türkiye"), "90", "TR" },
  { N_ ("Ukraine"), "380", "UA" },
  { N_ ("United Arab Emirates"), "971", "AE" },
  { N_ ("United Kingdom"), "44", "GB" },
  { N_ ("United States"), "1", "US" },
  { N_ ("Vietnam"), "84", "VN" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (countries) == N_COUNTRIES);

/* Errors beside the fields */

void
_cx_callback_set_field_error (GtkWidget *field, GtkLabel *label, const char *error)
{
  gtk_label_set_text (label, error != NULL ? error : "");
  gtk_widget_set_visible (GTK_WIDGET (label), error != NULL);
  if (field == NULL)
    return;
  if (error != NULL)
    gtk_widget_add_css_class (field, "error");
  else
    gtk_widget_remove_css_class (field, "error");
  gtk_accessible_update_state (
      GTK_ACCESSIBLE (field), GTK_ACCESSIBLE_STATE_INVALID,
      error != NULL ? GTK_ACCESSIBLE_INVALID_TRUE : GTK_ACCESSIBLE_INVALID_FALSE, -1);
}

void
_cx_callback_set_message (GtkLabel *label, const char *text)
{
  gtk_label_set_text (label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (label), text != NULL);
}

void
_cx_callback_clear_field_errors (CxCallback *self)
{
  _cx_callback_set_field_error (GTK_WIDGET (self->first_name_entry), self->first_name_error, NULL);
  _cx_callback_set_field_error (GTK_WIDGET (self->last_name_entry), self->last_name_error, NULL);
  _cx_callback_set_field_error (GTK_WIDGET (self->phone_entry), self->phone_error, NULL);
  _cx_callback_set_field_error (NULL, self->time_error, NULL);
}

/* Countries */

static int
compare_countries (gconstpointer a, gconstpointer b)
{
  const Country *x = &countries[*(const guint *) a];
  const Country *y = &countries[*(const guint *) b];

  return g_utf8_collate (_ (x->name), _ (y->name));
}

/* The territory of the user's locale ("GB" of "en_GB.UTF-8"), or NULL. */
static char *
locale_territory (void)
{
  const char *const *names = g_get_language_names ();

  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *underscore = strchr (names[i], '_');
      gsize length;

      if (underscore == NULL)
        continue;
      length = strcspn (underscore + 1, ".@");
      if (length == 2)
        return g_ascii_strup (underscore + 1, 2);
    }
  return NULL;
}

static void
select_country_iso (CxCallback *self, const char *iso)
{
  for (guint i = 0; i < G_N_ELEMENTS (countries); i++)
    if (g_strcmp0 (countries[self->country_order[i]].iso, iso) == 0)
      {
        gtk_drop_down_set_selected (self->country_dropdown, i);
        return;
      }
}

void
_cx_callback_setup_countries (CxCallback *self)
{
  g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);
  g_autoptr (GtkExpression) expression = NULL;
  g_autofree char *territory = locale_territory ();

  for (guint i = 0; i < G_N_ELEMENTS (countries); i++)
    self->country_order[i] = i;
  qsort (self->country_order, G_N_ELEMENTS (countries), sizeof (guint), compare_countries);

  for (guint i = 0; i < G_N_ELEMENTS (countries); i++)
    {
      const Country *country = &countries[self->country_order[i]];
      /* Translators: a country and its phone code, "United Kingdom (+44)" */
      g_autofree char *text = g_strdup_printf (_ ("%s (+%s)"), _ (country->name), country->code);

      gtk_string_list_append (list, text);
    }

  expression = gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL, "string");
  gtk_drop_down_set_expression (self->country_dropdown, expression);
  gtk_drop_down_set_model (self->country_dropdown, G_LIST_MODEL (list));

  select_country_iso (self, DEFAULT_COUNTRY);
  if (territory != NULL)
    select_country_iso (self, territory);
}

static const Country *
selected_country (CxCallback *self)
{
  guint position = gtk_drop_down_get_selected (self->country_dropdown);

  if (position >= G_N_ELEMENTS (countries))
    return NULL;
  return &countries[self->country_order[position]];
}

/* Puts a number into the form: "+44 20 7946 0958" picks the United Kingdom and leaves
 * "20 7946 0958"; a number whose code is not in the list stays as it is. */
static void
fill_phone (CxCallback *self, const char *number)
{
  const char *digits;
  const char *rest = NULL;
  gsize best = 0;
  guint best_position = 0;

  while (g_ascii_isspace (*number))
    number++;
  if (number[0] != '+')
    {
      gtk_editable_set_text (GTK_EDITABLE (self->phone_entry), number);
      return;
    }

  digits = number + 1;
  /* The longest code wins; of equal ones, the first in the list. */
  for (guint i = 0; i < G_N_ELEMENTS (countries); i++)
    {
      const Country *country = &countries[self->country_order[i]];
      gsize length = strlen (country->code);

      if (length > best && strncmp (digits, country->code, length) == 0)
        {
          best = length;
          best_position = i;
        }
    }

  if (best == 0)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->phone_entry), number);
      return;
    }

  {
    const Country *current = selected_country (self);

    /* +1 is the United States and Canada: keep the one chosen if it is one of them. */
    if (current == NULL || strlen (current->code) != best ||
        strncmp (digits, current->code, best) != 0)
      gtk_drop_down_set_selected (self->country_dropdown, best_position);
  }

  rest = digits + best;
  while (*rest == ' ' || *rest == '-' || *rest == '.')
    rest++;
  gtk_editable_set_text (GTK_EDITABLE (self->phone_entry), rest);
}

/* The number to call, from the form; NULL with *problem set for the customer. */
static char *
phone_number (CxCallback *self, const char **problem)
{
  g_autofree char *text = _cx_callback_entry_text_stripped (self->phone_entry);
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (CxCallbackRequest) request = NULL;
  g_autofree char *number = NULL;
  const Country *country;

  *problem = NULL;
  if (text[0] == '\0')
    {
      *problem = _ ("Enter your phone number");
      return NULL;
    }

  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p) || strchr (" -.()/", *p) != NULL || (*p == '+' && p == text))
        continue;
      *problem = _ ("A phone number has only digits, spaces and - . ( )");
      return NULL;
    }

  country = selected_country (self);
  if (text[0] == '+' || country == NULL ||
      !gtk_widget_get_visible (GTK_WIDGET (self->country_dropdown)))
    number = g_strdup (text);
  else
    {
      char *national = text;
      char *first_digit = national + strcspn (national, "0123456789");

      /* The trunk prefix is dialled at home only (Italy keeps its 0). */
      if (*first_digit == '0' && g_strcmp0 (country->code, "39") != 0)
        memmove (first_digit, first_digit + 1, strlen (first_digit));
      number = g_strdup_printf ("+%s %s", country->code, national);
    }

  /* The protocol's own rule, the one the service and the server apply. */
  form = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (form, (gpointer) "_customer_number", number);
  request = cx_callback_request_parse (form, NULL);
  if (request == NULL)
    {
      *problem = _ ("A phone number has 3 to 20 digits, its country code included");
      return NULL;
    }

  return g_steal_pointer (&number);
}

/* Shows an error beside every field that needs one and focuses the first; the form's data
 * when it is right. */
JsonObject *
_cx_callback_validate_form (CxCallback *self)
{
  g_autofree char *first = _cx_callback_entry_text_stripped (self->first_name_entry);
  g_autofree char *last = _cx_callback_entry_text_stripped (self->last_name_entry);
  g_autofree char *subject = _cx_callback_entry_text_stripped (self->subject_entry);
  g_autofree char *number = NULL;
  const char *phone_problem = NULL;
  const char *time_problem = NULL;
  gboolean asap = gtk_check_button_get_active (self->asap_check);
  gint64 time = cx_calendar_get_selected_time (self->calendar);
  GtkWidget *invalid = NULL;
  JsonObject *form;

  number = phone_number (self, &phone_problem);
  if (!asap && time < 0)
    time_problem = cx_calendar_get_loading (self->calendar)
                       ? _ ("The free times are still loading: choose one once they show")
                       : _ ("Choose a time in the calendar, or “As soon as possible”");

  _cx_callback_set_field_error (GTK_WIDGET (self->first_name_entry), self->first_name_error,
                                first[0] == '\0' ? _ ("Enter your first name") : NULL);
  _cx_callback_set_field_error (GTK_WIDGET (self->last_name_entry), self->last_name_error,
                                last[0] == '\0' ? _ ("Enter your last name") : NULL);
  _cx_callback_set_field_error (GTK_WIDGET (self->phone_entry), self->phone_error, phone_problem);
  _cx_callback_set_field_error (NULL, self->time_error, time_problem);

  if (first[0] == '\0')
    invalid = GTK_WIDGET (self->first_name_entry);
  else if (last[0] == '\0')
    invalid = GTK_WIDGET (self->last_name_entry);
  else if (phone_problem != NULL)
    invalid = GTK_WIDGET (self->phone_entry);
  else if (time_problem != NULL)
    invalid = GTK_WIDGET (self->choose_check);
  if (invalid != NULL)
    {
      if (invalid == GTK_WIDGET (self->choose_check) &&
          gtk_widget_child_focus (GTK_WIDGET (self->calendar), GTK_DIR_TAB_FORWARD))
        return NULL;
      _cx_callback_focus_widget (self, invalid);
      return NULL;
    }

  form = json_object_new ();
  json_object_set_string_member (form, "firstname", first);
  json_object_set_string_member (form, "lastname", last);
  json_object_set_string_member (form, "phoneNumber", number);
  if (subject[0] != '\0')
    json_object_set_string_member (form, "subject", subject);
  if (asap)
    json_object_set_string_member (form, "desiredTime", "now");
  else
    {
      g_autofree char *iso = cx_iso8601_format (time);

      json_object_set_string_member (form, "desiredTime", iso);
    }
  return form;
}

/* Template callbacks */

void
_cx_callback_entry_changed_cb (CxCallback *self, GtkEntry *entry)
{
  /* An error goes once the customer corrects the field; it comes back on the next try. */
  if (entry == self->first_name_entry)
    _cx_callback_set_field_error (GTK_WIDGET (entry), self->first_name_error, NULL);
  else if (entry == self->last_name_entry)
    _cx_callback_set_field_error (GTK_WIDGET (entry), self->last_name_error, NULL);
  else if (entry == self->phone_entry)
    {
      _cx_callback_set_field_error (GTK_WIDGET (entry), self->phone_error, NULL);
      _cx_callback_update_country_sensitive (self);
    }
}

void
_cx_callback_entry_activate_cb (CxCallback *self, GtkEntry *entry)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "callback.submit", NULL);
}

void
_cx_callback_when_toggled_cb (CxCallback *self, GtkCheckButton *button)
{
  gboolean choose = gtk_check_button_get_active (self->choose_check);

  gtk_revealer_set_reveal_child (self->calendar_revealer, choose);
  _cx_callback_set_field_error (NULL, self->time_error, NULL);
  /* The free times of now, each time the calendar is asked for. */
  if (button == self->choose_check && choose && self->phase == PHASE_FORM)
    cx_calendar_generate (self->calendar);
}

void
_cx_callback_country_changed_cb (CxCallback *self)
{
  _cx_callback_set_field_error (GTK_WIDGET (self->phone_entry), self->phone_error, NULL);
}

void
_cx_callback_selected_time_cb (CxCallback *self)
{
  if (cx_calendar_get_selected_time (self->calendar) >= 0)
    _cx_callback_set_field_error (NULL, self->time_error, NULL);
}

void
_cx_callback_calendar_loading_cb (CxCallback *self)
{
  gint64 pending = self->pending_time;

  if (cx_calendar_get_loading (self->calendar) || pending < 0)
    return;

  /* open's desiredTime, now that the free times are known. */
  self->pending_time = -1;
  if (!cx_calendar_select_time (self->calendar, pending))
    _cx_callback_set_field_error (NULL, self->time_error,
                                  _ ("The time asked for is not free: please choose another"));
}

/* Callback commands */

static gboolean
fill_form (CxCallback *self, JsonObject *form, CxCommand *command)
{
  static const struct
  {
    const char *member;
    gsize offset;
  } fields[] = {
    { "firstname", G_STRUCT_OFFSET (CxCallback, first_name_entry) },
    { "lastname", G_STRUCT_OFFSET (CxCallback, last_name_entry) },
    { "subject", G_STRUCT_OFFSET (CxCallback, subject_entry) },
  };
  const char *desired = NULL;
  gint64 ms = -1;
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  /* Checked before anything changes. */
  json_object_iter_init (&iter, form);
  while (json_object_iter_next (&iter, &name, &value))
    if (!JSON_NODE_HOLDS_NULL (value) && json_node_get_value_type (value) != G_TYPE_STRING)
      {
        cx_command_reject_message (command, _ ("open: “form.%s” must be text"), name);
        return FALSE;
      }
  desired = _cx_callback_object_string (form, "desiredTime");
  if (desired != NULL && desired[0] != '\0' && g_ascii_strcasecmp (desired, "now") != 0 &&
      !cx_iso8601_parse (desired, &ms, NULL))
    {
      cx_command_reject_message (command,
                                 _ ("open: “form.desiredTime” must be “now” or an ISO-8601 "
                                    "date and time with a time zone"));
      return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      const char *text = _cx_callback_object_string (form, fields[i].member);
      GtkEntry *entry = G_STRUCT_MEMBER (GtkEntry *, self, fields[i].offset);

      if (text != NULL)
        gtk_editable_set_text (GTK_EDITABLE (entry), text);
    }
  if (_cx_callback_object_string (form, "phoneNumber") != NULL)
    fill_phone (self, _cx_callback_object_string (form, "phoneNumber"));

  if (desired != NULL && ms < 0)
    gtk_check_button_set_active (self->asap_check, TRUE);
  else if (ms >= 0)
    {
      self->pending_time = ms;
      if (gtk_check_button_get_active (self->choose_check))
        cx_calendar_generate (self->calendar);
      else
        gtk_check_button_set_active (self->choose_check, TRUE); /* generates */
    }
  return TRUE;
}

void
_cx_callback_open_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxCallback *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonNode *form = NULL;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    form = json_object_get_member (json_node_get_object (data), "form");
  else if (data != NULL && !JSON_NODE_HOLDS_NULL (data))
    {
      cx_command_reject_message (command, _ ("open takes an object"));
      return;
    }

  if (form != NULL && !JSON_NODE_HOLDS_OBJECT (form) && !JSON_NODE_HOLDS_NULL (form))
    {
      cx_command_reject_message (command, _ ("open: “form” must be an object"));
      return;
    }

  /* As in the Widgets. */
  if (self->open)
    {
      cx_command_reject_message (command, "already opened");
      return;
    }

  if (form != NULL && JSON_NODE_HOLDS_OBJECT (form) && self->phase == PHASE_FORM &&
      !fill_form (self, json_node_get_object (form), command))
    return;

  _cx_callback_set_open (self, TRUE);
  cx_command_resolve (command, NULL);
}

void
_cx_callback_close_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  _cx_callback_set_open (CX_CALLBACK (user_data), FALSE);
  cx_command_resolve (command, NULL);
}
