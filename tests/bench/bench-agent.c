/* bench-agent.c: one agent with --chats concurrent chats receiving --rate customer messages/s
 * in total, through the agent app's real client stack: AgentService
 * (src/services/cx-agent-service.c) on a CxBus and the transcript model of every conversation
 * (src/agent/cx-agent-transcript.c), against a real cxdesk-server child process
 * (tests/server/cx-test-server.c).
 *
 * "Arrival on the socket": AgentService reads its event socket through libsoup, whose
 * SoupWebsocketConnection emits "message" once a whole frame is read. A signal emission hook
 * (it runs before any handler, the service's included) takes the time of each frame and the
 * benchmark's sequence numbers in it; the items-changed of the conversation's CxAgentTranscript
 * takes the time of the row. Nothing in the service is changed or wrapped.
 *
 * The customers are played by this program run again as a child (--customers): GMS `start` and
 * `send` over loopback, paced at --rate in an open loop, each text carrying its sequence number
 * and the CLOCK_MONOTONIC time of its send (the clock is the machine's, the same in both
 * processes). The child also holds the anchor: the same agent signed in a second time (its own
 * session), a bare SoupWebsocketConnection on the event stream, each frame parsed with
 * json-glib and its messages appended to a GListStore per chat, timed the same way (frame read
 * to row). It reports too the server hop alone, from the customer's send to that raw arrival.
 * Keeping the load and the anchor in the child leaves this process with the agent's work only,
 * so that its getrusage over the steady phase is the agent's CPU share.
 *
 * The run has two phases, each against a server of its own with a new child: first that stack
 * headless, then the agent app's real workspace in this process: a CxAgentApplication with a
 * CxAgentWindow shown (a display is needed: CI runs under xvfb-run), signed in and ready through
 * the window, every invitation accepted as its Accept button does, the last accepted chat shown.
 * There the row is timed in the model of the window's transcript view (the shown chat's
 * messages only; the others are in the conversation list), the frame by the same hook on the
 * window's service socket, and the CPU share is the whole app's: service, list, drawing.
 *
 * The first --warmup seconds are not measured. Exit status: 0 every target met, 1 a target
 * missed, 2 the benchmark itself failed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "bench-agent"

#include "config.h"

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <gtk/gtk.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/cx-agent-application.h"
#include "agent/cx-agent-transcript.h"
#include "agent/cx-agent-window.h"
#include "bus/cx-bus.h"
#include "cx-test-server.h"
#include "services/cx-agent-service.h"
#include "services/cx-http.h"

/* Targets */
#define TARGET_P99_MS 16.0
#define TARGET_CPU_PERCENT 25.0
/* The agent app with 10 windows open on the same chats, against the same app with one. */
#define MORE_WINDOWS 9
#define TARGET_RSS_RATIO 1.3

#define SERVICE "customer-support"
#define MARKER "bench:"
#define PACE_MS 2
#define COMMAND_TIMEOUT_MS 30000
/* Bounds on every wait of a benchmark that is not a test: a hang is a failed run. */
#define SETUP_TIMEOUT_S 30
#define DRAIN_TIMEOUT_S 15

typedef struct
{
  /* options */
  int chats;
  double rate;
  int seconds;
  int warmup;
  char *customers_url; /* set in the child */

  guint max_seq;
  gint64 t0;            /* when sending starts: message k is due at t0 + k / rate */
  gint64 measure_start; /* t0 + warmup */
  gint64 measure_end;   /* measure_start + seconds */
} Options;

static Options opt;

static void fail (const char *format, ...) G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN;

static void
fail (const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("bench-agent%s: FAILED: %s\n", opt.customers_url != NULL ? " (customers)" : "", text);
  exit (2);
}

typedef gboolean (*Condition) (gpointer data);

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
wait_for (Condition cond, gpointer data, double timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  while (!cond (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, TRUE);
    }
  return TRUE;
}

static int
compare_int64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile in ms; sorts @values. */
static double
percentile_ms (GArray *values, double q)
{
  guint rank;

  if (values->len == 0)
    return -1;
  g_array_sort (values, compare_int64);
  rank = (guint) MAX (1.0, (q * values->len) + 0.999999);
  rank = MIN (rank, values->len);
  return g_array_index (values, gint64, rank - 1) / 1000.0;
}

static gboolean
measured (gint64 sent)
{
  return sent >= opt.measure_start && sent < opt.measure_end;
}

/* Markers: "bench:SEQ:SENT_US;" at the start of each customer text. */

static gboolean
parse_marker (const char *text, gsize length, const char **end, guint *seq, gint64 *sent)
{
  const char *limit = text + length;
  const char *p = text;
  guint64 s = 0;
  gint64 t = 0;

  if (length < strlen (MARKER) || memcmp (p, MARKER, strlen (MARKER)) != 0)
    return FALSE;
  p += strlen (MARKER);
  if (p >= limit || !g_ascii_isdigit (*p))
    return FALSE;
  while (p < limit && g_ascii_isdigit (*p))
    s = s * 10 + (*p++ - '0');
  if (p >= limit || *p++ != ':')
    return FALSE;
  while (p < limit && g_ascii_isdigit (*p))
    t = t * 10 + (*p++ - '0');
  if (p >= limit || *p != ';' || s >= opt.max_seq)
    return FALSE;
  *seq = (guint) s;
  *sent = t;
  if (end != NULL)
    *end = p;
  return TRUE;
}

/* Frame arrival: an emission hook on SoupWebsocketConnection::message, which runs before the
 * signal's handlers. */

typedef void (*ArrivalFunc) (SoupWebsocketConnection *socket, GBytes *frame, gint64 now,
                             gpointer user_data);

typedef struct
{
  ArrivalFunc func;
  gpointer user_data;
} ArrivalHook;

static gboolean
message_hook_cb (GSignalInvocationHint *hint, guint n_values, const GValue *values,
                 gpointer user_data)
{
  gint64 now = g_get_monotonic_time ();
  ArrivalHook *hook = user_data;

  if (n_values == 3 && g_value_get_int (&values[1]) == SOUP_WEBSOCKET_DATA_TEXT)
    hook->func (g_value_get_object (&values[0]), g_value_get_boxed (&values[2]), now,
                hook->user_data);
  return TRUE;
}

static void
add_arrival_hook (ArrivalHook *hook)
{
  gpointer klass = g_type_class_ref (SOUP_TYPE_WEBSOCKET_CONNECTION);
  guint signal_id = g_signal_lookup ("message", SOUP_TYPE_WEBSOCKET_CONNECTION);

  if (signal_id == 0)
    fail ("SoupWebsocketConnection has no \"message\" signal");
  g_signal_add_emission_hook (signal_id, 0, message_hook_cb, hook, NULL);
  g_type_class_unref (klass);
}

/* The server's configuration: the harness's, with the agent's capacity raised to every chat
 * and the per-chat message rate raised over what the load sends. */
