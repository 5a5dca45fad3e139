/* cx-calendar.c: the "Calendar" UI plugin: the free callback times of the days ahead.
 *
 * The days (numberOfDays of them, from today, in local time) are a row of toggle buttons; the
 * chosen day's times are a grid of toggle buttons below, one group, so exactly one time is
 * chosen. Arrow keys move between the buttons (GtkWindow's move-focus bindings), Tab leaves
 * the grid. A full slot is shown disabled ("fully booked" in its accessible name), or left
 * out with hideUnavailableTimeSlots; times already past are never offered.
 *
 * The slots come from "CallbackService.availability" (generate) or from whoever has them
 * already (showAvailability). A reply that arrives after a newer request is dropped.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-calendar"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <stdio.h>

#include "protocol/cx-gms-callback.h"
#include "protocol/cx-protocol.h"
#include "widgets/cx-calendar.h"

#define SERVICE "CallbackService"
#define DEFAULT_NUMBER_OF_DAYS 5
#define MAX_NUMBER_OF_DAYS 30
#define SLOT_COLUMNS 4
#define AVAILABILITY_TIMEOUT_MS (2u * 60 * 1000)

typedef struct
{
  gint64 start; /* ms since the epoch */
  guint capacity;
} Slot;

struct _CxCalendar
{
  GtkWidget parent_instance;

  CxBus *bus;
  CxPlugin *plugin;
  GCancellable *request; /* the availability request under way, if any */

  guint number_of_days;
  int open_minute;  /* -1: none */
  int close_minute; /* -1: none */
  guint interval;   /* minutes; 0: every slot */
  gboolean hide_unavailable;
  guint hours; /* 12 or 24 */

  GArray *slots;   /* Slot, by time */
  GPtrArray *days; /* GDateTime, local midnight */
  guint day;       /* index into days */
  gint64 selected;
  gboolean loading;
  gboolean generated;

  GtkWidget *day_box;
  GtkWidget *status_box;
  GtkWidget *spinner;
  GtkWidget *status_label;
  GtkWidget *retry_button;
  GtkWidget *slot_grid;
};

G_DEFINE_FINAL_TYPE (CxCalendar, cx_calendar, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_SELECTED_TIME,
  PROP_LOADING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const event_names[] = { "generated", "selectedDateTime", NULL };

/* Helpers */

static void
publish (CxCalendar *self, const char *event, JsonObject *object)
{
  g_autoptr (JsonNode) data = cx_json_node_new_object (object);

  if (self->plugin == NULL || cx_plugin_get_bus (self->plugin) == NULL)
    return;
  cx_plugin_publish (self->plugin, event, data);
}

static GDateTime *
local_time (gint64 ms)
{
  return g_date_time_new_from_unix_local (ms / 1000);
}

static gint64
ms_of (GDateTime *dt)
{
  return g_date_time_to_unix (dt) * 1000;
}

/* "HH:MM" in minutes after midnight, or -1. */
static int
parse_clock (const char *text)
{
  unsigned int h, m;
  char end;

  if (text == NULL || sscanf (text, "%2u:%2u%c", &h, &m, &end) != 2 || h > 24 || m > 59 ||
      (h == 24 && m != 0))
    return -1;
  return (int) (h * 60 + m);
}

char *
cx_calendar_format_time (gint64 ms, guint hours)
{
  g_autoptr (GDateTime) dt = local_time (ms);

  if (hours == 12)
    /* Translators: a callback time, see g_date_time_format(): "Tuesday 3 December, 2:30 PM" */
    return g_date_time_format (dt, _ ("%A %-d %B, %-l:%M %p"));
  /* Translators: a callback time, see g_date_time_format(): "Tuesday 3 December, 14:30" */
  return g_date_time_format (dt, _ ("%A %-d %B, %H:%M"));
}

static char *
format_clock (CxCalendar *self, GDateTime *dt)
{
  if (self->hours == 12)
    /* Translators: a time of day on a button, see g_date_time_format() */
    return g_date_time_format (dt, _ ("%-l:%M %p"));
  /* Translators: a time of day on a button, see g_date_time_format() */
  return g_date_time_format (dt, _ ("%H:%M"));
}

static void
remove_children (GtkWidget *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (box)) != NULL)
    {
      if (GTK_IS_BOX (box))
        gtk_box_remove (GTK_BOX (box), child);
      else
        gtk_grid_remove (GTK_GRID (box), child);
    }
}

