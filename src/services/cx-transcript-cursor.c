/* cx-transcript-cursor.c: where a client is in a chat's transcript (see the header).
 *
 * The cursor holds the window [first, next) of indices the client has: every entry in it has
 * been handed out once, in index order. Entries come from two directions:
 *
 * Newer (cx_transcript_cursor_accept): push frames and replies. An entry below next is a
 * duplicate and is dropped. A reply that holds every entry the server has from an index at or
 * below next ("complete") may skip indices (a newer server's entry of a type this version does
 * not read): they are holes, not gaps, and next moves to the reply's own next position. Anything
 * else (a push frame) must be contiguous: an entry past next means some were missed, and it and
 * those after it are handed back as "after the gap" for the caller to keep or drop while it
 * reads the transcript from next.
 *
 * Older (cx_transcript_cursor_accept_older): a page read backwards from first (a restore that
 * began with the newest entries). The page's entries below first are handed out, and first
 * moves to where the page began; first at 1 means the whole transcript is held.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-transcript-cursor"

#include "config.h"

#include "services/cx-transcript-cursor.h"

struct _CxTranscriptCursor
{
  guint first; /* the lowest index held (or the next one, when nothing is) */
  guint next;  /* every entry below it, down to first, has been handed out */
};

CxTranscriptCursor *
cx_transcript_cursor_new (void)
{
  CxTranscriptCursor *self = g_new0 (CxTranscriptCursor, 1);

  cx_transcript_cursor_reset (self, 1);
  return self;
}

void
cx_transcript_cursor_free (CxTranscriptCursor *self)
{
  g_free (self);
}

/* Holds nothing: the next entry expected, and the older ones not read yet, start at @position
 * (1 for a transcript read from its start). */
void
cx_transcript_cursor_reset (CxTranscriptCursor *self, guint position)
{
  g_return_if_fail (self != NULL);

  self->first = MAX (position, 1);
  self->next = self->first;
}

guint
cx_transcript_cursor_get_next_position (CxTranscriptCursor *self)
{
  g_return_val_if_fail (self != NULL, 1);

  return self->next;
}

guint
cx_transcript_cursor_get_first_position (CxTranscriptCursor *self)
{
  g_return_val_if_fail (self != NULL, 1);

  return self->first;
}

/* Whether entries before the first one held are still to be read. */
gboolean
cx_transcript_cursor_has_older (CxTranscriptCursor *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->first > 1;
}

static int
compare_index (gconstpointer a, gconstpointer b)
{
  const CxMessage *first = *(const CxMessage *const *) a;
  const CxMessage *second = *(const CxMessage *const *) b;

  return first->index < second->index ? -1 : first->index > second->index;
}

static GPtrArray *
sorted_copy (GPtrArray *messages)
{
  GPtrArray *sorted = g_ptr_array_copy (messages, (GCopyFunc) cx_message_ref, NULL);

  g_ptr_array_set_free_func (sorted, (GDestroyNotify) cx_message_unref);
  g_ptr_array_sort (sorted, compare_index);
  return sorted;
}

/**
 * cx_transcript_cursor_accept:
 * @messages: (element-type CxMessage): entries in any order, maybe repeated or already held
 * @complete_from: for a reply holding every entry the server has from this index up to
 *   @complete_next, that index; 0 for a push frame (contiguous entries)
 * @complete_next: the reply's next position (ignored without @complete_from)
 * @after_gap: (out) (optional) (transfer full) (element-type CxMessage): the entries past a gap,
 *   in index order, or %NULL when there was none
 *
 * Returns: (transfer full) (element-type CxMessage): the new entries, in index order, each
 *   handed out once over the cursor's life
 */
GPtrArray *
cx_transcript_cursor_accept (CxTranscriptCursor *self, GPtrArray *messages, guint complete_from,
                             guint complete_next, GPtrArray **after_gap)
{
  g_autoptr (GPtrArray) sorted = NULL;
  GPtrArray *fresh = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  GPtrArray *rest = NULL;
  gboolean complete;

  g_return_val_if_fail (self != NULL, fresh);
  g_return_val_if_fail (messages != NULL, fresh);

  /* A reply from past next may have missed some too: it counts as contiguous entries. */
  complete = complete_from > 0 && complete_from <= self->next;
  sorted = sorted_copy (messages);

  for (guint i = 0; i < sorted->len; i++)
    {
      CxMessage *message = g_ptr_array_index (sorted, i);

      if (message->index < self->next)
        continue;

      if (message->index > self->next && !complete)
        {
          rest = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
          for (; i < sorted->len; i++)
            {
              CxMessage *later = g_ptr_array_index (sorted, i);

              /* The same entry twice in one frame is still one entry. */
              if (rest->len == 0 ||
                  ((CxMessage *) g_ptr_array_index (rest, rest->len - 1))->index < later->index)
                g_ptr_array_add (rest, cx_message_ref (later));
            }
          break;
        }

      g_ptr_array_add (fresh, cx_message_ref (message));
      self->next = message->index + 1;
    }

  if (complete && complete_next > self->next)
    self->next = complete_next;

  if (after_gap != NULL)
    *after_gap = rest;
  else if (rest != NULL)
    g_ptr_array_unref (rest);

  return fresh;
}

/**
 * cx_transcript_cursor_accept_older:
 * @messages: (element-type CxMessage): a page of the transcript: every entry the server has
 *   from @page_from up to (at least) the first one held
 * @page_from: the index the page begins at (1: the transcript's start)
 *
 * Returns: (transfer full) (element-type CxMessage): the entries before the first one held, in
 *   index order; the cursor then holds from @page_from
 */
GPtrArray *
cx_transcript_cursor_accept_older (CxTranscriptCursor *self, GPtrArray *messages, guint page_from)
{
  g_autoptr (GPtrArray) sorted = NULL;
  GPtrArray *older = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  guint last = 0;

  g_return_val_if_fail (self != NULL, older);
  g_return_val_if_fail (messages != NULL, older);

  page_from = MAX (page_from, 1);
  if (page_from >= self->first)
    return older;

  sorted = sorted_copy (messages);
  for (guint i = 0; i < sorted->len; i++)
    {
      CxMessage *message = g_ptr_array_index (sorted, i);

      if (message->index < page_from || message->index >= self->first || message->index == last)
        continue;
      g_ptr_array_add (older, cx_message_ref (message));
      last = message->index;
    }

  self->first = page_from;
  return older;
}