static char *
server_config (void)
{
  g_autofree char *json = cx_test_config_new (NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  JsonObject *root;
  JsonArray *agents;

  if (!json_parser_load_from_data (parser, json, -1, NULL))
    fail ("the harness's configuration does not parse");
  root = json_node_get_object (json_parser_get_root (parser));
  json_object_set_int_member (json_object_get_object_member (root, "limits"), "messagesPerMinute",
                              1000000);
  /* issue 9 item 5: chat starts from one address and typing, out of the way too. */
  json_object_set_int_member (json_object_get_object_member (root, "limits"), "chatStartsPerMinute",
                              1000000);
  json_object_set_int_member (json_object_get_object_member (root, "limits"), "typingPerMinute",
                              1000000);
  agents = json_object_get_array_member (root, "agents");
  for (guint i = 0; i < json_array_get_length (agents); i++)
    {
      JsonObject *entry = json_array_get_object_element (agents, i);

      if (g_strcmp0 (json_object_get_string_member (entry, "username"), "ada") == 0)
        json_object_set_int_member (entry, "capacity", opt.chats);
    }
  json_generator_set_root (generator, json_parser_get_root (parser));
  return json_generator_to_data (generator, NULL);
}

/* ---- The customers and the anchor (the child) ---- */

typedef struct
{
  char *chat_id;
  char *send_url;
  char *form_prefix; /* userId=…&secureKey=…&alias=…&message= */
  GListStore *rows;  /* the anchor's rows of this chat */
} CustomerChat;

typedef struct
{
  SoupSession *session;
  SoupSession *agent_session;
  SoupWebsocketConnection *socket;
  GError *connect_error;
  gboolean connected;
  JsonParser *parser;
  CustomerChat *chats;
  GHashTable *by_id; /* chat id -> CustomerChat */
  guint next_seq;
  guint in_flight;
  guint sent;
  guint failed;
  guint pace_id;
  gboolean go;
  gint64 *arrival; /* per seq: raw arrival, 0 until then */
  gint64 *sent_at; /* per seq */
  gint64 frame_arrival;
  guint received;
  guint duplicates;
  GArray *row_latency; /* µs, frame read -> bare row, measured */
  GArray *hop_latency; /* µs, customer send -> frame read, measured */
} Customers;

static char *child_url (const char *path_format, ...) G_GNUC_PRINTF (1, 2);

static char *
child_url (const char *path_format, ...)
{
  va_list args;
  g_autofree char *path = NULL;

  va_start (args, path_format);
  path = g_strdup_vprintf (path_format, args);
  va_end (args);
  /* customers_url ends with "/" */
  return g_strconcat (opt.customers_url, path, NULL);
}

static void
customers_arrival_cb (SoupWebsocketConnection *socket, GBytes *frame, gint64 now,
                      gpointer user_data)
{
  Customers *c = user_data;

  if (socket == c->socket)
    c->frame_arrival = now;
}

static void
bare_row_added (Customers *c, guint seq, gint64 sent)
{
  gint64 now = g_get_monotonic_time ();

  if (c->arrival[seq] != 0)
    {
      c->duplicates++;
      return;
    }
  c->arrival[seq] = c->frame_arrival;
  c->received++;
  if (measured (sent))
    {
      gint64 row = now - c->frame_arrival;
      gint64 hop = c->frame_arrival - sent;

      g_array_append_val (c->row_latency, row);
      g_array_append_val (c->hop_latency, hop);
    }
}

static void
bare_items_changed_cb (GListModel *model, guint position, guint removed, guint added,
                       gpointer user_data)
{
  Customers *c = user_data;

  for (guint i = position; i < position + added; i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (model, i);
      const char *text = g_object_get_data (item, "text");
      guint seq;
      gint64 sent;

      if (text != NULL && parse_marker (text, strlen (text), NULL, &seq, &sent))
        bare_row_added (c, seq, sent);
    }
}

/* The anchor's whole client: parse the frame, append its messages as rows. */
static void
bare_message_cb (SoupWebsocketConnection *socket, int type, GBytes *frame, gpointer user_data)
{
  Customers *c = user_data;
  gsize length;
  const char *data = g_bytes_get_data (frame, &length);
  JsonNode *root;
  JsonObject *object;
  JsonArray *messages;
  CustomerChat *chat;

  if (type != SOUP_WEBSOCKET_DATA_TEXT ||
      !json_parser_load_from_data (c->parser, data, length, NULL))
    return;
  root = json_parser_get_root (c->parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  object = json_node_get_object (root);
  if (g_strcmp0 (json_object_get_string_member_with_default (object, "type", ""), "messages") != 0)
    return;
  chat = g_hash_table_lookup (c->by_id,
                              json_object_get_string_member_with_default (object, "chatId", ""));
  messages = json_object_get_array_member (object, "messages");
  if (chat == NULL || messages == NULL)
    return;
  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *message = json_array_get_object_element (messages, i);
      g_autoptr (GObject) row = NULL;

      if (message == NULL)
        continue;
      row = g_object_new (G_TYPE_OBJECT, NULL);
      g_object_set_data_full (
          row, "text", g_strdup (json_object_get_string_member_with_default (message, "text", "")),
          g_free);
      g_list_store_append (chat->rows, row);
    }
}

static void
socket_connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Customers *c = user_data;

  c->socket =
      soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &c->connect_error);
  c->connected = TRUE;
}

static void
anchor_sign_in (Customers *c)
{
  g_autofree char *url = child_url ("cx/1/agent/session");
  g_autofree char *events = child_url ("cx/1/agent/events");
  g_autofree char *ws = NULL;
  g_autoptr (CxTestReply) reply = NULL;
  g_autoptr (SoupMessage) msg = NULL;

  c->agent_session = cx_test_session_new (TRUE);
  reply = cx_test_json (c->agent_session, "POST", url,
                        "{\"username\":\"ada\",\"password\":\"" CX_TEST_ADA_PASSWORD "\"}");
  if (reply->status != 200)
    fail ("the anchor's sign-in: %u", reply->status);
  ws = g_strconcat ("ws", events + strlen ("http"), NULL);
  msg = soup_message_new (SOUP_METHOD_GET, ws);
  soup_session_websocket_connect_async (c->agent_session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        socket_connected_cb, c);
  if (!wait_for (cx_test_flag_is_set, &c->connected, SETUP_TIMEOUT_S) || c->socket == NULL)
    fail ("the anchor's event socket: %s",
          c->connect_error != NULL ? c->connect_error->message : "timed out");
  soup_websocket_connection_set_max_incoming_payload_size (c->socket, 0);
  g_signal_connect (c->socket, "message", G_CALLBACK (bare_message_cb), c);
}

