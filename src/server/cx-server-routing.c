/* cx-server-routing.c: who gets a chat. The decision itself is the store's (one transaction,
 * cx_store_offer_chat); this file decides when to ask, keeps each invitation's timer, tells
 * waiting customers their queue position, and estimates wait times. Every timer and cache here is
 * rebuilt from the store at start, so a restart or a second process loses nothing. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-protocol.h"
#include "server/cx-server-private.h"

/* How often waiting chats are offered again even when nothing seems to have changed: covers
 * agents that declined a chat everyone else is too busy for, and other processes' changes. */
#define SWEEP_INTERVAL_S 5
/* A handle time to assume before any chat of a queue has ended (seconds). */
#define DEFAULT_HANDLE_S 180

/* Keyed one-shot timers */

static void
timer_free (gpointer data)
{
  CxServerTimer *timer = data;

  g_free (timer->key);
  g_free (timer->agent);
  g_free (timer);
}

/**
 * _cx_server_timer_start:
 *
 * Starts a timer of @delay_ms for @key in @table (replacing one the key had); @func gets the
 * CxServerTimer.
 */
void
_cx_server_timer_start (CxServer *self, GHashTable *table, const char *key, const char *agent,
                        guint delay_ms, GSourceFunc func)
{
  CxServerTimer *timer = g_new0 (CxServerTimer, 1);
  guint id;

  _cx_server_timer_cancel (table, key);
  timer->server = self;
  timer->table = table;
  timer->key = g_strdup (key);
  timer->agent = g_strdup (agent);
  id = g_timeout_add_full (G_PRIORITY_DEFAULT, delay_ms, func, timer, timer_free);
  g_hash_table_insert (table, g_strdup (key), GUINT_TO_POINTER (id));
}

/* Returns whether @key had a timer. */
gboolean
_cx_server_timer_cancel (GHashTable *table, const char *key)
{
  gpointer id;

  if (!g_hash_table_lookup_extended (table, key, NULL, &id))
    return FALSE;
  g_source_remove (GPOINTER_TO_UINT (id));
  g_hash_table_remove (table, key);
  return TRUE;
}

void
_cx_server_timer_cancel_all (GHashTable *table)
{
  GHashTableIter iter;
  gpointer id;

  if (table == NULL)
    return;
  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, &id))
    g_source_remove (GPOINTER_TO_UINT (id));
  g_hash_table_remove_all (table);
}

/* Invitations */

static gboolean
invitation_expired_cb (gpointer user_data)
{
  CxServerTimer *expiry = user_data;
  CxServer *self = expiry->server;
  g_autoptr (GError) error = NULL;

  /* The timer is done either way; the source goes when this returns. */
  g_hash_table_remove (expiry->table, expiry->key);

  if (cx_store_answer_invitation (self->store, expiry->key, expiry->agent, CX_INVITATION_EXPIRED,
                                  _cx_server_now (), &error))
    {
      g_debug ("Invitation of %s to %s expired", expiry->key, expiry->agent);
      _cx_server_send_withdrawn (self, expiry->key, expiry->agent, "timeout");
    }
  else if (!g_error_matches (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT) &&
           !g_error_matches (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND))
    g_warning ("Could not expire the invitation of %s: %s", expiry->key, error->message);

  _cx_server_route (self, expiry->key);
  return G_SOURCE_REMOVE;
}

void
_cx_server_cancel_invitation_timer (CxServer *self, const char *chat_id)
{
  _cx_server_timer_cancel (self->invitation_timers, chat_id);
}

/* Starts the invitation's timer and tells the agent. */
void
_cx_server_arm_invitation (CxServer *self, const CxInvitation *invitation)
{
  gint64 delay = CLAMP (invitation->expires_at - _cx_server_now (), 0, G_MAXUINT);

  _cx_server_timer_start (self, self->invitation_timers, invitation->chat_id, invitation->agent,
                          (guint) delay, invitation_expired_cb);

  _cx_server_send_invitation (self, invitation);
}

