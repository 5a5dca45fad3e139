/* cx-http.c: the application's one HTTP client: the class (properties, the session and the jar).
 * Requests are in cx-http-request.c, site cookies in cx-http-cookies.c.
 *
 * One SoupSession and one in-memory cookie jar per application, shared by every window and
 * service, the way a browser's tabs share one network stack and cookie store. Every request
 * has a timeout and a cap on the size of the reply, and every failure becomes a CxHttpError
 * whose message a person can read.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-http"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "services/cx-http-private.h"

#define DEFAULT_USER_AGENT "cxdesk/" PACKAGE_VERSION
#define DEFAULT_TIMEOUT_MS 15000
#define DEFAULT_MAX_RESPONSE_SIZE (8 * 1024 * 1024)
/* The body is kept in a GByteArray (guint length): stay well below that. */
#define MAX_MAX_RESPONSE_SIZE ((gsize) G_MAXINT32)
/* Long polls and WebSockets to one host, as many as a browser allows. */
#define MAX_CONNS_PER_HOST 6

G_DEFINE_FINAL_TYPE (CxHttp, cx_http, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_USER_AGENT,
  PROP_TIMEOUT,
  PROP_MAX_RESPONSE_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/**
 * cx_http_new:
 * @user_agent: (nullable): the User-Agent, or %NULL for "cxdesk/VERSION"
 *
 * Returns: (transfer full): a new #CxHttp: one per application
 */
CxHttp *
cx_http_new (const char *user_agent)
{
  return g_object_new (CX_TYPE_HTTP, "user-agent", user_agent, NULL);
}

SoupSession *
cx_http_get_session (CxHttp *self)
{
  g_return_val_if_fail (CX_IS_HTTP (self), NULL);

  return self->session;
}

SoupCookieJar *
cx_http_get_cookie_jar (CxHttp *self)
{
  g_return_val_if_fail (CX_IS_HTTP (self), NULL);

  return self->cookie_jar;
}

const char *
cx_http_get_user_agent (CxHttp *self)
{
  g_return_val_if_fail (CX_IS_HTTP (self), NULL);

  return self->user_agent;
}

guint
cx_http_get_timeout (CxHttp *self)
{
  g_return_val_if_fail (CX_IS_HTTP (self), 0);

  return self->timeout_ms;
}

void
cx_http_set_timeout (CxHttp *self, guint timeout_ms)
{
  g_return_if_fail (CX_IS_HTTP (self));
  g_return_if_fail (timeout_ms > 0);

  if (self->timeout_ms == timeout_ms)
    return;

  self->timeout_ms = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

gsize
cx_http_get_max_response_size (CxHttp *self)
{
  g_return_val_if_fail (CX_IS_HTTP (self), 0);

  return self->max_response_size;
}

void
cx_http_set_max_response_size (CxHttp *self, gsize size)
{
  g_return_if_fail (CX_IS_HTTP (self));
  g_return_if_fail (size > 0 && size <= MAX_MAX_RESPONSE_SIZE);

  if (self->max_response_size == size)
    return;

  self->max_response_size = size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_RESPONSE_SIZE]);
}

static void
cx_http_constructed (GObject *object)
{
  CxHttp *self = CX_HTTP (object);

  G_OBJECT_CLASS (cx_http_parent_class)->constructed (object);

  if (self->user_agent == NULL)
    self->user_agent = g_strdup (DEFAULT_USER_AGENT);

  self->cookie_jar = soup_cookie_jar_new ();
  soup_cookie_jar_set_accept_policy (self->cookie_jar, SOUP_COOKIE_JAR_ACCEPT_ALWAYS);

  self->session = soup_session_new_with_options ("user-agent", self->user_agent,
                                                 "max-conns-per-host", MAX_CONNS_PER_HOST, NULL);
  soup_session_add_feature (self->session, SOUP_SESSION_FEATURE (self->cookie_jar));
}

static void
cx_http_dispose (GObject *object)
{
  CxHttp *self = CX_HTTP (object);

  /* Requests in flight hold a reference on self: there is nothing of ours left to cancel. */
  g_clear_object (&self->session);
  g_clear_object (&self->cookie_jar);

  G_OBJECT_CLASS (cx_http_parent_class)->dispose (object);
}

static void
cx_http_finalize (GObject *object)
{
  CxHttp *self = CX_HTTP (object);

  g_clear_pointer (&self->user_agent, g_free);
  g_clear_pointer (&self->cookie_domain_override, g_free);

  G_OBJECT_CLASS (cx_http_parent_class)->finalize (object);
}

static void
cx_http_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxHttp *self = CX_HTTP (object);

  switch (prop_id)
    {
      case PROP_USER_AGENT:
        g_value_set_string (value, self->user_agent);
        break;

      case PROP_TIMEOUT:
        g_value_set_uint (value, self->timeout_ms);
        break;

      case PROP_MAX_RESPONSE_SIZE:
        g_value_set_uint64 (value, self->max_response_size);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_http_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CxHttp *self = CX_HTTP (object);

  switch (prop_id)
    {
      case PROP_USER_AGENT:
        self->user_agent = g_value_dup_string (value);
        break;

      case PROP_TIMEOUT:
        cx_http_set_timeout (self, g_value_get_uint (value));
        break;

      case PROP_MAX_RESPONSE_SIZE:
        cx_http_set_max_response_size (self, (gsize) g_value_get_uint64 (value));
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_http_class_init (CxHttpClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = cx_http_constructed;
  object_class->dispose = cx_http_dispose;
  object_class->finalize = cx_http_finalize;
  object_class->get_property = cx_http_get_property;
  object_class->set_property = cx_http_set_property;

  /**
   * CxHttp:user-agent:
   *
   * The User-Agent of every request; %NULL at construction means "cxdesk/VERSION".
   */
  properties[PROP_USER_AGENT] =
      g_param_spec_string ("user-agent", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY |
                               G_PARAM_STATIC_STRINGS);

  /**
   * CxHttp:timeout:
   *
   * How long a request may take, in milliseconds, from sending it to the end of the reply.
   */
  properties[PROP_TIMEOUT] =
      g_param_spec_uint ("timeout", NULL, NULL, 1, G_MAXUINT, DEFAULT_TIMEOUT_MS,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * CxHttp:max-response-size:
   *
   * The largest reply body accepted, in bytes.
   */
  properties[PROP_MAX_RESPONSE_SIZE] = g_param_spec_uint64 (
      "max-response-size", NULL, NULL, 1, MAX_MAX_RESPONSE_SIZE, DEFAULT_MAX_RESPONSE_SIZE,
      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cx_http_init (CxHttp *self)
{
  self->timeout_ms = DEFAULT_TIMEOUT_MS;
  self->max_response_size = DEFAULT_MAX_RESPONSE_SIZE;
}