static void
start_chats (Customers *c)
{
  g_autofree char *url = child_url ("genesys/2/chat/%s", SERVICE);

  c->chats = g_new0 (CustomerChat, opt.chats);
  for (int i = 0; i < opt.chats; i++)
    {
      CustomerChat *chat = &c->chats[i];
      g_autofree char *nickname = g_strdup_printf ("Customer %d", i + 1);
      g_autoptr (CxTestReply) reply =
          cx_test_post_form (c->session, url, "nickname", nickname, "subject", "Benchmark",
                             "emailAddress", "customer@example.com", NULL);
      JsonObject *object;
      g_autofree char *user_id = NULL;
      g_autofree char *secure_key = NULL;
      g_autofree char *alias = NULL;
      g_autofree char *user_id_e = NULL;
      g_autofree char *secure_key_e = NULL;
      g_autofree char *alias_e = NULL;

      if (reply->status != 200)
        fail ("starting a chat: %u", reply->status);
      object = cx_test_reply_object (reply);
      chat->chat_id = cx_test_object_loose_string (object, "chatId");
      user_id = cx_test_object_loose_string (object, "userId");
      secure_key = cx_test_object_loose_string (object, "secureKey");
      alias = cx_test_object_loose_string (object, "alias");
      user_id_e = g_uri_escape_string (user_id, NULL, FALSE);
      secure_key_e = g_uri_escape_string (secure_key, NULL, FALSE);
      alias_e = g_uri_escape_string (alias, NULL, FALSE);
      chat->send_url = child_url ("genesys/2/chat/%s/%s/send", SERVICE, chat->chat_id);
      chat->form_prefix = g_strdup_printf ("userId=%s&secureKey=%s&alias=%s&message=", user_id_e,
                                           secure_key_e, alias_e);
      chat->rows = g_list_store_new (G_TYPE_OBJECT);
      g_signal_connect (chat->rows, "items-changed", G_CALLBACK (bare_items_changed_cb), c);
      g_hash_table_insert (c->by_id, chat->chat_id, chat);
    }
}

static void
send_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Customers *c = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);

  c->in_flight--;
  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK)
    c->failed++;
}

static void
send_one (Customers *c)
{
  guint seq = c->next_seq++;
  CustomerChat *chat = &c->chats[seq % opt.chats];
  gint64 now = g_get_monotonic_time ();
  g_autofree char *text = g_strdup_printf (MARKER "%u:%" G_GINT64_FORMAT "; Hello, this is "
                                                  "message %u of the benchmark.",
                                           seq, now, seq);
  g_autofree char *escaped = g_uri_escape_string (text, NULL, FALSE);
  g_autoptr (SoupMessage) msg = soup_message_new_from_encoded_form (
      SOUP_METHOD_POST, chat->send_url, g_strconcat (chat->form_prefix, escaped, NULL));

  c->sent_at[seq] = now;
  c->sent++;
  c->in_flight++;
  soup_session_send_and_read_async (c->session, msg, G_PRIORITY_DEFAULT, NULL, send_done_cb, c);
}

static gboolean
pace_cb (gpointer user_data)
{
  Customers *c = user_data;
  gint64 now = g_get_monotonic_time ();
  guint due;

  if (now >= opt.measure_end)
    {
      c->pace_id = 0;
      return G_SOURCE_REMOVE;
    }
  due = (guint) MIN ((now - opt.t0) * opt.rate / G_USEC_PER_SEC + 1, opt.max_seq);
  while (c->next_seq < due)
    send_one (c);
  return G_SOURCE_CONTINUE;
}

static void
go_line_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Customers *c = user_data;
  g_autofree char *line =
      g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result, NULL, NULL);

  if (line == NULL || !g_str_has_prefix (line, "go "))
    fail ("no \"go\" from the agent side");
  opt.t0 = g_ascii_strtoll (line + 3, NULL, 10);
  opt.measure_start = opt.t0 + (gint64) opt.warmup * G_USEC_PER_SEC;
  opt.measure_end = opt.measure_start + (gint64) opt.seconds * G_USEC_PER_SEC;
  c->go = TRUE;
  c->pace_id = g_timeout_add (PACE_MS, pace_cb, c);
  pace_cb (c);
}

static gboolean
customers_done (gpointer data)
{
  Customers *c = data;

  return c->pace_id == 0 && c->in_flight == 0 && c->received + c->failed >= c->sent;
}

