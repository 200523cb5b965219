/* husk node agent: resolv.conf, /etc/hosts and hostname of a pod (see podspec.h),
   following kubelet's pkg/kubelet/network/dns and kubelet_pods.go. */
#include <errno.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/path.h"
#include "src/node/agent/agent-internal.h"
#include "src/node/agent/podspec.h"

#define MAX_NAMESERVERS  3
#define MAX_SEARCHES     32
#define MAX_SEARCH_CHARS 2048

typedef struct strlist
{
  char **v;
  size_t n;
} strlist;

static void
sl_add (strlist *l, const char *s)
{
  l->v = xreallocarray (l->v, l->n + 2, sizeof *l->v);
  l->v[l->n++] = xstrdup (s);
  l->v[l->n] = NULL;
}

static void
sl_add_unique (strlist *l, const char *s)
{
  for (size_t i = 0; i < l->n; i++)
    if (streq (l->v[i], s))
      return;
  sl_add (l, s);
}

static void
sl_clear (strlist *l)
{
  for (size_t i = 0; i < l->n; i++)
    free (l->v[i]);
  free (l->v);
  l->v = NULL;
  l->n = 0;
}

/* options keyed by name: a later one with the same name replaces the earlier in place */
static void
opt_set (strlist *l, const char *name, const char *value)
{
  _cleanup_free_ char *opt = value && *value ? xasprintf ("%s:%s", name, value) : xstrdup (name);
  size_t nl = strlen (name);
  for (size_t i = 0; i < l->n; i++)
    if (strncmp (l->v[i], name, nl) == 0 && (l->v[i][nl] == '\0' || l->v[i][nl] == ':'))
      {
        free (l->v[i]);
        l->v[i] = TAKE_PTR (opt);
        return;
      }
  sl_add (l, opt);
}

static void
opt_add_raw (strlist *l, const char *opt)
{
  const char *colon = strchr (opt, ':');
  _cleanup_free_ char *name = colon ? xstrndup (opt, colon - opt) : xstrdup (opt);
  opt_set (l, name, colon ? colon + 1 : NULL);
}

typedef struct dns_conf
{
  strlist servers, searches, options;
} dns_conf;

static void
dns_conf_clear (dns_conf *d)
{
  sl_clear (&d->servers);
  sl_clear (&d->searches);
  sl_clear (&d->options);
}

/* kubelet's parseResolvConf: nameservers and options accumulate, the last search wins. */
static void
parse_host (const char *text, dns_conf *d)
{
  _cleanup_free_ char *copy = xstrdup (text ? text : "");
  char *save = NULL;
  for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *hash = strpbrk (line, "#;");
      if (hash)
        *hash = '\0';
      char *s2 = NULL;
      char *key = strtok_r (line, " \t\r", &s2);
      if (!key)
        continue;
      char *f;
      if (streq (key, "nameserver"))
        {
          if ((f = strtok_r (NULL, " \t\r", &s2)))
            sl_add (&d->servers, f);
        }
      else if (streq (key, "search"))
        {
          sl_clear (&d->searches);
          while ((f = strtok_r (NULL, " \t\r", &s2)))
            {
              size_t n = strlen (f);
              if (streq (f, "."))
                continue;
              if (n > 1 && f[n - 1] == '.')
                f[n - 1] = '\0';
              sl_add (&d->searches, f);
            }
        }
      else if (streq (key, "options"))
        while ((f = strtok_r (NULL, " \t\r", &s2)))
          opt_add_raw (&d->options, f);
    }
}

