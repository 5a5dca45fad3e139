/* test-cobrowse-model.c: the co-browse page model (src/widgets/cx-page-model.c) on a real
 * GtkBuilder page in a real window, and the agent's mirror (cx-page-mirror.c) built from the
 * frames it sends, under Xvfb.
 *
 * The page has a password entry, a `cx-masked` entry, a hidden masked entry, an entry masked by
 * configured name, a masked label, a `cx-agent-disabled` button and a submit button. Secrets of
 * different lengths are typed one character at a time; every frame the model emits (snapshot,
 * changes, after "submit" and after hiding) is kept as it would go on the wire and checked: no
 * secret, no mask but the fixed one. The mirror applies every frame and must show the changes
 * and never a secret. Agent input is refused on masked, disabled, agent-disabled and submit
 * targets, even from a forged frame.
 *
 * Every wait iterates the main context until a named condition holds; the guard only catches a
 * hang.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-cobrowse-model"

#include "config.h"

#include <gtk/gtk.h>
#include <string.h>

#include "protocol/cx-cobrowse-protocol.h"
#include "widgets/cx-page-mirror.h"
#include "widgets/cx-page-model.h"

#define HANG_GUARD_SECONDS 60

static const char page_ui[] =
    "<interface>"
    " <object class='GtkWindow' id='window'>"
    "  <property name='default-width'>640</property>"
    "  <property name='default-height'>480</property>"
    "  <child><object class='GtkBox' id='page'>"
    "   <property name='orientation'>vertical</property>"
    "   <property name='spacing'>6</property>"
    "   <child><object class='GtkLabel' id='title'><property name='label'>Sign in</property>"
    "   </object></child>"
    "   <child><object class='GtkBox' id='form'>"
    "    <property name='orientation'>vertical</property>"
    "    <child><object class='GtkEntry' id='name'/></child>"
    "    <child><object class='GtkPasswordEntry' id='password'/></child>"
    "    <child><object class='GtkEntry' id='card'>"
    "     <style><class name='cx-masked'/></style></object></child>"
    "    <child><object class='GtkEntry' id='pin'>"
    "     <property name='visible'>0</property>"
    "     <property name='visibility'>0</property></object></child>"
    "    <child><object class='GtkEntry' id='note'/></child>"
    "    <child><object class='GtkLabel' id='card-echo'>"
    "     <style><class name='cx-masked'/></style></object></child>"
    "    <child><object class='GtkCheckButton' id='condition'>"
    "     <property name='label'>I have a heart condition</property>"
    "     <style><class name='cx-masked'/></style></object></child>"
    "    <child><object class='GtkCheckButton' id='remember'>"
    "     <property name='label'>Remember me</property></object></child>"
    "   </object></child>"
    "   <child><object class='GtkButton' id='delete'>"
    "    <property name='label'>Delete my account</property>"
    "    <style><class name='cx-agent-disabled'/></style></object></child>"
    "   <child><object class='GtkButton' id='help'>"
    "    <property name='label'>Help</property></object></child>"
    "   <child><object class='GtkButton' id='off'>"
    "    <property name='label'>Unavailable</property>"
    "    <property name='sensitive'>0</property></object></child>"
    "   <child><object class='GtkButton' id='submit'>"
    "    <property name='label'>Submit</property>"
    "    <style><class name='cx-submit'/></style></object></child>"
    "   <child><object class='GtkScrolledWindow' id='scroller'>"
    "    <property name='min-content-height'>60</property>"
    "    <property name='max-content-height'>60</property>"
    "    <child><object class='GtkBox'>"
    "     <property name='height-request'>400</property>"
    "     <child><object class='GtkTextView' id='comments'>"
    "      <property name='hexpand'>1</property></object></child>"
    "    </object></child>"
    "   </object></child>"
    "   <child><object class='GtkStack' id='stack'>"
    "    <child><object class='GtkStackPage'><property name='name'>start</property>"
    "     <property name='child'><object class='GtkLabel' id='start-label'>"
    "      <property name='label'>Fill in the form</property></object></property>"
    "    </object></child>"
    "    <child><object class='GtkStackPage'><property name='name'>done</property>"
    "     <property name='child'><object class='GtkLabel' id='done-label'>"
    "      <property name='label'>Thank you</property></object></property>"
    "    </object></child>"
    "   </object></child>"
    "  </object></child>"
    " </object>"
    "</interface>";

/* What the customer types, of different lengths; "note" is masked by configured name. */
static const char *const secrets[][2] = {
  { "password", "hunter2" },
  { "card", "4111111111111111" },
  { "pin", "93" },
  { "note", "my mother's maiden name is Quetzalcoatl" },
};

