/* test-callback-ui.c: the customer's callback panel (CxCallback) and its calendar, the real
 * widgets in a real GtkWindow, on a real bus with a real CallbackService, against the real
 * cxdesk-server (tests/server/cx-test-server.c).
 *
 * The panel is driven the way a customer drives it: entry text set, buttons clicked, a time
 * slot picked in the calendar, a country chosen in the list. What it shows is read back from its
 * widgets, what it publishes from the bus, and what was booked from the server itself (as the
 * GMS API and as an agent see it).
 *
 * Every wait iterates the main context until a condition holds (cx_test_wait): no sleeps, and
 * a generous hang guard that fails naming the condition; nothing measures time.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-callback-ui"

#include "config.h"

#include <gtk/gtk.h>
#include <string.h>

#include "bus/cx-bus.h"
#include "cx-test-server.h"
#include "cx-test-ui.h"
#include "protocol/cx-gms-callback.h"
#include "services/cx-callback-service.h"
#include "services/cx-http.h"
#include "widgets/cx-calendar.h"
#include "widgets/cx-callback.h"

#define SERVICE "customer-support"
/* A time picked starts at least this far ahead, so that it has not begun by the time the
 * request reaches the server. */
#define SLOT_MARGIN_MS (60 * 1000)

typedef CxTestFixture Fixture;

/* A site window: the bus, the service, the panel in a window, what was published, and how many
 * HTTP requests went out */

typedef struct
{
  Fixture *f;
  CxHttp *http;
  CxBus *bus;
  CxCallbackService *service;
  GtkWindow *window;
  CxCallback *panel;
  CxTestRecorder *events; /* everything published */
  guint requests;
  gulong queued_id;
} Ui;

static void
load_style (void)
{
  static gboolean loaded;
  g_autoptr (GtkCssProvider) provider = NULL;

  if (loaded)
    return;
  loaded = TRUE;

  /* The application's style sheet, so that a rule it cannot parse fails here. */
  provider = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (provider, "/io/github/cxdesk/CxDesk/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static Ui *
ui_new (Fixture *f)
{
  Ui *ui = g_new0 (Ui, 1);
  g_autoptr (JsonObject) config = json_object_new ();
  g_autoptr (JsonObject) calendar = json_object_new ();
  g_autoptr (JsonObject) user_data = json_object_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *data_url =
      g_strconcat (cx_test_server_get_url (f->server), "genesys/1/service/callback/" SERVICE, NULL);

  load_style ();

  json_object_set_string_member (config, "dataURL", data_url);
  /* Generous: a sanitizer build must not look like a dead server. */
  json_object_set_int_member (config, "ajaxTimeout", 10000);
  json_object_set_int_member (calendar, "numberOfDays", 2);
  json_object_set_object_member (config, "calendar", json_object_ref (calendar));
  json_object_set_string_member (user_data, "origin", "test-callback-ui");
  json_object_set_object_member (config, "userData", json_object_ref (user_data));

  ui->f = f;
  ui->http = cx_http_new (NULL);
  ui->bus = cx_bus_new ();
  ui->events = cx_test_recorder_new (ui->bus, NULL);
  ui->queued_id = cx_test_count_requests (cx_http_get_session (ui->http), &ui->requests);

  /* As the site window does: the panel first, then the service it commands. */
  ui->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (ui->window, 480, 900);
  ui->panel = CX_CALLBACK (cx_callback_new ());
  gtk_window_set_child (ui->window, GTK_WIDGET (ui->panel));
  g_assert_true (cx_callback_attach (ui->panel, ui->bus, config, calendar, &error));
  g_assert_no_error (error);
  ui->service = cx_callback_service_new (ui->bus, ui->http, config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ui->service);

  gtk_window_present (ui->window);
  cx_test_wait (cx_test_widget_is_mapped, ui->window);
  return ui;
}

static void
ui_free (Ui *ui)
{
  gpointer panel = ui->panel;

  g_object_add_weak_pointer (G_OBJECT (panel), &panel);
  gtk_window_destroy (ui->window);
  /* The calendar holds itself while its last request unwinds. */
  cx_test_wait (cx_test_pointer_is_null, &panel);

  g_assert_finalize_object (g_steal_pointer (&ui->service));
  g_clear_pointer (&ui->events, cx_test_recorder_free);
  cx_test_wait (cx_test_has_one_ref, ui->bus);
  g_assert_finalize_object (ui->bus);
  g_signal_handler_disconnect (cx_http_get_session (ui->http), ui->queued_id);
  cx_test_wait (cx_test_has_one_ref, ui->http);
  g_assert_finalize_object (ui->http);
  g_free (ui);
}

/* The panel's widgets, found by their template ids */

static GtkWidget *
widget (Ui *ui, const char *id)
{
  GtkWidget *found = cx_test_ui_find_by_id (GTK_WIDGET (ui->panel), id);

  if (found == NULL)
    g_error ("The callback panel has no widget “%s”", id);
  return found;
}

static const char *
label_text (Ui *ui, const char *id)
{
  return gtk_label_get_text (GTK_LABEL (widget (ui, id)));
}

static const char *
entry_text (Ui *ui, const char *id)
{
  return gtk_editable_get_text (GTK_EDITABLE (widget (ui, id)));
}

static void
set_text (Ui *ui, const char *id, const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (widget (ui, id)), text);
}

static gboolean
shown (Ui *ui, const char *id)
{
  GtkWidget *found = widget (ui, id);

  return gtk_widget_is_visible (found) && gtk_widget_get_child_visible (found);
}

static const char *
page (Ui *ui)
{
  return gtk_stack_get_visible_child_name (GTK_STACK (widget (ui, "stack")));
}

/* A click on a button the customer can click. */
static void
click (GtkWidget *button)
{
  g_assert_true (gtk_widget_is_visible (button));
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
}

static void
click_id (Ui *ui, const char *id)
{
  click (widget (ui, id));
}

/* Whether the keyboard focus is in the widget @id (an entry's focus is its text child). */
static gboolean
has_focus (Ui *ui, const char *id)
{
  GtkWidget *focus = gtk_root_get_focus (gtk_widget_get_root (GTK_WIDGET (ui->panel)));
  GtkWidget *expected = widget (ui, id);

  return focus != NULL && (focus == expected || gtk_widget_is_ancestor (focus, expected));
}

static void
open_panel (Ui *ui)
{
  g_autoptr (JsonNode) result = cx_test_bus_command_ok (ui->bus, "Callback.open", NULL);

  g_assert_true (cx_callback_get_open (ui->panel));
  cx_test_wait (cx_test_widget_is_mapped, ui->panel);
}

/* Chooses the country whose entry in the list starts with @name. */
static void
choose_country (Ui *ui, const char *name)
{
  GtkDropDown *dropdown = GTK_DROP_DOWN (widget (ui, "country_dropdown"));
  GListModel *model = gtk_drop_down_get_model (dropdown);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (GtkStringObject) item = g_list_model_get_item (model, i);

      if (g_str_has_prefix (gtk_string_object_get_string (item), name))
        {
          gtk_drop_down_set_selected (dropdown, i);
          return;
        }
    }
  g_error ("No country “%s” in the list", name);
}

