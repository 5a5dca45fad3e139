/* cx-agent-callbacks.c: the agent workspace's callbacks view.
 *
 * The view asks the window's AgentService for the callbacks (getCallbacks) when it gets the
 * bus, on signedIn, on callbacksChanged and when the event socket comes back, and keeps one row
 * per callback, updated in place so that a row's message or error and the keyboard focus
 * survive a refresh. A row's section follows from its state and desired time: Due now (open,
 * time passed), Scheduled (open, in the future), Done (completed or cancelled, most recent
 * first, the last DONE_CAP of them). A timer re-sorts and re-words the rows at each minute and
 * at the moment the next scheduled callback falls due; nothing is fetched for that.
 *
 * Call opens tel:NUMBER with the desktop's handler; without one the row says so and shows the
 * number, selectable. Complete and Reschedule are AgentService commands; their errors are shown
 * in the row. Text from the network is set with gtk_label_set_text: never markup.
 *
 * One file over 1,200 lines on purpose: the view, its rows and their sections are one cohesive
 * thing (a row is updated in place by the view's refresh and re-sorted by its timer; its actions
 * answer into the same rows), and the row has no life outside this view. Its parts are marked
 * by the section comments: Rows, Commands, Words, Rows: what they show / actions / life, The
 * view: sections / the list from the service.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-callbacks"

#include "config.h"

#include <glib/gi18n.h>

#include "agent/cx-agent-callbacks.h"
#include "protocol/cx-gms-callback.h"
#include "services/cx-agent-service.h"

#define COMMAND_PREFIX CX_AGENT_SERVICE_NAME "."
#define DONE_CAP 50
#define MINUTE_MS (60 * 1000)

typedef enum
{
  SECTION_NONE,
  SECTION_DUE,
  SECTION_SCHEDULED,
  SECTION_DONE,
} Section;

/* Rows */

#define CX_TYPE_AGENT_CALLBACK_ROW (cx_agent_callback_row_get_type ())

G_DECLARE_FINAL_TYPE (CxAgentCallbackRow, cx_agent_callback_row, CX, AGENT_CALLBACK_ROW,
                      GtkListBoxRow)

struct _CxAgentCallbackRow
{
  GtkListBoxRow parent_instance;

  CxAgentCallbacks *view; /* unowned: the view holds its rows */
  CxCallbackInfo *info;
  Section section;
  guint busy; /* commands under way */

  GtkLabel *number_label;
  GtkLabel *name_label;
  GtkLabel *details_label;
  GtkButton *call_button;
  GtkButton *complete_button;
  GtkMenuButton *reschedule_button;
  GtkWidget *message_box;
  GtkLabel *message_number;
  GtkLabel *error_label;

  /* The reschedule popover, built when first opened */
  GtkCalendar *calendar;
  GtkSpinButton *hour_spin;
  GtkSpinButton *minute_spin;
  GtkLabel *popover_error;
};

G_DEFINE_FINAL_TYPE (CxAgentCallbackRow, cx_agent_callback_row, GTK_TYPE_LIST_BOX_ROW)

/* The view */

struct _CxAgentCallbacks
{
  GtkWidget parent_instance;

  CxBus *bus;
  gulong subscription;
  GCancellable *cancellable;
  GHashTable *rows; /* callback id → CxAgentCallbackRow (a reference) */
  guint generation; /* bumped on sign-out: older replies are stale */
  gboolean refreshing;
  gboolean refresh_again;
  guint n_due;
  guint tick_id;

  /* Template children */
  GtkScrolledWindow *scroller;
  GtkLabel *error_label;
  GtkLabel *due_heading;
  GtkListBox *due_list;
  GtkLabel *scheduled_heading;
  GtkListBox *scheduled_list;
  GtkLabel *done_heading;
  GtkListBox *done_list;
};

G_DEFINE_FINAL_TYPE (CxAgentCallbacks, cx_agent_callbacks, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_N_DUE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void refresh (CxAgentCallbacks *self);
static void resection (CxAgentCallbacks *self);

/* Commands */

typedef void (*CommandDone) (CxAgentCallbacks *self, CxAgentCallbackRow *row, JsonNode *result,
                             const GError *error);

typedef struct
{
  CxAgentCallbacks *self;  /* a reference */
  CxAgentCallbackRow *row; /* a reference, or NULL */
  guint generation;
  CommandDone done;
} CommandData;

static void
command_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CommandData *data = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);

  if (data->row != NULL)
    data->row->busy--;

  /* A disposed view, or another bus, drops its replies. */
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      data->self->bus == CX_BUS (source))
    {
      if (data->generation == data->self->generation)
        data->done (data->self, data->row, reply, error);
      else if (data->row == NULL)
        data->done (data->self, NULL, NULL, NULL);
    }

  g_clear_object (&data->row);
  g_object_unref (data->self);
  g_free (data);
}

/* Takes @data. */
static void
run_command (CxAgentCallbacks *self, CxAgentCallbackRow *row, const char *name, JsonNode *data,
             CommandDone done)
{
  g_autoptr (JsonNode) owned = data;
  g_autofree char *full = g_strconcat (COMMAND_PREFIX, name, NULL);
  CommandData *command = g_new0 (CommandData, 1);

  command->self = g_object_ref (self);
  command->row = row != NULL ? g_object_ref (row) : NULL;
  command->generation = self->generation;
  command->done = done;
  if (row != NULL)
    row->busy++;
  cx_bus_command_async (self->bus, NULL, full, data, 0, self->cancellable, command_cb, command);
}