typedef struct
{
  GtkBuilder *builder;
  GtkWindow *window;
  CxPageModel *model;
  GtkWindow *mirror_window;
  CxPageMirror *mirror;
  GPtrArray *frames; /* every frame's text, as it would go on the wire */
  guint submits;
  guint helps;
  guint mark;
} Fixture;

/* Waiting */

typedef gboolean (*Condition) (gpointer data);

static gboolean
hang_guard_cb (gpointer data)
{
  g_error ("still waiting for %s after %d s", (const char *) data, HANG_GUARD_SECONDS);
  return G_SOURCE_REMOVE;
}

static void
wait_named (const char *name, Condition done, gpointer data)
{
  guint guard = g_timeout_add_seconds (HANG_GUARD_SECONDS, hang_guard_cb, (gpointer) name);

  while (!done (data))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);
}

#define wait_for(done, data) wait_named (#done, (Condition) (done), (data))

static gboolean
widget_is_mapped (GtkWidget *widget)
{
  return gtk_widget_get_mapped (widget);
}

/* Mapped and laid out: GTK allocates on the frame after mapping. */
static gboolean
widget_is_allocated (GtkWidget *widget)
{
  return gtk_widget_get_mapped (widget) && gtk_widget_get_width (widget) > 0;
}

/* Runs what is ready now (the model's coalescing idle among it), then flushes what is left,
 * so that every change is in a frame before the test looks. */
static void
settle (Fixture *fixture)
{
  g_autofree char *rest = NULL;

  while (g_main_context_iteration (NULL, FALSE))
    ;
  rest = cx_page_model_take_changes (fixture->model, NULL);
  if (rest != NULL)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (cx_page_mirror_apply_text (fixture->mirror, rest, strlen (rest), &error));
      g_assert_no_error (error);
      g_ptr_array_add (fixture->frames, g_steal_pointer (&rest));
    }
}

/* The page */

static GtkWidget *
object (Fixture *fixture, const char *id)
{
  GObject *found = gtk_builder_get_object (fixture->builder, id);

  g_assert_nonnull (found);
  return GTK_WIDGET (found);
}

static guint
node_id (Fixture *fixture, const char *id)
{
  guint node = cx_page_model_get_id (fixture->model, object (fixture, id));

  g_assert_cmpuint (node, >, 0);
  return node;
}

static void
frame_cb (CxPageModel *model, const char *text, Fixture *fixture)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (cx_page_mirror_apply_text (fixture->mirror, text, strlen (text), &error));
  g_assert_no_error (error);
  g_ptr_array_add (fixture->frames, g_strdup (text));
}

static void
record_snapshot (Fixture *fixture)
{
  g_autoptr (GError) error = NULL;
  char *snapshot = cx_page_model_snapshot (fixture->model, NULL);

  g_assert_true (cx_page_mirror_apply_text (fixture->mirror, snapshot, strlen (snapshot), &error));
  g_assert_no_error (error);
  g_ptr_array_add (fixture->frames, snapshot);
}

/* The customer's submit handler does what forms do after a submit: clears nothing, but
 * unmasks, shows and hides, and switches the stack. The model must leak nothing of it. */
static void
submit_clicked_cb (GtkButton *button, Fixture *fixture)
{
  fixture->submits++;
  gtk_widget_remove_css_class (object (fixture, "card"), "cx-masked");
  gtk_widget_remove_css_class (object (fixture, "card-echo"), "cx-masked");
  gtk_entry_set_visibility (GTK_ENTRY (object (fixture, "pin")), TRUE);
  gtk_widget_set_visible (object (fixture, "pin"), TRUE);
  gtk_widget_set_visible (object (fixture, "password"), FALSE);
  gtk_widget_set_name (object (fixture, "note"), "renamed");
  gtk_stack_set_visible_child_name (GTK_STACK (object (fixture, "stack")), "done");
}

static void
help_clicked_cb (GtkButton *button, Fixture *fixture)
{
  fixture->helps++;
}

static gboolean
help_was_clicked (Fixture *fixture)
{
  return fixture->helps == 1;
}

/* A frame since fixture->mark resizes the viewport. */
static gboolean
viewport_changed (Fixture *fixture)
{
  settle (fixture);
  for (guint i = fixture->mark; i < fixture->frames->len; i++)
    {
      if (strstr (g_ptr_array_index (fixture->frames, i), "\"viewport\"") != NULL)
        return TRUE;
    }
  return FALSE;
}

static gboolean
shown_in_mirror (Fixture *fixture, const char *id)
{
  GtkWidget *widget = cx_page_mirror_get_node_widget (
      fixture->mirror, cx_page_model_get_id (fixture->model, object (fixture, id)));

  return widget != NULL && gtk_widget_get_visible (widget);
}