static void
set_status (CxCalendar *self, const char *text, gboolean spinning, gboolean retry)
{
  gtk_label_set_text (GTK_LABEL (self->status_label), text != NULL ? text : "");
  gtk_widget_set_visible (self->status_box, text != NULL);
  gtk_widget_set_visible (self->spinner, spinning);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), spinning);
  gtk_widget_set_visible (self->retry_button, retry);
}

static void
set_loading (CxCalendar *self, gboolean loading)
{
  if (self->loading == loading)
    return;
  self->loading = loading;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
set_selected (CxCalendar *self, gint64 ms, gboolean announce)
{
  if (self->selected == ms)
    return;

  self->selected = ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_TIME]);

  if (announce && ms >= 0)
    {
      JsonObject *object = json_object_new ();
      g_autofree char *iso = cx_iso8601_format (ms);

      json_object_set_string_member (object, "date", iso);
      publish (self, "selectedDateTime", object);
    }
}

/* Whether the slot is one this calendar offers at all (its configuration, and not past). */
static gboolean
slot_offered (CxCalendar *self, const Slot *slot, gint64 now_ms)
{
  g_autoptr (GDateTime) dt = NULL;
  int minute;

  if (slot->start <= now_ms)
    return FALSE;

  dt = local_time (slot->start);
  minute = g_date_time_get_hour (dt) * 60 + g_date_time_get_minute (dt);
  if (self->open_minute >= 0 && minute < self->open_minute)
    return FALSE;
  if (self->close_minute >= 0 && minute >= self->close_minute)
    return FALSE;
  if (self->interval > 0 && (minute - MAX (self->open_minute, 0)) % (int) self->interval != 0)
    return FALSE;
  return TRUE;
}

static gboolean
slot_in_day (CxCalendar *self, const Slot *slot, guint day)
{
  GDateTime *start = g_ptr_array_index (self->days, day);
  g_autoptr (GDateTime) end = g_date_time_add_days (start, 1);

  return slot->start >= ms_of (start) && slot->start < ms_of (end);
}

static const Slot *
find_slot (CxCalendar *self, gint64 ms)
{
  for (guint i = 0; i < self->slots->len; i++)
    if (g_array_index (self->slots, Slot, i).start == ms)
      return &g_array_index (self->slots, Slot, i);
  return NULL;
}

/* The times of the chosen day */

static void
slot_toggled_cb (GtkToggleButton *button, CxCalendar *self)
{
  gint64 *ms = g_object_get_data (G_OBJECT (button), "cx-slot-time");

  if (gtk_toggle_button_get_active (button))
    set_selected (self, *ms, TRUE);
}

static void
show_day_slots (CxCalendar *self)
{
  gint64 now_ms = g_get_real_time () / 1000;
  GtkToggleButton *group = NULL;
  guint shown = 0;
  guint free_count = 0;

  remove_children (self->slot_grid);
  if (self->days->len == 0 || !self->generated)
    {
      gtk_widget_set_visible (self->slot_grid, FALSE);
      return;
    }

  for (guint i = 0; i < self->slots->len; i++)
    {
      const Slot *slot = &g_array_index (self->slots, Slot, i);
      g_autoptr (GDateTime) dt = NULL;
      g_autofree char *clock = NULL;
      g_autofree char *full = NULL;
      g_autofree char *name = NULL;
      GtkWidget *button;
      gint64 *ms;

      if (!slot_in_day (self, slot, self->day) || !slot_offered (self, slot, now_ms))
        continue;
      if (slot->capacity == 0 && self->hide_unavailable)
        continue;

      dt = local_time (slot->start);
      clock = format_clock (self, dt);
      full = cx_calendar_format_time (slot->start, self->hours);
      button = gtk_toggle_button_new_with_label (clock);
      gtk_widget_set_name (button, "slot");
      gtk_widget_add_css_class (button, "cx-slot");
      ms = g_new (gint64, 1);
      *ms = slot->start;
      g_object_set_data_full (G_OBJECT (button), "cx-slot-time", ms, g_free);

      if (slot->capacity == 0)
        {
          /* Translators: %s is a callback time, "Tuesday 3 December, 14:30" */
          name = g_strdup_printf (_ ("%s, fully booked"), full);
          gtk_widget_set_sensitive (button, FALSE);
          gtk_widget_set_tooltip_text (button, _ ("Fully booked"));
        }
      else
        {
          name = g_strdup (full);
          free_count++;
        }
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                      -1);

      if (group == NULL)
        group = GTK_TOGGLE_BUTTON (button);
      else
        gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (button), group);
      if (slot->start == self->selected && slot->capacity > 0)
        gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (button), TRUE);
      g_signal_connect_object (button, "toggled", G_CALLBACK (slot_toggled_cb), self, 0);

      gtk_grid_attach (GTK_GRID (self->slot_grid), button, shown % SLOT_COLUMNS,
                       shown / SLOT_COLUMNS, 1, 1);
      shown++;
    }

  gtk_widget_set_visible (self->slot_grid, shown > 0);
  if (free_count == 0)
    set_status (self, _ ("No free times on this day: please choose another day."), FALSE, FALSE);
  else
    set_status (self, NULL, FALSE, FALSE);
}

