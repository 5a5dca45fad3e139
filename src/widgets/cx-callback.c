/* cx-callback.c: the "Callback" UI plugin: the customer's callback request form, and the
 * booking's confirmation, from which it can be moved to another time or cancelled.
 *
 * The panel talks to nothing but its bus: it commands "CallbackService" (schedule, reschedule,
 * cancel) and its "Calendar" (a child of the form) asks the same service for the free times.
 * It follows the service's rescheduled and cancelled events too, so a booking moved or cancelled
 * by a page script shows as it is.
 *
 * One request at a time: the form's actions are disabled from the moment one is sent until it
 * is answered, so a double click books one callback. A refused request (office closed, slot
 * full, a number the service refuses, the server gone) is told above the form, which keeps
 * everything the customer typed.
 *
 * The phone number is the country code chosen plus the number typed (its trunk "0" dropped),
 * or the number typed as it is when it starts with "+". It is checked with the protocol's own
 * rule (cx_callback_request_parse()), the one the service and the server apply.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-callback"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "protocol/cx-gms-callback.h"
#include "protocol/cx-protocol.h"
#include "widgets/cx-calendar.h"
#include "widgets/cx-callback.h"

#define SERVICE "CallbackService"
/* The service answers within its ajaxTimeout; the bus's own timeout is only a backstop. */
#define REQUEST_TIMEOUT_MS (2u * 60 * 1000)

typedef enum
{
  PHASE_FORM,         /* the request form */
  PHASE_SUBMITTING,   /* schedule under way */
  PHASE_CONFIRMED,    /* the booking's confirmation */
  PHASE_RESCHEDULING, /* choosing another time for the booking */
  PHASE_MOVING,       /* reschedule under way */
  PHASE_CANCELLING,   /* cancel under way */
  PHASE_CANCELLED,    /* the booking was cancelled */
} Phase;

typedef struct
{
  const char *name; /* for translation */
  const char *code; /* the calling code, digits */
  const char *iso;  /* ISO 3166 territory, to pick the locale's */
} Country;