/* Words */

static const char *
state_text (const char *state)
{
  if (state == NULL)
    return "";
  if (g_str_equal (state, "QUEUED"))
    return _ ("Waiting");
  if (g_str_equal (state, "SCHEDULED"))
    return _ ("Scheduled");
  if (g_str_equal (state, "PROCESSING"))
    return _ ("In progress");
  if (g_str_equal (state, "COMPLETED"))
    return _ ("Completed");
  if (g_str_equal (state, "CANCELLED"))
    return _ ("Cancelled");
  return state;
}

static gboolean
state_is_closed (const char *state)
{
  return g_strcmp0 (state, "COMPLETED") == 0 || g_strcmp0 (state, "CANCELLED") == 0;
}

/* @ms in local time: the time alone today, else with the date. */
static char *
format_time (gint64 ms, gint64 now_ms)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_local (ms / 1000);
  g_autoptr (GDateTime) now = g_date_time_new_from_unix_local (now_ms / 1000);

  if (time == NULL || now == NULL)
    return g_strdup ("");
  if (g_date_time_get_year (time) == g_date_time_get_year (now) &&
      g_date_time_get_day_of_year (time) == g_date_time_get_day_of_year (now))
    /* Translators: a time of today, in g_date_time_format() syntax */
    return g_date_time_format (time, _ ("%H:%M"));
  if (g_date_time_get_year (time) == g_date_time_get_year (now))
    /* Translators: a date and time this year, in g_date_time_format() syntax */
    return g_date_time_format (time, _ ("%a %e %b, %H:%M"));
  /* Translators: a date and time, in g_date_time_format() syntax */
  return g_date_time_format (time, _ ("%e %b %Y, %H:%M"));
}

/* "in 25 min", "5 min overdue", … */
static char *
format_relative (gint64 ms, gint64 now_ms)
{
  gint64 diff = ms - now_ms;
  gboolean future = diff > 0;
  /* Rounded away from now in the future (it is not due yet), towards it in the past. */
  gint64 minutes = future ? (diff + MINUTE_MS - 1) / MINUTE_MS : -diff / MINUTE_MS;
  int hours = (int) MIN (minutes / 60, G_MAXINT);
  int days = (int) MIN (minutes / (24 * 60), G_MAXINT);
  int rest = (int) (minutes % 60);

  if (!future && minutes == 0)
    return g_strdup (_ ("due now"));

  if (minutes < 60)
    return g_strdup_printf (future ? ngettext ("in %d min", "in %d min", (int) minutes)
                                   : ngettext ("%d min overdue", "%d min overdue", (int) minutes),
                            (int) minutes);

  if (days < 1)
    {
      if (rest == 0)
        return g_strdup_printf (future ? ngettext ("in %d h", "in %d h", hours)
                                       : ngettext ("%d h overdue", "%d h overdue", hours),
                                hours);
      /* Translators: hours and minutes */
      return g_strdup_printf (future ? _ ("in %d h %d min") : _ ("%d h %d min overdue"), hours,
                              rest);
    }

  return g_strdup_printf (future ? ngettext ("in %d day", "in %d days", days)
                                 : ngettext ("%d day overdue", "%d days overdue", days),
                          days);
}

/* The customer's name and the subject, from the properties a customer's form may set. */
static char *
customer_text (JsonNode *props)
{
  JsonObject *object =
      props != NULL && JSON_NODE_HOLDS_OBJECT (props) ? json_node_get_object (props) : NULL;
  const char *first = NULL, *last = NULL, *full = NULL, *subject = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *name = NULL;

  if (object == NULL)
    return NULL;

#define STRING_MEMBER(name)                                                                        \
  (json_object_has_member (object, name) &&                                                        \
           JSON_NODE_HOLDS_VALUE (json_object_get_member (object, name)) &&                        \
           json_node_get_value_type (json_object_get_member (object, name)) == G_TYPE_STRING       \
       ? json_object_get_string_member (object, name)                                              \
       : NULL)
  first = STRING_MEMBER ("firstname");
  if (first == NULL)
    first = STRING_MEMBER ("firstName");
  last = STRING_MEMBER ("lastname");
  if (last == NULL)
    last = STRING_MEMBER ("lastName");
  full = STRING_MEMBER ("_customer_name");
  subject = STRING_MEMBER ("subject");
#undef STRING_MEMBER

  if (first != NULL && first[0] != '\0' && last != NULL && last[0] != '\0')
    name = g_strdup_printf ("%s %s", first, last);
  else if (first != NULL && first[0] != '\0')
    name = g_strdup (first);
  else if (last != NULL && last[0] != '\0')
    name = g_strdup (last);
  else if (full != NULL && full[0] != '\0')
    name = g_strdup (full);

  if (name != NULL)
    g_string_append (text, name);
  if (subject != NULL && subject[0] != '\0')
    {
      if (text->len > 0)
        g_string_append (text, " — ");
      g_string_append (text, subject);
    }

  return text->len > 0 ? g_string_free (g_steal_pointer (&text), FALSE) : NULL;
}

/* Rows: what they show */

