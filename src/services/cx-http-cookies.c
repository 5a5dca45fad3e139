/* cx-http-cookies.c: the site cookies of CxHttp's one jar: set, read and delete a cookie of
 * a site (the page's address), on the domain a browser would use for it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-http"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "services/cx-http-private.h"

/* Site cookies */

/* A cookie name is an RFC 6265 token. */
static gboolean
cookie_name_is_valid (const char *name)
{
  if (name == NULL || name[0] == '\0')
    return FALSE;

  for (const char *p = name; *p != '\0'; p++)
    {
      if (!g_ascii_isgraph (*p) || strchr ("()<>@,;:\\\"/[]?={}", *p) != NULL)
        return FALSE;
    }

  return TRUE;
}

static GUri *
parse_site_url (const char *site_url, GError **error)
{
  return _cx_http_parse_uri (site_url, FALSE, error);
}

static char *
normalize_domain (const char *domain)
{
  g_autofree char *lower = NULL;
  gsize length;

  while (*domain == '.')
    domain++;

  lower = g_ascii_strdown (domain, -1);
  length = strlen (lower);
  while (length > 0 && lower[length - 1] == '.')
    lower[--length] = '\0';

  if (length == 0)
    return NULL;

  return g_steal_pointer (&lower);
}

/* Domain-matching of RFC 6265 §5.1.3: what a browser checks before it accepts Domain=. */
static gboolean
host_domain_matches (const char *host, const char *domain)
{
  gsize host_length = strlen (host);
  gsize domain_length = strlen (domain);

  if (g_str_equal (host, domain))
    return TRUE;

  if (g_hostname_is_ip_address (host) || host_length <= domain_length)
    return FALSE;

  return g_str_has_suffix (host, domain) && host[host_length - domain_length - 1] == '.';
}

static char *
cookie_domain_for_host (CxHttp *self, const char *host)
{
  g_autoptr (GError) error = NULL;
  const char *base;

  if (self->cookie_domain_override != NULL)
    {
      const char *domain = self->cookie_domain_override;

      if (!host_domain_matches (host, domain))
        g_debug ("Not using the cookie domain “%s” for %s: the host is not in that domain", domain,
                 host);
      else if (g_hostname_is_ip_address (domain))
        return g_strdup (host);
      else if (soup_tld_domain_is_public_suffix (domain))
        g_debug ("Not using the cookie domain “%s” for %s: it is a public suffix", domain, host);
      else
        return g_strconcat (".", domain, NULL);
    }

  base = soup_tld_get_base_domain (host, &error);
  if (base != NULL)
    return g_strconcat (".", base, NULL);

  /* An IP address, "localhost", a host that is itself a public suffix...: a browser keeps
   * such cookies for the host alone. */
  if (!g_error_matches (error, SOUP_TLD_ERROR, SOUP_TLD_ERROR_IS_IP_ADDRESS) &&
      !g_error_matches (error, SOUP_TLD_ERROR, SOUP_TLD_ERROR_NOT_ENOUGH_DOMAINS) &&
      !g_error_matches (error, SOUP_TLD_ERROR, SOUP_TLD_ERROR_NO_BASE_DOMAIN) &&
      !g_error_matches (error, SOUP_TLD_ERROR, SOUP_TLD_ERROR_INVALID_HOSTNAME))
    g_debug ("No registrable domain for %s: %s", host, error->message);

  return g_strdup (host);
}

static char *
site_host (GUri *uri)
{
  g_autofree char *host = normalize_domain (g_uri_get_host (uri));

  return host != NULL ? g_steal_pointer (&host) : g_strdup (g_uri_get_host (uri));
}

/**
 * cx_http_get_cookie_domain:
 * @self: a #CxHttp
 * @site_url: the site's address (http:// or https://)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the domain of the site's cookies: ".example.com" for
 *   https://www.example.com/, the host itself where there is no registrable domain, or the
 *   override if the host is in it. %NULL with @error set if @site_url is not a site's address.
 */
char *
cx_http_get_cookie_domain (CxHttp *self, const char *site_url, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autofree char *host = NULL;

  g_return_val_if_fail (CX_IS_HTTP (self), NULL);
  g_return_val_if_fail (site_url != NULL, NULL);

  uri = parse_site_url (site_url, error);
  if (uri == NULL)
    return NULL;

  host = site_host (uri);
  return cookie_domain_for_host (self, host);
}

/**
 * cx_http_set_cookie_domain_override:
 * @self: a #CxHttp
 * @domain: (nullable): the domain for site cookies, or %NULL for the computed one
 *
 * Like the Widgets' main.cookieOptions.domain. Used only for sites whose host is in @domain,
 * as a browser refuses a cookie for an unrelated domain.
 */