static const char *
chosen_country (Ui *ui)
{
  GtkDropDown *dropdown = GTK_DROP_DOWN (widget (ui, "country_dropdown"));

  return gtk_string_object_get_string (
      GTK_STRING_OBJECT (gtk_drop_down_get_selected_item (dropdown)));
}

static void
fill_form (Ui *ui, const char *phone)
{
  set_text (ui, "first_name_entry", "Grace");
  set_text (ui, "last_name_entry", "Hopper");
  choose_country (ui, "United States");
  set_text (ui, "phone_entry", phone);
  set_text (ui, "subject_entry", "Billing <b>question</b>");
}

/* The calendar */

static CxCalendar *
calendar_of (Ui *ui)
{
  return CX_CALENDAR (widget (ui, "calendar"));
}

static gboolean
calendar_settled (gpointer data)
{
  return !cx_calendar_get_loading (data);
}

static void
collect_slots (GtkWidget *root, GPtrArray *out)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_TOGGLE_BUTTON (child) && g_str_equal (gtk_widget_get_name (child), "slot"))
        g_ptr_array_add (out, child);
      else
        collect_slots (child, out);
    }
}

/* The time buttons the calendar shows now (the chosen day's). */
static GPtrArray *
slot_buttons (Ui *ui)
{
  GPtrArray *buttons = g_ptr_array_new ();

  collect_slots (GTK_WIDGET (calendar_of (ui)), buttons);
  return buttons;
}

static gint64
slot_time (GtkWidget *button)
{
  gint64 *ms = g_object_get_data (G_OBJECT (button), "cx-slot-time");

  g_assert_nonnull (ms);
  return *ms;
}

/* The button of the slot at @ms on the day shown, or NULL. */
static GtkWidget *
slot_button_at (Ui *ui, gint64 ms)
{
  g_autoptr (GPtrArray) buttons = slot_buttons (ui);

  for (guint i = 0; i < buttons->len; i++)
    if (slot_time (g_ptr_array_index (buttons, i)) == ms)
      return g_ptr_array_index (buttons, i);
  return NULL;
}

/* Picks the @nth free time shown, other than @not_ms and not starting within SLOT_MARGIN_MS;
 * returns its time. */
static gint64
pick_slot (Ui *ui, guint nth, gint64 not_ms)
{
  g_autoptr (GPtrArray) buttons = slot_buttons (ui);
  guint selections = cx_test_recorder_count (ui->events, "Calendar.selectedDateTime");
  gint64 earliest = g_get_real_time () / 1000 + SLOT_MARGIN_MS;

  for (guint i = 0; i < buttons->len; i++)
    {
      GtkWidget *button = g_ptr_array_index (buttons, i);
      gint64 ms = slot_time (button);

      if (!gtk_widget_is_sensitive (button) || ms == not_ms || ms < earliest || nth-- > 0)
        continue;

      click (button);
      g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (button)));
      g_assert_cmpint (cx_calendar_get_selected_time (calendar_of (ui)), ==, ms);
      g_assert_cmpuint (cx_test_recorder_count (ui->events, "Calendar.selectedDateTime"), ==,
                        selections + 1);
      return ms;
    }
  g_error ("No free time slot shown");
  return -1;
}

static gboolean
calendar_shown (gpointer data)
{
  return shown (data, "calendar");
}

/* "Choose a time", and the calendar's free times once they are in. */
static void
choose_a_time (Ui *ui)
{
  guint generated = cx_test_recorder_count (ui->events, "Calendar.generated");
  GtkWidget *choose = widget (ui, "choose_check");

  g_assert_true (gtk_widget_activate (choose));
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (choose)));
  g_assert_false (gtk_check_button_get_active (GTK_CHECK_BUTTON (widget (ui, "asap_check"))));
  cx_test_recorder_wait (ui->events, "Calendar.generated", generated + 1);
  g_assert_true (calendar_settled (calendar_of (ui)));
  /* The revealer shows it from its first frame on. */
  cx_test_wait (calendar_shown, ui);
}

static gint64
time_of (const char *iso)
{
  gint64 ms = -1;

  g_assert_nonnull (iso);
  g_assert_true (cx_iso8601_parse (iso, &ms, NULL));
  return ms;
}

/* The server's side */

static JsonObject *
server_callback (Ui *ui, const char *id)
{
  g_autofree char *url =
      cx_test_server_url (ui->f->server, "/genesys/1/service/callback/" SERVICE "/%s", id);
  /* With the secret the app keeps in its cookies (issue 9). */
  g_autofree char *text = cx_http_get_site_cookie (
      ui->http, cx_callback_service_get_data_url (ui->service), CX_CALLBACK_COOKIE_SECRETS);
  g_autoptr (JsonNode) secrets = text != NULL ? json_from_string (text, NULL) : NULL;
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (CxTestReply) reply = NULL;

  g_assert_nonnull (secrets);
  soup_message_headers_replace (soup_message_get_request_headers (msg), CX_CALLBACK_SECRET_HEADER,
                                json_object_get_string_member (json_node_get_object (secrets), id));
  reply = cx_test_send (ui->f->session, msg);
  g_assert_cmpuint (reply->status, ==, 200);
  return json_object_ref (cx_test_reply_object (reply));
}