static void
row_update (CxAgentCallbackRow *row, gint64 now_ms)
{
  const CxCallbackInfo *info = row->info;
  const char *number = info->customer_number != NULL ? info->customer_number : _ ("No number");
  g_autofree char *customer = customer_text (info->properties);
  g_autofree char *when = NULL;
  g_autofree char *relative = NULL;
  g_autofree char *details = NULL;
  g_autofree char *accessible = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  gboolean open = !state_is_closed (info->state);

  gtk_label_set_text (row->number_label, number);
  gtk_label_set_text (row->name_label, customer != NULL ? customer : "");
  gtk_widget_set_visible (GTK_WIDGET (row->name_label), customer != NULL);

  if (info->service != NULL)
    g_string_append (text, info->service);
  if (info->desired_time >= 0)
    {
      when = format_time (info->desired_time, now_ms);
      if (text->len > 0)
        g_string_append (text, " · ");
      g_string_append (text, when);
      if (open)
        {
          relative = format_relative (info->desired_time, now_ms);
          g_string_append_printf (text, " (%s)", relative);
        }
    }
  if (info->state != NULL)
    {
      if (text->len > 0)
        g_string_append (text, " · ");
      g_string_append (text, state_text (info->state));
    }
  details = g_string_free (g_steal_pointer (&text), FALSE);
  gtk_label_set_text (row->details_label, details);

  if (row->section == SECTION_DUE && info->desired_time >= 0 &&
      now_ms - info->desired_time >= MINUTE_MS)
    gtk_widget_add_css_class (GTK_WIDGET (row), "overdue");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (row), "overdue");

  gtk_widget_set_visible (GTK_WIDGET (row->complete_button), open);
  gtk_widget_set_visible (GTK_WIDGET (row->reschedule_button), open);
  gtk_widget_set_sensitive (GTK_WIDGET (row->call_button), info->customer_number != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (row->complete_button), row->busy == 0);
  gtk_widget_set_sensitive (GTK_WIDGET (row->reschedule_button), row->busy == 0);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), info->customer_number != NULL);

  accessible = customer != NULL
                   ? g_strdup_printf (_ ("Callback to %s, %s, %s"), number, customer, details)
                   : g_strdup_printf (_ ("Callback to %s, %s"), number, details);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
}

static void
row_set_info (CxAgentCallbackRow *row, CxCallbackInfo *info)
{
  g_autofree char *call = NULL;
  g_autofree char *complete = NULL;
  g_autofree char *reschedule = NULL;
  const char *number;

  g_clear_pointer (&row->info, cx_callback_info_free);
  row->info = info;

  number = info->customer_number != NULL ? info->customer_number : _ ("No number");
  call = g_strdup_printf (_ ("Call %s"), number);
  complete = g_strdup_printf (_ ("Complete the callback to %s"), number);
  reschedule = g_strdup_printf (_ ("Reschedule the callback to %s"), number);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row->call_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  call, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row->complete_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, complete, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row->reschedule_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, reschedule, -1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (row->call_button), call);
  gtk_label_set_text (row->message_number, info->customer_number != NULL ? number : "");
}

static void
row_show_error (CxAgentCallbackRow *row, const char *text)
{
  gtk_label_set_text (row->error_label, text);
  gtk_widget_set_visible (GTK_WIDGET (row->error_label), TRUE);
}

static void
row_clear_error (CxAgentCallbackRow *row)
{
  gtk_widget_set_visible (GTK_WIDGET (row->error_label), FALSE);
  gtk_label_set_text (row->error_label, "");
}

/* Rows: actions */

static void
call_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CxAgentCallbackRow) row = user_data;
  g_autoptr (GError) error = NULL;

  if (g_app_info_launch_default_for_uri_finish (result, &error))
    {
      gtk_widget_set_visible (row->message_box, FALSE);
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* Most likely no handler for tel: is installed; the agent dials by hand. */
  g_debug ("Cannot open a tel: URI: %s", error->message);
  gtk_widget_set_visible (row->message_box, TRUE);
}

static void
row_call (CxAgentCallbackRow *row)
{
  g_autofree char *uri = NULL;
  g_autoptr (GdkAppLaunchContext) context = NULL;

  if (row->info->customer_number == NULL || row->view == NULL)
    return;

  /* The number is normalized to "+" and digits: nothing in it needs escaping. */
  uri = g_strconcat ("tel:", row->info->customer_number, NULL);
  context = gdk_display_get_app_launch_context (gtk_widget_get_display (GTK_WIDGET (row)));
  g_app_info_launch_default_for_uri_async (uri, G_APP_LAUNCH_CONTEXT (context),
                                           row->view->cancellable, call_done_cb,
                                           g_object_ref (row));
}

static void
call_clicked_cb (CxAgentCallbackRow *row)
{
  row_call (row);
}