static gboolean
submitted_page_shown (Fixture *fixture)
{
  settle (fixture);
  return shown_in_mirror (fixture, "pin") && shown_in_mirror (fixture, "done-label") &&
         !shown_in_mirror (fixture, "start-label") && !shown_in_mirror (fixture, "password");
}

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *const masked[] = { "note", NULL };

  fixture->builder = gtk_builder_new ();
  g_assert_true (gtk_builder_add_from_string (fixture->builder, page_ui, -1, &error));
  g_assert_no_error (error);
  fixture->window = GTK_WINDOW (object (fixture, "window"));
  g_signal_connect (object (fixture, "submit"), "clicked", G_CALLBACK (submit_clicked_cb), fixture);
  g_signal_connect (object (fixture, "help"), "clicked", G_CALLBACK (help_clicked_cb), fixture);
  gtk_window_present (fixture->window);
  wait_for (widget_is_allocated, object (fixture, "start-label"));

  fixture->model = cx_page_model_new (object (fixture, "page"), "Sign in");
  cx_page_model_set_masked_names (fixture->model, masked);
  fixture->frames = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (fixture->model, "frame", G_CALLBACK (frame_cb), fixture);

  fixture->mirror_window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (fixture->mirror_window, 320, 240);
  fixture->mirror = CX_PAGE_MIRROR (cx_page_mirror_new ());
  gtk_window_set_child (fixture->mirror_window, GTK_WIDGET (fixture->mirror));
  gtk_window_present (fixture->mirror_window);
  wait_for (widget_is_mapped, fixture->mirror);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_assert_finalize_object (fixture->model);
  gtk_window_destroy (fixture->mirror_window);
  gtk_window_destroy (fixture->window);
  g_clear_object (&fixture->builder);
  g_ptr_array_unref (fixture->frames);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Checks on frames and on the mirror */

/* No secret in @text, and every run of mask bullets is exactly the fixed mask. */
static void
assert_no_leak (const char *text)
{
  static const char bullet[] = "\u2022";
  const char *p = text;

  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      g_assert_null (strstr (text, secrets[i][1]));
      /* Not even a part of one, as typed so far (the pin's two digits aside: too short). */
      if (strlen (secrets[i][1]) > 4)
        {
          g_autofree char *part = g_strndup (secrets[i][1], 4);

          g_assert_null (strstr (text, part));
        }
    }

  while ((p = strstr (p, bullet)) != NULL)
    {
      guint run = 0;

      while (strncmp (p, bullet, strlen (bullet)) == 0)
        {
          run++;
          p += strlen (bullet);
        }
      g_assert_cmpuint (run, ==, 6);
    }
  g_assert_null (strstr (text, "**"));
  /* A masked check's label and state are the customer's too. */
  g_assert_null (strstr (text, "heart"));
}

static void
collect_mirror_text (GtkWidget *widget, GString *out)
{
  if (GTK_IS_LABEL (widget))
    g_string_append_printf (out, "%s\n", gtk_label_get_text (GTK_LABEL (widget)));
  else if (GTK_IS_EDITABLE (widget))
    g_string_append_printf (out, "%s\n", gtk_editable_get_text (GTK_EDITABLE (widget)));
  else if (GTK_IS_BUTTON (widget) && gtk_button_get_label (GTK_BUTTON (widget)) != NULL)
    g_string_append_printf (out, "%s\n", gtk_button_get_label (GTK_BUTTON (widget)));
  else if (GTK_IS_CHECK_BUTTON (widget) &&
           gtk_check_button_get_label (GTK_CHECK_BUTTON (widget)) != NULL)
    g_string_append_printf (out, "%s\n", gtk_check_button_get_label (GTK_CHECK_BUTTON (widget)));

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_mirror_text (child, out);
}

static const char *
mirror_text (Fixture *fixture, const char *id)
{
  GtkWidget *widget = cx_page_mirror_get_node_widget (fixture->mirror, node_id (fixture, id));

  g_assert_nonnull (widget);
  if (GTK_IS_LABEL (widget))
    return gtk_label_get_text (GTK_LABEL (widget));
  return gtk_editable_get_text (GTK_EDITABLE (widget));
}

static void
type_text (Fixture *fixture, const char *id, const char *text)
{
  GtkEditable *editable = GTK_EDITABLE (object (fixture, id));

  gtk_widget_grab_focus (GTK_WIDGET (editable));
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      int position = -1;

      gtk_editable_insert_text (editable, p, g_utf8_next_char (p) - p, &position);
      settle (fixture);
    }
}

/* The tests */