/* The callbacks booked for @number (normalized), as the GMS query gives them. */
static guint
server_count_for (Ui *ui, const char *number)
{
  g_autofree char *escaped = g_uri_escape_string (number, NULL, FALSE);
  g_autofree char *url = cx_test_server_url (
      ui->f->server, "/genesys/1/service/callback/" SERVICE "?_customer_number=%s", escaped);
  /* Querying is for agents (issue 9). */
  g_autoptr (CxTestAgent) ada = cx_test_agent_sign_in (ui->f->server, "ada", CX_TEST_ADA_PASSWORD);
  g_autofree char *token = cx_test_agent_cookie (ada);
  g_autofree char *cookie = g_strdup_printf ("cxdesk_agent=%s", token);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (CxTestReply) reply = NULL;

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Cookie", cookie);
  reply = cx_test_send (ui->f->session, msg);

  g_assert_cmpuint (reply->status, ==, 200);
  return json_array_get_length (cx_test_reply_array (reply));
}

/* Books a callback at a time picked in the calendar; returns its id, and the time. */
static char *
book_slot (Ui *ui, gint64 *out_ms)
{
  guint started = cx_test_recorder_count (ui->events, "Callback.started");
  gint64 ms;

  open_panel (ui);
  fill_form (ui, "(555) 123-4567");
  choose_a_time (ui);
  ms = pick_slot (ui, 0, -1);
  click_id (ui, "submit_button");
  cx_test_recorder_wait (ui->events, "Callback.started", started + 1);
  g_assert_cmpstr (page (ui), ==, "confirmation");
  *out_ms = ms;
  return g_strdup (
      cx_test_object_string (cx_test_recorder_last_object (ui->events, "Callback.started"), "id"));
}

/* The form kept everything that was typed. */
static void
assert_form_kept (Ui *ui, const char *phone)
{
  g_assert_cmpstr (page (ui), ==, "form");
  g_assert_cmpstr (entry_text (ui, "first_name_entry"), ==, "Grace");
  g_assert_cmpstr (entry_text (ui, "last_name_entry"), ==, "Hopper");
  g_assert_cmpstr (entry_text (ui, "phone_entry"), ==, phone);
  g_assert_cmpstr (entry_text (ui, "subject_entry"), ==, "Billing <b>question</b>");
  g_assert_true (g_str_has_prefix (chosen_country (ui), "United States"));
  g_assert_true (gtk_editable_get_editable (GTK_EDITABLE (widget (ui, "first_name_entry"))));
  g_assert_true (gtk_widget_is_sensitive (widget (ui, "submit_button")));
}

/* Tests */

/* As soon as possible: the country chosen and the number typed make one number; the
 * confirmation shows the server's reference; the server has the callback, queued. */
static void
test_book_asap (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);
  g_autoptr (JsonObject) stored = NULL;
  JsonObject *started;
  JsonObject *submitted;
  const char *id;

  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (ui->panel)));
  open_panel (ui);
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "Callback.opened"), ==, 1);
  g_assert_cmpstr (page (ui), ==, "form");
  /* Keyboard: the first field has the focus. */
  g_assert_true (has_focus (ui, "first_name_entry"));

  set_text (ui, "first_name_entry", "Grace");
  set_text (ui, "last_name_entry", "Hopper");
  set_text (ui, "subject_entry", "Billing <b>question</b>");
  choose_country (ui, "United Kingdom");
  /* The trunk 0 is for calls at home. */
  set_text (ui, "phone_entry", "020 7946 0958");
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (widget (ui, "asap_check"))));
  g_assert_false (shown (ui, "back_button"));
  click_id (ui, "submit_button");
  /* One request at a time: the form waits. */
  g_assert_false (gtk_widget_is_sensitive (widget (ui, "submit_button")));
  g_assert_false (gtk_editable_get_editable (GTK_EDITABLE (widget (ui, "phone_entry"))));

  cx_test_recorder_wait (ui->events, "Callback.started", 1);
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "Callback.submitted"), ==, 1);
  submitted = cx_test_recorder_last_object (ui->events, "Callback.submitted");
  g_assert_cmpstr (cx_test_object_string (submitted, "phoneNumber"), ==, "+44 20 7946 0958");
  g_assert_cmpstr (cx_test_object_string (submitted, "desiredTime"), ==, "now");
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "CallbackService.scheduled"), ==, 1);
  started = cx_test_recorder_last_object (ui->events, "Callback.started");
  id = cx_test_object_string (started, "id");
  g_assert_cmpuint (strlen (id), >, 0);

  /* The confirmation. */
  g_assert_cmpstr (page (ui), ==, "confirmation");
  g_assert_cmpstr (label_text (ui, "reference_label"), ==, id);
  g_assert_cmpstr (label_text (ui, "time_label"), ==, "As soon as possible");
  g_assert_cmpstr (label_text (ui, "number_label"), ==, "+442079460958");
  g_assert_cmpstr (label_text (ui, "confirmation_title"), ==, "Callback Booked");
  g_assert_true (shown (ui, "reschedule_button"));
  g_assert_true (shown (ui, "cancel_button"));
  g_assert_true (has_focus (ui, "done_button"));

  /* The server's account. */
  stored = server_callback (ui, id);
  g_assert_cmpstr (cx_test_object_string (stored, "_callback_state"), ==, "QUEUED");
  g_assert_cmpstr (cx_test_object_string (stored, "_customer_number"), ==, "+442079460958");
  g_assert_cmpstr (cx_test_object_string (stored, "firstname"), ==, "Grace");
  g_assert_cmpstr (cx_test_object_string (stored, "lastname"), ==, "Hopper");
  g_assert_cmpstr (cx_test_object_string (stored, "subject"), ==, "Billing <b>question</b>");
  g_assert_cmpstr (cx_test_object_string (stored, "origin"), ==, "test-callback-ui");

  /* Done: the customer is through; the panel closes and starts over. */
  click_id (ui, "done_button");
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "Callback.completed"), ==, 1);
  g_assert_cmpstr (
      cx_test_object_string (cx_test_recorder_last_object (ui->events, "Callback.completed"), "id"),
      ==, id);
  g_assert_false (cx_callback_get_open (ui->panel));
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "Callback.closed"), ==, 1);
  open_panel (ui);
  g_assert_cmpstr (page (ui), ==, "form");
  g_assert_cmpstr (entry_text (ui, "phone_entry"), ==, "");

  ui_free (ui);
}

/* A time picked in the calendar: the server (and the agent) have it at that time, and the
 * confirmation says when in local time. */