static JsonNode *
id_data (const char *id, const char *member, const char *value)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  if (member != NULL)
    {
      json_builder_set_member_name (builder, member);
      json_builder_add_string_value (builder, value);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* A changed callback, as completeCallback and rescheduleCallback return it: shown at once,
 * before the refresh that callbacksChanged brings. */
static void
apply_one (CxAgentCallbacks *self, CxAgentCallbackRow *row, JsonNode *result)
{
  g_autoptr (CxCallbackInfo) info = NULL;
  g_autoptr (GError) error = NULL;

  if (!cx_callback_parse_object (result, &info, &error))
    {
      g_debug ("A malformed callback: %s", error->message);
      return;
    }
  if (g_hash_table_lookup (self->rows, info->id) != row)
    return;
  row_set_info (row, g_steal_pointer (&info));
  resection (self);
}

/* @error_text: what to say when @result is NULL */
static void
change_done (CxAgentCallbacks *self, CxAgentCallbackRow *row, JsonNode *result,
             const char *error_text)
{
  if (error_text != NULL)
    row_show_error (row, error_text);
  else
    {
      row_clear_error (row);
      apply_one (self, row, result);
    }
  row_update (row, g_get_real_time () / 1000);
}

static void
complete_done (CxAgentCallbacks *self, CxAgentCallbackRow *row, JsonNode *result,
               const GError *error)
{
  g_autofree char *text = NULL;

  if (error != NULL)
    /* Translators: %s is the reason */
    text = g_strdup_printf (_ ("Cannot complete this callback: %s"), error->message);
  change_done (self, row, result, text);
}

static void
reschedule_done (CxAgentCallbacks *self, CxAgentCallbackRow *row, JsonNode *result,
                 const GError *error)
{
  g_autofree char *text = NULL;

  if (error != NULL)
    /* Translators: %s is the reason */
    text = g_strdup_printf (_ ("Cannot reschedule this callback: %s"), error->message);
  change_done (self, row, result, text);
}

static void
complete_clicked_cb (CxAgentCallbackRow *row)
{
  if (row->view == NULL || row->view->bus == NULL || row->busy > 0)
    return;

  row_clear_error (row);
  run_command (row->view, row, "completeCallback", id_data (row->info->id, NULL, NULL),
               complete_done);
  row_update (row, g_get_real_time () / 1000);
}

static void
reschedule_confirm_cb (CxAgentCallbackRow *row)
{
  g_autoptr (GDateTime) day = gtk_calendar_get_date (row->calendar);
  g_autoptr (GDateTime) time = NULL;
  g_autofree char *iso = NULL;
  gint64 ms;

  time = g_date_time_new_local (g_date_time_get_year (day), g_date_time_get_month (day),
                                g_date_time_get_day_of_month (day),
                                gtk_spin_button_get_value_as_int (row->hour_spin),
                                gtk_spin_button_get_value_as_int (row->minute_spin), 0);
  if (time == NULL)
    {
      gtk_label_set_text (row->popover_error, _ ("That is not a valid time."));
      gtk_widget_set_visible (GTK_WIDGET (row->popover_error), TRUE);
      return;
    }

  ms = g_date_time_to_unix (time) * 1000;
  if (ms < g_get_real_time () / 1000 - MINUTE_MS)
    {
      gtk_label_set_text (row->popover_error, _ ("Pick a time that has not passed yet."));
      gtk_widget_set_visible (GTK_WIDGET (row->popover_error), TRUE);
      return;
    }
  if (row->view == NULL || row->view->bus == NULL || row->busy > 0)
    return;

  gtk_widget_set_visible (GTK_WIDGET (row->popover_error), FALSE);
  gtk_menu_button_popdown (row->reschedule_button);
  row_clear_error (row);
  iso = cx_iso8601_format (ms);
  run_command (row->view, row, "rescheduleCallback", id_data (row->info->id, "desiredTime", iso),
               reschedule_done);
  row_update (row, g_get_real_time () / 1000);
}

static GtkWidget *
spin_new (int max, int page, const char *accessible_label)
{
  GtkWidget *spin = gtk_spin_button_new_with_range (0, max, 1);

  gtk_spin_button_set_increments (GTK_SPIN_BUTTON (spin), 1, page);
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), TRUE);
  gtk_spin_button_set_wrap (GTK_SPIN_BUTTON (spin), TRUE);
  gtk_editable_set_width_chars (GTK_EDITABLE (spin), 2);
  gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible_label, -1);
  return spin;
}

/* Two digits, as a clock shows them. */
static gboolean
spin_output_cb (GtkSpinButton *spin)
{
  g_autofree char *text = g_strdup_printf ("%02d", gtk_spin_button_get_value_as_int (spin));

  gtk_editable_set_text (GTK_EDITABLE (spin), text);
  return TRUE;
}

