/* test-server-config.c: cxdesk-server's configuration: defaults, and errors that name the key. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "server/cx-server-config.h"

static void
test_default (void)
{
  g_autoptr (CxServerConfig) config = cx_server_config_new_default ();
  CxAgent *demo;

  g_assert_cmpuint (config->services->len, ==, 2);
  g_assert_nonnull (cx_server_config_find_service (config, "customer-support"));
  g_assert_null (cx_server_config_find_service (config, "nope"));
  g_assert_true (cx_server_config_is_callback_service (config, "customer-support"));
  g_assert_false (cx_server_config_is_callback_service (config, "sales"));
  g_assert_cmpuint (config->agents->len, ==, 1);
  demo = g_ptr_array_index (config->agents, 0);
  g_assert_cmpstr (demo->username, ==, "demo");
  g_assert_true (g_str_has_prefix (demo->password_hash, "$5$"));
  g_assert_cmpuint (config->invitation_timeout_s, ==, 20);
  g_assert_cmpuint (config->max_body_bytes, ==, 1024 * 1024);
  g_assert_cmpint (config->open_minute, ==, 0);
  g_assert_cmpint (config->close_minute, ==, 24 * 60);
  g_assert_cmpuint (config->open_days, ==, 0xfe);
  g_assert_cmpuint (config->canned->len, ==, 3);
}

static void
test_full (void)
{
  const char *json = "{\"services\":{\"a\":{\"displayName\":\"A team\"},\"b\":{}},"
                     "\"agents\":[{\"username\":\"ada\",\"password\":\"$5$x$y\",\"capacity\":4,"
                     "\"queues\":[\"b\"]}],"
                     "\"callback\":{\"services\":[\"a\"],\"timezone\":\"Europe/Paris\","
                     "\"officeHours\":{\"open\":\"07:30\",\"close\":\"19:00\",\"days\":[0,6]},"
                     "\"slotMinutes\":15,\"slotCapacity\":5},"
                     "\"files\":{\"maxFiles\":2,\"types\":[\"png\"]},"
                     "\"limits\":{\"invitationTimeoutSeconds\":2,\"messagesPerMinute\":10}}";
  g_autoptr (GError) error = NULL;
  g_autoptr (CxServerConfig) config = cx_server_config_parse (json, -1, &error);
  CxAgent *ada;

  g_assert_no_error (error);
  g_assert_cmpstr (cx_server_config_find_service (config, "a")->display_name, ==, "A team");
  g_assert_cmpstr (cx_server_config_find_service (config, "b")->display_name, ==, "b");
  ada = g_ptr_array_index (config->agents, 0);
  g_assert_cmpuint (ada->capacity, ==, 4);
  g_assert_cmpstr (ada->display_name, ==, "ada");
  g_assert_cmpstr (ada->queues[0], ==, "b");
  g_assert_cmpint (config->open_minute, ==, 7 * 60 + 30);
  g_assert_cmpint (config->close_minute, ==, 19 * 60);
  /* 0 and 7 are both Sunday; 6 is Saturday. */
  g_assert_cmpuint (config->open_days, ==, (1u << 7) | (1u << 6));
  g_assert_cmpuint (config->slot_minutes, ==, 15);
  g_assert_cmpuint (config->max_files, ==, 2);
  g_assert_cmpstr (config->file_types[0], ==, "png");
  g_assert_null (config->file_types[1]);
  g_assert_cmpuint (config->invitation_timeout_s, ==, 2);
  g_assert_cmpuint (config->messages_per_minute, ==, 10);
}