static void
test_book_slot (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);
  g_autoptr (CxTestAgent) ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  g_autoptr (JsonObject) listed = NULL;
  g_autofree char *id = NULL;
  g_autofree char *when = NULL;
  JsonObject *selected;
  gint64 ms;

  id = book_slot (ui, &ms);
  selected = cx_test_recorder_last_object (ui->events, "Calendar.selectedDateTime");
  g_assert_cmpint (time_of (cx_test_object_string (selected, "date")), ==, ms);
  g_assert_cmpint (
      time_of (cx_test_object_string (
          cx_test_recorder_last_object (ui->events, "Callback.submitted"), "desiredTime")),
      ==, ms);

  when = cx_calendar_format_time (ms, 24);
  g_assert_cmpstr (label_text (ui, "time_label"), ==, when);
  g_assert_cmpstr (label_text (ui, "reference_label"), ==, id);
  g_assert_cmpstr (label_text (ui, "number_label"), ==, "+15551234567");

  /* As the agent sees it. */
  listed = cx_test_agent_find_callback (ada, id);
  g_assert_nonnull (listed);
  g_assert_cmpstr (cx_test_object_string (listed, "_callback_state"), ==, "SCHEDULED");
  g_assert_cmpint (time_of (cx_test_object_string (listed, "_desired_time")), ==, ms);
  g_assert_cmpstr (cx_test_object_string (listed, "_customer_number"), ==, "+15551234567");
  g_assert_cmpuint (server_count_for (ui, "+15551234567"), ==, 1);

  ui_free (ui);
}

/* From the confirmation: back out of moving it, move it, back out of cancelling it, cancel it. */
static void
test_reschedule_cancel (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);
  g_autoptr (JsonObject) moved = NULL;
  g_autoptr (JsonObject) cancelled = NULL;
  g_autofree char *id = NULL;
  g_autofree char *when = NULL;
  guint generated;
  guint requests;
  gint64 first, second;

  id = book_slot (ui, &first);

  /* Reschedule, then Back: nothing changes, nothing is sent. */
  requests = ui->requests;
  generated = cx_test_recorder_count (ui->events, "Calendar.generated");
  click_id (ui, "reschedule_button");
  g_assert_cmpstr (page (ui), ==, "form");
  g_assert_false (shown (ui, "details_box"));
  g_assert_false (shown (ui, "asap_check"));
  g_assert_true (shown (ui, "back_button"));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (widget (ui, "submit_button"))), ==,
                   "_Move Callback");
  cx_test_recorder_wait (ui->events, "Calendar.generated", generated + 1);
  /* Nothing chosen yet: Move asks for a time first. */
  g_assert_cmpint (cx_calendar_get_selected_time (calendar_of (ui)), ==, -1);
  click_id (ui, "submit_button");
  g_assert_true (shown (ui, "time_error"));
  g_assert_cmpstr (page (ui), ==, "form");
  click_id (ui, "back_button");
  g_assert_cmpstr (page (ui), ==, "confirmation");
  g_assert_cmpuint (ui->requests, ==, requests + 1); /* the availability */
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "Callback.rescheduled"), ==, 0);

  /* Reschedule to another time. */
  generated = cx_test_recorder_count (ui->events, "Calendar.generated");
  click_id (ui, "reschedule_button");
  cx_test_recorder_wait (ui->events, "Calendar.generated", generated + 1);
  second = pick_slot (ui, 0, first);
  click_id (ui, "submit_button");
  cx_test_recorder_wait (ui->events, "Callback.rescheduled", 1);
  g_assert_cmpstr (cx_test_object_string (
                       cx_test_recorder_last_object (ui->events, "Callback.rescheduled"), "id"),
                   ==, id);
  g_assert_cmpstr (page (ui), ==, "confirmation");
  g_assert_cmpstr (label_text (ui, "confirmation_title"), ==, "Callback Moved");
  when = cx_calendar_format_time (second, 24);
  g_assert_cmpstr (label_text (ui, "time_label"), ==, when);
  g_assert_cmpstr (label_text (ui, "reference_label"), ==, id);
  moved = server_callback (ui, id);
  g_assert_cmpint (time_of (cx_test_object_string (moved, "_desired_time")), ==, second);
  g_assert_cmpstr (cx_test_object_string (moved, "_callback_state"), ==, "SCHEDULED");

  /* Cancel asks first; Keep It keeps it. */
  g_assert_false (gtk_revealer_get_reveal_child (GTK_REVEALER (widget (ui, "cancel_revealer"))));
  click_id (ui, "cancel_button");
  g_assert_true (gtk_revealer_get_reveal_child (GTK_REVEALER (widget (ui, "cancel_revealer"))));
  click_id (ui, "keep_button");
  g_assert_false (gtk_revealer_get_reveal_child (GTK_REVEALER (widget (ui, "cancel_revealer"))));
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "CallbackService.cancelled"), ==, 0);

  click_id (ui, "cancel_button");
  click_id (ui, "confirm_cancel_button");
  cx_test_recorder_wait (ui->events, "Callback.cancelled", 1);
  g_assert_cmpstr (cx_test_object_string (
                       cx_test_recorder_last_object (ui->events, "Callback.cancelled"), "state"),
                   ==, "CANCELLED");
  g_assert_cmpstr (label_text (ui, "confirmation_title"), ==, "Callback Cancelled");
  g_assert_false (shown (ui, "reschedule_button"));
  g_assert_false (shown (ui, "cancel_button"));
  g_assert_true (shown (ui, "done_button"));
  cancelled = server_callback (ui, id);
  g_assert_cmpstr (cx_test_object_string (cancelled, "_callback_state"), ==, "CANCELLED");

  click_id (ui, "done_button");
  g_assert_false (cx_callback_get_open (ui->panel));
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "Callback.completed"), ==, 1);

  ui_free (ui);
}