/* The days */

static void
day_toggled_cb (GtkToggleButton *button, CxCalendar *self)
{
  if (!gtk_toggle_button_get_active (button))
    return;

  self->day = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "cx-day"));
  show_day_slots (self);
}

static void
build_days (CxCalendar *self)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autoptr (GDateTime) today =
      g_date_time_new_local (g_date_time_get_year (now), g_date_time_get_month (now),
                             g_date_time_get_day_of_month (now), 0, 0, 0);
  GtkToggleButton *group = NULL;

  remove_children (self->day_box);
  g_ptr_array_set_size (self->days, 0);

  for (guint i = 0; i < self->number_of_days; i++)
    {
      GDateTime *day = g_date_time_add_days (today, i);
      /* Translators: a day on a button: the weekday's short name, a new line, the day of the
       * month; see g_date_time_format() */
      g_autofree char *label = g_date_time_format (day, _ ("%a\n%-d %b"));
      /* Translators: a day, for screen readers: "Tuesday 3 December" */
      g_autofree char *name = g_date_time_format (day, _ ("%A %-d %B"));
      GtkWidget *button = gtk_toggle_button_new ();
      GtkWidget *text = gtk_label_new (label);

      gtk_label_set_justify (GTK_LABEL (text), GTK_JUSTIFY_CENTER);
      gtk_button_set_child (GTK_BUTTON (button), text);
      gtk_widget_set_name (button, "day");
      gtk_widget_add_css_class (button, "cx-day");
      gtk_widget_set_hexpand (button, TRUE);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                      -1);
      g_object_set_data (G_OBJECT (button), "cx-day", GUINT_TO_POINTER (i));
      g_signal_connect_object (button, "toggled", G_CALLBACK (day_toggled_cb), self, 0);
      if (group == NULL)
        group = GTK_TOGGLE_BUTTON (button);
      else
        gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (button), group);
      gtk_box_append (GTK_BOX (self->day_box), button);
      g_ptr_array_add (self->days, day);
    }
}

static void
choose_day (CxCalendar *self, guint day)
{
  GtkWidget *child = gtk_widget_get_first_child (self->day_box);

  for (guint i = 0; child != NULL && i < day; i++)
    child = gtk_widget_get_next_sibling (child);
  self->day = day;
  if (child != NULL && !gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (child)))
    gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (child), TRUE); /* shows the day */
  else
    show_day_slots (self);
}

static int
compare_slots (gconstpointer a, gconstpointer b)
{
  const Slot *first = a;
  const Slot *second = b;

  return first->start < second->start ? -1 : first->start > second->start;
}

/* Takes the slots from an availability reply or command, by start time, each once (the first
 * given of those starting together) and at most CX_CALLBACK_MAX_SLOTS of them, as
 * cx_callback_parse_availability() reads a server's reply; FALSE if they are malformed or too
 * many. */