static void
test_errors (void)
{
  const struct
  {
    const char *json;
    const char *key;
  } cases[] = {
    { "[]", "must be a JSON object" },
    { "{", "not JSON" },
    { "{}", "“services”" },
    { "{\"services\":{}}", "“services”" },
    { "{\"services\":{\"a b\":{}}}", "“services”" },
    { "{\"services\":{\"a\":{}},\"agents\":[{\"password\":\"$5$x\"}]}", "“agents.username”" },
    { "{\"services\":{\"a\":{}},\"agents\":[{\"username\":\"u\",\"password\":\"plain\"}]}",
      "“agents.password”" },
    { "{\"services\":{\"a\":{}},\"agents\":[{\"username\":\"u\",\"password\":\"$5$x\","
      "\"queues\":[\"zz\"]}]}",
      "“agents.queues”" },
    { "{\"services\":{\"a\":{}},\"agents\":[{\"username\":\"u\",\"password\":\"$5$x\"},"
      "{\"username\":\"u\",\"password\":\"$5$x\"}]}",
      "is used twice" },
    { "{\"services\":{\"a\":{}},\"agents\":[{\"username\":\"u\",\"password\":\"$5$x\","
      "\"capacity\":0}]}",
      "“agents.capacity”" },
    { "{\"services\":{\"a\":{}},\"callback\":{\"timezone\":\"Mars/Olympus\"}}",
      "“callback.timezone”" },
    { "{\"services\":{\"a\":{}},\"callback\":{\"officeHours\":{\"open\":\"9\",\"close\":\"17:00\"}}"
      "}",
      "“callback.officeHours.open”" },
    { "{\"services\":{\"a\":{}},\"callback\":{\"officeHours\":{\"open\":\"10:00\","
      "\"close\":\"09:00\"}}}",
      "“callback.officeHours.close”" },
    { "{\"services\":{\"a\":{}},\"callback\":{\"officeHours\":{\"open\":\"10:00\","
      "\"close\":\"11:00\",\"days\":[8]}}}",
      "“callback.officeHours.days”" },
    { "{\"services\":{\"a\":{}},\"callback\":{\"services\":[\"b\"]}}", "“callback.services”" },
    { "{\"services\":{\"a\":{}},\"limits\":{\"maxBodyBytes\":\"big\"}}", "“limits.maxBodyBytes”" },
    { "{\"services\":{\"a\":{}},\"canned\":[{\"id\":\"x\",\"title\":\"X\"}]}", "“canned.text”" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CxServerConfig) config = cx_server_config_parse (cases[i].json, -1, &error);

      g_test_message ("%s -> %s", cases[i].json, error ? error->message : "(accepted)");
      g_assert_null (config);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, cases[i].key));
    }
}

/* Access rules (issue 9): defaults, values, and errors naming the key. */
static void
test_access (void)
{
  const struct
  {
    const char *json;
    const char *key;
  } cases[] = {
    { "{\"services\":{\"a\":{}},\"callback\":{\"openAccess\":\"yes\"}}", "“callback.openAccess”" },
    { "{\"services\":{\"a\":{}},\"agentOrigins\":\"https://a.example\"}", "“agentOrigins”" },
    { "{\"services\":{\"a\":{}},\"agentOrigins\":[\"a.example\"]}", "“agentOrigins”" },
    { "{\"services\":{\"a\":{}},\"agentOrigins\":[\"https://a.example/path\"]}", "“agentOrigins”" },
    { "{\"services\":{\"a\":{}},\"agentOrigins\":[\"ftp://a.example\"]}", "“agentOrigins”" },
    { "{\"services\":{\"a\":{}},\"limits\":{\"signInFreeFailures\":0}}",
      "“limits.signInFreeFailures”" },
    { "{\"services\":{\"a\":{}},\"limits\":{\"signInMaxDelaySeconds\":0}}",
      "“limits.signInMaxDelaySeconds”" },
    { "{\"services\":{\"a\":{}},\"limits\":{\"agentGraceSeconds\":-1}}",
      "“limits.agentGraceSeconds”" },
  };
  g_autoptr (CxServerConfig) defaults = cx_server_config_new_default ();
  g_autoptr (CxServerConfig) config = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_false (defaults->callback_open_access);
  g_assert_null (defaults->agent_origins[0]);
  g_assert_cmpuint (defaults->sign_in_free_failures, ==, 5);
  g_assert_cmpuint (defaults->sign_in_max_delay_s, ==, 60);
  g_assert_cmpuint (defaults->agent_grace_s, ==, 30);

  config = cx_server_config_parse (
      "{\"services\":{\"a\":{}},\"callback\":{\"openAccess\":true},"
      "\"agentOrigins\":[\"https://desk.example.com:8443\",\"http://[::1]:8080/\"],"
      "\"limits\":{\"signInFreeFailures\":3,\"signInMaxDelaySeconds\":10,"
      "\"agentGraceSeconds\":1,\"maxBodyBytes\":2048}}",
      -1, &error);
  g_assert_no_error (error);
  g_assert_true (config->callback_open_access);
  g_assert_cmpstr (config->agent_origins[0], ==, "https://desk.example.com:8443");
  g_assert_cmpstr (config->agent_origins[1], ==, "http://[::1]:8080/");
  g_assert_cmpuint (config->sign_in_free_failures, ==, 3);
  g_assert_cmpuint (config->sign_in_max_delay_s, ==, 10);
  g_assert_cmpuint (config->agent_grace_s, ==, 1);
  g_assert_cmpuint (config->max_body_bytes, ==, 2048);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) case_error = NULL;
      g_autoptr (CxServerConfig) bad = cx_server_config_parse (cases[i].json, -1, &case_error);

      g_test_message ("%s -> %s", cases[i].json, case_error ? case_error->message : "(accepted)");
      g_assert_null (bad);
      g_assert_error (case_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (case_error->message, cases[i].key));
    }
}