/* The popover opens on the callback's time, or on the next hour when that has passed. */
static void
reschedule_popup_cb (GtkMenuButton *button, gpointer user_data)
{
  CxAgentCallbackRow *row = user_data;
  gint64 now_ms = g_get_real_time () / 1000;
  gint64 start =
      row->info->desired_time > now_ms ? row->info->desired_time : (now_ms / 3600000 + 1) * 3600000;
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_local (start / 1000);

  if (row->calendar == NULL)
    {
      GtkWidget *popover = gtk_popover_new ();
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
      GtkWidget *time_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
      GtkWidget *time_label = gtk_label_new (_ ("Time"));
      GtkWidget *colon = gtk_label_new (":");
      GtkWidget *calendar = gtk_calendar_new ();
      GtkWidget *hour = spin_new (23, 6, _ ("Hour"));
      GtkWidget *minute = spin_new (59, 15, _ ("Minute"));
      GtkWidget *error = gtk_label_new (NULL);
      GtkWidget *confirm = gtk_button_new_with_label (_ ("Reschedule"));

      gtk_widget_set_name (calendar, "reschedule-calendar");
      gtk_accessible_update_property (GTK_ACCESSIBLE (calendar), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _ ("Date"), -1);
      gtk_widget_set_name (hour, "reschedule-hour");
      gtk_widget_set_name (minute, "reschedule-minute");
      g_signal_connect (hour, "output", G_CALLBACK (spin_output_cb), NULL);
      g_signal_connect (minute, "output", G_CALLBACK (spin_output_cb), NULL);
      gtk_widget_set_hexpand (time_label, TRUE);
      gtk_label_set_xalign (GTK_LABEL (time_label), 0);
      gtk_box_append (GTK_BOX (time_box), time_label);
      gtk_box_append (GTK_BOX (time_box), hour);
      gtk_box_append (GTK_BOX (time_box), colon);
      gtk_box_append (GTK_BOX (time_box), minute);
      gtk_widget_set_name (error, "reschedule-error");
      gtk_widget_add_css_class (error, "callback-error");
      gtk_label_set_wrap (GTK_LABEL (error), TRUE);
      gtk_label_set_max_width_chars (GTK_LABEL (error), 30);
      gtk_widget_set_visible (error, FALSE);
      gtk_widget_set_name (confirm, "reschedule-confirm");
      gtk_widget_add_css_class (confirm, "suggested-action");
      g_signal_connect_object (confirm, "clicked", G_CALLBACK (reschedule_confirm_cb), row,
                               G_CONNECT_SWAPPED);
      gtk_box_append (GTK_BOX (box), calendar);
      gtk_box_append (GTK_BOX (box), time_box);
      gtk_box_append (GTK_BOX (box), error);
      gtk_box_append (GTK_BOX (box), confirm);
      gtk_popover_set_child (GTK_POPOVER (popover), box);
      gtk_popover_set_default_widget (GTK_POPOVER (popover), confirm);
      gtk_menu_button_set_popover (row->reschedule_button, popover);

      row->calendar = GTK_CALENDAR (calendar);
      row->hour_spin = GTK_SPIN_BUTTON (hour);
      row->minute_spin = GTK_SPIN_BUTTON (minute);
      row->popover_error = GTK_LABEL (error);
    }

  gtk_calendar_select_day (row->calendar, time);
  gtk_spin_button_set_value (row->hour_spin, g_date_time_get_hour (time));
  gtk_spin_button_set_value (row->minute_spin, g_date_time_get_minute (time));
  gtk_widget_set_visible (GTK_WIDGET (row->popover_error), FALSE);
}

/* Rows: life */

static void
cx_agent_callback_row_dispose (GObject *object)
{
  CxAgentCallbackRow *row = CX_AGENT_CALLBACK_ROW (object);

  row->view = NULL;

  G_OBJECT_CLASS (cx_agent_callback_row_parent_class)->dispose (object);
}

static void
cx_agent_callback_row_finalize (GObject *object)
{
  CxAgentCallbackRow *row = CX_AGENT_CALLBACK_ROW (object);

  g_clear_pointer (&row->info, cx_callback_info_free);

  G_OBJECT_CLASS (cx_agent_callback_row_parent_class)->finalize (object);
}

static void
cx_agent_callback_row_class_init (CxAgentCallbackRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cx_agent_callback_row_dispose;
  object_class->finalize = cx_agent_callback_row_finalize;
}

static GtkLabel *
row_label (GtkWidget *box, const char *css_class)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  gtk_box_append (GTK_BOX (box), label);
  return GTK_LABEL (label);
}