static gboolean
take_slots (CxCalendar *self, JsonNode *node, GError **error)
{
  g_autoptr (GArray) slots = NULL;
  JsonObject *object;
  JsonNode *member;
  JsonArray *array;
  guint length;
  guint kept = 0;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    goto malformed;
  object = json_node_get_object (node);
  member = json_object_get_member (object, "slots");
  if (member == NULL || !JSON_NODE_HOLDS_ARRAY (member))
    goto malformed;
  array = json_node_get_array (member);
  length = json_array_get_length (array);
  if (length > CX_CALLBACK_MAX_SLOTS)
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED,
                   /* Translators: %u is a number of time slots */
                   _ ("showAvailability: give at most %u time slots"), CX_CALLBACK_MAX_SLOTS);
      return FALSE;
    }

  slots = g_array_sized_new (FALSE, FALSE, sizeof (Slot), length);
  for (guint i = 0; i < length; i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      JsonObject *entry;
      JsonNode *time, *capacity;
      Slot slot;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        goto malformed;
      entry = json_node_get_object (element);
      time = json_object_get_member (entry, "time");
      capacity = json_object_get_member (entry, "capacity");
      if (time == NULL || json_node_get_value_type (time) != G_TYPE_STRING ||
          !cx_iso8601_parse (json_node_get_string (time), &slot.start, NULL) || capacity == NULL ||
          json_node_get_value_type (capacity) != G_TYPE_INT64 || json_node_get_int (capacity) < 0)
        goto malformed;
      slot.capacity = (guint) MIN (json_node_get_int (capacity), G_MAXUINT);
      g_array_append_val (slots, slot);
    }

  /* A stable sort: of the slots starting together, the first given stays. */
  g_array_sort (slots, compare_slots);
  for (guint i = 0; i < slots->len; i++)
    if (kept == 0 ||
        g_array_index (slots, Slot, i).start != g_array_index (slots, Slot, kept - 1).start)
      g_array_index (slots, Slot, kept++) = g_array_index (slots, Slot, i);
  g_array_set_size (slots, kept);

  g_array_set_size (self->slots, 0);
  g_array_append_vals (self->slots, slots->data, slots->len);
  return TRUE;

malformed:
  g_set_error_literal (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED,
                       _ ("showAvailability: give {slots: [{time (ISO-8601), capacity}]}"));
  return FALSE;
}

/* Shows the day of the choice (or of the first free time) and its times. Returns how many
 * slots are offered (the future ones the configuration allows), and in @chosen_shown whether
 * the choice is among them. */
static guint
show_choice (CxCalendar *self, gboolean *chosen_shown)
{
  gint64 now_ms = g_get_real_time () / 1000;
  guint day = 0;
  gboolean found = FALSE;
  gboolean chosen_found = FALSE;
  guint offered = 0;

  for (guint d = 0; d < self->days->len; d++)
    for (guint i = 0; i < self->slots->len; i++)
      {
        const Slot *slot = &g_array_index (self->slots, Slot, i);

        if (!slot_in_day (self, slot, d) || !slot_offered (self, slot, now_ms))
          continue;
        offered++;
        if (self->selected >= 0 && slot->start == self->selected)
          {
            day = d;
            found = chosen_found = TRUE;
          }
        else if (!found && slot->capacity > 0)
          {
            day = d;
            found = TRUE;
          }
      }

  choose_day (self, day);
  if (chosen_shown != NULL)
    *chosen_shown = chosen_found;
  return offered;
}

/* Shows the slots just taken: keeps the choice if it is still free and shown, else forgets
 * it. Returns how many of them are offered. */
static guint
show_slots (CxCalendar *self)
{
  gint64 now_ms = g_get_real_time () / 1000;
  const Slot *chosen = self->selected >= 0 ? find_slot (self, self->selected) : NULL;
  gboolean chosen_shown = FALSE;
  guint offered;
  JsonObject *object;
  JsonArray *days;

  self->generated = TRUE;
  if (chosen == NULL || chosen->capacity == 0 || !slot_offered (self, chosen, now_ms))
    set_selected (self, -1, FALSE);

  offered = show_choice (self, &chosen_shown);
  if (self->selected >= 0 && !chosen_shown)
    {
      set_selected (self, -1, FALSE);
      show_choice (self, NULL);
    }

  object = json_object_new ();
  days = json_array_new ();
  for (guint d = 0; d < self->days->len; d++)
    {
      g_autofree char *date = g_date_time_format (g_ptr_array_index (self->days, d), "%Y-%m-%d");

      json_array_add_string_element (days, date);
    }
  json_object_set_array_member (object, "days", days);
  json_object_set_int_member (object, "slots", offered);
  publish (self, "generated", object);
  return offered;
}

/* Generating */

typedef struct
{
  CxCalendar *self;   /* a reference */
  CxCommand *command; /* nullable: a generate command to answer */
  GCancellable *cancellable;
} Generation;

static void
generation_free (Generation *generation)
{
  g_clear_object (&generation->self);
  g_clear_object (&generation->command);
  g_clear_object (&generation->cancellable);
  g_free (generation);
}