int
agent_resolv_conf (json_t *pod, const agent_dns_cluster *c, char **out, husk_error **err)
{
  static const char *const default_dns[] = { "10.43.0.10", NULL };
  const char *const *cluster_dns = c && c->dns ? c->dns : default_dns;
  const char *domain = c && c->domain ? c->domain : "cluster.local";
  const char *ns = husk_json_path_str (pod, "metadata.namespace");
  const char *policy = husk_json_path_str (pod, "spec.dnsPolicy");
  bool host_net = json_is_true (husk_json_path (pod, "spec.hostNetwork"));
  if (!ns)
    ns = "default";
  if (!policy || !*policy)
    policy = "ClusterFirst";
  enum
  {
    DNS_NONE,
    DNS_CLUSTER,
    DNS_HOST
  } type;
  if (streq (policy, "None"))
    type = DNS_NONE;
  else if (streq (policy, "ClusterFirstWithHostNet"))
    type = DNS_CLUSTER;
  else if (streq (policy, "ClusterFirst"))
    type = host_net ? DNS_HOST : DNS_CLUSTER;
  else if (streq (policy, "Default"))
    type = DNS_HOST;
  else
    return husk_err (err, EINVAL, "spec.dnsPolicy: Unsupported value: \"%s\"", policy);
  if (type == DNS_CLUSTER && !cluster_dns[0])
    type = DNS_HOST;

  dns_conf d = { 0 };
  if (type != DNS_NONE)
    parse_host (c ? c->host_resolv : NULL, &d);
  if (type == DNS_NONE)
    dns_conf_clear (&d);
  else if (type == DNS_CLUSTER)
    {
      strlist searches = { 0 };
      _cleanup_free_ char *s1 = xasprintf ("%s.svc.%s", ns, domain);
      _cleanup_free_ char *s2 = xasprintf ("svc.%s", domain);
      sl_add_unique (&searches, s1);
      sl_add_unique (&searches, s2);
      sl_add_unique (&searches, domain);
      for (size_t i = 0; i < d.searches.n; i++)
        sl_add_unique (&searches, d.searches.v[i]);
      dns_conf_clear (&d);
      d.searches = searches;
      for (size_t i = 0; cluster_dns[i]; i++)
        sl_add (&d.servers, cluster_dns[i]);
      sl_add (&d.options, "ndots:5");
    }

  json_t *cfg = husk_json_path (pod, "spec.dnsConfig");
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (cfg, "nameservers"), i, v) if (json_is_string (v))
      sl_add_unique (&d.servers, json_string_value (v));
  strlist merged = { 0 };
  for (i = 0; i < d.searches.n; i++)
    sl_add_unique (&merged, d.searches.v[i]);
  json_array_foreach (json_object_get (cfg, "searches"), i, v) if (json_is_string (v))
      sl_add_unique (&merged, json_string_value (v));
  sl_clear (&d.searches);
  d.searches = merged;
  json_array_foreach (json_object_get (cfg, "options"), i, v)
  {
    const char *name = json_string_value (json_object_get (v, "name"));
    if (name)
      opt_set (&d.options, name, json_string_value (json_object_get (v, "value")));
  }

  husk_buf b = HUSK_BUF_INIT;
  husk_buf_puts (&b, "");
  size_t chars = 0, nsearch = 0;
  for (i = 0; i < d.searches.n && nsearch < MAX_SEARCHES; i++)
    {
      size_t len = strlen (d.searches.v[i]);
      if (chars + len + (nsearch ? 1 : 0) > MAX_SEARCH_CHARS)
        break;
      husk_buf_printf (&b, "%s%s", nsearch ? " " : "search ", d.searches.v[i]);
      chars += len + (nsearch ? 1 : 0);
      nsearch++;
    }
  if (nsearch)
    husk_buf_putc (&b, '\n');
  for (i = 0; i < d.servers.n && i < MAX_NAMESERVERS; i++)
    husk_buf_printf (&b, "nameserver %s\n", d.servers.v[i]);
  for (i = 0; i < d.options.n; i++)
    husk_buf_printf (&b, "%s%s", i ? " " : "options ", d.options.v[i]);
  if (d.options.n)
    husk_buf_putc (&b, '\n');
  dns_conf_clear (&d);
  *out = husk_buf_steal (&b);
  return 0;
}

int
agent_pod_hostname (json_t *pod, const char *cluster_domain, char **hostname, char **domain,
                    husk_error **err)
{
  const char *name = husk_json_path_str (pod, "metadata.name");
  const char *ns = husk_json_path_str (pod, "metadata.namespace");
  const char *h = husk_json_path_str (pod, "spec.hostname");
  const char *sub = husk_json_path_str (pod, "spec.subdomain");
  if (!cluster_domain)
    cluster_domain = "cluster.local";
  if (!ns)
    ns = "default";
  if (h && *h)
    {
      if (!agent_dns_label_valid (h))
        return husk_err (err, EINVAL, "pod Hostname \"%s\" is not a valid DNS label", h);
    }
  else
    h = name ? name : "";
  /* truncatePodHostnameIfNeeded */
  size_t n = strlen (h);
  if (n > 63)
    n = 63;
  while (n > 0 && (h[n - 1] == '-' || h[n - 1] == '.'))
    n--;
  _cleanup_free_ char *host = xstrndup (h, n);
  _cleanup_free_ char *dom = xstrdup ("");
  if (sub && *sub)
    {
      if (!agent_dns_label_valid (sub))
        return husk_err (err, EINVAL, "pod Subdomain \"%s\" is not a valid DNS label", sub);
      free (dom);
      dom = xasprintf ("%s.%s.svc.%s", sub, ns, cluster_domain);
    }
  if (json_is_true (husk_json_path (pod, "spec.setHostnameAsFQDN")) && *dom)
    {
      char *fqdn = xasprintf ("%s.%s", host, dom);
      if (strlen (fqdn) > 64)
        {
          int ret = husk_err (err, EINVAL,
                              "failed to construct FQDN from pod hostname and cluster domain, "
                              "FQDN %s is too long (64 characters is the max, %zu characters "
                              "requested)",
                              fqdn, strlen (fqdn));
          free (fqdn);
          return ret;
        }
      free (host);
      host = fqdn;
    }
  *hostname = TAKE_PTR (host);
  *domain = TAKE_PTR (dom);
  return 0;
}