static const Country countries[] = {
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

#define DEFAULT_COUNTRY "US"

struct _CxCallback
{
  GtkWidget parent_instance;

  CxBus *bus;
  CxPlugin *plugin;
  GCancellable *cancellable;
  JsonObject *user_data; /* callback.userData, nullable */

  gboolean open;
  Phase phase;
  JsonObject *callback; /* the booking, as the service gave it; nullable */
  gboolean booked_asap; /* the booking was for as soon as possible */
  gint64 pending_time;  /* a desiredTime from open, to choose once the calendar has it; -1 */
  guint hours;          /* 12 or 24 */
  guint country_order[G_N_ELEMENTS (countries)]; /* dropdown position → countries[] */

  /* Template children */
  GtkLabel *title_label;
  GtkStack *stack;
  GtkWidget *form_box;
  GtkLabel *form_error;
  GtkWidget *details_box;
  GtkEntry *first_name_entry;
  GtkLabel *first_name_error;
  GtkEntry *last_name_entry;
  GtkLabel *last_name_error;
  GtkDropDown *country_dropdown;
  GtkEntry *phone_entry;
  GtkLabel *phone_error;
  GtkEntry *subject_entry;
  GtkWidget *when_box;
  GtkWidget *when_label;
  GtkCheckButton *asap_check;
  GtkCheckButton *choose_check;
  GtkRevealer *calendar_revealer;
  CxCalendar *calendar;
  GtkLabel *time_error;
  GtkWidget *back_button;
  GtkSpinner *submit_spinner;
  GtkButton *submit_button;
  GtkWidget *confirmation_box;
  GtkLabel *confirmation_title;
  GtkLabel *confirmation_text;
  GtkLabel *reference_label;
  GtkLabel *time_label;
  GtkLabel *number_label;
  GtkLabel *confirmation_error;
  GtkRevealer *cancel_revealer;
  GtkWidget *keep_button;
  GtkWidget *reschedule_button;
  GtkWidget *cancel_button;
  GtkWidget *done_button;
};

G_DEFINE_FINAL_TYPE (CxCallback, cx_callback, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_OPEN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const event_names[] = {
  "opened",    "closed",    "submitted", "started", "rescheduled",
  "cancelled", "completed", "error",     NULL,
};

/* Small helpers */

static void
publish (CxCallback *self, const char *event, JsonObject *object)
{
  g_autoptr (JsonNode) data = NULL;
  g_autoptr (JsonObject) empty = NULL;

  if (self->plugin == NULL || cx_plugin_get_bus (self->plugin) == NULL)
    return;

  if (object == NULL)
    object = empty = json_object_new ();
  data = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (data, object);
  cx_plugin_publish (self->plugin, event, data);
}

/* A string member, or NULL when absent or not a string. */
static const char *
object_string (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static char *
entry_text_stripped (GtkEntry *entry)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
}

static void
command_service (CxCallback *self, const char *command, JsonObject *object,
                 GAsyncReadyCallback callback)
{
  g_autofree char *full = g_strconcat (SERVICE ".", command, NULL);
  g_autoptr (JsonNode) data = cx_json_node_new_object (object);

  cx_bus_command_async (self->bus, self->plugin, full, data, REQUEST_TIMEOUT_MS, self->cancellable,
                        callback, self);
}

static void
release_focus_from (CxCallback *self, GtkWidget *container)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  if (focus != NULL && (focus == container || gtk_widget_is_ancestor (focus, container)))
    gtk_root_set_focus (root, NULL);
}

/* Only into the panel the customer sees: a reply may come after it was closed. A widget that
 * does not take the focus itself (the calendar) gives it to the first of its children that
 * does. */
static void
focus_widget (CxCallback *self, GtkWidget *widget)
{
  if (!self->open || !gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  if (!gtk_widget_grab_focus (widget))
    gtk_widget_child_focus (widget, GTK_DIR_TAB_FORWARD);
}

/* Errors beside the fields */

static void
set_field_error (GtkWidget *field, GtkLabel *label, const char *error)
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

static void
set_message (GtkLabel *label, const char *text)
{
  gtk_label_set_text (label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (label), text != NULL);
}

static void
clear_field_errors (CxCallback *self)
{
  set_field_error (GTK_WIDGET (self->first_name_entry), self->first_name_error, NULL);
  set_field_error (GTK_WIDGET (self->last_name_entry), self->last_name_error, NULL);
  set_field_error (GTK_WIDGET (self->phone_entry), self->phone_error, NULL);
  set_field_error (NULL, self->time_error, NULL);
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

static void
setup_countries (CxCallback *self)
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
  g_autofree char *text = entry_text_stripped (self->phone_entry);
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

/* What is shown */

/* The country list counts unless the number typed starts with + (it has its own code). */
static void
update_country_sensitive (CxCallback *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->phone_entry));

  while (g_ascii_isspace (*text))
    text++;
  gtk_widget_set_sensitive (GTK_WIDGET (self->country_dropdown),
                            text[0] != '+' && self->phase == PHASE_FORM);
}

static void
set_phase (CxCallback *self, Phase phase)
{
  GtkWidget *widget = GTK_WIDGET (self);
  gboolean form_page = phase == PHASE_FORM || phase == PHASE_SUBMITTING ||
                       phase == PHASE_RESCHEDULING || phase == PHASE_MOVING;
  gboolean new_request = phase == PHASE_FORM || phase == PHASE_SUBMITTING;
  gboolean moving = phase == PHASE_RESCHEDULING || phase == PHASE_MOVING;
  gboolean busy = phase == PHASE_SUBMITTING || phase == PHASE_MOVING || phase == PHASE_CANCELLING;
  gboolean booked = phase == PHASE_CONFIRMED || phase == PHASE_CANCELLING;
  GtkEntry *entries[] = { self->first_name_entry, self->last_name_entry, self->phone_entry,
                          self->subject_entry };
  const char *title;

  gtk_widget_action_set_enabled (widget, "callback.submit",
                                 phase == PHASE_FORM || phase == PHASE_RESCHEDULING);
  gtk_widget_action_set_enabled (widget, "callback.back", phase == PHASE_RESCHEDULING);
  gtk_widget_action_set_enabled (widget, "callback.reschedule", phase == PHASE_CONFIRMED);
  gtk_widget_action_set_enabled (widget, "callback.cancel", phase == PHASE_CONFIRMED);
  gtk_widget_action_set_enabled (widget, "callback.keep", phase == PHASE_CONFIRMED);
  gtk_widget_action_set_enabled (widget, "callback.confirm-cancel", phase == PHASE_CONFIRMED);
  gtk_widget_action_set_enabled (widget, "callback.done",
                                 phase == PHASE_CONFIRMED || phase == PHASE_CANCELLED);

  /* The focus leaves what is about to go while it can still be told so. */
  if (!form_page)
    release_focus_from (self, self->form_box);
  else
    release_focus_from (self, self->confirmation_box);
  if (moving)
    release_focus_from (self, self->details_box);

  /* Read-only, not insensitive, while a request is under way: the focus stays where it is. */
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    gtk_editable_set_editable (GTK_EDITABLE (entries[i]), phase == PHASE_FORM);
  gtk_widget_set_sensitive (GTK_WIDGET (self->asap_check), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->choose_check), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->calendar), !busy);
  if (busy)
    gtk_spinner_start (self->submit_spinner);
  else
    gtk_spinner_stop (self->submit_spinner);

  gtk_widget_set_visible (self->details_box, new_request);
  gtk_widget_set_visible (self->when_label, new_request);
  gtk_widget_set_visible (GTK_WIDGET (self->asap_check), new_request);
  gtk_widget_set_visible (GTK_WIDGET (self->choose_check), new_request);
  gtk_widget_set_visible (self->back_button, moving);
  gtk_button_set_label (self->submit_button,
                        moving ? _ ("_Move Callback") : _ ("_Request Callback"));

  gtk_widget_set_visible (self->reschedule_button, booked);
  gtk_widget_set_visible (self->cancel_button, booked);
  if (!booked)
    gtk_revealer_set_reveal_child (self->cancel_revealer, FALSE);

  gtk_stack_set_visible_child_name (self->stack, form_page ? "form" : "confirmation");

  if (new_request)
    title = _ ("Request a Callback");
  else if (moving)
    title = _ ("Choose a New Time");
  else
    title = _ ("Your Callback");
  gtk_label_set_text (self->title_label, title);

  self->phase = phase;
  update_country_sensitive (self);
}