/* Every field that needs it says what is wrong, beside it; nothing is sent until all is right. */
static void
test_validation (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);

  open_panel (ui);
  click_id (ui, "submit_button");
  g_assert_true (shown (ui, "first_name_error"));
  g_assert_cmpstr (label_text (ui, "first_name_error"), ==, "Enter your first name");
  g_assert_true (shown (ui, "last_name_error"));
  g_assert_true (shown (ui, "phone_error"));
  g_assert_cmpstr (label_text (ui, "phone_error"), ==, "Enter your phone number");
  g_assert_true (gtk_widget_has_css_class (widget (ui, "phone_entry"), "error"));
  g_assert_true (has_focus (ui, "first_name_entry"));

  /* Correcting a field takes its error away. */
  set_text (ui, "first_name_entry", "Grace");
  g_assert_false (shown (ui, "first_name_error"));
  set_text (ui, "last_name_entry", "Hopper");

  /* Numbers the server would refuse are refused here, in words. */
  set_text (ui, "phone_entry", "call me maybe");
  click_id (ui, "submit_button");
  g_assert_true (shown (ui, "phone_error"));
  g_assert_nonnull (strstr (label_text (ui, "phone_error"), "only digits"));
  set_text (ui, "phone_entry", "+12");
  click_id (ui, "submit_button");
  g_assert_nonnull (strstr (label_text (ui, "phone_error"), "3 to 20 digits"));
  set_text (ui, "phone_entry", "555 123 4567 8901 2345 6789");
  click_id (ui, "submit_button");
  g_assert_nonnull (strstr (label_text (ui, "phone_error"), "3 to 20 digits"));
  g_assert_false (shown (ui, "first_name_error"));

  /* A time must be chosen when "Choose a time" is. */
  set_text (ui, "phone_entry", "555 123 4567");
  g_assert_false (shown (ui, "phone_error"));
  choose_a_time (ui);
  click_id (ui, "submit_button");
  g_assert_true (shown (ui, "time_error"));
  g_assert_false (shown (ui, "phone_error"));

  /* Nothing went out but the calendar's question, and nothing was booked. */
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "Callback.submitted"), ==, 0);
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "CallbackService.scheduleError"), ==, 0);
  g_assert_cmpuint (ui->requests, ==, 1);
  g_assert_cmpuint (server_count_for (ui, "+15551234567"), ==, 0);

  /* Picking a time takes its error away; then it books. */
  pick_slot (ui, 0, -1);
  g_assert_false (shown (ui, "time_error"));
  click_id (ui, "submit_button");
  cx_test_recorder_wait (ui->events, "Callback.started", 1);
  g_assert_cmpuint (server_count_for (ui, "+15551234567"), ==, 1);

  ui_free (ui);
}

/* The office is closed now: refused, said so above the form, nothing typed lost; a time on an
 * open day can still be asked for. */
static void
test_office_closed (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);
  JsonObject *error;

  open_panel (ui);
  fill_form (ui, "555 123 4567");
  click_id (ui, "submit_button");
  cx_test_recorder_wait (ui->events, "Callback.error", 1);

  error = cx_test_recorder_last_object (ui->events, "Callback.error");
  g_assert_cmpint (cx_test_object_int (error, "code"), ==, 7042);
  g_assert_true (shown (ui, "form_error"));
  g_assert_nonnull (strstr (label_text (ui, "form_error"), "We are closed now"));
  assert_form_kept (ui, "555 123 4567");
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "Callback.started"), ==, 0);
  g_assert_cmpuint (server_count_for (ui, "+15551234567"), ==, 0);

  ui_free (ui);
}

/* Refused for a time the office is closed at, after the customer closed the panel: the refusal
 * waits in the form, and the keyboard focus stays out of the hidden panel (its calendar). */
static void
test_refused_after_close (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);
  g_autoptr (JsonNode) shown_node = NULL;
  g_autofree char *iso = NULL;
  g_autofree char *json = NULL;
  GtkWidget *focus;

  open_panel (ui);
  fill_form (ui, "555 123 4567");
  choose_a_time (ui);
  /* Today the office is closed: a time offered anyway is refused. */
  iso = cx_iso8601_format (g_get_real_time () / 1000 + 5 * SLOT_MARGIN_MS);
  json = g_strdup_printf ("{\"slots\":[{\"time\":\"%s\",\"capacity\":1}]}", iso);
  shown_node = cx_test_bus_command_ok (ui->bus, "Calendar.showAvailability", json);
  g_assert_cmpint (pick_slot (ui, 0, -1), ==, time_of (iso));

  click_id (ui, "submit_button");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (ui->panel), "callback.close", NULL));
  g_assert_false (cx_callback_get_open (ui->panel));
  cx_test_recorder_wait (ui->events, "Callback.error", 1);
  g_assert_cmpint (
      cx_test_object_int (cx_test_recorder_last_object (ui->events, "Callback.error"), "code"), ==,
      7042);

  focus = gtk_root_get_focus (GTK_ROOT (ui->window));
  g_assert_true (focus == NULL || !gtk_widget_is_ancestor (focus, GTK_WIDGET (ui->panel)));

  /* Opened again, the refusal is there, and the form as it was. */
  open_panel (ui);
  g_assert_true (shown (ui, "form_error"));
  assert_form_kept (ui, "555 123 4567");

  ui_free (ui);
}

/* The mnemonics under @root, of the one page @form_page of the panel's stack. */
static void
collect_mnemonics (GtkWidget *root, GtkWidget *form_page, GArray *keyvals)
{
  if (root == gtk_widget_get_parent (form_page))
    {
      collect_mnemonics (form_page, form_page, keyvals);
      return;
    }
  if (GTK_IS_LABEL (root) && gtk_label_get_use_underline (GTK_LABEL (root)) &&
      gtk_label_get_mnemonic_keyval (GTK_LABEL (root)) != GDK_KEY_VoidSymbol)
    {
      guint keyval = gdk_keyval_to_lower (gtk_label_get_mnemonic_keyval (GTK_LABEL (root)));

      for (guint i = 0; i < keyvals->len; i++)
        if (g_array_index (keyvals, guint, i) == keyval)
          g_error ("Alt+%s is the mnemonic of “%s” and of another widget on the form",
                   gdk_keyval_name (keyval), gtk_label_get_label (GTK_LABEL (root)));
      g_array_append_val (keyvals, keyval);
    }
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_mnemonics (child, form_page, keyvals);
}

/* Every mnemonic of the form (its fields, its choices, its buttons, the calendar's) is its own
 * key. */
static void
test_form_mnemonics (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);
  g_autoptr (GArray) keyvals = g_array_new (FALSE, FALSE, sizeof (guint));
  GtkWidget *form_page;

  open_panel (ui);
  form_page = gtk_stack_get_child_by_name (GTK_STACK (widget (ui, "stack")), "form");
  g_assert_nonnull (form_page);
  collect_mnemonics (GTK_WIDGET (ui->panel), form_page, keyvals);
  /* First and last name, phone, subject, the two choices, back and request. */
  g_assert_cmpuint (keyvals->len, >=, 8);

  ui_free (ui);
}