static void
test_masking (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GString) shown = g_string_new (NULL);
  g_autoptr (CxCobrowseFrame) snapshot = NULL;
  guint masked_ids[G_N_ELEMENTS (secrets)];
  guint frames_before_secrets;

  record_snapshot (fixture);
  g_assert_cmpstr (cx_page_mirror_get_page (fixture->mirror), ==, "Sign in");
  g_assert_true (shown_in_mirror (fixture, "start-label"));
  g_assert_false (shown_in_mirror (fixture, "done-label"));
  g_assert_false (shown_in_mirror (fixture, "pin"));

  /* The unmasked field shows what is typed, and the mirror follows. */
  type_text (fixture, "name", "Alice");
  g_assert_cmpstr (mirror_text (fixture, "name"), ==, "Alice");
  g_assert_cmpuint (cx_page_mirror_get_focus (fixture->mirror), ==, node_id (fixture, "name"));

  frames_before_secrets = fixture->frames->len;
  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      masked_ids[i] = node_id (fixture, secrets[i][0]);
      type_text (fixture, secrets[i][0], secrets[i][1]);
    }
  gtk_label_set_text (GTK_LABEL (object (fixture, "card-echo")), secrets[1][1]);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (object (fixture, "condition")), TRUE);
  settle (fixture);

  /* Typing into masked fields sends no value at all: no input entry names a masked node. */
  for (guint f = frames_before_secrets; f < fixture->frames->len; f++)
    {
      g_autoptr (CxCobrowseFrame) frame = NULL;
      const char *text = g_ptr_array_index (fixture->frames, f);

      g_assert_true (cx_cobrowse_frame_parse (text, strlen (text), &frame, NULL));
      if (frame->type != CX_COBROWSE_FRAME_CHANGES)
        continue;
      for (guint e = 0; e < frame->inputs->len; e++)
        {
          const CxCobrowseNode *input = g_ptr_array_index (frame->inputs, e);

          for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
            g_assert_cmpuint (input->id, !=, masked_ids[i]);
          g_assert_cmpuint (input->id, !=, node_id (fixture, "condition"));
        }
    }

  /* A snapshot now: every masked value is the same fixed mask, whatever its length. */
  record_snapshot (fixture);
  g_assert_true (cx_cobrowse_frame_parse (
      g_ptr_array_index (fixture->frames, fixture->frames->len - 1),
      strlen (g_ptr_array_index (fixture->frames, fixture->frames->len - 1)), &snapshot, NULL));
  for (guint n = 0; n < snapshot->nodes->len; n++)
    {
      const CxCobrowseNode *node = g_ptr_array_index (snapshot->nodes, n);

      for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
        {
          if (node->id == masked_ids[i])
            {
              g_assert_true (node->masked);
              g_assert_cmpstr (node->text, ==, CX_COBROWSE_MASK);
              g_assert_null (node->label);
            }
        }
      if (node->id == node_id (fixture, "pin"))
        g_assert_false (node->visible);
      if (node->id == node_id (fixture, "delete"))
        g_assert_true (node->agent_disabled);
      if (node->id == node_id (fixture, "submit"))
        g_assert_true (node->submit);
      if (node->id == node_id (fixture, "help"))
        g_assert_true (!node->agent_disabled && !node->submit && !node->masked);
    }
  g_assert_cmpstr (mirror_text (fixture, "password"), ==, CX_COBROWSE_MASK);
  g_assert_cmpstr (mirror_text (fixture, "card"), ==, CX_COBROWSE_MASK);
  g_assert_cmpstr (mirror_text (fixture, "card-echo"), ==, CX_COBROWSE_MASK);
  g_assert_false (gtk_check_button_get_active (GTK_CHECK_BUTTON (
      cx_page_mirror_get_node_widget (fixture->mirror, node_id (fixture, "condition")))));
  g_assert_false (gtk_widget_get_visible (
      cx_page_mirror_get_node_widget (fixture->mirror, node_id (fixture, "pin"))));

  /* Submit: the handler unmasks, shows the hidden masked entry, hides another, switches the
   * stack. Masking sticks. */
  g_signal_emit_by_name (object (fixture, "submit"), "clicked");
  g_assert_cmpuint (fixture->submits, ==, 1);
  settle (fixture);
  gtk_editable_set_text (GTK_EDITABLE (object (fixture, "card")), "4111111111111111 again");
  gtk_label_set_text (GTK_LABEL (object (fixture, "card-echo")), "4111111111111111");
  settle (fixture);
  /* The new geometry comes with GTK's next layout. */
  wait_for (submitted_page_shown, fixture);
  g_assert_false (gtk_widget_get_visible (
      cx_page_mirror_get_node_widget (fixture->mirror, node_id (fixture, "start-label"))));
  g_assert_true (gtk_widget_get_visible (
      cx_page_mirror_get_node_widget (fixture->mirror, node_id (fixture, "done-label"))));
  g_assert_cmpstr (mirror_text (fixture, "pin"), ==, CX_COBROWSE_MASK);
  g_assert_cmpstr (mirror_text (fixture, "card"), ==, CX_COBROWSE_MASK);

  /* And a new snapshot after all that (a page change sends one). */
  record_snapshot (fixture);

  g_assert_cmpuint (fixture->frames->len, >, 10);
  for (guint f = 0; f < fixture->frames->len; f++)
    assert_no_leak (g_ptr_array_index (fixture->frames, f));

  /* A forged frame that names a masked node's value: the mirror still shows only the mask
   * (the snapshot just applied is seq 0). */
  {
    g_autofree char *forged = g_strdup_printf (
        "{\"type\":\"changes\",\"seq\":1,\"texts\":[{\"id\":%u,\"text\":\"hunter2\"}],"
        "\"inputs\":[{\"id\":%u,\"checked\":true}],\"attributes\":[{\"id\":%u,\"masked\":false,"
        "\"label\":\"hunter2\"}]}",
        node_id (fixture, "password"), node_id (fixture, "condition"), node_id (fixture, "card"));
    g_autoptr (GError) error = NULL;

    g_assert_true (cx_page_mirror_apply_text (fixture->mirror, forged, strlen (forged), &error));
    g_assert_no_error (error);
    g_assert_cmpstr (mirror_text (fixture, "password"), ==, CX_COBROWSE_MASK);
    g_assert_cmpstr (mirror_text (fixture, "card"), ==, CX_COBROWSE_MASK);
    g_assert_false (gtk_check_button_get_active (GTK_CHECK_BUTTON (
        cx_page_mirror_get_node_widget (fixture->mirror, node_id (fixture, "condition")))));
  }

  collect_mirror_text (GTK_WIDGET (fixture->mirror), shown);
  assert_no_leak (shown->str);
  g_assert_nonnull (strstr (shown->str, "Alice"));
  g_assert_nonnull (strstr (shown->str, "Thank you"));
}