static void
show_confirmation (CxCallback *self, const char *title, const char *text)
{
  const char *id = object_string (self->callback, "id");
  const char *number = object_string (self->callback, "customerNumber");
  const char *desired = object_string (self->callback, "desiredTime");
  g_autofree char *time = NULL;
  gint64 ms;

  if (self->booked_asap || desired == NULL || !cx_iso8601_parse (desired, &ms, NULL))
    time = g_strdup (_ ("As soon as possible"));
  else
    time = cx_calendar_format_time (ms, self->hours);

  gtk_label_set_text (self->confirmation_title, title);
  gtk_label_set_text (self->confirmation_text, text);
  /* From the network: plain text. */
  gtk_label_set_text (self->reference_label, id != NULL ? id : "");
  gtk_label_set_text (self->time_label, time);
  gtk_label_set_text (self->number_label, number != NULL ? number : "");
  set_message (self->confirmation_error, NULL);
}

static void
take_callback (CxCallback *self, JsonNode *reply)
{
  g_clear_pointer (&self->callback, json_object_unref);
  if (reply != NULL && JSON_NODE_HOLDS_OBJECT (reply))
    self->callback = json_object_ref (json_node_get_object (reply));
}

static JsonObject *
callback_copy (CxCallback *self)
{
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) copy = NULL;

  if (self->callback == NULL)
    return json_object_new ();
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, self->callback);
  copy = json_node_copy (node);
  return json_object_ref (json_node_get_object (copy));
}

static void
publish_callback (CxCallback *self, const char *event)
{
  g_autoptr (JsonObject) copy = callback_copy (self);

  publish (self, event, copy);
}

/* Opening and closing */

static void
focus_current (CxCallback *self)
{
  switch (self->phase)
    {
      case PHASE_FORM:
        gtk_widget_grab_focus (GTK_WIDGET (self->first_name_entry));
        break;

      case PHASE_RESCHEDULING:
        gtk_widget_child_focus (GTK_WIDGET (self->calendar), GTK_DIR_TAB_FORWARD);
        break;

      case PHASE_CONFIRMED:
      case PHASE_CANCELLED:
        gtk_widget_grab_focus (self->done_button);
        break;

      case PHASE_SUBMITTING:
      case PHASE_MOVING:
      case PHASE_CANCELLING:
      default:
        break;
    }
}

static void
set_open (CxCallback *self, gboolean open)
{
  if (self->open == open)
    return;

  self->open = open;
  if (!open)
    {
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
      GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

      /* GTK 4.8 leaves the focus on a widget hidden while it has it: typing would go into a
       * panel nobody sees. Whoever showed the panel gives the focus back (the Overlay does). */
      if (focus != NULL &&
          (focus == GTK_WIDGET (self) || gtk_widget_is_ancestor (focus, GTK_WIDGET (self))))
        gtk_root_set_focus (root, NULL);
    }
  gtk_widget_set_visible (GTK_WIDGET (self), open);
  publish (self, open ? "opened" : "closed", NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPEN]);
  if (open)
    focus_current (self);
}

/* Refusals */

static int
error_code (const GError *error)
{
  if (error->domain == CX_CALLBACK_ERROR)
    return error->code;
  if (g_error_matches (error, CX_BUS_ERROR, CX_BUS_ERROR_TIMED_OUT) ||
      g_error_matches (error, CX_BUS_ERROR, CX_BUS_ERROR_NO_SUCH_COMMAND) ||
      g_error_matches (error, CX_BUS_ERROR, CX_BUS_ERROR_LOAD_FAILED) ||
      g_error_matches (error, CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN))
    return CX_CALLBACK_ERROR_UNAVAILABLE;
  return CX_CALLBACK_ERROR_INTERNAL;
}

