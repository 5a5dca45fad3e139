/* fuzz-cobrowse.c: a WebSocket text frame through cx_cobrowse_frame_parse(), the one parser of
 * every co-browse frame (snapshot, changes, pointer, click, annotation, mode control, input,
 * end). What is accepted is rebuilt with the builder, must parse again and build to the same
 * text, must keep the masking invariant (a masked node is the fixed mask and no label), and
 * stays within the caps it was checked against. */
#include "config.h"

#include "fuzz-common.h"
#include "protocol/cx-cobrowse-protocol.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  return 0;
}

static void
check_nodes (GPtrArray *nodes)
{
  fuzz_check (nodes != NULL);
  fuzz_check (nodes->len <= CX_COBROWSE_MAX_NODES);
  for (guint i = 0; i < nodes->len; i++)
    {
      const CxCobrowseNode *node = g_ptr_array_index (nodes, i);

      fuzz_check (node->id >= 1 && node->id <= CX_COBROWSE_ID_MAX);
      fuzz_check (node->width >= 0 && node->height >= 0);
      if ((node->fields & CX_COBROWSE_FIELD_MASKED) && node->masked)
        {
          fuzz_check (node->label == NULL);
          fuzz_check (node->text == NULL || g_str_equal (node->text, CX_COBROWSE_MASK));
        }
      if (node->text != NULL)
        fuzz_check (g_utf8_strlen (node->text, -1) <= CX_COBROWSE_TEXT_MAX);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (CxCobrowseFrame) frame = NULL;
  g_autoptr (GError) error = NULL;

  if (cx_cobrowse_frame_parse ((const char *) data, size, &frame, &error))
    {
      g_autofree char *text = cx_cobrowse_frame_to_string (frame, NULL);
      g_autofree char *again = NULL;
      g_autoptr (CxCobrowseFrame) back = NULL;

      fuzz_check (error == NULL);
      fuzz_check (cx_cobrowse_frame_parse (text, strlen (text), &back, NULL));
      fuzz_check (back->type == frame->type);
      again = cx_cobrowse_frame_to_string (back, NULL);
      fuzz_check (g_str_equal (text, again));

      if (frame->type == CX_COBROWSE_FRAME_SNAPSHOT || frame->type == CX_COBROWSE_FRAME_CHANGES)
        {
          check_nodes (frame->nodes);
          check_nodes (frame->attributes);
          check_nodes (frame->texts);
          check_nodes (frame->inputs);
          check_nodes (frame->scrolls);
          fuzz_check (frame->removes->len <= CX_COBROWSE_MAX_NODES);
          if (frame->type == CX_COBROWSE_FRAME_SNAPSHOT)
            fuzz_check (frame->nodes->len >= 1 &&
                        ((CxCobrowseNode *) g_ptr_array_index (frame->nodes, 0))->parent == 0);
        }
      if (frame->type == CX_COBROWSE_FRAME_ANNOTATION)
        fuzz_check (frame->points->len >= 1 && frame->points->len <= CX_COBROWSE_MAX_POINTS);
      if (frame->type == CX_COBROWSE_FRAME_INPUT)
        fuzz_check (frame->target >= 1);
    }
  else
    {
      fuzz_check (frame == NULL);
      fuzz_check (error != NULL && error->domain == CX_PROTOCOL_ERROR);
    }

  return 0;
}