static void
availability_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Generation *generation = user_data;
  CxCalendar *self = generation->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  guint offered;

  /* A newer request, a reset, or the calendar going away. */
  if (g_cancellable_is_cancelled (generation->cancellable) ||
      self->request != generation->cancellable)
    {
      if (generation->command != NULL)
        cx_command_reject_message (generation->command, _ ("The calendar was reset"));
      generation_free (generation);
      return;
    }

  g_clear_object (&self->request);

  if (reply != NULL && !take_slots (self, reply, NULL))
    error = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INTERNAL,
                                 _ ("The free times could not be read"));
  if (error != NULL)
    {
      g_autofree char *text =
          /* Translators: %s says why */
          g_strdup_printf (_ ("The free times could not be loaded: %s"), error->message);

      set_loading (self, FALSE);
      set_status (self, text, FALSE, TRUE);
      if (generation->command != NULL)
        cx_command_reject (generation->command, g_steal_pointer (&error));
      generation_free (generation);
      return;
    }

  /* Loading ends once the slots are shown: a watcher of "loading" finds them. */
  offered = show_slots (self);
  set_loading (self, FALSE);
  if (generation->command != NULL)
    {
      JsonObject *object = json_object_new ();
      g_autoptr (JsonNode) data = NULL;

      json_object_set_int_member (object, "slots", offered);
      data = cx_json_node_new_object (object);
      cx_command_resolve (generation->command, data);
    }
  generation_free (generation);
}

static void
generate (CxCalendar *self, guint number_of_days, CxCommand *command)
{
  Generation *generation;
  JsonObject *object;
  g_autoptr (JsonNode) data = NULL;

  if (self->bus == NULL)
    {
      if (command != NULL)
        cx_command_reject_message (command, _ ("The calendar is not on a bus"));
      return;
    }

  if (self->request != NULL)
    g_cancellable_cancel (self->request);
  g_clear_object (&self->request);
  self->request = g_cancellable_new ();

  self->number_of_days = number_of_days;
  build_days (self);
  self->generated = FALSE;
  show_day_slots (self);
  set_loading (self, TRUE);
  set_status (self, _ ("Looking for free times…"), TRUE, FALSE);

  generation = g_new0 (Generation, 1);
  generation->self = g_object_ref (self);
  generation->command = command != NULL ? g_object_ref (command) : NULL;
  generation->cancellable = g_object_ref (self->request);

  object = json_object_new ();
  json_object_set_int_member (object, "numberOfDays", number_of_days);
  data = cx_json_node_new_object (object);
  cx_bus_command_async (self->bus, self->plugin, SERVICE ".availability", data,
                        AVAILABILITY_TIMEOUT_MS, self->request, availability_cb, generation);
}

static void
retry_clicked_cb (CxCalendar *self)
{
  generate (self, self->number_of_days, NULL);
}

/* Commands */

static void
generate_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxCalendar *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonNode *days = NULL;
  guint number_of_days = self->number_of_days;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    days = json_object_get_member (json_node_get_object (data), "numberOfDays");
  if (days != NULL && !JSON_NODE_HOLDS_NULL (days))
    {
      if (json_node_get_value_type (days) != G_TYPE_INT64 || json_node_get_int (days) < 1 ||
          json_node_get_int (days) > MAX_NUMBER_OF_DAYS)
        {
          cx_command_reject_message (command,
                                     _ ("generate: “numberOfDays” must be a whole number "
                                        "from 1 to %d"),
                                     MAX_NUMBER_OF_DAYS);
          return;
        }
      number_of_days = (guint) json_node_get_int (days);
    }

  generate (self, number_of_days, command);
}

static void
reset_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  cx_calendar_reset (CX_CALENDAR (user_data));
  cx_command_resolve (command, NULL);
}

static void
show_availability_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxCalendar *self = user_data;
  g_autoptr (GError) error = NULL;

  /* Malformed slots, or too many, leave the ones shown as they are. */
  if (!take_slots (self, cx_command_get_data (command), &error))
    {
      cx_command_reject (command, g_steal_pointer (&error));
      return;
    }

  /* What is shown now is what was given: a request under way would replace it. */
  if (self->request != NULL)
    g_cancellable_cancel (self->request);
  g_clear_object (&self->request);
  build_days (self);
  show_slots (self);
  set_loading (self, FALSE);
  cx_command_resolve (command, NULL);
}