static void
test_load_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxServerConfig) config = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cxdesk-config-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "server.json", NULL);

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, "{\"services\":{\"x\":{}}}", -1, &error));
  config = cx_server_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cx_server_config_find_service (config, "x"));
  g_clear_pointer (&config, cx_server_config_free);

  g_assert_true (g_file_set_contents (path, "{\"services\":1}", -1, &error));
  config = cx_server_config_load (path, &error);
  g_assert_null (config);
  /* The error names the file as well as the key. */
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);

  g_unlink (path);
  config = cx_server_config_load (path, &error);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_rmdir (dir);
}

/* issue 9 items 5 and 6: the customer limits, their defaults and their keys. */
static void
test_customer_limits (void)
{
  g_autoptr (CxServerConfig) defaults = cx_server_config_new_default ();
  g_autoptr (CxServerConfig) config = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (defaults->notices_per_minute, ==, 30);
  g_assert_cmpuint (defaults->typing_per_minute, ==, 300);
  g_assert_cmpuint (defaults->updates_per_minute, ==, 30);
  g_assert_cmpuint (defaults->uploads_per_minute, ==, 10);
  g_assert_cmpuint (defaults->chat_starts_per_minute, ==, 20);
  g_assert_cmpuint (defaults->user_data_max_keys, ==, 64);
  g_assert_cmpuint (defaults->user_data_max_key_bytes, ==, 128);
  g_assert_cmpuint (defaults->user_data_max_value_bytes, ==, 4096);
  g_assert_cmpuint (defaults->user_data_max_total_bytes, ==, 32768);

  config = cx_server_config_parse (
      "{\"services\":{\"a\":{}},\"limits\":{\"chatStartsPerMinute\":1000,"
      "\"typingPerMinute\":7,\"userDataMaxKeys\":3,\"userDataMaxTotalBytes\":100}}",
      -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (config->chat_starts_per_minute, ==, 1000);
  g_assert_cmpuint (config->typing_per_minute, ==, 7);
  g_assert_cmpuint (config->user_data_max_keys, ==, 3);
  g_assert_cmpuint (config->user_data_max_total_bytes, ==, 100);
  g_assert_cmpuint (config->notices_per_minute, ==, 30);
  g_clear_pointer (&config, cx_server_config_free);

  config = cx_server_config_parse ("{\"services\":{\"a\":{}},\"limits\":{\"noticesPerMinute\":0}}",
                                   -1, &error);
  g_assert_null (config);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "limits.noticesPerMinute"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/config/default", test_default);
  g_test_add_func ("/server/config/full", test_full);
  g_test_add_func ("/server/config/errors", test_errors);
  g_test_add_func ("/server/config/load-file", test_load_file);
  g_test_add_func ("/server/config/access", test_access);
  g_test_add_func ("/server/config/customer-limits", test_customer_limits);
  return g_test_run ();
}