static int
run_customers (void)
{
  Customers c = { 0 };
  g_autoptr (GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  g_autoptr (GDataInputStream) lines = g_data_input_stream_new (in);
  ArrivalHook hook = { customers_arrival_cb, &c };

  c.session = soup_session_new_with_options ("max-conns", 32, "max-conns-per-host", 32, NULL);
  c.parser = json_parser_new ();
  c.by_id = g_hash_table_new (g_str_hash, g_str_equal);
  c.arrival = g_new0 (gint64, opt.max_seq);
  c.sent_at = g_new0 (gint64, opt.max_seq);
  c.row_latency = g_array_new (FALSE, FALSE, sizeof (gint64));
  c.hop_latency = g_array_new (FALSE, FALSE, sizeof (gint64));
  add_arrival_hook (&hook);

  anchor_sign_in (&c);
  start_chats (&c);
  for (int i = 0; i < opt.chats; i++)
    g_print ("chat %s\n", c.chats[i].chat_id);
  g_print ("started\n");
  fflush (stdout);

  g_data_input_stream_read_line_async (lines, G_PRIORITY_DEFAULT, NULL, go_line_cb, &c);
  /* The agent side accepts every chat first. */
  if (!wait_for (cx_test_flag_is_set, &c.go, 2 * SETUP_TIMEOUT_S))
    fail ("no \"go\" from the agent side");
  if (!wait_for (customers_done, &c, opt.warmup + opt.seconds + DRAIN_TIMEOUT_S))
    fail ("%u of %u messages sent reached the anchor's socket (%u sends failed)", c.received,
          c.sent, c.failed);

  g_print ("sent %u failed %u duplicates %u\n", c.sent, c.failed, c.duplicates);
  g_print ("anchor %u %.3f %.3f\n", c.row_latency->len, percentile_ms (c.row_latency, 0.5),
           percentile_ms (c.row_latency, 0.99));
  g_print ("hop %u %.3f %.3f\n", c.hop_latency->len, percentile_ms (c.hop_latency, 0.5),
           percentile_ms (c.hop_latency, 0.99));
  fflush (stdout);
  /* The process exits here: the OS closes the sockets. */
  return 0;
}

/* ---- The agent (this process) ---- */

typedef struct
{
  gboolean workspace; /* the phase of the agent app's real window */
  CxHttp *http;
  CxBus *bus;
  CxAgentService *service; /* the workspace's: the window's */
  CxAgentApplication *app;
  CxAgentWindow *window;
  GHashTable *answered; /* chat ids the window was told to accept */
  GHashTable *chat_ids; /* the child's chats, for invitations */
  GPtrArray *transcripts;
  guint accepted;
  guint accept_failed;
  guint frames; /* distinct sequence numbers the hook saw */

  gint64 *arrival; /* per seq: the frame's read by the service's socket */
  gint64 *row_at;  /* per seq: the row in the transcript */
  guint rows;
  guint duplicates;
  guint unmatched;     /* a row whose frame the hook did not see */
  GArray *row_latency; /* µs, frame read -> transcript row, measured */
  GArray *e2e_latency; /* µs, customer send -> transcript row, measured */

  struct rusage usage_start;
  gint64 wall_start;
  double cpu_percent;
  gboolean cpu_done;

  GSubprocess *child;
  GDataInputStream *child_out;
  GOutputStream *child_in;
  gboolean child_started;
  gboolean child_eof;
  gboolean child_exited;
  int child_status;
  GPtrArray *child_lines;
} Agent;

static Agent agent;

static void
agent_arrival_cb (SoupWebsocketConnection *socket, GBytes *frame, gint64 now, gpointer user_data)
{
  gsize length;
  const char *data = g_bytes_get_data (frame, &length);
  const char *p = data;
  const char *limit = data + length;

  /* Every text socket of this process is the service's. */
  while (p < limit)
    {
      const char *found = g_strstr_len (p, limit - p, MARKER);
      const char *end;
      guint seq;
      gint64 sent;

      if (found == NULL)
        break;
      if (parse_marker (found, limit - found, &end, &seq, &sent))
        {
          if (agent.arrival[seq] == 0)
            {
              agent.arrival[seq] = now;
              agent.frames++;
            }
          p = end;
        }
      else
        p = found + strlen (MARKER);
    }
}

static void
transcript_items_changed_cb (GListModel *model, guint position, guint removed, guint added,
                             gpointer user_data)
{
  gint64 now = g_get_monotonic_time ();

  for (guint i = position; i < position + added; i++)
    {
      g_autoptr (CxAgentTranscriptItem) item = g_list_model_get_item (model, i);
      CxMessage *message = item != NULL ? cx_agent_transcript_item_get_message (item) : NULL;
      guint seq;
      gint64 sent;

      if (message == NULL || message->text == NULL ||
          !parse_marker (message->text, strlen (message->text), NULL, &seq, &sent))
        continue;
      if (agent.row_at[seq] != 0)
        {
          agent.duplicates++;
          continue;
        }
      agent.row_at[seq] = now;
      agent.rows++;
      if (agent.arrival[seq] == 0)
        {
          agent.unmatched++;
          continue;
        }
      if (measured (sent))
        {
          gint64 row = now - agent.arrival[seq];
          gint64 e2e = now - sent;

          g_array_append_val (agent.row_latency, row);
          g_array_append_val (agent.e2e_latency, e2e);
        }
    }
}

static JsonNode *
command (const char *name, const char *json)
{
  g_autofree char *full = g_strconcat (CX_AGENT_SERVICE_NAME ".", name, NULL);
  g_autoptr (JsonNode) data = json != NULL ? json_from_string (json, NULL) : NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  JsonNode *reply;

  cx_bus_command_async (agent.bus, NULL, full, data, COMMAND_TIMEOUT_MS, NULL,
                        cx_test_store_result_cb, &result);
  if (!wait_for (cx_test_pointer_is_set, &result, SETUP_TIMEOUT_S))
    fail ("%s did not answer", full);
  reply = cx_bus_command_finish (agent.bus, result, &error);
  if (error != NULL)
    fail ("%s: %s", full, error->message);
  return reply;
}

static void
accept_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);

  if (reply == NULL && error != NULL)
    {
      g_printerr ("bench-agent: accept: %s\n", error->message);
      agent.accept_failed++;
      return;
    }
  agent.accepted++;
}

static void
invitation_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  JsonObject *object = event->data != NULL && JSON_NODE_HOLDS_OBJECT (event->data)
                           ? json_node_get_object (event->data)
                           : NULL;
  const char *chat_id =
      object != NULL ? json_object_get_string_member_with_default (object, "chatId", NULL) : NULL;
  g_autoptr (JsonNode) data = NULL;
  JsonObject *request;

  if (chat_id == NULL)
    return;
  request = json_object_new ();
  json_object_set_string_member (request, "chatId", chat_id);
  data = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (data, request);
  /* As the agent's Accept button does. */
  cx_bus_command_async (agent.bus, NULL, CX_AGENT_SERVICE_NAME ".accept", data, COMMAND_TIMEOUT_MS,
                        NULL, accept_cb, NULL);
}

static void
child_line_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree char *line =
      g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result, NULL, NULL);

  if (line == NULL)
    {
      agent.child_eof = TRUE;
      return;
    }
  if (g_str_has_prefix (line, "chat "))
    g_hash_table_add (agent.chat_ids, g_strdup (line + 5));
  else if (g_str_equal (line, "started"))
    agent.child_started = TRUE;
  else
    g_ptr_array_add (agent.child_lines, g_steal_pointer (&line));
  g_data_input_stream_read_line_async (agent.child_out, G_PRIORITY_DEFAULT, NULL, child_line_cb,
                                       NULL);
}

static void
child_exited_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  agent.child_status = g_subprocess_get_if_exited (G_SUBPROCESS (source))
                           ? g_subprocess_get_exit_status (G_SUBPROCESS (source))
                           : -1;
  agent.child_exited = TRUE;
}

static void
child_setup (gpointer data)
{
  /* A benchmark that dies takes its customers with it. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
spawn_customers (const char *self_path, const char *server_url)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *customers = g_strdup_printf ("--customers=%s", server_url);
  g_autofree char *chats = g_strdup_printf ("--chats=%d", opt.chats);
  g_autofree char *rate = g_strdup_printf ("--rate=%g", opt.rate);
  g_autofree char *seconds = g_strdup_printf ("--seconds=%d", opt.seconds);
  g_autofree char *warmup = g_strdup_printf ("--warmup=%d", opt.warmup);
  const char *argv[] = { self_path, customers, chats, rate, seconds, warmup, NULL };
  g_autoptr (GError) error = NULL;

  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  agent.child = g_subprocess_launcher_spawnv (launcher, argv, &error);
  if (agent.child == NULL)
    fail ("cannot run the customers: %s", error->message);
  agent.child_in = g_subprocess_get_stdin_pipe (agent.child);
  agent.child_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (agent.child));
  g_data_input_stream_read_line_async (agent.child_out, G_PRIORITY_DEFAULT, NULL, child_line_cb,
                                       NULL);
  g_subprocess_wait_async (agent.child, NULL, child_exited_cb, NULL);
}

static gboolean
child_started (gpointer data)
{
  return agent.child_started || agent.child_exited;
}

static gboolean
every_chat_accepted (gpointer data)
{
  GListModel *conversations = cx_agent_service_get_conversations (agent.service);
  guint active = 0;

  if (agent.accept_failed > 0)
    return TRUE;
  for (guint i = 0; i < g_list_model_get_n_items (conversations); i++)
    {
      g_autoptr (CxAgentConversation) conversation = g_list_model_get_item (conversations, i);
      const char *chat_id = cx_agent_conversation_get_chat_id (conversation);

      /* The workspace accepts as its invitation banner's Accept button does. */
      if (agent.workspace &&
          cx_agent_conversation_get_status (conversation) == CX_AGENT_CONVERSATION_INVITED &&
          g_hash_table_contains (agent.chat_ids, chat_id) &&
          !g_hash_table_contains (agent.answered, chat_id))
        {
          g_hash_table_add (agent.answered, g_strdup (chat_id));
          cx_agent_window_answer_invitation (agent.window, chat_id, TRUE);
        }
      if (cx_agent_conversation_get_status (conversation) == CX_AGENT_CONVERSATION_ACTIVE &&
          g_hash_table_contains (agent.chat_ids, cx_agent_conversation_get_chat_id (conversation)))
        active++;
    }
  return active == (guint) opt.chats;
}

