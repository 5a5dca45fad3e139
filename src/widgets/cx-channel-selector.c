/* cx-channel-selector.c: the "ChannelSelector" UI plugin: the "Contact Us" form of a site
 * window, and the channel list it shares with the SideBar (CxChannelSpec).
 *
 * The selector talks to nothing but its bus. While it is open it has "StatsService" poll the
 * queues of its channels (startPolling; stopPolling when it closes) and follows the service's
 * "updated" events, so a channel whose queue gets an agent becomes available without the
 * selector being reopened. A failure to get the wait times is not the customer's problem: the
 * channels then say "Wait time unknown" and stay open to choice. A channel whose wait is over
 * its upper threshold, or unknown because nobody who serves it is signed in, is unavailable:
 * shown but insensitive, or hidden with hideChannelWhenThresholdMax.
 *
 * The channels are a GtkListBox: arrows move between them, Enter or a click chooses one, which
 * closes the selector and runs the channel's clickCommand with its clickOptions as
 * "ChannelSelector". Should that command fail (say the plugin is not there), the selector opens
 * again and says why, rather than leave the customer with nothing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-channel-selector"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "protocol/cx-protocol.h"
#include "services/cx-stats-service.h"
#include "widgets/cx-channel-selector.h"

#define STATS CX_STATS_SERVICE_NAME
/* The stats group the service knows (reference §2). */
#define GROUP_EWT "EWT"

/* The selector */

typedef enum
{
  WAIT_CHECKING, /* asked, no answer yet */
  WAIT_KNOWN,
  WAIT_UNKNOWN, /* the wait times could not be had */
} WaitState;

typedef struct
{
  CxChannelSpec *spec;
  GtkWidget *row;
  GtkLabel *status_label;
  WaitState wait;
  gint64 ewt;
  CxChannelAvailability availability;
  guint minutes;
} Channel;

struct _CxChannelSelector
{
  GtkWidget parent_instance;

  CxBus *bus;
  CxPlugin *plugin;
  GCancellable *cancellable;

  GPtrArray *channels; /* Channel */
  gboolean open;
  gboolean stats_enabled;
  GCancellable *poll_cancellable; /* non-NULL: StatsService polls for the selector */

  /* Template children */
  GtkLabel *error_label;
  GtkLabel *empty_label;
  GtkListBox *list;
  GtkWidget *close_button;
};

G_DEFINE_FINAL_TYPE (CxChannelSelector, cx_channel_selector, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_OPEN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const event_names[] = {
  "opened",
  "closed",
  NULL,
};

static void
channel_free (gpointer data)
{
  Channel *channel = data;

  cx_channel_spec_free (channel->spec);
  g_free (channel);
}

/* Small helpers */

static void
publish (CxChannelSelector *self, const char *event)
{
  g_autoptr (JsonNode) data = NULL;

  if (self->plugin == NULL || cx_plugin_get_bus (self->plugin) == NULL)
    return;

  data = cx_json_node_new_object (json_object_new ());
  cx_plugin_publish (self->plugin, event, data);
}

static gboolean
shows_wait (CxChannelSelector *self, Channel *channel)
{
  return self->stats_enabled && channel->spec->ewt_display && channel->spec->ewt_queue != NULL;
}

/* The queues whose waits are shown, without repeats; NULL when there are none. */
static JsonNode *
queues_node (CxChannelSelector *self)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *array = json_array_new ();
  JsonNode *node;

  for (guint i = 0; i < self->channels->len; i++)
    {
      Channel *channel = g_ptr_array_index (self->channels, i);

      if (!shows_wait (self, channel) || !g_hash_table_add (seen, channel->spec->ewt_queue))
        continue;
      json_array_add_string_element (array, channel->spec->ewt_queue);
    }

  if (json_array_get_length (array) == 0)
    {
      json_array_unref (array);
      return NULL;
    }

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, array);
  return node;
}

/* State shown */

static const char *
availability_name (Channel *channel)
{
  if (channel->wait != WAIT_KNOWN)
    return "unknown";

  switch (channel->availability)
    {
      case CX_CHANNEL_AVAILABLE:
        return "available";
      case CX_CHANNEL_BUSY:
        return "busy";
      case CX_CHANNEL_UNAVAILABLE:
      default:
        return "unavailable";
    }
}

