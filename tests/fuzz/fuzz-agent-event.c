/* fuzz-agent-event.c: a WebSocket text frame through cx_agent_event_parse() and
 * cx_push_hello_parse(); what is accepted is rebuilt with the builders and must parse back to
 * the same event. */
#include "config.h"

#include "fuzz-common.h"
#include "protocol/cx-agent-protocol.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  return 0;
}

static JsonNode *
rebuild (const CxAgentEvent *event)
{
  switch (event->type)
    {
      case CX_AGENT_EVENT_INVITATION:
        return cx_agent_event_build_invitation (event->chat_id, event->queue, &event->customer,
                                                event->user_data, event->waiting_since,
                                                event->expires_at);
      case CX_AGENT_EVENT_INVITATION_WITHDRAWN:
        return cx_agent_event_build_invitation_withdrawn (event->chat_id, event->reason);
      case CX_AGENT_EVENT_MESSAGES:
        return cx_agent_event_build_messages (event->chat_id, event->messages,
                                              event->next_position);
      case CX_AGENT_EVENT_CHAT_ENDED:
        return cx_agent_event_build_chat_ended (event->chat_id);
      case CX_AGENT_EVENT_AGENT_STATE:
        return cx_agent_event_build_agent_state (event->state, event->reason);
      case CX_AGENT_EVENT_CALLBACKS_CHANGED:
        return cx_agent_event_build_callbacks_changed ();
      case CX_AGENT_EVENT_SIGNED_OUT:
      default:
        return cx_agent_event_build_signed_out ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (CxAgentEvent) event = NULL;
  g_autoptr (CxPushHello) hello = NULL;
  g_autoptr (GError) error = NULL;

  if (cx_agent_event_parse ((const char *) data, size, &event, &error))
    {
      g_autoptr (JsonNode) node = rebuild (event);
      g_autofree char *text = json_to_string (node, FALSE);
      g_autoptr (CxAgentEvent) back = NULL;

      fuzz_check (cx_agent_event_parse (text, strlen (text), &back, NULL));
      fuzz_check (back->type == event->type);
      fuzz_check (g_strcmp0 (back->chat_id, event->chat_id) == 0);
      fuzz_check (g_strcmp0 (back->reason, event->reason) == 0);
      fuzz_check (g_strcmp0 (back->customer.nickname, event->customer.nickname) == 0);
      fuzz_check ((back->messages == NULL) == (event->messages == NULL));
      if (back->messages != NULL)
        fuzz_check (back->messages->len == event->messages->len);
      fuzz_check (back->state == event->state);
    }
  else
    {
      fuzz_check (event == NULL);
      fuzz_check (error->domain == CX_PROTOCOL_ERROR);
      g_clear_error (&error);
    }

  if (cx_push_hello_parse ((const char *) data, size, &hello, &error))
    {
      g_autoptr (JsonNode) node = cx_push_hello_build (hello->secure_key, hello->user_id,
                                                       hello->alias, hello->transcript_position);
      g_autofree char *text = json_to_string (node, FALSE);
      g_autoptr (CxPushHello) back = NULL;

      fuzz_check (cx_push_hello_parse (text, strlen (text), &back, NULL));
      fuzz_check (g_str_equal (back->secure_key, hello->secure_key));
      fuzz_check (back->transcript_position == hello->transcript_position);
    }

  return 0;
}