static gboolean
service_connected (gpointer data)
{
  return cx_agent_service_get_connected (agent.service);
}

static double
timeval_s (const struct timeval *tv)
{
  return tv->tv_sec + tv->tv_usec / 1e6;
}

static gboolean
cpu_start_cb (gpointer data)
{
  getrusage (RUSAGE_SELF, &agent.usage_start);
  agent.wall_start = g_get_monotonic_time ();
  return G_SOURCE_REMOVE;
}

static gboolean
cpu_end_cb (gpointer data)
{
  struct rusage now;
  double cpu, wall;

  getrusage (RUSAGE_SELF, &now);
  wall = (g_get_monotonic_time () - agent.wall_start) / (double) G_USEC_PER_SEC;
  cpu = timeval_s (&now.ru_utime) - timeval_s (&agent.usage_start.ru_utime) +
        timeval_s (&now.ru_stime) - timeval_s (&agent.usage_start.ru_stime);
  agent.cpu_percent = 100.0 * cpu / wall;
  agent.cpu_done = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
run_over (gpointer data)
{
  return agent.child_exited && agent.child_eof && agent.cpu_done;
}

static const char *
child_line (const char *prefix)
{
  for (guint i = 0; i < agent.child_lines->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (agent.child_lines, i), prefix))
      return (const char *) g_ptr_array_index (agent.child_lines, i) + strlen (prefix);
  return NULL;
}

/* ---- The workspace: CxAgentApplication with a CxAgentWindow shown ---- */

static GObject *
window_child (const char *id)
{
  GObject *object =
      gtk_widget_get_template_child (GTK_WIDGET (agent.window), CX_TYPE_AGENT_WINDOW, id);

  if (object == NULL)
    fail ("the workspace window has no \"%s\"", id);
  return object;
}

static gboolean
window_mapped (gpointer data)
{
  return gtk_widget_get_mapped (GTK_WIDGET (agent.window));
}

static gboolean
workspace_shown (gpointer data)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (window_child ("stack"))),
                    "workspace") == 0;
}

static gboolean
service_ready (gpointer data)
{
  return g_strcmp0 (cx_agent_service_get_state (agent.service), "ready") == 0 &&
         cx_agent_service_get_connected (agent.service);
}

static gboolean
conversation_shown (gpointer data)
{
  CxAgentConversation *selected = cx_agent_window_get_selected (agent.window);

  return selected != NULL &&
         cx_agent_conversation_get_status (selected) == CX_AGENT_CONVERSATION_ACTIVE &&
         gtk_list_view_get_model (GTK_LIST_VIEW (window_child ("transcript_list"))) != NULL &&
         gtk_widget_get_mapped (GTK_WIDGET (window_child ("transcript_list")));
}

/* The agent app's real workspace, signed in and ready, as an agent does it. */
static void
workspace_open (const char *url)
{
  g_autofree char *id = g_strdup_printf (CX_AGENT_APPLICATION_ID ".Bench%u", (guint) getpid ());
  g_autoptr (GError) error = NULL;

  agent.app = cx_agent_application_new (id, G_APPLICATION_NON_UNIQUE);
  if (!g_application_register (G_APPLICATION (agent.app), NULL, &error))
    fail ("the agent application: %s", error->message);
  if (!cx_agent_application_set_server_url (agent.app, url, &error))
    fail ("the agent application: %s", error->message);
  agent.window = CX_AGENT_WINDOW (cx_agent_application_new_window (agent.app));
  agent.service = cx_agent_window_get_service (agent.window);
  if (!wait_for (window_mapped, NULL, SETUP_TIMEOUT_S))
    fail ("the workspace window was not shown");
  cx_agent_window_sign_in (agent.window, "ada", CX_TEST_ADA_PASSWORD);
  if (!wait_for (workspace_shown, NULL, SETUP_TIMEOUT_S))
    fail ("the workspace window did not sign in");
  gtk_drop_down_set_selected (GTK_DROP_DOWN (window_child ("state_dropdown")), 0);
  if (!wait_for (service_ready, NULL, SETUP_TIMEOUT_S))
    fail ("the workspace did not become ready with its event socket connected");
}

static gboolean
two_refs_at_most (gpointer data)
{
  return G_OBJECT (data)->ref_count <= 2;
}

static void
workspace_close (void)
{
  gpointer weak = agent.window;
  CxHttp *http = cx_agent_application_get_http (agent.app);

  g_object_add_weak_pointer (G_OBJECT (weak), &weak);
  gtk_window_destroy (GTK_WINDOW (agent.window));
  agent.window = NULL;
  agent.service = NULL;
  if (!wait_for (cx_test_pointer_is_null, &weak, SETUP_TIMEOUT_S))
    fail ("the workspace window was not finalized");
  /* The app's session goes with the app: requests it cancelled hold the CxHttp until they
   * have unwound (the app and the disposed session keep one reference each). */
  {
    g_autoptr (CxAgentService) session = NULL;

    g_object_get (agent.app, "service", &session, NULL);
    if (session != NULL)
      g_object_run_dispose (G_OBJECT (session));
  }
  if (!wait_for (two_refs_at_most, http, SETUP_TIMEOUT_S))
    fail ("the workspace's requests did not unwind");
  g_clear_object (&agent.app);
}

/* How many of the benchmark's messages the shown conversation holds in the service. */
static guint
shown_marked (void)
{
  CxAgentConversation *selected = cx_agent_window_get_selected (agent.window);
  guint n = 0;

  for (guint i = 0; selected != NULL && i < cx_agent_conversation_get_n_messages (selected); i++)
    {
      CxMessage *message = cx_agent_conversation_get_message (selected, i);
      guint seq;
      gint64 sent;

      if (message->text != NULL &&
          parse_marker (message->text, strlen (message->text), NULL, &seq, &sent))
        n++;
    }
  return n;
}

/* ---- A phase: a server of its own, the customers' child, the agent ---- */