/* The time picked is taken by someone else meanwhile: refused, the calendar shows it full, the
 * form is kept, and another time books. */
static void
test_slot_full (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);
  g_autoptr (CxTestReply) other = NULL;
  g_autofree char *url = cx_test_server_url (f->server, "/genesys/1/service/callback/" SERVICE);
  g_autofree char *iso = NULL;
  GtkWidget *button;
  JsonObject *error;
  guint generated;
  gint64 ms;

  open_panel (ui);
  fill_form (ui, "555 123 4567");
  choose_a_time (ui);
  ms = pick_slot (ui, 0, -1);

  /* Another customer books it first: slotCapacity is 1. */
  iso = cx_iso8601_format (ms);
  other = cx_test_post_form (f->session, url, "_customer_number", "+15550001", "_desired_time", iso,
                             NULL);
  g_assert_cmpuint (other->status, ==, 200);

  generated = cx_test_recorder_count (ui->events, "Calendar.generated");
  click_id (ui, "submit_button");
  cx_test_recorder_wait (ui->events, "Callback.error", 1);
  error = cx_test_recorder_last_object (ui->events, "Callback.error");
  g_assert_cmpint (cx_test_object_int (error, "code"), ==, 409);
  g_assert_nonnull (strstr (label_text (ui, "form_error"), "fully booked"));
  assert_form_kept (ui, "555 123 4567");
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (widget (ui, "choose_check"))));

  /* The calendar asks again: that time is full now, and no longer chosen. */
  cx_test_recorder_wait (ui->events, "Calendar.generated", generated + 1);
  g_assert_cmpint (cx_calendar_get_selected_time (calendar_of (ui)), ==, -1);
  button = slot_button_at (ui, ms);
  g_assert_nonnull (button);
  g_assert_false (gtk_widget_is_sensitive (button));

  pick_slot (ui, 0, ms);
  click_id (ui, "submit_button");
  cx_test_recorder_wait (ui->events, "Callback.started", 1);
  g_assert_cmpuint (server_count_for (ui, "+15551234567"), ==, 1);

  ui_free (ui);
}

/* The server is gone: a clear error, the form kept. */
static void
test_server_gone (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);
  JsonObject *error;

  open_panel (ui);
  fill_form (ui, "555 123 4567");
  cx_test_server_kill9 (f->server);
  click_id (ui, "submit_button");
  cx_test_recorder_wait (ui->events, "Callback.error", 1);

  error = cx_test_recorder_last_object (ui->events, "Callback.error");
  g_assert_cmpint (cx_test_object_int (error, "code"), ==, 503);
  g_assert_nonnull (strstr (label_text (ui, "form_error"), "cannot be reached"));
  assert_form_kept (ui, "555 123 4567");

  ui_free (ui);
  /* For the harness's health check at the end. */
  cx_test_server_restart (f->server);
}

/* A double click on Submit, and Enter in a field at once: one booking. */
static void
test_double_submit (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);
  GtkWidget *submit;

  open_panel (ui);
  fill_form (ui, "555 123 4567");
  submit = widget (ui, "submit_button");
  g_signal_emit_by_name (submit, "clicked");
  g_signal_emit_by_name (submit, "clicked");
  g_signal_emit_by_name (widget (ui, "subject_entry"), "activate");
  gtk_widget_activate_action (GTK_WIDGET (ui->panel), "callback.submit", NULL);
  cx_test_recorder_wait (ui->events, "Callback.started", 1);

  g_assert_cmpuint (cx_test_recorder_count (ui->events, "Callback.submitted"), ==, 1);
  g_assert_cmpuint (ui->requests, ==, 1);
  g_assert_cmpuint (server_count_for (ui, "+15551234567"), ==, 1);

  ui_free (ui);
}

/* Enter in a field submits: the form works from the keyboard. A number that starts with +
 * keeps its own country code, whatever the list says. */
static void
test_enter_submits (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);

  open_panel (ui);
  fill_form (ui, "555 123 4567");
  choose_country (ui, "United Kingdom");
  g_assert_true (gtk_widget_is_sensitive (widget (ui, "country_dropdown")));
  set_text (ui, "phone_entry", "+1 555 123 4567");
  g_assert_false (gtk_widget_is_sensitive (widget (ui, "country_dropdown")));
  g_signal_emit_by_name (widget (ui, "phone_entry"), "activate");
  cx_test_recorder_wait (ui->events, "Callback.started", 1);
  g_assert_cmpstr (page (ui), ==, "confirmation");
  g_assert_cmpstr (
      cx_test_object_string (cx_test_recorder_last_object (ui->events, "Callback.submitted"),
                             "phoneNumber"),
      ==, "+1 555 123 4567");
  g_assert_cmpstr (label_text (ui, "number_label"), ==, "+15551234567");
  g_assert_cmpuint (server_count_for (ui, "+15551234567"), ==, 1);

  /* The close button's action closes the panel. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (ui->panel), "callback.close", NULL));
  g_assert_false (cx_callback_get_open (ui->panel));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (ui->panel)));

  ui_free (ui);
}

/* A page script cancels the booking through CallbackService: the confirmation says so. */
static void
test_cancelled_by_script (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (JsonObject) stored = NULL;
  g_autofree char *json = NULL;
  const char *id;

  open_panel (ui);
  fill_form (ui, "555 123 4567");
  click_id (ui, "submit_button");
  cx_test_recorder_wait (ui->events, "Callback.started", 1);
  id = cx_test_object_string (cx_test_recorder_last_object (ui->events, "Callback.started"), "id");
  g_assert_true (shown (ui, "reschedule_button"));

  json = g_strdup_printf ("{\"id\":\"%s\"}", id);
  result = cx_test_bus_command_ok (ui->bus, "CallbackService.cancel", json);
  g_assert_cmpstr (label_text (ui, "confirmation_title"), ==, "Callback Cancelled");
  g_assert_false (shown (ui, "reschedule_button"));
  g_assert_false (shown (ui, "cancel_button"));
  stored = server_callback (ui, id);
  g_assert_cmpstr (cx_test_object_string (stored, "_callback_state"), ==, "CANCELLED");

  ui_free (ui);
}