static void
update_channel (CxChannelSelector *self, Channel *channel)
{
  const char *name = channel->spec->display_name;
  g_autofree char *status = NULL;
  g_autofree char *accessible = NULL;
  const char *css = NULL;
  gboolean enabled = TRUE;
  gboolean visible = TRUE;

  if (!shows_wait (self, channel))
    accessible = g_strdup (name);
  else if (channel->wait == WAIT_CHECKING)
    {
      status = g_strdup (_ ("Checking the wait time…"));
      /* Translators: %s is a channel, such as “Chat” */
      accessible = g_strdup_printf (_ ("%s, checking the wait time"), name);
    }
  else if (channel->wait == WAIT_UNKNOWN)
    {
      status = g_strdup (_ ("Wait time unknown"));
      /* Translators: %s is a channel, such as “Chat” */
      accessible = g_strdup_printf (_ ("%s, wait time unknown"), name);
      css = "cx-unknown";
    }
  else if (channel->availability == CX_CHANNEL_AVAILABLE)
    {
      status = g_strdup (_ ("Available"));
      /* Translators: %s is a channel, such as “Chat” */
      accessible = g_strdup_printf (_ ("%s, available"), name);
      css = "cx-available";
    }
  else if (channel->availability == CX_CHANNEL_BUSY)
    {
      /* Translators: a wait, in minutes */
      status = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u min", "%u min", channel->minutes),
                                channel->minutes);
      accessible = g_strdup_printf (
          /* Translators: %s is a channel, such as “Chat”, %u a number of minutes */
          g_dngettext (GETTEXT_PACKAGE, "%s, wait about %u minute", "%s, wait about %u minutes",
                       channel->minutes),
          name, channel->minutes);
      css = "cx-busy";
    }
  else
    {
      status = g_strdup (_ ("Unavailable"));
      /* Translators: %s is a channel, such as “Chat” */
      accessible = g_strdup_printf (_ ("%s, unavailable"), name);
      css = "cx-unavailable";
      enabled = FALSE;
      visible = !channel->spec->hide_at_max;
    }

  gtk_label_set_text (channel->status_label, status != NULL ? status : "");
  gtk_widget_set_visible (GTK_WIDGET (channel->status_label), status != NULL);
  gtk_widget_remove_css_class (channel->row, "cx-unknown");
  gtk_widget_remove_css_class (channel->row, "cx-available");
  gtk_widget_remove_css_class (channel->row, "cx-busy");
  gtk_widget_remove_css_class (channel->row, "cx-unavailable");
  if (css != NULL)
    gtk_widget_add_css_class (channel->row, css);

  gtk_accessible_update_property (GTK_ACCESSIBLE (channel->row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (channel->row), enabled);
  gtk_widget_set_sensitive (channel->row, enabled);
  gtk_widget_set_visible (channel->row, visible);
}

static GtkWidget *
first_enabled_row (CxChannelSelector *self)
{
  for (guint i = 0; i < self->channels->len; i++)
    {
      Channel *channel = g_ptr_array_index (self->channels, i);

      if (gtk_widget_get_visible (channel->row) && gtk_widget_get_sensitive (channel->row))
        return channel->row;
    }
  return NULL;
}

static void
focus_first (CxChannelSelector *self)
{
  GtkWidget *row = first_enabled_row (self);

  gtk_widget_grab_focus (row != NULL ? row : self->close_button);
}

static void
update_all (CxChannelSelector *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  gboolean any_visible = FALSE;

  for (guint i = 0; i < self->channels->len; i++)
    {
      Channel *channel = g_ptr_array_index (self->channels, i);

      update_channel (self, channel);
      any_visible |= gtk_widget_get_visible (channel->row);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->empty_label), !any_visible);
  gtk_widget_set_visible (GTK_WIDGET (self->list), any_visible);

  /* A row made insensitive or hidden while it had the focus took it away: give it back. */
  if (self->open && root != NULL && gtk_root_get_focus (root) == NULL)
    focus_first (self);
}

static void
set_all_waits (CxChannelSelector *self, WaitState wait)
{
  for (guint i = 0; i < self->channels->len; i++)
    {
      Channel *channel = g_ptr_array_index (self->channels, i);

      if (shows_wait (self, channel))
        channel->wait = wait;
    }
  update_all (self);
}

