/* test-transcript-cursor.c: CxTranscriptCursor alone (suite unit): entries handed out once, in
 * index order, from replies and push frames in any order; a push frame past a gap hands back the
 * rest; a complete reply steps over holes; pages read backwards from a tail fill in down to the
 * first entry.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-transcript-cursor"

#include "config.h"

#include "services/cx-transcript-cursor.h"

/* Entries with the indices given, in that order (0 ends the list). */
static GPtrArray *
entries (guint first, ...)
{
  GPtrArray *array = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  va_list args;

  va_start (args, first);
  for (guint index = first; index != 0; index = va_arg (args, guint))
    {
      CxMessage *message =
          cx_message_new (CX_MESSAGE_TEXT, CX_PARTY_AGENT, "Ann", "1", "hello", 0, NULL);

      message->index = index;
      g_ptr_array_add (array, message);
    }
  va_end (args);
  return array;
}

static void
assert_indices (GPtrArray *array, guint first, ...)
{
  va_list args;
  guint i = 0;

  g_assert_nonnull (array);
  va_start (args, first);
  for (guint index = first; index != 0; index = va_arg (args, guint), i++)
    {
      g_assert_cmpuint (i, <, array->len);
      g_assert_cmpuint (((CxMessage *) g_ptr_array_index (array, i))->index, ==, index);
    }
  va_end (args);
  g_assert_cmpuint (array->len, ==, i);
}

static void
test_in_order_once (void)
{
  g_autoptr (CxTranscriptCursor) cursor = cx_transcript_cursor_new ();
  g_autoptr (GPtrArray) in = entries (3, 1, 2, 2, 0);
  g_autoptr (GPtrArray) again = entries (1, 2, 3, 4, 0);
  g_autoptr (GPtrArray) fresh = NULL;
  g_autoptr (GPtrArray) more = NULL;
  GPtrArray *gap = NULL;

  g_assert_cmpuint (cx_transcript_cursor_get_next_position (cursor), ==, 1);
  g_assert_false (cx_transcript_cursor_has_older (cursor));

  fresh = cx_transcript_cursor_accept (cursor, in, 0, 0, &gap);
  assert_indices (fresh, 1, 2, 3, 0);
  g_assert_null (gap);
  g_assert_cmpuint (cx_transcript_cursor_get_next_position (cursor), ==, 4);

  /* What was handed out is never handed out again. */
  more = cx_transcript_cursor_accept (cursor, again, 0, 0, &gap);
  assert_indices (more, 4, 0);
  g_assert_null (gap);
  g_assert_cmpuint (cx_transcript_cursor_get_next_position (cursor), ==, 5);
}

static void
test_push_gap (void)
{
  g_autoptr (CxTranscriptCursor) cursor = cx_transcript_cursor_new ();
  g_autoptr (GPtrArray) in = entries (1, 2, 5, 6, 6, 0);
  g_autoptr (GPtrArray) reply = entries (3, 4, 5, 6, 0);
  g_autoptr (GPtrArray) fresh = NULL;
  g_autoptr (GPtrArray) filled = NULL;
  g_autoptr (GPtrArray) gap = NULL;

  fresh = cx_transcript_cursor_accept (cursor, in, 0, 0, &gap);
  assert_indices (fresh, 1, 2, 0);
  assert_indices (gap, 5, 6, 0);
  g_assert_cmpuint (cx_transcript_cursor_get_next_position (cursor), ==, 3);

  /* The read from next fills the gap. */
  filled = cx_transcript_cursor_accept (cursor, reply, 3, 7, NULL);
  assert_indices (filled, 3, 4, 5, 6, 0);
  g_assert_cmpuint (cx_transcript_cursor_get_next_position (cursor), ==, 7);
}