/* Object */

static void
cx_calendar_dispose (GObject *object)
{
  CxCalendar *self = CX_CALENDAR (object);
  GtkWidget *child;

  if (self->request != NULL)
    g_cancellable_cancel (self->request);
  g_clear_object (&self->request);

  cx_plugin_leave_bus (&self->plugin);
  g_clear_object (&self->bus);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (cx_calendar_parent_class)->dispose (object);
}

static void
cx_calendar_finalize (GObject *object)
{
  CxCalendar *self = CX_CALENDAR (object);

  g_clear_pointer (&self->slots, g_array_unref);
  g_clear_pointer (&self->days, g_ptr_array_unref);

  G_OBJECT_CLASS (cx_calendar_parent_class)->finalize (object);
}

static void
cx_calendar_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxCalendar *self = CX_CALENDAR (object);

  switch (prop_id)
    {
      case PROP_SELECTED_TIME:
        g_value_set_int64 (value, self->selected);
        break;

      case PROP_LOADING:
        g_value_set_boolean (value, self->loading);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_calendar_class_init (CxCalendarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = cx_calendar_dispose;
  object_class->finalize = cx_calendar_finalize;
  object_class->get_property = cx_calendar_get_property;

  properties[PROP_SELECTED_TIME] =
      g_param_spec_int64 ("selected-time", NULL, NULL, -1, G_MAXINT64, -1, flags);
  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "cxcalendar");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
cx_calendar_init (CxCalendar *self)
{
  GtkWidget *widget = GTK_WIDGET (self);

  self->number_of_days = DEFAULT_NUMBER_OF_DAYS;
  self->open_minute = -1;
  self->close_minute = -1;
  self->hours = 24;
  self->selected = -1;
  self->slots = g_array_new (FALSE, FALSE, sizeof (Slot));
  self->days = g_ptr_array_new_with_free_func ((GDestroyNotify) g_date_time_unref);

  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (widget)),
                                  GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (gtk_widget_get_layout_manager (widget)), 8);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Callback times"), -1);

  self->day_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  gtk_box_set_homogeneous (GTK_BOX (self->day_box), TRUE);
  gtk_widget_add_css_class (self->day_box, "cx-days");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->day_box), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Day"), -1);
  gtk_widget_set_parent (self->day_box, widget);

  self->status_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_add_css_class (self->status_box, "cx-calendar-status");
  self->spinner = gtk_spinner_new ();
  gtk_box_append (GTK_BOX (self->status_box), self->spinner);
  self->status_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->status_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 0);
  gtk_widget_set_hexpand (self->status_label, TRUE);
  gtk_box_append (GTK_BOX (self->status_box), self->status_label);
  self->retry_button = gtk_button_new_with_mnemonic (_ ("_Try Again"));
  gtk_widget_set_name (self->retry_button, "retry");
  gtk_widget_set_valign (self->retry_button, GTK_ALIGN_CENTER);
  g_signal_connect_object (self->retry_button, "clicked", G_CALLBACK (retry_clicked_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (self->status_box), self->retry_button);
  gtk_widget_set_parent (self->status_box, widget);

  self->slot_grid = gtk_grid_new ();
  gtk_grid_set_column_homogeneous (GTK_GRID (self->slot_grid), TRUE);
  gtk_grid_set_row_spacing (GTK_GRID (self->slot_grid), 4);
  gtk_grid_set_column_spacing (GTK_GRID (self->slot_grid), 4);
  gtk_widget_add_css_class (self->slot_grid, "cx-slots");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->slot_grid), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Time"), -1);
  gtk_widget_set_parent (self->slot_grid, widget);

  build_days (self);
  set_status (self, NULL, FALSE, FALSE);
  gtk_widget_set_visible (self->slot_grid, FALSE);
}

GtkWidget *
cx_calendar_new (void)
{
  return g_object_new (CX_TYPE_CALENDAR, NULL);
}

static gboolean
config_uint (JsonObject *config, const char *member, guint min, guint max, guint *out)
{
  JsonNode *node = config != NULL ? json_object_get_member (config, member) : NULL;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  if (json_node_get_int (node) < min || json_node_get_int (node) > max)
    {
      g_warning ("calendar.%s must be from %u to %u: ignored", member, min, max);
      return FALSE;
    }
  *out = (guint) json_node_get_int (node);
  return TRUE;
}