void
cx_http_set_cookie_domain_override (CxHttp *self, const char *domain)
{
  g_return_if_fail (CX_IS_HTTP (self));

  g_clear_pointer (&self->cookie_domain_override, g_free);
  if (domain != NULL)
    self->cookie_domain_override = normalize_domain (domain);
}

/**
 * cx_http_set_site_cookie:
 * @self: a #CxHttp
 * @site_url: the site's address (http:// or https://)
 * @name: the cookie's name (an RFC 6265 token)
 * @value: any UTF-8 text
 * @error: return location for a #GError
 *
 * Sets a session cookie on the site's cookie domain, path "/", replacing one of the same name.
 *
 * Returns: %TRUE, or %FALSE with @error set if @site_url is not a site's address
 */
gboolean
cx_http_set_site_cookie (CxHttp *self, const char *site_url, const char *name, const char *value,
                         GError **error)
{
  g_autofree char *domain = NULL;
  g_autofree char *escaped = NULL;

  g_return_val_if_fail (CX_IS_HTTP (self), FALSE);
  g_return_val_if_fail (site_url != NULL, FALSE);
  g_return_val_if_fail (cookie_name_is_valid (name), FALSE);
  g_return_val_if_fail (value != NULL && g_utf8_validate (value, -1, NULL), FALSE);

  domain = cx_http_get_cookie_domain (self, site_url, error);
  if (domain == NULL)
    return FALSE;

  /* Cookie values cannot hold ; , spaces, quotes or non-ASCII: escape everything else. */
  escaped = g_uri_escape_string (value, NULL, FALSE);

  /* A max-age of -1 makes a session cookie: it dies with the process, as in a browser. The jar
   * replaces a cookie with the same name, domain and path. */
  soup_cookie_jar_add_cookie (self->cookie_jar, soup_cookie_new (name, escaped, domain, "/", -1));

  return TRUE;
}

static GSList *
cookies_for_site (CxHttp *self, const char *site_url, char **domain)
{
  g_autoptr (GUri) uri = NULL;
  g_autofree char *host = NULL;

  uri = parse_site_url (site_url, NULL);
  if (uri == NULL)
    return NULL;

  if (domain != NULL)
    {
      host = site_host (uri);
      *domain = cookie_domain_for_host (self, host);
    }

  return soup_cookie_jar_get_cookie_list (self->cookie_jar, uri, TRUE);
}

/**
 * cx_http_get_site_cookie:
 * @self: a #CxHttp
 * @site_url: the site's address (http:// or https://)
 * @name: the cookie's name
 *
 * Reads a cookie the site can see: one on its cookie domain first, else any other (one set by
 * a server for its host, for example).
 *
 * Returns: (transfer full) (nullable): the value, or %NULL if there is none
 */
char *
cx_http_get_site_cookie (CxHttp *self, const char *site_url, const char *name)
{
  g_autofree char *domain = NULL;
  GSList *cookies;
  SoupCookie *found = NULL;
  char *value = NULL;

  g_return_val_if_fail (CX_IS_HTTP (self), NULL);
  g_return_val_if_fail (site_url != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  cookies = cookies_for_site (self, site_url, &domain);
  for (GSList *l = cookies; l != NULL; l = l->next)
    {
      SoupCookie *cookie = l->data;

      if (!g_str_equal (soup_cookie_get_name (cookie), name))
        continue;

      if (g_ascii_strcasecmp (soup_cookie_get_domain (cookie), domain) == 0)
        {
          found = cookie;
          break;
        }

      if (found == NULL)
        found = cookie;
    }

  if (found != NULL)
    {
      const char *raw = soup_cookie_get_value (found);
      g_autofree char *unescaped = g_uri_unescape_string (raw, NULL);

      /* A server's cookie need not be percent-encoded: then it is taken as it is. */
      if (unescaped != NULL && g_utf8_validate (unescaped, -1, NULL))
        value = g_steal_pointer (&unescaped);
      else if (g_utf8_validate (raw, -1, NULL))
        value = g_strdup (raw);
    }

  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);

  return value;
}

/**
 * cx_http_delete_site_cookie:
 * @self: a #CxHttp
 * @site_url: the site's address (http:// or https://)
 * @name: the cookie's name
 *
 * Deletes every cookie of that name the site can see, so that cx_http_get_site_cookie() then
 * returns %NULL.
 */
void
cx_http_delete_site_cookie (CxHttp *self, const char *site_url, const char *name)
{
  GSList *cookies;

  g_return_if_fail (CX_IS_HTTP (self));
  g_return_if_fail (site_url != NULL);
  g_return_if_fail (name != NULL);

  cookies = cookies_for_site (self, site_url, NULL);
  for (GSList *l = cookies; l != NULL; l = l->next)
    {
      SoupCookie *cookie = l->data;

      if (g_str_equal (soup_cookie_get_name (cookie), name))
        soup_cookie_jar_delete_cookie (self->cookie_jar, cookie);
    }

  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);
}