/* Callback.open and close, as a page script uses them. */
static void
test_open_close_commands (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);
  g_autoptr (JsonNode) first = NULL;
  g_autoptr (JsonNode) availability = NULL;
  g_autoptr (JsonNode) opened = NULL;
  g_autoptr (JsonNode) closed = NULL;
  g_autofree char *json = NULL;
  g_autofree char *slot = NULL;
  JsonArray *slots;

  cx_test_bus_command_fails (ui->bus, "Callback.open", "[1]", 0, 0, "object");
  cx_test_bus_command_fails (ui->bus, "Callback.open", "{\"form\":{\"desiredTime\":\"tomorrow\"}}",
                             0, 0, "desiredTime");
  cx_test_bus_command_fails (ui->bus, "Callback.open", "{\"form\":{\"firstname\":3}}", 0, 0,
                             "firstname");
  g_assert_false (cx_callback_get_open (ui->panel));

  /* A free time, as the page would know it. */
  availability =
      cx_test_bus_command_ok (ui->bus, "CallbackService.availability", "{\"numberOfDays\":2}");
  slots = json_object_get_array_member (json_node_get_object (availability), "slots");
  for (guint i = 0; i < json_array_get_length (slots) && slot == NULL; i++)
    {
      JsonObject *entry = json_array_get_object_element (slots, i);
      const char *time = cx_test_object_string (entry, "time");

      if (time_of (time) > g_get_real_time () / 1000 + SLOT_MARGIN_MS &&
          cx_test_object_int (entry, "capacity") > 0)
        slot = g_strdup (time);
    }
  g_assert_nonnull (slot);

  json = g_strdup_printf ("{\"form\":{\"firstname\":\"Grace\",\"lastname\":\"Hopper\","
                          "\"phoneNumber\":\"+44 20 7946 0958\",\"subject\":\"Order\","
                          "\"desiredTime\":\"%s\"}}",
                          slot);
  opened = cx_test_bus_command_ok (ui->bus, "Callback.open", json);
  g_assert_true (cx_callback_get_open (ui->panel));
  g_assert_cmpstr (entry_text (ui, "first_name_entry"), ==, "Grace");
  g_assert_cmpstr (entry_text (ui, "subject_entry"), ==, "Order");
  /* "+44" picks the country. */
  g_assert_true (g_str_has_prefix (chosen_country (ui), "United Kingdom"));
  g_assert_cmpstr (entry_text (ui, "phone_entry"), ==, "20 7946 0958");
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (widget (ui, "choose_check"))));
  /* The time is chosen once the calendar has it. */
  cx_test_recorder_wait (ui->events, "Calendar.generated", 1);
  g_assert_cmpint (cx_calendar_get_selected_time (calendar_of (ui)), ==, time_of (slot));

  cx_test_bus_command_fails (ui->bus, "Callback.open", NULL, 0, 0, "already opened");
  closed = cx_test_bus_command_ok (ui->bus, "Callback.close", NULL);
  g_assert_false (cx_callback_get_open (ui->panel));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (ui->panel)));
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "Callback.opened"), ==, 1);
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "Callback.closed"), ==, 1);

  /* Opened again: as it was left. */
  first = cx_test_bus_command_ok (ui->bus, "Callback.open", NULL);
  g_assert_cmpstr (entry_text (ui, "last_name_entry"), ==, "Hopper");
  g_assert_cmpint (cx_calendar_get_selected_time (calendar_of (ui)), ==, time_of (slot));
  click_id (ui, "submit_button");
  cx_test_recorder_wait (ui->events, "Callback.started", 1);
  g_assert_cmpint (
      time_of (cx_test_object_string (cx_test_recorder_last_object (ui->events, "Callback.started"),
                                      "desiredTime")),
      ==, time_of (slot));

  ui_free (ui);
}