/* Reads {ewt: {queue: seconds}}; the channels of the queues it has take their waits. */
static void
apply_estimates (CxChannelSelector *self, JsonNode *data)
{
  JsonObject *object =
      data != NULL && JSON_NODE_HOLDS_OBJECT (data) ? json_node_get_object (data) : NULL;
  JsonNode *node = object != NULL ? json_object_get_member (object, "ewt") : NULL;
  JsonObject *ewt;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return;
  ewt = json_node_get_object (node);

  for (guint i = 0; i < self->channels->len; i++)
    {
      Channel *channel = g_ptr_array_index (self->channels, i);
      JsonNode *seconds;

      if (channel->spec->ewt_queue == NULL)
        continue;
      seconds = json_object_get_member (ewt, channel->spec->ewt_queue);
      if (seconds == NULL || !JSON_NODE_HOLDS_VALUE (seconds) ||
          json_node_get_value_type (seconds) != G_TYPE_INT64)
        continue;

      channel->wait = WAIT_KNOWN;
      channel->ewt = json_node_get_int (seconds);
      channel->availability =
          cx_stats_availability (channel->ewt, channel->spec->threshold_min,
                                 channel->spec->threshold_max, &channel->minutes);
    }

  update_all (self);
}

/* Polling */

static void
start_polling_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxChannelSelector *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;

  reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  /* Closed, or polling began again, or the selector went away: touch nothing. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || reply != NULL)
    return;

  g_debug ("The wait times cannot be polled: %s", error->message);
  set_all_waits (self, WAIT_UNKNOWN);
}

static void
stop_polling (CxChannelSelector *self)
{
  g_autofree char *command = NULL;

  if (self->poll_cancellable == NULL)
    return;

  g_cancellable_cancel (self->poll_cancellable);
  g_clear_object (&self->poll_cancellable);

  /* Nobody waits for the answer: the service stops, or is not there to poll anyway. */
  command = g_strconcat (STATS, ".stopPolling", NULL);
  cx_bus_command_async (self->bus, self->plugin, command, NULL, 0, NULL, NULL, NULL);
}

static void
start_polling (CxChannelSelector *self)
{
  g_autoptr (JsonNode) queues = NULL;
  g_autoptr (JsonNode) data = NULL;
  g_autofree char *command = NULL;
  JsonObject *object;

  stop_polling (self);

  queues = queues_node (self);
  if (queues == NULL)
    {
      update_all (self);
      return;
    }

  object = json_object_new ();
  json_object_set_member (object, "queues", g_steal_pointer (&queues));
  data = cx_json_node_new_object (object);

  self->poll_cancellable = g_cancellable_new ();
  /* What was known stays shown until the first poll says otherwise; what was not, is asked. */
  for (guint i = 0; i < self->channels->len; i++)
    {
      Channel *channel = g_ptr_array_index (self->channels, i);

      if (shows_wait (self, channel) && channel->wait == WAIT_UNKNOWN)
        channel->wait = WAIT_CHECKING;
    }
  update_all (self);

  command = g_strconcat (STATS, ".startPolling", NULL);
  cx_bus_command_async (self->bus, self->plugin, command, data, 0, self->poll_cancellable,
                        start_polling_cb, self);
}

static void
stats_updated_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxChannelSelector *self = user_data;

  if (self->stats_enabled)
    apply_estimates (self, event->data);
}

static void
stats_error_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxChannelSelector *self = user_data;

  /* Only the polls the selector asked for; an answer to someone else's getStats is theirs. */
  if (self->stats_enabled && self->poll_cancellable != NULL)
    set_all_waits (self, WAIT_UNKNOWN);
}

/* Opening and closing */

static void
set_open (CxChannelSelector *self, gboolean open)
{
  if (self->open == open)
    return;

  self->open = open;
  gtk_widget_set_visible (GTK_WIDGET (self), open);

  if (open)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
      if (self->stats_enabled)
        start_polling (self);
      else
        update_all (self);
    }
  else
    stop_polling (self);

  publish (self, open ? "opened" : "closed");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPEN]);
  if (open)
    focus_first (self);
}

/* Choosing a channel */