typedef struct
{
  guint sent;
  guint measured;
  double p50, p99, e2e_p50, e2e_p99;
  double anchor_p50, anchor_p99, hop_p50, hop_p99;
  guint anchor_n, hop_n;
  double cpu_percent;
  guint shown_expected; /* workspace: the shown chat's messages */
  /* workspace: the app with one window, then with 1 + MORE_WINDOWS */
  gsize rss_one_kib, rss_ten_kib;
  guint tcp_one, tcp_ten; /* every TCP connection to the server: event socket and keep-alive */
  guint sessions_ten;     /* distinct agent sessions behind the windows */
  guint sockets_one, sockets_ten; /* agent event sockets open: one per connected session */
  guint handshakes;               /* WebSocket handshakes sent while the windows opened */
} Phase;

static gsize
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (line = strstr (status, "\nVmRSS:")) == NULL)
    fail ("cannot read this process's RSS");
  return g_ascii_strtoull (line + strlen ("\nVmRSS:"), NULL, 10);
}

/* TCP connections of this process to @port on loopback: its sockets (/proc/self/fd) matched
 * with the kernel's table (/proc/net/tcp), the event socket and HTTP keep-alive ones alike. */
static guint
tcp_connections_to (guint port)
{
  g_autoptr (GHashTable) inodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  g_autofree char *table = NULL;
  g_auto (GStrv) lines = NULL;
  g_autofree char *remote = g_strdup_printf (":%04X", port);
  const char *name;
  guint count = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      if (target != NULL && g_str_has_prefix (target, "socket:["))
        g_hash_table_add (inodes, g_strndup (target + 8, strlen (target) - 9));
    }

  if (!g_file_get_contents ("/proc/net/tcp", &table, NULL, NULL))
    fail ("cannot read /proc/net/tcp");
  lines = g_strsplit (table, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
      GPtrArray *words = g_ptr_array_new ();

      for (guint j = 0; fields[j] != NULL; j++)
        if (fields[j][0] != '\0')
          g_ptr_array_add (words, fields[j]);
      /* sl local remote st ... inode is the 10th word; 01 = ESTABLISHED */
      if (words->len > 9 && g_str_has_suffix (g_ptr_array_index (words, 2), remote) &&
          g_str_equal (g_ptr_array_index (words, 3), "01") &&
          g_hash_table_contains (inodes, g_ptr_array_index (words, 9)))
        count++;
      g_ptr_array_unref (words);
    }
  return count;
}

/* Agent event sockets open: each agent session holds at most one (its socket is replaced, not
 * added to, on a reconnection), so they are the distinct sessions behind the windows that are
 * connected. WebSocket handshakes on the app's session are counted beside, so that a socket
 * opened and dropped in between does not go unseen. */
static guint
event_sockets (GHashTable *sessions)
{
  GHashTableIter iter;
  gpointer service;
  guint count = 0;

  g_hash_table_iter_init (&iter, sessions);
  while (g_hash_table_iter_next (&iter, &service, NULL))
    if (cx_agent_service_get_connected (service))
      count++;
  return count;
}

static void
windows_sessions (GHashTable *sessions)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (agent.app)); l != NULL; l = l->next)
    g_hash_table_add (sessions, cx_agent_window_get_service (l->data));
}

static void
request_queued_cb (SoupSession *session, SoupMessage *msg, gpointer user_data)
{
  guint *handshakes = user_data;
  const char *upgrade =
      soup_message_headers_get_one (soup_message_get_request_headers (msg), "Upgrade");

  if (upgrade != NULL && g_ascii_strcasecmp (upgrade, "websocket") == 0)
    (*handshakes)++;
}

static gboolean
every_window_shows_the_workspace (gpointer data)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (agent.app));
  guint n = 0;

  for (GList *l = windows; l != NULL; l = l->next, n++)
    {
      GObject *stack =
          gtk_widget_get_template_child (GTK_WIDGET (l->data), CX_TYPE_AGENT_WINDOW, "stack");

      if (!gtk_widget_get_mapped (GTK_WIDGET (l->data)) ||
          g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (stack)), "workspace") != 0 ||
          cx_agent_window_get_selected (l->data) == NULL)
        return FALSE;
    }
  return n == 1 + MORE_WINDOWS;
}

static gboolean
frames_drawn (gpointer data)
{
  return g_get_monotonic_time () >= *(gint64 *) data;
}

/* The app with one window, then with MORE_WINDOWS more on the same session: RSS, connections to
 * the server, and how many sessions the windows view. */
static void
measure_windows (const char *url, Phase *phase)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autoptr (GHashTable) sessions = g_hash_table_new (NULL, NULL);
  guint port = g_uri_get_port (uri);
  gint64 settle;

  g_autoptr (GHashTable) sessions_one = g_hash_table_new (NULL, NULL);
  SoupSession *session =
      cx_http_get_session (cx_agent_application_get_http (CX_AGENT_APPLICATION (agent.app)));
  gulong queued_id;

  phase->rss_one_kib = rss_kib ();
  phase->tcp_one = tcp_connections_to (port);
  windows_sessions (sessions_one);
  phase->sockets_one = event_sockets (sessions_one);
  queued_id = g_signal_connect (session, "request-queued", G_CALLBACK (request_queued_cb),
                                &phase->handshakes);

  for (guint i = 0; i < MORE_WINDOWS; i++)
    cx_agent_application_new_window (agent.app);
  if (!wait_for (every_window_shows_the_workspace, NULL, SETUP_TIMEOUT_S))
    fail ("the %d new windows did not all show the workspace with a conversation", MORE_WINDOWS);
  /* A second of frames, so that every window has drawn its list and transcript. */
  settle = g_get_monotonic_time () + G_USEC_PER_SEC;
  wait_for (frames_drawn, &settle, 2);

  phase->rss_ten_kib = rss_kib ();
  phase->tcp_ten = tcp_connections_to (port);
  g_signal_handler_disconnect (session, queued_id);
  windows_sessions (sessions);
  phase->sessions_ten = g_hash_table_size (sessions);
  phase->sockets_ten = event_sockets (sessions);

  /* Back to the one window the phase is closed with. */
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (agent.app)); l != NULL;)
    {
      GList *next = l->next;

      if (l->data != (gpointer) agent.window)
        gtk_window_destroy (l->data);
      l = next;
    }
}