void
_cx_server_withdraw_invitation (CxServer *self, const char *chat_id, const char *reason)
{
  g_autoptr (GPtrArray) invitations = cx_store_list_invitations (self->store, NULL, NULL);

  _cx_server_cancel_invitation_timer (self, chat_id);
  for (guint i = 0; invitations && i < invitations->len; i++)
    {
      CxInvitation *invitation = g_ptr_array_index (invitations, i);

      if (g_str_equal (invitation->chat_id, chat_id) &&
          cx_store_answer_invitation (self->store, chat_id, invitation->agent,
                                      CX_INVITATION_WITHDRAWN, _cx_server_now (), NULL))
        _cx_server_send_withdrawn (self, chat_id, invitation->agent, reason);
    }
}

/**
 * _cx_server_route:
 *
 * Offers @chat_id to the best agent, if it waits without an offer and somebody can take it.
 */
void
_cx_server_route (CxServer *self, const char *chat_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxInvitation) invitation = NULL;
  gint64 now = _cx_server_now ();
  gint64 timeout = (gint64) self->config->invitation_timeout_s * 1000;

  /* An agent who declined or missed this chat is asked again only after a while, and only if
   * nobody else can take it. */
  invitation =
      cx_store_offer_chat (self->store, chat_id, now, now + timeout, now - 3 * timeout, &error);
  if (invitation == NULL)
    {
      if (error != NULL)
        g_warning ("Could not route %s: %s", chat_id, error->message);
      return;
    }

  _cx_server_arm_invitation (self, invitation);
}

/* After this many waiting chats in a row that nobody could take, the rest of the queue would
 * fare no better: stop (the next change or sweep tries again). More than one, because an agent
 * who declined one chat may still take the next. */
#define MAX_ROUTING_MISSES 8

void
_cx_server_route_queue (CxServer *self, const char *queue)
{
  g_autoptr (GPtrArray) chats = cx_store_list_open_chats (self->store, queue, NULL, NULL);
  guint misses = 0;

  for (guint i = 0; chats && i < chats->len && misses < MAX_ROUTING_MISSES; i++)
    {
      CxChat *chat = g_ptr_array_index (chats, i);

      /* A chat with a live invitation has its timer here; nothing to ask the store. */
      if (chat->state != CX_CHAT_WAITING || chat->agent != NULL ||
          g_hash_table_contains (self->invitation_timers, chat->id))
        continue;

      _cx_server_route (self, chat->id);
      if (!g_hash_table_contains (self->invitation_timers, chat->id))
        misses++;
    }
}

void
_cx_server_route_all (CxServer *self)
{
  for (guint i = 0; i < self->config->services->len; i++)
    _cx_server_route_queue (
        self, ((CxServiceConfig *) g_ptr_array_index (self->config->services, i))->name);
}

/* Queue positions */

static JsonNode *
position_data (guint position)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "queuePosition");
  json_builder_add_int_value (builder, position);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static void
renumber_queue (CxServer *self, const char *queue)
{
  g_autoptr (GPtrArray) chats = cx_store_list_open_chats (self->store, queue, NULL, NULL);
  guint position = 0;

  for (guint i = 0; chats && i < chats->len; i++)
    {
      CxChat *chat = g_ptr_array_index (chats, i);
      g_autoptr (CxMessage) notice = NULL;
      g_autoptr (JsonNode) data = NULL;
      g_autofree char *text = NULL;
      gpointer told;

      if (chat->state != CX_CHAT_WAITING)
        continue;

      position++;
      /* Tell a customer each move near the head of the queue, further back only moves of a
       * tenth or more: a queue of thousands moving by one costs a few notices, not thousands,
       * and nobody reads "you are number 4,512" then "4,511". */
      if (g_hash_table_lookup_extended (self->notified_positions, chat->id, NULL, &told))
        {
          guint before = GPOINTER_TO_UINT (told);

          if (before == position ||
              (position > 10 && before > position && (before - position) * 10 < before))
            continue;
        }

      /* The text is for a plain GMS client; CX Desk's own app reads userData.queuePosition and
       * words it in the customer's language. */
      text = g_strdup_printf ("You are number %u in the queue.", position);
      data = position_data (position);
      notice = _cx_server_system_notice (text, data);
      if (_cx_server_append_one (self, chat, notice, NULL, NULL))
        g_hash_table_insert (self->notified_positions, g_strdup (chat->id),
                             GUINT_TO_POINTER (position));
    }
}