static void
test_complete_holes (void)
{
  g_autoptr (CxTranscriptCursor) cursor = cx_transcript_cursor_new ();
  g_autoptr (GPtrArray) reply = entries (1, 2, 4, 7, 0);
  g_autoptr (GPtrArray) late = entries (9, 0);
  g_autoptr (GPtrArray) fresh = NULL;
  g_autoptr (GPtrArray) after = NULL;
  g_autoptr (GPtrArray) gap = NULL;

  /* Every entry from 1 up to 9: 3, 5, 6 and 8 are of types this version skips. */
  fresh = cx_transcript_cursor_accept (cursor, reply, 1, 9, &gap);
  assert_indices (fresh, 1, 2, 4, 7, 0);
  g_assert_null (gap);
  g_assert_cmpuint (cx_transcript_cursor_get_next_position (cursor), ==, 9);

  after = cx_transcript_cursor_accept (cursor, late, 0, 0, NULL);
  assert_indices (after, 9, 0);
}

static void
test_complete_from_later (void)
{
  g_autoptr (CxTranscriptCursor) cursor = cx_transcript_cursor_new ();
  g_autoptr (GPtrArray) reply = entries (5, 6, 0);
  g_autoptr (GPtrArray) fresh = NULL;
  g_autoptr (GPtrArray) gap = NULL;

  /* A reply that starts past next is no proof of holes: it is a gap. */
  fresh = cx_transcript_cursor_accept (cursor, reply, 5, 7, &gap);
  g_assert_cmpuint (fresh->len, ==, 0);
  assert_indices (gap, 5, 6, 0);
  g_assert_cmpuint (cx_transcript_cursor_get_next_position (cursor), ==, 1);
}

static void
test_older_pages (void)
{
  g_autoptr (CxTranscriptCursor) cursor = cx_transcript_cursor_new ();
  g_autoptr (GPtrArray) tail = entries (8, 9, 10, 0);
  g_autoptr (GPtrArray) page = entries (4, 5, 6, 7, 8, 0);
  g_autoptr (GPtrArray) first_page = entries (3, 2, 1, 0);
  g_autoptr (GPtrArray) fresh = NULL;
  g_autoptr (GPtrArray) older = NULL;
  g_autoptr (GPtrArray) oldest = NULL;
  g_autoptr (GPtrArray) none = NULL;

  /* A restore from the newest entries: the tail begins at 8. */
  cx_transcript_cursor_reset (cursor, 8);
  g_assert_true (cx_transcript_cursor_has_older (cursor));
  fresh = cx_transcript_cursor_accept (cursor, tail, 8, 11, NULL);
  assert_indices (fresh, 8, 9, 10, 0);
  g_assert_cmpuint (cx_transcript_cursor_get_first_position (cursor), ==, 8);

  /* A page that overlaps what is held hands out only what is older. */
  older = cx_transcript_cursor_accept_older (cursor, page, 4);
  assert_indices (older, 4, 5, 6, 7, 0);
  g_assert_cmpuint (cx_transcript_cursor_get_first_position (cursor), ==, 4);
  g_assert_true (cx_transcript_cursor_has_older (cursor));

  oldest = cx_transcript_cursor_accept_older (cursor, first_page, 1);
  assert_indices (oldest, 1, 2, 3, 0);
  g_assert_false (cx_transcript_cursor_has_older (cursor));

  /* Read again: nothing. */
  none = cx_transcript_cursor_accept_older (cursor, first_page, 1);
  g_assert_cmpuint (none->len, ==, 0);
  g_assert_cmpuint (cx_transcript_cursor_get_next_position (cursor), ==, 11);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/transcript-cursor/in-order-once", test_in_order_once);
  g_test_add_func ("/transcript-cursor/push-gap", test_push_gap);
  g_test_add_func ("/transcript-cursor/complete-holes", test_complete_holes);
  g_test_add_func ("/transcript-cursor/complete-from-later", test_complete_from_later);
  g_test_add_func ("/transcript-cursor/older-pages", test_older_pages);

  return g_test_run ();
}