static void
run_phase (const char *self_path, gboolean workspace, Phase *phase)
{
  g_autofree char *config = server_config ();
  CxTestServer *server = cx_test_server_new (config);
  const char *url = cx_test_server_get_url (server);
  g_autoptr (GError) error = NULL;
  g_autofree char *go = NULL;
  const char *sent_line, *anchor_line, *hop_line;
  guint failed = 0, child_duplicates = 0, expected;
  gboolean complete;

  memset (&agent, 0, sizeof agent);
  agent.workspace = workspace;
  agent.arrival = g_new0 (gint64, opt.max_seq);
  agent.row_at = g_new0 (gint64, opt.max_seq);
  agent.row_latency = g_array_new (FALSE, FALSE, sizeof (gint64));
  agent.e2e_latency = g_array_new (FALSE, FALSE, sizeof (gint64));
  agent.chat_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  agent.answered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  agent.transcripts = g_ptr_array_new_with_free_func (g_object_unref);
  agent.child_lines = g_ptr_array_new_with_free_func (g_free);

  if (workspace)
    workspace_open (url);
  else
    {
      g_autoptr (JsonNode) signed_in = NULL;
      g_autoptr (JsonNode) ready = NULL;

      /* The agent app's stack: one CxHttp, its one session, a window's bus attached to it. */
      agent.http = cx_http_new (NULL);
      agent.bus = cx_bus_new ();
      agent.service = cx_agent_service_new (agent.http, url, &error);
      if (agent.service == NULL ||
          cx_agent_service_attach (agent.service, agent.bus, &error) == NULL)
        fail ("AgentService: %s", error->message);
      cx_bus_subscribe (agent.bus, CX_AGENT_SERVICE_NAME ".invitation", invitation_cb, NULL, NULL);
      signed_in =
          command ("signIn", "{\"username\":\"ada\",\"password\":\"" CX_TEST_ADA_PASSWORD "\"}");
      ready = command ("setState", "{\"state\":\"ready\"}");
      if (!wait_for (service_connected, NULL, SETUP_TIMEOUT_S))
        fail ("AgentService's event socket did not connect");
    }

  spawn_customers (self_path, url);
  if (!wait_for (child_started, NULL, 2 * SETUP_TIMEOUT_S) || !agent.child_started)
    fail ("the customers did not start their chats");
  if (!wait_for (every_chat_accepted, NULL, SETUP_TIMEOUT_S) || agent.accept_failed > 0)
    fail ("%u of %d chats accepted",
          workspace ? g_hash_table_size (agent.answered) : agent.accepted, opt.chats);

  if (workspace)
    {
      /* The conversation the window shows (the last accepted): its transcript view's model. */
      if (!wait_for (conversation_shown, NULL, SETUP_TIMEOUT_S))
        fail ("the workspace shows no conversation");
      g_signal_connect (gtk_list_view_get_model (GTK_LIST_VIEW (window_child ("transcript_list"))),
                        "items-changed", G_CALLBACK (transcript_items_changed_cb), NULL);
    }
  else
    {
      GListModel *conversations = cx_agent_service_get_conversations (agent.service);

      /* Each conversation's transcript model, as the workspace makes for the one it shows. */
      for (guint i = 0; i < g_list_model_get_n_items (conversations); i++)
        {
          g_autoptr (CxAgentConversation) conversation = g_list_model_get_item (conversations, i);
          CxAgentTranscript *transcript = cx_agent_transcript_new (conversation);

          g_signal_connect (transcript, "items-changed", G_CALLBACK (transcript_items_changed_cb),
                            NULL);
          g_ptr_array_add (agent.transcripts, transcript);
        }
    }

  opt.t0 = g_get_monotonic_time ();
  opt.measure_start = opt.t0 + (gint64) opt.warmup * G_USEC_PER_SEC;
  opt.measure_end = opt.measure_start + (gint64) opt.seconds * G_USEC_PER_SEC;
  go = g_strdup_printf ("go %" G_GINT64_FORMAT "\n", opt.t0);
  if (!g_output_stream_write_all (agent.child_in, go, strlen (go), NULL, NULL, &error))
    fail ("cannot start the customers: %s", error->message);
  g_timeout_add (opt.warmup * 1000, cpu_start_cb, NULL);
  g_timeout_add ((opt.warmup + opt.seconds) * 1000, cpu_end_cb, NULL);

  if (!wait_for (run_over, NULL, opt.warmup + opt.seconds + DRAIN_TIMEOUT_S + SETUP_TIMEOUT_S))
    fail ("the customers did not finish");
  if (agent.child_status != 0)
    fail ("the customers failed (exit status %d)", agent.child_status);

  sent_line = child_line ("sent ");
  anchor_line = child_line ("anchor ");
  hop_line = child_line ("hop ");
  if (sent_line == NULL || anchor_line == NULL || hop_line == NULL ||
      sscanf (sent_line, "%u failed %u duplicates %u", &phase->sent, &failed, &child_duplicates) !=
          3 ||
      sscanf (anchor_line, "%u %lf %lf", &phase->anchor_n, &phase->anchor_p50,
              &phase->anchor_p99) != 3 ||
      sscanf (hop_line, "%u %lf %lf", &phase->hop_n, &phase->hop_p50, &phase->hop_p99) != 3)
    fail ("the customers did not report their figures");

  /* Every message sent reaches the service's socket and the transcripts measured (the
   * workspace's: the one shown); wait for the last ones. */
  {
    gint64 deadline = g_get_monotonic_time () + DRAIN_TIMEOUT_S * G_USEC_PER_SEC;

    do
      {
        expected = workspace ? shown_marked () : phase->sent - failed;
        complete = agent.frames >= phase->sent - failed && agent.rows >= expected;
        if (!complete)
          g_main_context_iteration (NULL, TRUE);
      }
    while (!complete && g_get_monotonic_time () < deadline);
  }
  if (failed > 0 || agent.frames != phase->sent || agent.rows != expected || agent.duplicates > 0 ||
      agent.unmatched > 0 || (workspace && expected == 0))
    fail ("%s: sent %u (%u failed), %u seen on the socket; %u rows of %u expected in the "
          "transcripts, %u duplicated, %u without a frame",
          workspace ? "workspace" : "service", phase->sent, failed, agent.frames, agent.rows,
          expected, agent.duplicates, agent.unmatched);

  phase->shown_expected = expected;
  phase->measured = agent.row_latency->len;
  phase->p50 = percentile_ms (agent.row_latency, 0.5);
  phase->p99 = percentile_ms (agent.row_latency, 0.99);
  phase->e2e_p50 = percentile_ms (agent.e2e_latency, 0.5);
  phase->e2e_p99 = percentile_ms (agent.e2e_latency, 0.99);
  phase->cpu_percent = agent.cpu_percent;

  if (workspace)
    {
      measure_windows (url, phase);
      workspace_close ();
    }
  g_ptr_array_unref (agent.transcripts);
  g_clear_object (&agent.service);
  g_clear_object (&agent.bus);
  g_clear_object (&agent.http);
  g_clear_object (&agent.child_out);
  g_clear_object (&agent.child);
  g_hash_table_unref (agent.chat_ids);
  g_hash_table_unref (agent.answered);
  g_ptr_array_unref (agent.child_lines);
  g_array_unref (agent.row_latency);
  g_array_unref (agent.e2e_latency);
  g_free (agent.arrival);
  g_free (agent.row_at);
  cx_test_server_stop (server);
  cx_test_server_free (server);
}