static void
assert_refused (Fixture *fixture, const char *json, CxPageModelError code)
{
  g_autoptr (CxCobrowseFrame) frame = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (cx_cobrowse_frame_parse (json, strlen (json), &frame, &error));
  g_assert_no_error (error);
  g_assert_false (cx_page_model_apply_input (fixture->model, frame, &error));
  g_assert_error (error, CX_PAGE_MODEL_ERROR, code);
}

static char *
node_json (JsonNode *node)
{
  char *text = json_to_string (node, FALSE);

  json_node_unref (node);
  return text;
}

static void
test_agent_input (Fixture *fixture, gconstpointer data)
{
  g_autofree char *name_text = NULL;
  g_autofree char *remember = NULL;
  g_autofree char *help = NULL;
  g_autofree char *forged = NULL;
  g_autoptr (CxCobrowseFrame) frame = NULL;
  g_autoptr (GError) error = NULL;

  gtk_editable_set_text (GTK_EDITABLE (object (fixture, "password")), "hunter2");
  record_snapshot (fixture);
  name_text = node_json (cx_cobrowse_build_input_text (node_id (fixture, "name"), "Bob"));

  /* Pointer mode: nothing. */
  assert_refused (fixture, name_text, CX_PAGE_MODEL_ERROR_POINTER_MODE);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (object (fixture, "name"))), ==, "");

  /* Write mode: the unmasked field and the check change on the customer's page... */
  cx_page_model_set_mode (fixture->model, CX_COBROWSE_MODE_WRITE);
  g_assert_true (cx_cobrowse_frame_parse (name_text, strlen (name_text), &frame, NULL));
  g_assert_true (cx_page_model_apply_input (fixture->model, frame, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (object (fixture, "name"))), ==, "Bob");
  settle (fixture);
  g_assert_cmpstr (mirror_text (fixture, "name"), ==, "Bob");

  remember = node_json (cx_cobrowse_build_input_checked (node_id (fixture, "remember"), TRUE));
  g_clear_pointer (&frame, cx_cobrowse_frame_free);
  g_assert_true (cx_cobrowse_frame_parse (remember, strlen (remember), &frame, NULL));
  g_assert_true (cx_page_model_apply_input (fixture->model, frame, &error));
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (object (fixture, "remember"))));

  help = node_json (cx_cobrowse_build_input_activate (node_id (fixture, "help")));
  g_clear_pointer (&frame, cx_cobrowse_frame_free);
  g_assert_true (cx_cobrowse_frame_parse (help, strlen (help), &frame, NULL));
  g_assert_true (cx_page_model_apply_input (fixture->model, frame, &error));
  /* A button activated presses and releases, like a key press: clicked comes after. */
  wait_for (help_was_clicked, fixture);

  /* ...but never a masked, agent-disabled, submit or insensitive target, forged or not. */
  forged = g_strdup_printf ("{\"type\":\"input\",\"id\":%u,\"text\":\"stolen\"}",
                            node_id (fixture, "password"));
  assert_refused (fixture, forged, CX_PAGE_MODEL_ERROR_MASKED);
  g_free (forged);
  forged =
      g_strdup_printf ("{\"type\":\"input\",\"id\":%u,\"text\":\"x\"}", node_id (fixture, "card"));
  assert_refused (fixture, forged, CX_PAGE_MODEL_ERROR_MASKED);
  g_free (forged);
  forged =
      g_strdup_printf ("{\"type\":\"input\",\"id\":%u,\"text\":\"x\"}", node_id (fixture, "pin"));
  assert_refused (fixture, forged, CX_PAGE_MODEL_ERROR_MASKED);
  g_free (forged);
  forged =
      g_strdup_printf ("{\"type\":\"input\",\"id\":%u,\"text\":\"x\"}", node_id (fixture, "note"));
  assert_refused (fixture, forged, CX_PAGE_MODEL_ERROR_MASKED);
  g_free (forged);
  forged = g_strdup_printf ("{\"type\":\"input\",\"id\":%u,\"activate\":true}",
                            node_id (fixture, "delete"));
  assert_refused (fixture, forged, CX_PAGE_MODEL_ERROR_AGENT_DISABLED);
  g_free (forged);
  forged = g_strdup_printf ("{\"type\":\"input\",\"id\":%u,\"activate\":true}",
                            node_id (fixture, "submit"));
  assert_refused (fixture, forged, CX_PAGE_MODEL_ERROR_SUBMIT);
  g_free (forged);
  forged = g_strdup_printf ("{\"type\":\"input\",\"id\":%u,\"activate\":true}",
                            node_id (fixture, "off"));
  assert_refused (fixture, forged, CX_PAGE_MODEL_ERROR_DISABLED);
  g_free (forged);
  forged =
      g_strdup_printf ("{\"type\":\"input\",\"id\":%u,\"text\":\"x\"}", node_id (fixture, "title"));
  assert_refused (fixture, forged, CX_PAGE_MODEL_ERROR_UNSUPPORTED);
  g_free (forged);
  forged = g_strdup_printf ("{\"type\":\"input\",\"id\":%u,\"checked\":true}",
                            node_id (fixture, "help"));
  assert_refused (fixture, forged, CX_PAGE_MODEL_ERROR_UNSUPPORTED);
  g_free (forged);
  forged = g_strdup ("{\"type\":\"input\",\"id\":999999,\"text\":\"x\"}");
  assert_refused (fixture, forged, CX_PAGE_MODEL_ERROR_NOT_FOUND);

  /* The configured agent-disabled names count too, with what is inside them. */
  {
    const char *const names[] = { "form", NULL };

    cx_page_model_set_agent_disabled_names (fixture->model, names);
    assert_refused (fixture, name_text, CX_PAGE_MODEL_ERROR_AGENT_DISABLED);
  }

  g_assert_cmpuint (fixture->submits, ==, 0);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (object (fixture, "password"))), ==,
                   "hunter2");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (object (fixture, "card"))), ==, "");

  /* Back to pointer mode: refused again. */
  cx_page_model_set_mode (fixture->model, CX_COBROWSE_MODE_POINTER);
  assert_refused (fixture, remember, CX_PAGE_MODEL_ERROR_POINTER_MODE);
}