/* The refusal in the customer's words; @asap: the request was for as soon as possible. */
static char *
refusal_text (const GError *error, gboolean asap)
{
  switch (error_code (error))
    {
      case CX_CALLBACK_ERROR_OFFICE_CLOSED:
        if (asap)
          return g_strdup (_ ("We are closed now. Choose a time when we are open, and we will "
                              "call you then."));
        return g_strdup (_ ("We are closed at that time. Please choose another time."));

      case CX_CALLBACK_ERROR_SLOT_FULL:
        return g_strdup (_ ("That time has just been fully booked. Please choose another time."));

      case CX_CALLBACK_ERROR_UNAVAILABLE:
        return g_strdup (_ ("The callback service cannot be reached right now. Nothing you "
                            "entered is lost: please try again in a moment."));

      case CX_CALLBACK_ERROR_NOT_FOUND:
        return g_strdup (_ ("This callback is not known to us any more: it may have been "
                            "completed or cancelled already."));

      case CX_CALLBACK_ERROR_INVALID:
        /* Translators: %s says what was refused, from the callback service */
        return g_strdup_printf (_ ("The request was refused: %s"), error->message);

      default:
        /* Translators: %s says why, from the callback service */
        return g_strdup_printf (_ ("Something went wrong: %s"), error->message);
    }
}

static void
publish_error (CxCallback *self, const GError *error)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "message", error->message);
  json_object_set_int_member (object, "code", error_code (error));
  publish (self, "error", object);
  json_object_unref (object);
}

/* A refused schedule or reschedule: told above the form, which keeps what was typed. */
static void
show_form_refusal (CxCallback *self, const GError *error, gboolean asap)
{
  g_autofree char *text = refusal_text (error, asap);
  int code = error_code (error);

  set_message (self->form_error, text);
  publish_error (self, error);

  if (code == CX_CALLBACK_ERROR_SLOT_FULL)
    {
      /* The full slot shows as such, and the choice goes with it. */
      cx_calendar_generate (self->calendar);
      focus_widget (self, GTK_WIDGET (self->choose_check));
    }
  else if (code == CX_CALLBACK_ERROR_OFFICE_CLOSED && asap)
    focus_widget (self, GTK_WIDGET (self->choose_check));
  else if (code == CX_CALLBACK_ERROR_OFFICE_CLOSED)
    focus_widget (self, GTK_WIDGET (self->calendar));
  else
    focus_widget (self, GTK_WIDGET (self->submit_button));
}

/* Booking */

static void
schedule_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxCallback *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  gboolean asap;

  /* The panel went away (its cancellable is cancelled in dispose). */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (self->phase != PHASE_SUBMITTING)
    return;

  asap = gtk_check_button_get_active (self->asap_check);
  if (reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply))
    {
      if (error == NULL)
        error = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INTERNAL,
                                     _ ("The callback service gave no booking"));
      set_phase (self, PHASE_FORM);
      show_form_refusal (self, error, asap);
      return;
    }

  take_callback (self, reply);
  self->booked_asap = asap;
  set_message (self->form_error, NULL);
  show_confirmation (self, _ ("Callback Booked"),
                     asap ? _ ("We will call you as soon as we can.")
                          : _ ("We will call you at the time below."));
  set_phase (self, PHASE_CONFIRMED);
  focus_widget (self, self->done_button);
  publish_callback (self, "started");
}

/* Shows an error beside every field that needs one and focuses the first; the form's data
 * when it is right. */