static int
run_agent (const char *self_path)
{
  ArrivalHook hook = { agent_arrival_cb, NULL };
  Phase service = { 0 }, workspace = { 0 };
  gboolean met_latency, met_cpu, met_workspace_latency, met_workspace_cpu, met_windows, met_rss,
      met_sockets;
  double rss_ratio;

  add_arrival_hook (&hook);
  g_print ("bench-agent: one agent, %d chats, %g customer messages/s in total, %d s measured "
           "after %d s of warm-up; twice: AgentService headless, then the agent app's workspace "
           "window\n",
           opt.chats, opt.rate, opt.seconds, opt.warmup);

  run_phase (self_path, FALSE, &service);
  run_phase (self_path, TRUE, &workspace);

  g_print ("  AgentService and %d CxAgentTranscripts on a CxBus, no window:\n", opt.chats);
  g_print ("  %u messages sent, every one in its transcript once; %u measured\n", service.sent,
           service.measured);
  g_print ("  anchor: frame read on a bare WebSocket of the same agent -> its row in a "
           "GListStore (json-glib parse, append): p50 %.3f ms, p99 %.3f ms (%u)\n",
           service.anchor_p50, service.anchor_p99, service.anchor_n);
  g_print ("  anchor: server hop, customer send -> frame read on that bare socket: p50 %.2f ms, "
           "p99 %.2f ms (%u)\n",
           service.hop_p50, service.hop_p99, service.hop_n);
  g_print ("  end to end, customer send -> row in AgentService's transcript (the server hop "
           "included): p50 %.2f ms, p99 %.2f ms\n",
           service.e2e_p50, service.e2e_p99);
  met_latency = service.p99 >= 0 && service.p99 < TARGET_P99_MS;
  g_print ("  frame read on AgentService's socket -> row in CxAgentTranscript: p50 %.3f ms, p99 "
           "%.3f ms (%.1fx the anchor's p99): target p99 < %.0f ms %s\n",
           service.p50, service.p99,
           service.anchor_p99 > 0 ? service.p99 / service.anchor_p99 : 0.0, TARGET_P99_MS,
           met_latency ? "met" : "MISSED");
  met_cpu = service.cpu_percent < TARGET_CPU_PERCENT;
  g_print ("  CPU of this process (AgentService, its socket, %d transcripts; no load, no anchor) "
           "over the %d s steady phase: %.1f %% of one core: target < %.0f %% %s\n",
           opt.chats, opt.seconds, service.cpu_percent, TARGET_CPU_PERCENT,
           met_cpu ? "met" : "MISSED");

  g_print ("  the app: CxAgentApplication, a CxAgentWindow shown, %d chats accepted in it, one "
           "shown:\n",
           opt.chats);
  g_print ("  %u messages sent, every one on the window's socket once; the shown chat's %u in "
           "its transcript view once; %u measured\n",
           workspace.sent, workspace.shown_expected, workspace.measured);
  g_print ("  end to end, customer send -> row in the shown transcript: p50 %.2f ms, p99 %.2f "
           "ms\n",
           workspace.e2e_p50, workspace.e2e_p99);
  met_workspace_latency = workspace.p99 >= 0 && workspace.p99 < TARGET_P99_MS;
  g_print ("  frame read on the window's AgentService socket -> row in its transcript view's "
           "model: p50 %.3f ms, p99 %.3f ms: target p99 < %.0f ms %s\n",
           workspace.p50, workspace.p99, TARGET_P99_MS, met_workspace_latency ? "met" : "MISSED");
  met_workspace_cpu = workspace.cpu_percent < TARGET_CPU_PERCENT;
  g_print ("  CPU of the app's process (the window's service, its %d conversations, the list "
           "and the transcript drawn; no load, no anchor) over the %d s steady phase: %.1f %% of "
           "one core: target < %.0f %% %s\n",
           opt.chats, opt.seconds, workspace.cpu_percent, TARGET_CPU_PERCENT,
           met_workspace_cpu ? "met" : "MISSED");

  rss_ratio = (double) workspace.rss_ten_kib / MAX (workspace.rss_one_kib, 1);
  met_rss = rss_ratio <= TARGET_RSS_RATIO;
  met_sockets = workspace.sessions_ten == 1 && workspace.sockets_one == 1 &&
                workspace.sockets_ten == 1 && workspace.handshakes == 0;
  met_windows = met_rss && met_sockets;
  g_print (
      "  the app with 1 window, then %d, on the same %d chats: RSS %.1f MB -> %.1f MB (%.2f x, "
      "%.2f MB a window more; target <= %.1f x %s); agent sessions behind the windows: %u; agent "
      "event sockets "
      "%u -> %u, %u WebSocket handshakes while the windows opened: target 1 session, "
      "exactly 1 event socket %s (TCP connections to the server, HTTP keep-alive ones "
      "included: %u -> %u)\n",
      1 + MORE_WINDOWS, opt.chats, workspace.rss_one_kib / 1024.0, workspace.rss_ten_kib / 1024.0,
      rss_ratio,
      ((double) workspace.rss_ten_kib - (double) workspace.rss_one_kib) / 1024.0 / MORE_WINDOWS,
      TARGET_RSS_RATIO, met_rss ? "met" : "MISSED", workspace.sessions_ten, workspace.sockets_one,
      workspace.sockets_ten, workspace.handshakes, met_sockets ? "met" : "MISSED",
      workspace.tcp_one, workspace.tcp_ten);

  if (!met_latency || !met_cpu || !met_workspace_latency || !met_workspace_cpu || !met_windows)
    {
      g_print ("bench-agent: target(s) MISSED\n");
      return 1;
    }
  g_print ("bench-agent: every target met\n");
  return 0;
}

int
main (int argc, char *argv[])
{
  g_autoptr (GOptionContext) context = g_option_context_new ("- the agent under chat load");
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "chats", 0, 0, G_OPTION_ARG_INT, &opt.chats, "Concurrent chats of the agent", "N" },
    { "rate", 0, 0, G_OPTION_ARG_DOUBLE, &opt.rate, "Customer messages per second, in total", "R" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &opt.seconds, "Seconds measured", "S" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &opt.warmup, "Seconds of load before", "S" },
    { "customers", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opt.customers_url,
      "Play the customers and the anchor against this server (internal)", "URL" },
    { NULL },
  };

  opt.chats = 20;
  opt.rate = 50;
  opt.seconds = 10;
  opt.warmup = 2;
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    fail ("%s", error->message);
  if (opt.chats < 1 || opt.rate <= 0 || opt.seconds < 1 || opt.warmup < 0)
    fail ("--chats, --rate and --seconds must be positive");
  opt.max_seq = (guint) (opt.rate * (opt.warmup + opt.seconds) * 1.1) + 16;
  g_timeout_add (50, tick_cb, NULL);

  if (opt.customers_url != NULL)
    return run_customers ();
  return run_agent (argv[0]);
}