static void
test_structure (Fixture *fixture, gconstpointer data)
{
  GtkWidget *form = object (fixture, "form");
  GtkWidget *added = gtk_label_new ("A new line");
  guint help_id;
  guint added_id;
  int x, y;

  record_snapshot (fixture);
  help_id = node_id (fixture, "help");

  /* Added and removed widgets are adds and removes; ids of the others do not change. */
  gtk_box_append (GTK_BOX (form), added);
  gtk_box_remove (GTK_BOX (object (fixture, "page")), object (fixture, "help"));
  settle (fixture);
  added_id = cx_page_model_get_id (fixture->model, added);
  g_assert_cmpuint (added_id, >, 0);
  g_assert_cmpstr (
      gtk_label_get_text (GTK_LABEL (cx_page_mirror_get_node_widget (fixture->mirror, added_id))),
      ==, "A new line");
  g_assert_null (cx_page_mirror_get_node_widget (fixture->mirror, help_id));
  g_assert_cmpuint (node_id (fixture, "submit"), >, 0);

  /* Insensitive and hidden follow. */
  gtk_widget_set_sensitive (object (fixture, "remember"), FALSE);
  gtk_widget_set_visible (object (fixture, "title"), FALSE);
  settle (fixture);
  g_assert_false (gtk_widget_get_sensitive (
      cx_page_mirror_get_node_widget (fixture->mirror, node_id (fixture, "remember"))));
  g_assert_false (gtk_widget_get_visible (
      cx_page_mirror_get_node_widget (fixture->mirror, node_id (fixture, "title"))));

  /* A resize of the customer's window is a viewport change and new geometry. */
  gtk_widget_set_size_request (object (fixture, "page"), 900, 700);
  fixture->mark = fixture->frames->len;
  wait_for (viewport_changed, fixture);

  /* The customer's pointer. */
  {
    g_autoptr (JsonNode) pointer = cx_cobrowse_build_pointer (CX_COBROWSE_FRAME_POINTER, 12, 34);
    g_autofree char *text = json_to_string (pointer, FALSE);

    g_assert_true (cx_page_mirror_apply_text (fixture->mirror, text, strlen (text), NULL));
    g_assert_true (cx_page_mirror_get_pointer (fixture->mirror, &x, &y));
    g_assert_cmpint (x, ==, 12);
    g_assert_cmpint (y, ==, 34);
  }

  /* Typing into a text view, and scrolling. */
  {
    GtkAdjustment *adjustment =
        gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (object (fixture, "scroller")));
    g_autofree char *scrolled = NULL;
    g_autofree char *typed = NULL;

    gtk_text_buffer_set_text (
        gtk_text_view_get_buffer (GTK_TEXT_VIEW (object (fixture, "comments"))), "Line one\nTwo",
        -1);
    settle (fixture);
    g_assert_cmpstr (mirror_text (fixture, "comments"), ==, "Line one\nTwo");

    fixture->mark = fixture->frames->len;
    gtk_adjustment_set_value (adjustment, 100);
    settle (fixture);
    g_assert_cmpuint (fixture->frames->len, >, fixture->mark);
    scrolled = g_strdup_printf ("\"scrolls\":[{\"id\":%u,\"x\":0,\"y\":100}]",
                                node_id (fixture, "scroller"));
    g_assert_nonnull (strstr (g_ptr_array_index (fixture->frames, fixture->mark), scrolled));
    /* In the mirror, what is scrolled out is clipped by its scrolled window. */
    g_assert_nonnull (gtk_widget_get_ancestor (
        cx_page_mirror_get_node_widget (fixture->mirror, node_id (fixture, "comments")),
        GTK_TYPE_SCROLLED_WINDOW));
  }

  /* A frame out of sequence is refused until the next snapshot. */
  {
    g_autoptr (GError) error = NULL;
    const char *stale = "{\"type\":\"changes\",\"seq\":1000,\"texts\":[{\"id\":1,\"text\":\"x\"}]}";

    g_assert_false (cx_page_mirror_apply_text (fixture->mirror, stale, strlen (stale), &error));
    g_assert_error (error, CX_PAGE_MIRROR_ERROR, CX_PAGE_MIRROR_ERROR_SEQUENCE);
  }
}