static const char *
config_string (JsonObject *config, const char *member)
{
  JsonNode *node = config != NULL ? json_object_get_member (config, member) : NULL;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static const CxCommandSpec command_specs[] = {
  { "generate", generate_command_cb },
  { "reset", reset_command_cb },
  { "showAvailability", show_availability_command_cb },
};

/**
 * cx_calendar_attach:
 * @self: the calendar
 * @bus: the window's bus
 * @config: (nullable): the configuration's "calendar" section
 * @error: return location for a #GError
 *
 * Registers the "Calendar" plugin on @bus and makes it ready.
 *
 * Returns: %TRUE, or %FALSE with @error set (the name is taken on @bus)
 */
gboolean
cx_calendar_attach (CxCalendar *self, CxBus *bus, JsonObject *config, GError **error)
{
  CxPlugin *plugin;
  JsonNode *hide;

  g_return_val_if_fail (CX_IS_CALENDAR (self), FALSE);
  g_return_val_if_fail (CX_IS_BUS (bus), FALSE);
  g_return_val_if_fail (self->plugin == NULL, FALSE);

  config_uint (config, "numberOfDays", 1, MAX_NUMBER_OF_DAYS, &self->number_of_days);
  config_uint (config, "interval", 1, 24 * 60, &self->interval);
  self->open_minute = parse_clock (config_string (config, "openTime"));
  self->close_minute = parse_clock (config_string (config, "closeTime"));
  hide = config != NULL ? json_object_get_member (config, "hideUnavailableTimeSlots") : NULL;
  if (hide != NULL && json_node_get_value_type (hide) == G_TYPE_BOOLEAN)
    self->hide_unavailable = json_node_get_boolean (hide);
  build_days (self);

  self->plugin = cx_bus_register_plugin_with_table (
      bus, CX_CALENDAR_NAME, event_names, command_specs, G_N_ELEMENTS (command_specs), self, error);
  if (self->plugin == NULL)
    return FALSE;
  plugin = self->plugin;
  self->bus = g_object_ref (bus);

  cx_plugin_ready (plugin);
  return TRUE;
}

CxPlugin *
cx_calendar_get_plugin (CxCalendar *self)
{
  g_return_val_if_fail (CX_IS_CALENDAR (self), NULL);

  return self->plugin;
}

/* 12 or 24 (main.timeFormat). */
void
cx_calendar_set_time_format (CxCalendar *self, guint hours)
{
  g_return_if_fail (CX_IS_CALENDAR (self));

  self->hours = hours == 12 ? 12 : 24;
  show_day_slots (self);
}

/* Asks for the free slots again and shows them; the choice stays if it is still free. */
void
cx_calendar_generate (CxCalendar *self)
{
  g_return_if_fail (CX_IS_CALENDAR (self));

  generate (self, self->number_of_days, NULL);
}

void
cx_calendar_reset (CxCalendar *self)
{
  g_return_if_fail (CX_IS_CALENDAR (self));

  if (self->request != NULL)
    g_cancellable_cancel (self->request);
  g_clear_object (&self->request);
  set_loading (self, FALSE);
  g_array_set_size (self->slots, 0);
  self->generated = FALSE;
  set_selected (self, -1, FALSE);
  build_days (self);
  show_day_slots (self);
  set_status (self, NULL, FALSE, FALSE);
}

gboolean
cx_calendar_get_loading (CxCalendar *self)
{
  g_return_val_if_fail (CX_IS_CALENDAR (self), FALSE);

  return self->loading;
}

gint64
cx_calendar_get_selected_time (CxCalendar *self)
{
  g_return_val_if_fail (CX_IS_CALENDAR (self), -1);

  return self->selected;
}

/* Chooses the slot at @ms if it is shown and free (a prefilled desiredTime). */
gboolean
cx_calendar_select_time (CxCalendar *self, gint64 ms)
{
  const Slot *slot;
  gboolean shown = FALSE;

  g_return_val_if_fail (CX_IS_CALENDAR (self), FALSE);

  slot = find_slot (self, ms);
  if (slot == NULL || slot->capacity == 0 || !slot_offered (self, slot, g_get_real_time () / 1000))
    return FALSE;
  for (guint d = 0; d < self->days->len && !shown; d++)
    shown = slot_in_day (self, slot, d);
  if (!shown)
    return FALSE;

  set_selected (self, ms, TRUE);
  show_choice (self, NULL);
  return TRUE;
}