static void
cx_agent_callback_row_init (CxAgentCallbackRow *row)
{
  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *column = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *message_text;
  GtkWidget *widget;

  gtk_widget_add_css_class (GTK_WIDGET (row), "callback-row");
  gtk_widget_set_hexpand (column, TRUE);
  row->number_label = row_label (column, "callback-number");
  gtk_widget_set_name (GTK_WIDGET (row->number_label), "number");
  row->name_label = row_label (column, NULL);
  gtk_widget_set_name (GTK_WIDGET (row->name_label), "customer");
  row->details_label = row_label (column, "dim-label");
  gtk_widget_set_name (GTK_WIDGET (row->details_label), "details");
  gtk_widget_add_css_class (GTK_WIDGET (row->details_label), "callback-details");

  widget = gtk_button_new_with_label (_ ("Call"));
  gtk_widget_set_name (widget, "call-button");
  g_signal_connect_swapped (widget, "clicked", G_CALLBACK (call_clicked_cb), row);
  row->call_button = GTK_BUTTON (widget);
  gtk_box_append (GTK_BOX (buttons), widget);

  widget = gtk_button_new_with_label (_ ("Complete"));
  gtk_widget_set_name (widget, "complete-button");
  gtk_widget_set_tooltip_text (widget, _ ("Mark the callback as done"));
  g_signal_connect_swapped (widget, "clicked", G_CALLBACK (complete_clicked_cb), row);
  row->complete_button = GTK_BUTTON (widget);
  gtk_box_append (GTK_BOX (buttons), widget);

  widget = gtk_menu_button_new ();
  gtk_menu_button_set_label (GTK_MENU_BUTTON (widget), _ ("Reschedule…"));
  gtk_widget_set_name (widget, "reschedule-button");
  gtk_widget_set_tooltip_text (widget, _ ("Pick another date and time"));
  gtk_menu_button_set_create_popup_func (GTK_MENU_BUTTON (widget), reschedule_popup_cb, row, NULL);
  row->reschedule_button = GTK_MENU_BUTTON (widget);
  gtk_box_append (GTK_BOX (buttons), widget);

  gtk_widget_set_valign (buttons, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (line), column);
  gtk_box_append (GTK_BOX (line), buttons);
  gtk_box_append (GTK_BOX (outer), line);

  /* Shown when no app takes tel: URIs: the number, selectable, to dial by hand. */
  row->message_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_name (row->message_box, "call-message");
  gtk_widget_add_css_class (row->message_box, "callback-message");
  message_text =
      gtk_label_new (_ ("No app for phone calls is installed. Dial the number yourself:"));
  gtk_label_set_wrap (GTK_LABEL (message_text), TRUE);
  gtk_label_set_xalign (GTK_LABEL (message_text), 0);
  gtk_box_append (GTK_BOX (row->message_box), message_text);
  widget = gtk_label_new (NULL);
  gtk_widget_set_name (widget, "call-number");
  gtk_label_set_selectable (GTK_LABEL (widget), TRUE);
  gtk_widget_add_css_class (widget, "callback-number");
  row->message_number = GTK_LABEL (widget);
  gtk_box_append (GTK_BOX (row->message_box), widget);
  gtk_widget_set_visible (row->message_box, FALSE);
  gtk_box_append (GTK_BOX (outer), row->message_box);

  row->error_label = row_label (outer, "callback-error");
  gtk_widget_set_name (GTK_WIDGET (row->error_label), "row-error");
  gtk_label_set_selectable (row->error_label, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (row->error_label), FALSE);

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), outer);
}

static CxAgentCallbackRow *
row_new (CxAgentCallbacks *view)
{
  CxAgentCallbackRow *row = g_object_ref_sink (g_object_new (CX_TYPE_AGENT_CALLBACK_ROW, NULL));

  row->view = view;
  return row;
}

/* The view: sections */

static GtkListBox *
section_list (CxAgentCallbacks *self, Section section)
{
  switch (section)
    {
      case SECTION_DUE:
        return self->due_list;
      case SECTION_SCHEDULED:
        return self->scheduled_list;
      case SECTION_DONE:
        return self->done_list;
      case SECTION_NONE:
      default:
        return NULL;
    }
}

static void
row_place (CxAgentCallbacks *self, CxAgentCallbackRow *row, Section section)
{
  GtkListBox *old = section_list (self, row->section);
  GtkListBox *new = section_list (self, section);
  gboolean had_focus = gtk_widget_has_focus (GTK_WIDGET (row));

  if (old == new)
    return;

  row->section = section;
  if (old != NULL)
    gtk_list_box_remove (old, GTK_WIDGET (row));
  if (new != NULL)
    {
      gtk_list_box_append (new, GTK_WIDGET (row));
      if (had_focus)
        gtk_widget_grab_focus (GTK_WIDGET (row));
    }
}

static void
row_remove (gpointer data)
{
  CxAgentCallbackRow *row = data;

  if (row->view != NULL)
    row_place (row->view, row, SECTION_NONE);
  row->view = NULL;
  g_object_unref (row);
}

static int
compare_done (gconstpointer a, gconstpointer b)
{
  const CxAgentCallbackRow *row_a = *(CxAgentCallbackRow *const *) a;
  const CxAgentCallbackRow *row_b = *(CxAgentCallbackRow *const *) b;

  /* Most recent first. */
  if (row_a->info->desired_time != row_b->info->desired_time)
    return row_a->info->desired_time > row_b->info->desired_time ? -1 : 1;
  return g_strcmp0 (row_a->info->id, row_b->info->id);
}

static int
sort_soonest_cb (GtkListBoxRow *a, GtkListBoxRow *b, gpointer user_data)
{
  CxAgentCallbackRow *row_a = CX_AGENT_CALLBACK_ROW (a);
  CxAgentCallbackRow *row_b = CX_AGENT_CALLBACK_ROW (b);

  if (row_a->info->desired_time != row_b->info->desired_time)
    return row_a->info->desired_time < row_b->info->desired_time ? -1 : 1;
  return g_strcmp0 (row_a->info->id, row_b->info->id);
}

static int
sort_recent_cb (GtkListBoxRow *a, GtkListBoxRow *b, gpointer user_data)
{
  return compare_done (&a, &b);
}

static gboolean tick_cb (gpointer user_data);

/* At the next minute, or when the next scheduled callback falls due if that is sooner. */
static void
schedule_tick (CxAgentCallbacks *self, gint64 now_ms, gint64 next_due)
{
  gint64 next = (now_ms / MINUTE_MS + 1) * MINUTE_MS;

  if (next_due > now_ms && next_due < next)
    next = next_due;
  g_clear_handle_id (&self->tick_id, g_source_remove);
  if (g_hash_table_size (self->rows) > 0)
    self->tick_id = g_timeout_add ((guint) (next - now_ms), tick_cb, self);
}