/* A page of very long texts still makes a snapshot that fits in a frame, and the mirror shows
 * it. */
static void
test_large_page (Fixture *fixture, gconstpointer data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  g_autoptr (GString) long_text = g_string_new (NULL);
  g_autofree char *snapshot = NULL;
  g_autoptr (GError) error = NULL;
  gsize length;

  for (guint i = 0; i < CX_COBROWSE_TEXT_MAX; i++)
    g_string_append_c (long_text, 'a' + i % 26);
  for (guint i = 0; i < 300; i++)
    {
      GtkWidget *label = gtk_label_new (long_text->str);

      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_box_append (GTK_BOX (box), label);
    }
  gtk_box_append (GTK_BOX (object (fixture, "page")), box);

  snapshot = cx_page_model_snapshot (fixture->model, &length);
  g_assert_cmpuint (length, <=, CX_COBROWSE_FRAME_MAX_SIZE);
  g_assert_true (cx_page_mirror_apply_text (fixture->mirror, snapshot, length, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cx_page_mirror_get_n_nodes (fixture->mirror), >, 300);
}

static void
assert_mirror_refuses (CxPageMirror *mirror, const char *text, int code)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (cx_page_mirror_apply_text (mirror, text, strlen (text), &error));
  g_assert_error (error, CX_PAGE_MIRROR_ERROR, code);
}

