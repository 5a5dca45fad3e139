/* fuzz-multipart.c: a multipart/form-data request as the server reads it (issue 9 item 1): the
 * input's first line is the Content-Type header, the rest the body. The boundary comes from the
 * header through cx_multipart_boundary(), or is "B" when the header is refused, so that the
 * body parser sees every input. Every part must be a slice of the body with valid names. */
#include "config.h"

#include "fuzz-common.h"
#include "protocol/cx-multipart.h"
#include "protocol/cx-protocol.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  return 0;
}

static void
check_parts (GPtrArray *parts, GBytes *body, const CxMultipartLimits *limits)
{
  gsize body_size;
  const char *body_data = g_bytes_get_data (body, &body_size);
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (GError) error = NULL;

  fuzz_check (parts->len <= limits->max_parts);
  for (guint i = 0; i < parts->len; i++)
    {
      const CxMultipartPart *part = g_ptr_array_index (parts, i);
      gsize size;
      const char *data = g_bytes_get_data (part->body, &size);

      fuzz_check (part->name != NULL && g_utf8_validate (part->name, -1, NULL));
      fuzz_check (part->filename == NULL ||
                  (*part->filename != '\0' && g_utf8_validate (part->filename, -1, NULL)));
      fuzz_check (part->content_type == NULL || strchr (part->content_type, '/') != NULL);
      fuzz_check (size <= body_size);
      fuzz_check (size == 0 || (data >= body_data && data + size <= body_data + body_size));
    }

  form = cx_multipart_form_fields (parts, &error);
  fuzz_check ((form == NULL) == (error != NULL));
  if (form != NULL)
    fuzz_check (g_hash_table_size (form) <= parts->len);
  (void) cx_multipart_find_file (parts, "file");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *newline = memchr (data, '\n', size);
  gsize header_length = newline ? (gsize) (newline - (const char *) data) : size;
  g_autofree char *content_type = g_strndup ((const char *) data, header_length);
  g_autofree char *boundary = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GPtrArray) parts = NULL;
  g_autoptr (GError) error = NULL;
  /* Small limits reach the limit checks with small inputs. */
  CxMultipartLimits limits = { 8, 256 };

  boundary = cx_multipart_boundary (content_type, &error);
  if (boundary == NULL)
    {
      fuzz_check (error != NULL && error->domain == CX_PROTOCOL_ERROR);
      g_clear_error (&error);
      boundary = g_strdup ("B");
    }
  else
    fuzz_check (*boundary != '\0' && strlen (boundary) <= CX_MULTIPART_MAX_BOUNDARY);

  /* A copy of exactly the body's bytes, so that ASan sees any read past its end. */
  body = newline ? g_bytes_new (newline + 1, size - header_length - 1) : g_bytes_new (NULL, 0);
  parts = cx_multipart_parse (body, boundary, &limits, &error);
  if (parts == NULL)
    fuzz_check (error != NULL && error->domain == CX_PROTOCOL_ERROR &&
                g_utf8_validate (error->message, -1, NULL));
  else
    check_parts (parts, body, &limits);

  return 0;
}