static JsonObject *
validate_form (CxCallback *self)
{
  g_autofree char *first = entry_text_stripped (self->first_name_entry);
  g_autofree char *last = entry_text_stripped (self->last_name_entry);
  g_autofree char *subject = entry_text_stripped (self->subject_entry);
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

  set_field_error (GTK_WIDGET (self->first_name_entry), self->first_name_error,
                   first[0] == '\0' ? _ ("Enter your first name") : NULL);
  set_field_error (GTK_WIDGET (self->last_name_entry), self->last_name_error,
                   last[0] == '\0' ? _ ("Enter your last name") : NULL);
  set_field_error (GTK_WIDGET (self->phone_entry), self->phone_error, phone_problem);
  set_field_error (NULL, self->time_error, time_problem);

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
      focus_widget (self, invalid);
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

static void
request_schedule (CxCallback *self)
{
  g_autoptr (JsonObject) form = validate_form (self);
  JsonObject *request;
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  if (form == NULL)
    return;

  set_message (self->form_error, NULL);
  set_phase (self, PHASE_SUBMITTING);
  publish (self, "submitted", form);

  request = json_object_new ();
  json_object_iter_init (&iter, form);
  while (json_object_iter_next (&iter, &name, &value))
    json_object_set_member (request, name, json_node_copy (value));
  if (self->user_data != NULL)
    {
      g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

      json_node_set_object (node, self->user_data);
      json_object_set_member (request, "userData", json_node_copy (node));
    }
  command_service (self, "schedule", request, schedule_cb);
}

/* Moving */

static void
reschedule_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxCallback *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (self->phase != PHASE_MOVING)
    return;

  if (reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply))
    {
      if (error == NULL)
        error = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INTERNAL,
                                     _ ("The callback service gave no booking"));
      set_phase (self, PHASE_RESCHEDULING);
      show_form_refusal (self, error, FALSE);
      return;
    }

  take_callback (self, reply);
  self->booked_asap = FALSE;
  set_message (self->form_error, NULL);
  show_confirmation (self, _ ("Callback Moved"), _ ("We will call you at the new time below."));
  set_phase (self, PHASE_CONFIRMED);
  focus_widget (self, self->done_button);
  publish_callback (self, "rescheduled");
}

static void
request_reschedule (CxCallback *self)
{
  gint64 time = cx_calendar_get_selected_time (self->calendar);
  g_autofree char *iso = NULL;
  JsonObject *request;

  if (time < 0)
    {
      set_field_error (NULL, self->time_error,
                       cx_calendar_get_loading (self->calendar)
                           ? _ ("The free times are still loading: choose one once they show")
                           : _ ("Choose a new time in the calendar"));
      gtk_widget_child_focus (GTK_WIDGET (self->calendar), GTK_DIR_TAB_FORWARD);
      return;
    }

  set_field_error (NULL, self->time_error, NULL);
  set_message (self->form_error, NULL);
  set_phase (self, PHASE_MOVING);

  iso = cx_iso8601_format (time);
  request = json_object_new ();
  json_object_set_string_member (request, "id", object_string (self->callback, "id"));
  json_object_set_string_member (request, "desiredTime", iso);
  command_service (self, "reschedule", request, reschedule_cb);
}

/* Cancelling */

static void
cancel_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxCallback *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  g_autofree char *text = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (self->phase != PHASE_CANCELLING)
    return;

  if (reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply))
    {
      if (error == NULL)
        error = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INTERNAL,
                                     _ ("The callback service gave no booking"));
      set_phase (self, PHASE_CONFIRMED);
      text = refusal_text (error, FALSE);
      set_message (self->confirmation_error, text);
      publish_error (self, error);
      focus_widget (self, self->cancel_button);
      return;
    }

  take_callback (self, reply);
  show_confirmation (self, _ ("Callback Cancelled"),
                     _ ("We will not call you. You can ask for another callback at any time."));
  set_phase (self, PHASE_CANCELLED);
  focus_widget (self, self->done_button);
  publish_callback (self, "cancelled");
}

/* Starting over */

static void
reset_form (CxCallback *self)
{
  GtkEntry *entries[] = { self->first_name_entry, self->last_name_entry, self->phone_entry,
                          self->subject_entry };

  g_clear_pointer (&self->callback, json_object_unref);
  self->booked_asap = FALSE;
  self->pending_time = -1;
  set_phase (self, PHASE_FORM);
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    gtk_editable_set_text (GTK_EDITABLE (entries[i]), "");
  gtk_check_button_set_active (self->asap_check, TRUE);
  /* Shown for a reschedule even when the booking was for as soon as possible. */
  gtk_revealer_set_reveal_child (self->calendar_revealer, FALSE);
  cx_calendar_reset (self->calendar);
  clear_field_errors (self);
  set_message (self->form_error, NULL);
}

/* Actions */

static void
submit_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);

  /* The action is disabled while a request is under way; this guards a queued activation. */
  if (self->phase == PHASE_FORM)
    request_schedule (self);
  else if (self->phase == PHASE_RESCHEDULING)
    request_reschedule (self);
}

static void
back_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);

  if (self->phase != PHASE_RESCHEDULING)
    return;

  set_message (self->form_error, NULL);
  set_field_error (NULL, self->time_error, NULL);
  set_phase (self, PHASE_CONFIRMED);
  focus_widget (self, self->reschedule_button);
}