char *
agent_hosts_file (json_t *pod, char *const *pod_ips, const char *hostname, const char *domain)
{
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_puts (&b, "# Kubernetes-managed hosts file.\n"
                     "127.0.0.1\tlocalhost\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback\n"
                     "fe00::0\tip6-localnet\n"
                     "fe00::0\tip6-mcastprefix\n"
                     "fe00::1\tip6-allnodes\n"
                     "fe00::2\tip6-allrouters\n");
  /* With setHostnameAsFQDN the short name is still what /etc/hosts lists. */
  _cleanup_free_ char *short_name = xstrdup (hostname ? hostname : "");
  if (domain && *domain)
    {
      size_t hl = strlen (short_name), dl = strlen (domain);
      if (hl > dl + 1 && streq (short_name + hl - dl, domain) && short_name[hl - dl - 1] == '.')
        short_name[hl - dl - 1] = '\0';
    }
  for (char *const *ip = pod_ips; ip && *ip; ip++)
    if (domain && *domain)
      husk_buf_printf (&b, "%s\t%s.%s\t%s\n", *ip, short_name, domain, short_name);
    else
      husk_buf_printf (&b, "%s\t%s\n", *ip, short_name);
  json_t *aliases = husk_json_path (pod, "spec.hostAliases");
  if (json_array_size (aliases))
    {
      husk_buf_puts (&b, "\n# Entries added by HostAliases.\n");
      size_t i, j;
      json_t *a, *hn;
      json_array_foreach (aliases, i, a)
      {
        const char *ip = json_string_value (json_object_get (a, "ip"));
        husk_buf_puts (&b, ip ? ip : "");
        husk_buf_putc (&b, '\t');
        json_array_foreach (json_object_get (a, "hostnames"), j, hn)
            husk_buf_printf (&b, "%s%s", j ? "\t" : "", json_string_value (hn) ?: "");
        husk_buf_putc (&b, '\n');
      }
    }
  return husk_buf_steal (&b);
}

static void
aliases (husk_buf *b, json_t *pod)
{
  json_t *a = husk_json_path (pod, "spec.hostAliases"), *x, *hn;
  size_t i, j;
  if (!json_array_size (a))
    return;
  husk_buf_puts (b, "\n# Entries added by HostAliases.\n");
  json_array_foreach (a, i, x)
  {
    const char *ip = json_string_value (json_object_get (x, "ip"));
    husk_buf_printf (b, "%s\t", ip ? ip : "");
    json_array_foreach (json_object_get (x, "hostnames"), j, hn)
        husk_buf_printf (b, "%s%s", j ? "\t" : "", json_string_value (hn) ?: "");
    husk_buf_putc (b, '\n');
  }
}

static int
write_text (const char *dir, const char *name, const char *text, husk_error **err)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s", dir, name);
  return husk_write_file_atomic (p, text, strlen (text), 0644, err);
}

int
agent_pod_write_net_files (json_t *pod, const agent_dns_cluster *c, char *const *pod_ips,
                           const char *host_hosts, const char *node_name, const char *dir,
                           husk_error **err)
{
  bool host_net = json_is_true (husk_json_path (pod, "spec.hostNetwork"));
  _cleanup_free_ char *hostname = NULL, *domain = NULL, *resolv = NULL, *hosts = NULL;
  int ret = husk_mkdir_p (dir, 0755, err);
  if (ret < 0)
    return ret;
  if ((ret = agent_resolv_conf (pod, c, &resolv, err)) < 0)
    return ret;
  if (host_net)
    {
      husk_buf b = HUSK_BUF_INIT;
      husk_buf_puts (&b, "# Kubernetes-managed hosts file (host network).\n");
      husk_buf_puts (&b, host_hosts ? host_hosts : "");
      if (b.len && b.data[b.len - 1] != '\n')
        husk_buf_putc (&b, '\n');
      aliases (&b, pod);
      hosts = husk_buf_steal (&b);
      hostname = xstrdup (node_name ? node_name : "localhost");
    }
  else
    {
      if ((ret = agent_pod_hostname (pod, c ? c->domain : NULL, &hostname, &domain, err)) < 0)
        return ret;
      hosts = agent_hosts_file (pod, pod_ips, hostname, domain);
    }
  _cleanup_free_ char *hn = xasprintf ("%s\n", hostname);
  if ((ret = write_text (dir, "hostname", hn, err)) < 0
      || (ret = write_text (dir, "hosts", hosts, err)) < 0
      || (ret = write_text (dir, "resolv.conf", resolv, err)) < 0)
    return ret;
  return 0;
}