static void
set_heading (GtkLabel *heading, const char *name, guint count)
{
  g_autofree char *text = NULL;

  if (count == 0)
    {
      gtk_label_set_text (heading, name);
      return;
    }
  /* Translators: a section heading and how many callbacks it holds */
  text = g_strdup_printf (_ ("%s (%u)"), name, count);
  gtk_label_set_text (heading, text);
}

static void
resection (CxAgentCallbacks *self)
{
  gint64 now_ms = g_get_real_time () / 1000;
  gint64 next_due = G_MAXINT64;
  g_autoptr (GPtrArray) done = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  guint n_due = 0, n_scheduled = 0;

  g_hash_table_iter_init (&iter, self->rows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      CxAgentCallbackRow *row = value;
      const CxCallbackInfo *info = row->info;

      if (state_is_closed (info->state))
        g_ptr_array_add (done, row);
      else if (info->desired_time <= now_ms)
        {
          row_place (self, row, SECTION_DUE);
          n_due++;
        }
      else
        {
          row_place (self, row, SECTION_SCHEDULED);
          n_scheduled++;
          next_due = MIN (next_due, info->desired_time);
        }
    }

  g_ptr_array_sort (done, compare_done);
  for (guint i = 0; i < done->len; i++)
    row_place (self, g_ptr_array_index (done, i), i < DONE_CAP ? SECTION_DONE : SECTION_NONE);

  g_hash_table_iter_init (&iter, self->rows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    row_update (value, now_ms);

  gtk_list_box_invalidate_sort (self->due_list);
  gtk_list_box_invalidate_sort (self->scheduled_list);
  gtk_list_box_invalidate_sort (self->done_list);
  set_heading (self->due_heading, _ ("Due now"), n_due);
  set_heading (self->scheduled_heading, _ ("Scheduled"), n_scheduled);
  set_heading (self->done_heading, _ ("Done"), MIN (done->len, DONE_CAP));

  schedule_tick (self, now_ms, next_due);

  if (self->n_due != n_due)
    {
      self->n_due = n_due;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_DUE]);
    }
}

static gboolean
tick_cb (gpointer user_data)
{
  CxAgentCallbacks *self = user_data;

  self->tick_id = 0;
  resection (self);
  return G_SOURCE_REMOVE;
}

static void
clear_rows (CxAgentCallbacks *self)
{
  g_hash_table_remove_all (self->rows);
  resection (self);
}

/* The view: the list from the service */

static void
show_error (CxAgentCallbacks *self, const GError *error)
{
  if (error == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
      return;
    }

  {
    /* Translators: %s is the reason */
    g_autofree char *text = g_strdup_printf (_ ("Cannot list the callbacks: %s"), error->message);

    gtk_label_set_text (self->error_label, text);
    gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
  }
}

static void
apply_list (CxAgentCallbacks *self, JsonNode *reply)
{
  JsonArray *array = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key;

  if (reply != NULL && JSON_NODE_HOLDS_OBJECT (reply))
    {
      JsonNode *member = json_object_get_member (json_node_get_object (reply), "callbacks");

      if (member != NULL && JSON_NODE_HOLDS_ARRAY (member))
        array = json_node_get_array (member);
    }
  if (array == NULL)
    {
      g_autoptr (GError) error =
          g_error_new_literal (CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_BAD_REPLY,
                               _ ("The server’s reply is not a list of callbacks"));
      show_error (self, error);
      return;
    }

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autoptr (CxCallbackInfo) info = NULL;
      g_autoptr (GError) error = NULL;
      CxAgentCallbackRow *row;

      /* A malformed callback is left out; the others still show. */
      if (!cx_callback_parse_object (json_array_get_element (array, i), &info, &error))
        {
          g_debug ("A malformed callback: %s", error->message);
          continue;
        }
      if (g_hash_table_contains (seen, info->id))
        continue;

      row = g_hash_table_lookup (self->rows, info->id);
      if (row == NULL)
        {
          row = row_new (self);
          g_hash_table_insert (self->rows, g_strdup (info->id), row);
        }
      row_set_info (row, g_steal_pointer (&info));
      g_hash_table_add (seen, row->info->id);
    }

  g_hash_table_iter_init (&iter, self->rows);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (seen, key))
      g_hash_table_iter_remove (&iter);

  show_error (self, NULL);
  resection (self);
}

static void
get_callbacks_done (CxAgentCallbacks *self, CxAgentCallbackRow *row, JsonNode *result,
                    const GError *error)
{
  gboolean stale = result == NULL && error == NULL;

  self->refreshing = FALSE;

  if (!stale)
    {
      if (g_error_matches (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN))
        {
          show_error (self, NULL);
          clear_rows (self);
        }
      else if (error != NULL)
        show_error (self, error);
      else
        apply_list (self, result);
    }

  if (self->refresh_again)
    {
      self->refresh_again = FALSE;
      refresh (self);
    }
}

static void
refresh (CxAgentCallbacks *self)
{
  if (self->bus == NULL)
    return;

  /* One request at a time; a change during it asks for one more. */
  if (self->refreshing)
    {
      self->refresh_again = TRUE;
      return;
    }
  self->refreshing = TRUE;
  run_command (self, NULL, "getCallbacks", NULL, get_callbacks_done);
}