/* Hostile frames that parse: the mirror checks them against its page, whole, first. */
static void
test_mirror_refusals (Fixture *fixture, gconstpointer data)
{
  CxPageMirror *mirror = fixture->mirror;
  g_autoptr (GString) deep = g_string_new ("{\"type\":\"changes\",\"seq\":1,\"adds\":[");
  g_autoptr (GString) many = g_string_new ("{\"type\":\"changes\",\"seq\":1,\"adds\":[");
  const char *snapshot =
      "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[100,100],"
      "\"nodes\":[{\"id\":1,\"parent\":0,\"kind\":\"box\",\"rect\":[0,0,100,100]},"
      "{\"id\":2,\"parent\":1,\"kind\":\"label\",\"text\":\"a\",\"rect\":[0,0,"
      "10,10]}]}";
  const char *valid = "{\"type\":\"changes\",\"seq\":1,\"texts\":[{\"id\":2,\"text\":\"b\"}]}";

  g_assert_true (cx_page_mirror_apply_text (mirror, snapshot, strlen (snapshot), NULL));

  assert_mirror_refuses (mirror, "{\"type\":\"changes\",\"seq\":2}", CX_PAGE_MIRROR_ERROR_SEQUENCE);
  assert_mirror_refuses (mirror,
                         "{\"type\":\"changes\",\"seq\":1,\"texts\":[{\"id\":2,\"text\":\"x\"}],"
                         "\"attributes\":[{\"id\":9,\"visible\":false}]}",
                         CX_PAGE_MIRROR_ERROR_UNKNOWN_NODE);
  assert_mirror_refuses (mirror,
                         "{\"type\":\"changes\",\"seq\":1,\"adds\":[{\"id\":3,\"parent\":7,"
                         "\"kind\":\"box\",\"rect\":[0,0,1,1]}]}",
                         CX_PAGE_MIRROR_ERROR_UNKNOWN_NODE);
  assert_mirror_refuses (mirror,
                         "{\"type\":\"changes\",\"seq\":1,\"adds\":[{\"id\":2,\"parent\":1,"
                         "\"kind\":\"box\",\"rect\":[0,0,1,1]}]}",
                         CX_PAGE_MIRROR_ERROR_UNKNOWN_NODE);
  assert_mirror_refuses (mirror, "{\"type\":\"changes\",\"seq\":1,\"removes\":[1]}",
                         CX_PAGE_MIRROR_ERROR_UNKNOWN_NODE);

  /* Deeper than the cap under the page's root, though each frame's chain is within it. */
  for (guint i = 0; i < CX_COBROWSE_MAX_DEPTH; i++)
    g_string_append_printf (deep, "%s{\"id\":%u,\"parent\":%u,\"kind\":\"box\",\"rect\":[0,0,1,1]}",
                            i > 0 ? "," : "", 100 + i, i > 0 ? 100 + i - 1 : 1);
  g_string_append (deep, "]}");
  assert_mirror_refuses (mirror, deep->str, CX_PAGE_MIRROR_ERROR_TOO_LARGE);

  /* More nodes than a page may have. */
  for (guint i = 0; i < CX_COBROWSE_MAX_NODES; i++)
    g_string_append_printf (many,
                            "%s{\"id\":%u,\"parent\":1,\"kind\":\"other\",\"rect\":[0,0,1,1]}",
                            i > 0 ? "," : "", 1000 + i);
  g_string_append (many, "]}");
  assert_mirror_refuses (mirror, many->str, CX_PAGE_MIRROR_ERROR_TOO_LARGE);

  /* None of it was applied: the page is as it was, and the next frame in sequence applies. */
  g_assert_cmpuint (cx_page_mirror_get_n_nodes (mirror), ==, 2);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (cx_page_mirror_get_node_widget (mirror, 2))), ==,
                   "a");
  g_assert_true (cx_page_mirror_apply_text (mirror, valid, strlen (valid), NULL));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (cx_page_mirror_get_node_widget (mirror, 2))), ==,
                   "b");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  gtk_init ();

  g_test_add ("/cobrowse/model/masking", Fixture, NULL, fixture_set_up, test_masking,
              fixture_tear_down);
  g_test_add ("/cobrowse/model/agent-input", Fixture, NULL, fixture_set_up, test_agent_input,
              fixture_tear_down);
  g_test_add ("/cobrowse/model/structure", Fixture, NULL, fixture_set_up, test_structure,
              fixture_tear_down);

  g_test_add ("/cobrowse/model/large-page", Fixture, NULL, fixture_set_up, test_large_page,
              fixture_tear_down);

  g_test_add ("/cobrowse/mirror/refusals", Fixture, NULL, fixture_set_up, test_mirror_refusals,
              fixture_tear_down);

  return g_test_run ();
}