typedef struct
{
  CxChannelSelector *self;
  char *display_name;
} Choice;

static void
choice_free (Choice *choice)
{
  g_free (choice->display_name);
  g_free (choice);
}

static void
click_command_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Choice *choice = user_data;
  CxChannelSelector *self = choice->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *text = NULL;

  reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  /* It is open already (the Widgets' answer): that is what the customer wanted. */
  if (reply != NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      (g_error_matches (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED) &&
       g_str_equal (error->message, "already opened")))
    {
      choice_free (choice);
      return;
    }

  set_open (self, TRUE);
  /* Translators: the first %s is a channel, such as “Chat”, the second says why */
  text = g_strdup_printf (_ ("%s could not be opened: %s"), choice->display_name, error->message);
  gtk_label_set_text (self->error_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
  choice_free (choice);
}

static void
choose (CxChannelSelector *self, Channel *channel)
{
  Choice *choice;

  if (!gtk_widget_get_sensitive (channel->row) || !gtk_widget_get_visible (channel->row))
    return;

  set_open (self, FALSE);

  choice = g_new0 (Choice, 1);
  choice->self = self;
  choice->display_name = g_strdup (channel->spec->display_name);
  cx_bus_command_async (self->bus, self->plugin, channel->spec->click_command,
                        channel->spec->click_options, 0, self->cancellable, click_command_cb,
                        choice);
}

static void
row_activated_cb (CxChannelSelector *self, GtkListBoxRow *row, GtkListBox *list)
{
  for (guint i = 0; i < self->channels->len; i++)
    {
      Channel *channel = g_ptr_array_index (self->channels, i);

      if (channel->row == GTK_WIDGET (row))
        {
          choose (self, channel);
          return;
        }
    }
}

static void
close_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  set_open (CX_CHANNEL_SELECTOR (widget), FALSE);
}

/* ChannelSelector commands */

static void
open_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxChannelSelector *self = user_data;

  /* As in the Widgets. */
  if (self->open)
    {
      cx_command_reject_message (command, "already opened");
      return;
    }

  set_open (self, TRUE);
  cx_command_resolve (command, NULL);
}

static void
close_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  set_open (CX_CHANNEL_SELECTOR (user_data), FALSE);
  cx_command_resolve (command, NULL);
}

static void
enable_stats_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxChannelSelector *self = user_data;

  if (!self->stats_enabled)
    {
      self->stats_enabled = TRUE;
      for (guint i = 0; i < self->channels->len; i++)
        ((Channel *) g_ptr_array_index (self->channels, i))->wait = WAIT_CHECKING;
      if (self->open)
        start_polling (self);
      else
        update_all (self);
    }
  cx_command_resolve (command, NULL);
}

static void
disable_stats_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxChannelSelector *self = user_data;

  if (self->stats_enabled)
    {
      self->stats_enabled = FALSE;
      stop_polling (self);
      update_all (self);
    }
  cx_command_resolve (command, NULL);
}

static JsonNode *
channels_summary (CxChannelSelector *self)
{
  JsonObject *object = json_object_new ();
  JsonArray *array = json_array_new ();

  for (guint i = 0; i < self->channels->len; i++)
    {
      Channel *channel = g_ptr_array_index (self->channels, i);
      JsonObject *entry;

      if (!shows_wait (self, channel))
        continue;

      entry = json_object_new ();
      json_object_set_string_member (entry, "name", channel->spec->name);
      json_object_set_string_member (entry, "queue", channel->spec->ewt_queue);
      if (channel->wait == WAIT_KNOWN)
        json_object_set_int_member (entry, "ewt", channel->ewt);
      else
        json_object_set_null_member (entry, "ewt");
      json_object_set_string_member (entry, "availability", availability_name (channel));
      json_object_set_int_member (
          entry, "minutes",
          channel->wait == WAIT_KNOWN && channel->availability == CX_CHANNEL_BUSY ? channel->minutes
                                                                                  : 0);
      json_array_add_object_element (array, entry);
    }

  json_object_set_array_member (object, "channels", array);
  return cx_json_node_new_object (object);
}

typedef struct
{
  CxChannelSelector *self;
  CxCommand *command;
} DisplayStats;