/* The Calendar plugin: generate, showAvailability, reset, and selectedDateTime. */
static void
test_calendar_commands (Fixture *f, gconstpointer data)
{
  Ui *ui = ui_new (f);
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autoptr (GDateTime) tomorrow = g_date_time_add_days (now, 1);
  g_autoptr (GDateTime) free_time = NULL;
  g_autoptr (GDateTime) full_time = NULL;
  g_autoptr (JsonNode) generated = NULL;
  g_autoptr (JsonNode) shown_node = NULL;
  g_autoptr (JsonNode) reset = NULL;
  g_autoptr (GPtrArray) buttons = NULL;
  g_autofree char *free_iso = NULL;
  g_autofree char *full_iso = NULL;
  g_autofree char *json = NULL;
  g_autoptr (GString) many = NULL;
  GtkWidget *free_button, *full_button;
  JsonObject *event;
  guint generated_before;
  gint64 slots;

  open_panel (ui);
  g_assert_true (gtk_widget_activate (widget (ui, "choose_check")));
  cx_test_recorder_wait (ui->events, "Calendar.generated", 1);

  /* showAvailability: exactly the times given, a full one disabled. */
  free_time =
      g_date_time_new_local (g_date_time_get_year (tomorrow), g_date_time_get_month (tomorrow),
                             g_date_time_get_day_of_month (tomorrow), 10, 0, 0);
  full_time = g_date_time_add_minutes (free_time, 30);
  free_iso = cx_iso8601_format (g_date_time_to_unix (free_time) * 1000);
  full_iso = cx_iso8601_format (g_date_time_to_unix (full_time) * 1000);
  json = g_strdup_printf ("{\"slots\":[{\"time\":\"%s\",\"capacity\":2},"
                          "{\"time\":\"%s\",\"capacity\":0}]}",
                          free_iso, full_iso);
  cx_test_bus_command_fails (ui->bus, "Calendar.showAvailability",
                             "{\"slots\":[{\"time\":\"soon\"}]}", 0, 0, "slots");
  shown_node = cx_test_bus_command_ok (ui->bus, "Calendar.showAvailability", json);
  buttons = slot_buttons (ui);
  g_assert_cmpuint (buttons->len, ==, 2);
  free_button = slot_button_at (ui, g_date_time_to_unix (free_time) * 1000);
  full_button = slot_button_at (ui, g_date_time_to_unix (full_time) * 1000);
  g_assert_nonnull (free_button);
  g_assert_nonnull (full_button);
  g_assert_true (gtk_widget_is_sensitive (free_button));
  g_assert_false (gtk_widget_is_sensitive (full_button));
  event = cx_test_recorder_last_object (ui->events, "Calendar.generated");
  g_assert_cmpint (cx_test_object_int (event, "slots"), ==, 2);

  /* Given out of order and twice, the times are shown in order and once: the first given of
   * the two at the same time. */
  g_clear_pointer (&json, g_free);
  g_clear_pointer (&shown_node, json_node_unref);
  g_clear_pointer (&buttons, g_ptr_array_unref);
  json = g_strdup_printf ("{\"slots\":[{\"time\":\"%s\",\"capacity\":0},"
                          "{\"time\":\"%s\",\"capacity\":2},"
                          "{\"time\":\"%s\",\"capacity\":0}]}",
                          full_iso, free_iso, free_iso);
  shown_node = cx_test_bus_command_ok (ui->bus, "Calendar.showAvailability", json);
  buttons = slot_buttons (ui);
  g_assert_cmpuint (buttons->len, ==, 2);
  g_assert_cmpint (slot_time (g_ptr_array_index (buttons, 0)), ==,
                   g_date_time_to_unix (free_time) * 1000);
  g_assert_cmpint (slot_time (g_ptr_array_index (buttons, 1)), ==,
                   g_date_time_to_unix (full_time) * 1000);
  g_assert_true (gtk_widget_is_sensitive (g_ptr_array_index (buttons, 0)));
  g_assert_false (gtk_widget_is_sensitive (g_ptr_array_index (buttons, 1)));
  event = cx_test_recorder_last_object (ui->events, "Calendar.generated");
  g_assert_cmpint (cx_test_object_int (event, "slots"), ==, 2);

  /* More than a server's reply may hold are refused, and leave the times shown as they are. */
  many = g_string_new ("{\"slots\":[");
  for (guint i = 0; i <= CX_CALLBACK_MAX_SLOTS; i++)
    {
      g_autoptr (GDateTime) time = g_date_time_add_minutes (free_time, i);
      g_autofree char *iso = cx_iso8601_format (g_date_time_to_unix (time) * 1000);

      g_string_append_printf (many, "%s{\"time\":\"%s\",\"capacity\":1}", i > 0 ? "," : "", iso);
    }
  g_string_append (many, "]}");
  cx_test_bus_command_fails (ui->bus, "Calendar.showAvailability", many->str, 0, 0, "at most");
  g_clear_pointer (&buttons, g_ptr_array_unref);
  buttons = slot_buttons (ui);
  g_assert_cmpuint (buttons->len, ==, 2);
  free_button = slot_button_at (ui, g_date_time_to_unix (free_time) * 1000);
  full_button = slot_button_at (ui, g_date_time_to_unix (full_time) * 1000);
  g_assert_nonnull (free_button);
  g_assert_nonnull (full_button);

  /* Picking a time publishes it, in UTC. */
  click (free_button);
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "Calendar.selectedDateTime"), ==, 1);
  g_assert_cmpstr (
      cx_test_object_string (cx_test_recorder_last_object (ui->events, "Calendar.selectedDateTime"),
                             "date"),
      ==, free_iso);
  g_assert_cmpint (cx_calendar_get_selected_time (calendar_of (ui)), ==,
                   g_date_time_to_unix (free_time) * 1000);

  /* reset: no times, nothing chosen. */
  reset = cx_test_bus_command_ok (ui->bus, "Calendar.reset", NULL);
  g_assert_cmpint (cx_calendar_get_selected_time (calendar_of (ui)), ==, -1);
  g_clear_pointer (&buttons, g_ptr_array_unref);
  buttons = slot_buttons (ui);
  g_assert_cmpuint (buttons->len, ==, 0);

  /* generate: the free times of three days (not the configuration's two), as the server has
   * them. */
  generated_before = cx_test_recorder_count (ui->events, "Calendar.generated");
  generated = cx_test_bus_command_ok (ui->bus, "Calendar.generate", "{\"numberOfDays\":3}");
  slots = cx_test_object_int (json_node_get_object (generated), "slots");
  g_assert_cmpint (slots, >, 0);
  g_assert_cmpuint (cx_test_recorder_count (ui->events, "Calendar.generated"), ==,
                    generated_before + 1);
  event = cx_test_recorder_last_object (ui->events, "Calendar.generated");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (event, "days")), ==, 3);
  g_assert_cmpint (cx_test_object_int (event, "slots"), ==, slots);
  cx_test_bus_command_fails (ui->bus, "Calendar.generate", "{\"numberOfDays\":0}", 0, 0,
                             "numberOfDays");

  ui_free (ui);
}

int
main (int argc, char *argv[])
{
  CxTestConfigOptions closed = { .office_closed_now = TRUE };
  CxTestConfigOptions one_place = { .slot_capacity = 1 };

  g_test_init (&argc, &argv, NULL);

  /* A real display is part of the test: without one this fails, it does not skip. */
  if (!gtk_init_check ())
    {
      g_printerr ("Bail out! test-callback-ui needs a display (run it under xvfb-run)\n");
      return 1;
    }

  cx_test_add ("/callback-ui/book/asap", NULL, NULL, test_book_asap);
  cx_test_add ("/callback-ui/book/slot", NULL, NULL, test_book_slot);
  cx_test_add ("/callback-ui/book/reschedule-cancel", NULL, NULL, test_reschedule_cancel);
  cx_test_add ("/callback-ui/form/validation", NULL, NULL, test_validation);
  cx_test_add ("/callback-ui/form/enter-submits", NULL, NULL, test_enter_submits);
  cx_test_add ("/callback-ui/form/double-submit", NULL, NULL, test_double_submit);
  cx_test_add ("/callback-ui/form/mnemonics", NULL, NULL, test_form_mnemonics);
  cx_test_add ("/callback-ui/refused/office-closed", &closed, NULL, test_office_closed);
  cx_test_add ("/callback-ui/refused/after-close", &closed, NULL, test_refused_after_close);
  cx_test_add ("/callback-ui/refused/slot-full", &one_place, NULL, test_slot_full);
  cx_test_add ("/callback-ui/refused/server-gone", NULL, NULL, test_server_gone);
  cx_test_add ("/callback-ui/commands/open-close", NULL, NULL, test_open_close_commands);
  cx_test_add ("/callback-ui/commands/cancelled-by-script", NULL, NULL, test_cancelled_by_script);
  cx_test_add ("/callback-ui/commands/calendar", NULL, NULL, test_calendar_commands);

  return g_test_run ();
}