static void
reschedule_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);

  if (self->phase != PHASE_CONFIRMED)
    return;

  set_message (self->form_error, NULL);
  set_field_error (NULL, self->time_error, NULL);
  set_phase (self, PHASE_RESCHEDULING);
  /* Another time: the free ones now, none chosen yet. */
  gtk_revealer_set_reveal_child (self->calendar_revealer, TRUE);
  cx_calendar_reset (self->calendar);
  cx_calendar_generate (self->calendar);
  focus_widget (self, GTK_WIDGET (self->submit_button));
}

static void
cancel_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);

  if (self->phase != PHASE_CONFIRMED)
    return;

  /* Asked first, in the panel. */
  set_message (self->confirmation_error, NULL);
  gtk_revealer_set_reveal_child (self->cancel_revealer, TRUE);
  focus_widget (self, self->keep_button);
}

static void
keep_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);

  if (self->phase != PHASE_CONFIRMED)
    return;

  release_focus_from (self, GTK_WIDGET (self->cancel_revealer));
  gtk_revealer_set_reveal_child (self->cancel_revealer, FALSE);
  focus_widget (self, self->cancel_button);
}

static void
confirm_cancel_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);
  JsonObject *request;

  if (self->phase != PHASE_CONFIRMED || !gtk_revealer_get_reveal_child (self->cancel_revealer))
    return;

  set_message (self->confirmation_error, NULL);
  set_phase (self, PHASE_CANCELLING);
  request = json_object_new ();
  json_object_set_string_member (request, "id", object_string (self->callback, "id"));
  command_service (self, "cancel", request, cancel_cb);
}

static void
done_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);
  g_autoptr (JsonObject) copy = NULL;

  if (self->phase != PHASE_CONFIRMED && self->phase != PHASE_CANCELLED)
    return;

  copy = callback_copy (self);
  reset_form (self);
  publish (self, "completed", copy);
  set_open (self, FALSE);
}

static void
close_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  /* A request under way goes on: its outcome shows when the panel opens again. */
  set_open (CX_CALLBACK (widget), FALSE);
}

static gboolean
escape_cb (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  CxCallback *self = CX_CALLBACK (widget);

  if (self->phase == PHASE_CONFIRMED && gtk_revealer_get_reveal_child (self->cancel_revealer))
    gtk_widget_activate_action (widget, "callback.keep", NULL);
  else if (self->phase == PHASE_RESCHEDULING)
    gtk_widget_activate_action (widget, "callback.back", NULL);
  else
    set_open (self, FALSE);
  return TRUE;
}

/* Template callbacks */

static void
entry_changed_cb (CxCallback *self, GtkEntry *entry)
{
  /* An error goes once the customer corrects the field; it comes back on the next try. */
  if (entry == self->first_name_entry)
    set_field_error (GTK_WIDGET (entry), self->first_name_error, NULL);
  else if (entry == self->last_name_entry)
    set_field_error (GTK_WIDGET (entry), self->last_name_error, NULL);
  else if (entry == self->phone_entry)
    {
      set_field_error (GTK_WIDGET (entry), self->phone_error, NULL);
      update_country_sensitive (self);
    }
}

static void
entry_activate_cb (CxCallback *self, GtkEntry *entry)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "callback.submit", NULL);
}

static void
when_toggled_cb (CxCallback *self, GtkCheckButton *button)
{
  gboolean choose = gtk_check_button_get_active (self->choose_check);

  gtk_revealer_set_reveal_child (self->calendar_revealer, choose);
  set_field_error (NULL, self->time_error, NULL);
  /* The free times of now, each time the calendar is asked for. */
  if (button == self->choose_check && choose && self->phase == PHASE_FORM)
    cx_calendar_generate (self->calendar);
}

static void
country_changed_cb (CxCallback *self)
{
  set_field_error (GTK_WIDGET (self->phone_entry), self->phone_error, NULL);
}

static void
selected_time_cb (CxCallback *self)
{
  if (cx_calendar_get_selected_time (self->calendar) >= 0)
    set_field_error (NULL, self->time_error, NULL);
}

static void
calendar_loading_cb (CxCallback *self)
{
  gint64 pending = self->pending_time;

  if (cx_calendar_get_loading (self->calendar) || pending < 0)
    return;

  /* open's desiredTime, now that the free times are known. */
  self->pending_time = -1;
  if (!cx_calendar_select_time (self->calendar, pending))
    set_field_error (NULL, self->time_error,
                     _ ("The time asked for is not free: please choose another"));
}

/* CallbackService events: the booking moved or cancelled by someone else (a page script). */

static gboolean
is_our_callback (CxCallback *self, const CxEvent *event)
{
  const char *id;

  if (self->callback == NULL || event->data == NULL || !JSON_NODE_HOLDS_OBJECT (event->data))
    return FALSE;
  id = object_string (json_node_get_object (event->data), "id");
  return id != NULL && g_strcmp0 (id, object_string (self->callback, "id")) == 0;
}

