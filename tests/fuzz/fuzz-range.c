/* fuzz-range.c: a Range header against a resource size (issue 9 item 3): the first 8 bytes of
 * the input are the size, the rest the header. A range, when there is one, lies inside the
 * resource, so a reply is never larger than the file. */
#include "config.h"

#include "fuzz-common.h"
#include "protocol/cx-http-range.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  guint64 resource = 0, start = G_MAXUINT64, end = G_MAXUINT64;
  g_autofree char *header = NULL;
  CxHttpRangeResult result;

  if (size < sizeof resource)
    return 0;
  memcpy (&resource, data, sizeof resource);
  /* Small sizes are the interesting ones; keep a few huge ones. */
  if (resource & 1)
    resource >>= 40;
  /* A copy of exactly the header's bytes, unterminated as far as the parser knows. */
  header = g_memdup2 (data + sizeof resource, size - sizeof resource);

  result = cx_http_range_parse (header, size - sizeof resource, resource, &start, &end);
  fuzz_check (result == CX_HTTP_RANGE_NONE || result == CX_HTTP_RANGE_OK ||
              result == CX_HTTP_RANGE_UNSATISFIABLE);
  if (result == CX_HTTP_RANGE_OK)
    fuzz_check (start <= end && end < resource);
  return 0;
}