static void
service_event_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxAgentCallbacks *self = user_data;

  if (g_strcmp0 (event->event, COMMAND_PREFIX "signedOut") == 0)
    {
      self->generation++;
      self->refresh_again = FALSE;
      show_error (self, NULL);
      clear_rows (self);
    }
  else if (g_strcmp0 (event->event, COMMAND_PREFIX "signedIn") == 0 ||
           g_strcmp0 (event->event, COMMAND_PREFIX "callbacksChanged") == 0 ||
           g_strcmp0 (event->event, COMMAND_PREFIX "connectionRestored") == 0)
    refresh (self);
}

static void
row_activated_cb (GtkListBox *list, GtkListBoxRow *row, CxAgentCallbacks *self)
{
  row_call (CX_AGENT_CALLBACK_ROW (row));
}

/* Public */

/**
 * cx_agent_callbacks_set_bus:
 * @bus: (nullable): the window's bus, with its AgentService
 *
 * Shows the callbacks of the AgentService on @bus, and follows it.
 */
void
cx_agent_callbacks_set_bus (CxAgentCallbacks *self, CxBus *bus)
{
  g_return_if_fail (CX_IS_AGENT_CALLBACKS (self));
  g_return_if_fail (bus == NULL || CX_IS_BUS (bus));

  if (self->bus == bus)
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->subscription != 0)
    cx_bus_unsubscribe (self->bus, self->subscription);
  self->subscription = 0;
  g_clear_object (&self->bus);
  self->refreshing = FALSE;
  self->refresh_again = FALSE;
  self->generation++;
  show_error (self, NULL);
  clear_rows (self);

  if (bus == NULL)
    return;

  self->bus = g_object_ref (bus);
  self->cancellable = g_cancellable_new ();
  self->subscription = cx_bus_subscribe (bus, NULL, service_event_cb, self, NULL);
  refresh (self);
}

guint
cx_agent_callbacks_get_n_due (CxAgentCallbacks *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CALLBACKS (self), 0);

  return self->n_due;
}

GtkWidget *
cx_agent_callbacks_new (void)
{
  return g_object_new (CX_TYPE_AGENT_CALLBACKS, NULL);
}

/* GObject */

static void
cx_agent_callbacks_dispose (GObject *object)
{
  CxAgentCallbacks *self = CX_AGENT_CALLBACKS (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  if (self->subscription != 0 && self->bus != NULL)
    cx_bus_unsubscribe (self->bus, self->subscription);
  self->subscription = 0;
  g_clear_object (&self->bus);
  if (self->rows != NULL)
    g_hash_table_remove_all (self->rows);
  gtk_widget_dispose_template (GTK_WIDGET (self), CX_TYPE_AGENT_CALLBACKS);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (cx_agent_callbacks_parent_class)->dispose (object);
}

static void
cx_agent_callbacks_finalize (GObject *object)
{
  CxAgentCallbacks *self = CX_AGENT_CALLBACKS (object);

  g_clear_pointer (&self->rows, g_hash_table_unref);

  G_OBJECT_CLASS (cx_agent_callbacks_parent_class)->finalize (object);
}

static void
cx_agent_callbacks_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxAgentCallbacks *self = CX_AGENT_CALLBACKS (object);

  switch (prop_id)
    {
      case PROP_N_DUE:
        g_value_set_uint (value, self->n_due);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_agent_callbacks_class_init (CxAgentCallbacksClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cx_agent_callbacks_dispose;
  object_class->finalize = cx_agent_callbacks_finalize;
  object_class->get_property = cx_agent_callbacks_get_property;

  /**
   * CxAgentCallbacks:n-due:
   *
   * How many open callbacks are due: their desired time has passed.
   */
  properties[PROP_N_DUE] =
      g_param_spec_uint ("n-due", NULL, NULL, 0, G_MAXUINT, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cxdesk/CxDesk/Agent/"
                                                             "cx-agent-callbacks.ui");
  gtk_widget_class_bind_template_child (widget_class, CxAgentCallbacks, scroller);
  gtk_widget_class_bind_template_child (widget_class, CxAgentCallbacks, error_label);
  gtk_widget_class_bind_template_child (widget_class, CxAgentCallbacks, due_heading);
  gtk_widget_class_bind_template_child (widget_class, CxAgentCallbacks, due_list);
  gtk_widget_class_bind_template_child (widget_class, CxAgentCallbacks, scheduled_heading);
  gtk_widget_class_bind_template_child (widget_class, CxAgentCallbacks, scheduled_list);
  gtk_widget_class_bind_template_child (widget_class, CxAgentCallbacks, done_heading);
  gtk_widget_class_bind_template_child (widget_class, CxAgentCallbacks, done_list);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "cxagentcallbacks");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
cx_agent_callbacks_init (CxAgentCallbacks *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, row_remove);

  gtk_list_box_set_sort_func (self->due_list, sort_soonest_cb, NULL, NULL);
  gtk_list_box_set_sort_func (self->scheduled_list, sort_soonest_cb, NULL, NULL);
  gtk_list_box_set_sort_func (self->done_list, sort_recent_cb, NULL, NULL);
  g_signal_connect_object (self->due_list, "row-activated", G_CALLBACK (row_activated_cb), self, 0);
  g_signal_connect_object (self->scheduled_list, "row-activated", G_CALLBACK (row_activated_cb),
                           self, 0);
  g_signal_connect_object (self->done_list, "row-activated", G_CALLBACK (row_activated_cb), self,
                           0);
}