static void
service_rescheduled_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxCallback *self = user_data;

  /* During the panel's own reschedule, its reply does this. */
  if ((self->phase != PHASE_CONFIRMED && self->phase != PHASE_RESCHEDULING) ||
      !is_our_callback (self, event))
    return;

  take_callback (self, event->data);
  self->booked_asap = FALSE;
  show_confirmation (self, _ ("Callback Moved"), _ ("We will call you at the new time below."));
  if (self->phase == PHASE_RESCHEDULING)
    set_phase (self, PHASE_CONFIRMED);
}

static void
service_cancelled_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxCallback *self = user_data;

  if ((self->phase != PHASE_CONFIRMED && self->phase != PHASE_RESCHEDULING) ||
      !is_our_callback (self, event))
    return;

  take_callback (self, event->data);
  show_confirmation (self, _ ("Callback Cancelled"),
                     _ ("We will not call you. You can ask for another callback at any time."));
  set_phase (self, PHASE_CANCELLED);
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
  desired = object_string (form, "desiredTime");
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
      const char *text = object_string (form, fields[i].member);
      GtkEntry *entry = G_STRUCT_MEMBER (GtkEntry *, self, fields[i].offset);

      if (text != NULL)
        gtk_editable_set_text (GTK_EDITABLE (entry), text);
    }
  if (object_string (form, "phoneNumber") != NULL)
    fill_phone (self, object_string (form, "phoneNumber"));

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

static void
open_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
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

  set_open (self, TRUE);
  cx_command_resolve (command, NULL);
}

static void
close_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  set_open (CX_CALLBACK (user_data), FALSE);
  cx_command_resolve (command, NULL);
}

/* Object */

static void
cx_callback_dispose (GObject *object)
{
  CxCallback *self = CX_CALLBACK (object);
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);

  if (self->plugin != NULL && cx_plugin_get_bus (self->plugin) != NULL)
    cx_bus_unregister_plugin (cx_plugin_get_bus (self->plugin), self->plugin);
  g_clear_object (&self->plugin);
  g_clear_object (&self->bus);

  gtk_widget_dispose_template (GTK_WIDGET (self), CX_TYPE_CALLBACK);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (cx_callback_parent_class)->dispose (object);
}

static void
cx_callback_finalize (GObject *object)
{
  CxCallback *self = CX_CALLBACK (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->callback, json_object_unref);
  g_clear_pointer (&self->user_data, json_object_unref);

  G_OBJECT_CLASS (cx_callback_parent_class)->finalize (object);
}

static void
cx_callback_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxCallback *self = CX_CALLBACK (object);

  switch (prop_id)
    {
      case PROP_OPEN:
        g_value_set_boolean (value, self->open);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_callback_class_init (CxCallbackClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = cx_callback_dispose;
  object_class->finalize = cx_callback_finalize;
  object_class->get_property = cx_callback_get_property;

  properties[PROP_OPEN] = g_param_spec_boolean ("open", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (CX_TYPE_CALENDAR);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/cxdesk/CxDesk/cx-callback.ui");
  gtk_widget_class_bind_template_child (widget_class, CxCallback, title_label);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, stack);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, form_box);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, form_error);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, details_box);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, first_name_entry);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, first_name_error);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, last_name_entry);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, last_name_error);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, country_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, phone_entry);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, phone_error);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, subject_entry);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, when_box);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, when_label);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, asap_check);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, choose_check);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, calendar_revealer);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, calendar);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, time_error);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, back_button);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, submit_spinner);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, submit_button);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, confirmation_box);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, confirmation_title);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, confirmation_text);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, reference_label);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, time_label);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, number_label);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, confirmation_error);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, cancel_revealer);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, keep_button);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, reschedule_button);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, done_button);
  gtk_widget_class_bind_template_callback (widget_class, entry_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, when_toggled_cb);

  gtk_widget_class_install_action (widget_class, "callback.submit", NULL, submit_activated);
  gtk_widget_class_install_action (widget_class, "callback.back", NULL, back_activated);
  gtk_widget_class_install_action (widget_class, "callback.reschedule", NULL, reschedule_activated);
  gtk_widget_class_install_action (widget_class, "callback.cancel", NULL, cancel_activated);
  gtk_widget_class_install_action (widget_class, "callback.keep", NULL, keep_activated);
  gtk_widget_class_install_action (widget_class, "callback.confirm-cancel", NULL,
                                   confirm_cancel_activated);
  gtk_widget_class_install_action (widget_class, "callback.done", NULL, done_activated);
  gtk_widget_class_install_action (widget_class, "callback.close", NULL, close_activated);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Escape, 0, escape_cb, NULL);

  gtk_widget_class_set_css_name (widget_class, "cxcallback");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