static void
get_stats_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DisplayStats *call = user_data;
  CxChannelSelector *self = call->self;
  g_autoptr (CxCommand) command = call->command;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autoptr (JsonNode) summary = NULL;

  g_free (call);
  reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  /* The selector went away (dispose cancels): it is not touched. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      cx_command_reject_message (command, _ ("The channel selector went away"));
      return;
    }

  if (reply != NULL)
    apply_estimates (self, reply);
  else
    {
      /* Not a failure of the command: the channels say the wait is unknown. */
      g_debug ("The wait times could not be had: %s", error->message);
      set_all_waits (self, WAIT_UNKNOWN);
    }

  summary = channels_summary (self);
  cx_command_resolve (command, summary);
}

static void
display_stats_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxChannelSelector *self = user_data;
  g_autoptr (JsonNode) queues = NULL;
  g_autoptr (JsonNode) data = NULL;
  g_autofree char *full = NULL;
  DisplayStats *call;
  JsonObject *object;

  if (!self->stats_enabled)
    {
      cx_command_reject_message (command, _ ("The wait times are disabled (enableStats)"));
      return;
    }

  queues = queues_node (self);
  if (queues == NULL)
    {
      g_autoptr (JsonNode) summary = channels_summary (self);

      cx_command_resolve (command, summary);
      return;
    }

  object = json_object_new ();
  json_object_set_string_member (object, "group", GROUP_EWT);
  json_object_set_member (object, "vqName", g_steal_pointer (&queues));
  data = cx_json_node_new_object (object);

  call = g_new0 (DisplayStats, 1);
  call->self = self;
  call->command = g_object_ref (command);
  full = g_strconcat (STATS, ".getStats", NULL);
  cx_bus_command_async (self->bus, self->plugin, full, data, 0, self->cancellable, get_stats_cb,
                        call);
}

/* Rows */

static GtkWidget *
new_row (Channel *channel)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *icon, *name, *status, *arrow;

  icon =
      g_object_new (GTK_TYPE_IMAGE, "icon-name", channel->spec->icon_name, "icon-size",
                    GTK_ICON_SIZE_LARGE, "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION, NULL);
  gtk_widget_add_css_class (icon, "cx-channel-icon");

  /* Names come from the configuration: plain text. */
  name = gtk_label_new (NULL);
  gtk_label_set_text (GTK_LABEL (name), channel->spec->display_name);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (name, "cx-channel-name");

  status = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (status), 0);
  gtk_widget_add_css_class (status, "cx-channel-status");
  gtk_widget_set_visible (status, FALSE);

  arrow = g_object_new (GTK_TYPE_IMAGE, "icon-name", "go-next-symbolic", "accessible-role",
                        GTK_ACCESSIBLE_ROLE_PRESENTATION, NULL);
  gtk_widget_add_css_class (arrow, "dim-label");

  gtk_widget_set_hexpand (labels, TRUE);
  gtk_widget_set_valign (labels, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (labels), name);
  gtk_box_append (GTK_BOX (labels), status);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), labels);
  gtk_box_append (GTK_BOX (box), arrow);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);

  gtk_widget_set_name (row, channel->spec->name);
  gtk_widget_add_css_class (row, "cx-channel");
  channel->row = row;
  channel->status_label = GTK_LABEL (status);
  return row;
}

/* Object */

static void
cx_channel_selector_dispose (GObject *object)
{
  CxChannelSelector *self = CX_CHANNEL_SELECTOR (object);
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  if (self->bus != NULL)
    stop_polling (self);

  cx_plugin_leave_bus (&self->plugin);
  g_clear_object (&self->bus);

  gtk_widget_dispose_template (GTK_WIDGET (self), CX_TYPE_CHANNEL_SELECTOR);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  if (self->channels != NULL)
    g_ptr_array_set_size (self->channels, 0);

  G_OBJECT_CLASS (cx_channel_selector_parent_class)->dispose (object);
}

static void
cx_channel_selector_finalize (GObject *object)
{
  CxChannelSelector *self = CX_CHANNEL_SELECTOR (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->channels, g_ptr_array_unref);

  G_OBJECT_CLASS (cx_channel_selector_parent_class)->finalize (object);
}

