/* cx-command.c: one command call. Its handler resolves or rejects it, now or later; the first
 * answer wins, and a command that is never answered is rejected by the bus's timeout. */
#define G_LOG_DOMAIN "cx-bus"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "bus/cx-bus-private.h"

G_DEFINE_FINAL_TYPE (CxCommand, cx_command, G_TYPE_OBJECT)

static void
cx_command_finalize (GObject *object)
{
  CxCommand *self = CX_COMMAND (object);

  /* Every path that completes a command disconnects; this is the belt to those braces. */
  if (self->cancelled_id != 0)
    g_signal_handler_disconnect (self->cancellable, self->cancelled_id);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->task);
  g_clear_pointer (&self->data, json_node_unref);

  G_OBJECT_CLASS (cx_command_parent_class)->finalize (object);
}

static void
cx_command_class_init (CxCommandClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cx_command_finalize;
}

static void
cx_command_init (CxCommand *self)
{
  self->link.data = self;
}

static gboolean
cancel_idle_cb (gpointer user_data)
{
  CxCommand *self = user_data;

  if (self->task != NULL)
    cx_command_reject (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                  _ ("The command was cancelled")));
  return G_SOURCE_REMOVE;
}

/* Runs inside g_cancellable_cancel(): answer from the main loop, not from the middle of the
 * caller's cancel call. */
static void
cancelled_cb (GCancellable *cancellable, CxCommand *self)
{
  g_idle_add_full (G_PRIORITY_DEFAULT, cancel_idle_cb, g_object_ref (self), g_object_unref);
}

CxCommand *
_cx_command_new (CxBus *bus, GTask *task, const char *commander, const char *name, const char *ns,
                 const char *short_name, JsonNode *data, guint timeout_ms)
{
  CxCommand *self = g_object_new (CX_TYPE_COMMAND, NULL);
  GCancellable *cancellable = g_task_get_cancellable (task);

  self->bus = bus;
  self->task = g_object_ref (task);
  self->commander = commander;
  self->name = name;
  self->ns = ns;
  self->short_name = short_name;
  self->data = data ? json_node_ref (data) : NULL;
  self->time = g_get_real_time ();
  self->started = g_get_monotonic_time ();
  self->timeout_ms = timeout_ms;
  self->deadline = self->started + (gint64) timeout_ms * G_TIME_SPAN_MILLISECOND;

  if (cancellable != NULL)
    {
      self->cancellable = g_object_ref (cancellable);
      self->cancelled_id =
          g_signal_connect (cancellable, "cancelled", G_CALLBACK (cancelled_cb), self);
    }

  return self;
}

void
_cx_command_set_data (CxCommand *self, JsonNode *data)
{
  g_clear_pointer (&self->data, json_node_unref);
  self->data = data;
}

static void
complete (CxCommand *self, JsonNode *result, GError *error)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (CxCommand) hold = g_object_ref (self);

  if (self->task == NULL)
    {
      /* A late answer (after a timeout or a cancellation) is dropped, as a settled promise
       * ignores a second settlement. */
      g_debug ("Ignoring a late answer to %s from %s", self->name, self->commander);
      g_clear_error (&error);
      return;
    }

  task = g_steal_pointer (&self->task);
  if (self->cancelled_id != 0)
    {
      /* g_signal_handler_disconnect, not g_cancellable_disconnect: the latter waits for a
       * running "cancelled" emission and would deadlock if we were called from one. */
      g_signal_handler_disconnect (self->cancellable, self->cancelled_id);
      self->cancelled_id = 0;
    }

  _cx_bus_command_completed (self->bus, self, error);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result ? json_node_ref (result) : json_node_new (JSON_NODE_NULL),
                           (GDestroyNotify) json_node_unref);
}

/**
 * cx_command_resolve:
 * @self: a command
 * @result: (nullable): the result; %NULL resolves with a JSON null
 *
 * Answers the command. Only the first answer counts.
 */
void
cx_command_resolve (CxCommand *self, JsonNode *result)
{
  g_return_if_fail (CX_IS_COMMAND (self));

  complete (self, result, NULL);
}

/**
 * cx_command_reject:
 * @self: a command
 * @error: (transfer full): why
 */
void
cx_command_reject (CxCommand *self, GError *error)
{
  g_return_if_fail (CX_IS_COMMAND (self));
  g_return_if_fail (error != NULL);

  complete (self, NULL, error);
}

/**
 * cx_command_reject_message:
 * @self: a command
 * @format: a printf-style message for people
 *
 * Rejects with %CX_BUS_ERROR_REJECTED.
 */
void
cx_command_reject_message (CxCommand *self, const char *format, ...)
{
  va_list args;
  GError *error;

  g_return_if_fail (CX_IS_COMMAND (self));

  va_start (args, format);
  error = g_error_new_valist (CX_BUS_ERROR, CX_BUS_ERROR_REJECTED, format, args);
  va_end (args);

  complete (self, NULL, error);
}

gint64
cx_command_get_time (CxCommand *self)
{
  g_return_val_if_fail (CX_IS_COMMAND (self), 0);
  return self->time;
}

/**
 * cx_command_get_commander:
 *
 * Returns: the namespace of the calling plugin, or %CX_BUS_APP_COMMANDER
 */
const char *
cx_command_get_commander (CxCommand *self)
{
  g_return_val_if_fail (CX_IS_COMMAND (self), NULL);
  return self->commander;
}

const char *
cx_command_get_name (CxCommand *self)
{
  g_return_val_if_fail (CX_IS_COMMAND (self), NULL);
  return self->name;
}

const char *
cx_command_get_namespace (CxCommand *self)
{
  g_return_val_if_fail (CX_IS_COMMAND (self), NULL);
  return self->ns;
}

const char *
cx_command_get_short_name (CxCommand *self)
{
  g_return_val_if_fail (CX_IS_COMMAND (self), NULL);
  return self->short_name;
}

/**
 * cx_command_get_data:
 *
 * Returns: (transfer none) (nullable): the data, after any before-hooks. Do not modify it.
 */
JsonNode *
cx_command_get_data (CxCommand *self)
{
  g_return_val_if_fail (CX_IS_COMMAND (self), NULL);
  return self->data;
}

/**
 * cx_command_get_cancellable:
 *
 * Returns: (transfer none) (nullable): the caller's cancellable, for work the handler starts
 */
GCancellable *
cx_command_get_cancellable (CxCommand *self)
{
  g_return_val_if_fail (CX_IS_COMMAND (self), NULL);
  return self->cancellable;
}

gboolean
cx_command_is_done (CxCommand *self)
{
  g_return_val_if_fail (CX_IS_COMMAND (self), TRUE);
  return self->task == NULL;
}