cx_callback_init (CxCallback *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->pending_time = -1;
  self->hours = 24;
  self->phase = PHASE_CANCELLED; /* so that set_phase() below sets everything up */

  setup_countries (self);
  g_signal_connect_object (self->country_dropdown, "notify::selected",
                           G_CALLBACK (country_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->calendar, "notify::selected-time", G_CALLBACK (selected_time_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->calendar, "notify::loading", G_CALLBACK (calendar_loading_cb),
                           self, G_CONNECT_SWAPPED);

  /* Each field is described by its error, when it has one. */
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->first_name_entry),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, self->first_name_error,
                                  NULL, -1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->last_name_entry),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, self->last_name_error, NULL,
                                  -1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->phone_entry),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, self->phone_error, NULL,
                                  -1);

  set_phase (self, PHASE_FORM);
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

GtkWidget *
cx_callback_new (void)
{
  return g_object_new (CX_TYPE_CALLBACK, NULL);
}

typedef struct
{
  const char *event;
  CxEventFunc func;
} Subscription;

static const Subscription subscriptions[] = {
  { SERVICE ".rescheduled", service_rescheduled_cb },
  { SERVICE ".cancelled", service_cancelled_cb },
};

/**
 * cx_callback_attach:
 * @self: the panel
 * @bus: the window's bus
 * @callback_config: (nullable): the configuration's "callback" section: the panel reads
 *   userData (sent with every request) and countryCodes (FALSE hides the country list)
 * @calendar_config: (nullable): its "calendar" section, for the "Calendar"
 * @error: return location for a #GError
 *
 * Registers the "Callback" and "Calendar" plugins on @bus and makes them ready.
 * "CallbackService" may come later: commands to it wait for it.
 *
 * Returns: %TRUE, or %FALSE with @error set (a name is taken on @bus)
 */
gboolean
cx_callback_attach (CxCallback *self, CxBus *bus, JsonObject *callback_config,
                    JsonObject *calendar_config, GError **error)
{
  CxPlugin *plugin;
  JsonNode *node;

  g_return_val_if_fail (CX_IS_CALLBACK (self), FALSE);
  g_return_val_if_fail (CX_IS_BUS (bus), FALSE);
  g_return_val_if_fail (self->plugin == NULL, FALSE);

  node = callback_config != NULL ? json_object_get_member (callback_config, "userData") : NULL;
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    self->user_data = json_object_ref (json_node_get_object (node));
  node = callback_config != NULL ? json_object_get_member (callback_config, "countryCodes") : NULL;
  if (node != NULL && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    gtk_widget_set_visible (GTK_WIDGET (self->country_dropdown), json_node_get_boolean (node));

  plugin = cx_bus_register_plugin (bus, CX_CALLBACK_NAME, error);
  if (plugin == NULL)
    return FALSE;

  self->bus = g_object_ref (bus);
  self->plugin = g_object_ref (plugin);

  if (!cx_plugin_register_events (plugin, event_names, error) ||
      !cx_plugin_register_command (plugin, "open", open_command_cb, self, NULL, error) ||
      !cx_plugin_register_command (plugin, "close", close_command_cb, self, NULL, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (subscriptions); i++)
    cx_plugin_subscribe (plugin, subscriptions[i].event, subscriptions[i].func, self, NULL);

  if (!cx_calendar_attach (self->calendar, bus, calendar_config, error))
    return FALSE;

  cx_plugin_ready (plugin);
  return TRUE;
}

/**
 * cx_callback_get_plugin:
 *
 * Returns: (transfer none) (nullable): the "Callback" plugin, once attached
 */
CxPlugin *
cx_callback_get_plugin (CxCallback *self)
{
  g_return_val_if_fail (CX_IS_CALLBACK (self), NULL);

  return self->plugin;
}

gboolean
cx_callback_get_open (CxCallback *self)
{
  g_return_val_if_fail (CX_IS_CALLBACK (self), FALSE);

  return self->open;
}

/* 12 or 24 (main.timeFormat), for the times shown. */
void
cx_callback_set_time_format (CxCallback *self, guint hours)
{
  g_return_if_fail (CX_IS_CALLBACK (self));

  self->hours = hours == 12 ? 12 : 24;
  cx_calendar_set_time_format (self->calendar, self->hours);
  if (self->callback != NULL)
    {
      g_autofree char *title = g_strdup (gtk_label_get_text (self->confirmation_title));
      g_autofree char *text = g_strdup (gtk_label_get_text (self->confirmation_text));

      show_confirmation (self, title, text);
    }
}