static void
cx_channel_selector_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxChannelSelector *self = CX_CHANNEL_SELECTOR (object);

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
cx_channel_selector_class_init (CxChannelSelectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cx_channel_selector_dispose;
  object_class->finalize = cx_channel_selector_finalize;
  object_class->get_property = cx_channel_selector_get_property;

  properties[PROP_OPEN] =
      g_param_spec_boolean ("open", NULL, NULL, FALSE,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/cxdesk/CxDesk/cx-channel-selector.ui");
  gtk_widget_class_bind_template_child (widget_class, CxChannelSelector, error_label);
  gtk_widget_class_bind_template_child (widget_class, CxChannelSelector, empty_label);
  gtk_widget_class_bind_template_child (widget_class, CxChannelSelector, list);
  gtk_widget_class_bind_template_child (widget_class, CxChannelSelector, close_button);
  gtk_widget_class_bind_template_callback (widget_class, row_activated_cb);

  gtk_widget_class_install_action (widget_class, "channel-selector.close", NULL, close_activated);

  gtk_widget_class_set_css_name (widget_class, "cxchannelselector");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
cx_channel_selector_init (CxChannelSelector *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->channels = g_ptr_array_new_with_free_func (channel_free);
  self->stats_enabled = TRUE;
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

GtkWidget *
cx_channel_selector_new (void)
{
  return g_object_new (CX_TYPE_CHANNEL_SELECTOR, NULL);
}

static const CxCommandSpec command_specs[] = {
  { "open", open_command_cb },
  { "close", close_command_cb },
  { "enableStats", enable_stats_command_cb },
  { "disableStats", disable_stats_command_cb },
  { "displayStats", display_stats_command_cb },
};

/**
 * cx_channel_selector_attach:
 * @self: the selector
 * @bus: the window's bus
 * @config: (nullable): the "channelselector" settings ({channels: [...]})
 * @error: return location for a #GError
 *
 * Reads the channels, registers the "ChannelSelector" plugin on @bus, follows "StatsService"
 * (which may come later), and makes the plugin ready.
 *
 * Returns: %TRUE, or %FALSE with @error set (a channel is wrong in @config, or the name is
 *   taken on @bus)
 */
gboolean
cx_channel_selector_attach (CxChannelSelector *self, CxBus *bus, JsonObject *config, GError **error)
{
  g_autoptr (GPtrArray) specs = NULL;
  CxPlugin *plugin;

  g_return_val_if_fail (CX_IS_CHANNEL_SELECTOR (self), FALSE);
  g_return_val_if_fail (CX_IS_BUS (bus), FALSE);
  g_return_val_if_fail (self->plugin == NULL, FALSE);

  specs = cx_channel_spec_list_from_config (config, error);
  if (specs == NULL)
    return FALSE;

  self->plugin =
      cx_bus_register_plugin_with_table (bus, CX_CHANNEL_SELECTOR_NAME, event_names, command_specs,
                                         G_N_ELEMENTS (command_specs), self, error);
  if (self->plugin == NULL)
    return FALSE;
  plugin = self->plugin;
  self->bus = g_object_ref (bus);

  for (guint i = 0; i < specs->len; i++)
    {
      Channel *channel = g_new0 (Channel, 1);

      channel->spec = g_steal_pointer (&g_ptr_array_index (specs, i));
      g_ptr_array_add (self->channels, channel);
    }

  cx_plugin_subscribe (plugin, STATS ".updated", stats_updated_cb, self, NULL);
  cx_plugin_subscribe (plugin, STATS ".error", stats_error_cb, self, NULL);

  for (guint i = 0; i < self->channels->len; i++)
    gtk_list_box_append (self->list, new_row (g_ptr_array_index (self->channels, i)));
  update_all (self);

  cx_plugin_ready (plugin);
  return TRUE;
}

/**
 * cx_channel_selector_get_plugin:
 *
 * Returns: (transfer none) (nullable): the "ChannelSelector" plugin, once attached
 */
CxPlugin *
cx_channel_selector_get_plugin (CxChannelSelector *self)
{
  g_return_val_if_fail (CX_IS_CHANNEL_SELECTOR (self), NULL);

  return self->plugin;
}

gboolean
cx_channel_selector_get_open (CxChannelSelector *self)
{
  g_return_val_if_fail (CX_IS_CHANNEL_SELECTOR (self), FALSE);

  return self->open;
}