static gboolean
renumber_cb (gpointer user_data)
{
  CxServer *self = user_data;
  g_autoptr (GHashTable) queues = g_steal_pointer (&self->queues_to_renumber);
  GHashTableIter iter;
  const char *queue;

  self->renumber_id = 0;
  self->queues_to_renumber = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_hash_table_iter_init (&iter, queues);
  while (g_hash_table_iter_next (&iter, (gpointer *) &queue, NULL))
    renumber_queue (self, queue);

  return G_SOURCE_REMOVE;
}

/**
 * _cx_server_queue_changed:
 *
 * Positions in @queue may have changed: tell its waiting customers, once per main loop
 * iteration however many changes there were (a thousand chats accepted in a burst must not
 * cost a million notices).
 */
void
_cx_server_queue_changed (CxServer *self, const char *queue)
{
  g_hash_table_add (self->queues_to_renumber, g_strdup (queue));
  if (self->renumber_id == 0)
    self->renumber_id = g_idle_add_full (G_PRIORITY_LOW, renumber_cb, self, NULL);
}

static gboolean
sweep_cb (gpointer user_data)
{
  _cx_server_route_all (user_data);
  return G_SOURCE_CONTINUE;
}

/**
 * _cx_server_ewt:
 *
 * The estimated wait, in seconds, for a chat that joins @queue now, or -1 when nobody who
 * serves it is signed in. With free capacity it is 0; otherwise each agent slot handles a chat
 * every mean handle time, so the queue ahead clears at (waiting + 1) / slots of those.
 */
gint64
_cx_server_ewt (CxServer *self, const char *queue)
{
  g_autoptr (GPtrArray) agents = cx_store_list_agents (self->store, NULL);
  gint64 mean_handle = -1;
  guint waiting = 0, slots = 0, free_slots = 0, present = 0;

  if (agents == NULL || !cx_store_queue_stats (self->store, queue, _cx_server_now () - 3600 * 1000,
                                               &waiting, &mean_handle, NULL))
    return -1;

  for (guint i = 0; i < agents->len; i++)
    {
      CxAgent *agent = g_ptr_array_index (agents, i);

      if (agent->queues && agent->queues[0] &&
          !g_strv_contains ((const char *const *) agent->queues, queue))
        continue;
      if (agent->state == CX_AGENT_OFFLINE)
        continue;
      present++;
      if (agent->state == CX_AGENT_READY)
        {
          slots += agent->capacity;
          free_slots += agent->capacity > agent->load ? agent->capacity - agent->load : 0;
        }
    }

  if (present == 0)
    return -1;
  if (free_slots > waiting)
    return 0;
  if (mean_handle < 0)
    mean_handle = DEFAULT_HANDLE_S * 1000;
  return ((gint64) (waiting + 1) * mean_handle / MAX (slots, 1)) / 1000;
}

void
_cx_server_routing_init (CxServer *self)
{
  g_autoptr (GPtrArray) invitations = cx_store_list_invitations (self->store, NULL, NULL);

  /* Invitations that were pending when the server stopped keep their deadlines. */
  for (guint i = 0; invitations && i < invitations->len; i++)
    _cx_server_arm_invitation (self, g_ptr_array_index (invitations, i));

  self->sweep_id = g_timeout_add_seconds (SWEEP_INTERVAL_S, sweep_cb, self);
  _cx_server_route_all (self);
}

void
_cx_server_routing_shutdown (CxServer *self)
{
  _cx_server_timer_cancel_all (self->invitation_timers);
  /* Agents' grace timers (issue 9) stop with the routing they feed. */
  _cx_server_agent_socket_stop (self);
  g_clear_handle_id (&self->sweep_id, g_source_remove);
  g_clear_handle_id (&self->renumber_id, g_source_remove);
}
