/* Network configuration (stdin) and runtime environment (CNI_*) decoding. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <sys/socket.h>

#include "cni/cni.h"
#include "lib/json.h"

const char *const cni_supported_versions[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0", NULL };

int
cni_version_cmp (const char *a, const char *b)
{
  for (int i = 0; i < 3; i++)
    {
      long x = strtol (a, (char **)&a, 10), y = strtol (b, (char **)&b, 10);
      if (x != y)
        return x < y ? -1 : 1;
      if (*a == '.')
        a++;
      if (*b == '.')
        b++;
    }
  return 0;
}

bool
cni_version_supported (const char *v)
{
  for (size_t i = 0; cni_supported_versions[i]; i++)
    if (streq (cni_supported_versions[i], v))
      return true;
  return false;
}

int
cni_err (husk_error **err, int code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  return husk_err (err, CNI_ERRNUM (code), "%s", msg);
}

int
cni_error_code (const husk_error *err)
{
  if (err == NULL)
    return CNI_ERR_INTERNAL;
  if (err->errnum > CNI_ERRNUM_BASE)
    return err->errnum - CNI_ERRNUM_BASE;
  switch (err->errnum)
    {
    case EINVAL:
      return CNI_ERR_INVALID_CONFIG;
    case EAGAIN:
    case EBUSY:
      return CNI_ERR_TRY_AGAIN;
    case EIO:
    case ENOSPC:
    case EROFS:
    case EACCES:
    case EPERM:
      return CNI_ERR_IO;
    default:
      return CNI_ERR_INTERNAL;
    }
}

/* Typed getters report bad types as EINVAL; in a network configuration those are code 7. */
#define CONF_TRY(call)                                                                             \
  do                                                                                               \
    {                                                                                              \
      int r_ = (call);                                                                             \
      if (r_ < 0)                                                                                  \
        return r_;                                                                                 \
    }                                                                                              \
  while (0)

static int
parse_ip_field (json_t *obj, const char *key, const char *where, bool need_prefix, cni_ip *out,
                husk_error **err)
{
  const char *s = NULL;
  CONF_TRY (husk_json_get_str (obj, key, where, &s, err));
  if (s == NULL)
    return 0;
  int r = cni_ip_parse (s, out, err);
  if (r < 0)
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s.%s: invalid address \"%s\"", where, key, s);
  if (need_prefix && out->prefix < 0)
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s.%s: \"%s\" needs a prefix length", where, key,
                    s);
  return 1;
}

static int
parse_range (json_t *obj, const char *where, cni_range *rg, husk_error **err)
{
  if (!json_is_object (obj))
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s: expected object", where);
  int r = parse_ip_field (obj, "subnet", where, true, &rg->subnet, err);
  if (r < 0)
    return r;
  if (r == 0)
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s.subnet: required", where);
  cni_ip net = cni_ip_network (&rg->subnet, rg->subnet.prefix);
  cni_ip last = cni_ip_last (&rg->subnet, rg->subnet.prefix);
  int width = cni_ip_len (&net) * 8;
  if (width - rg->subnet.prefix < 2)
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s.subnet: %s is too small", where,
                    json_string_value (json_object_get (obj, "subnet")));
  rg->subnet = net;
  rg->start = cni_ip_add (&net, 1);
  rg->end = net.family == AF_INET ? cni_ip_add (&last, -1) : last;
  rg->gateway = cni_ip_add (&net, 1);
  struct
  {
    const char *key;
    cni_ip *dst;
  } opt[] = { { "rangeStart", &rg->start }, { "rangeEnd", &rg->end }, { "gateway", &rg->gateway } };
  for (size_t i = 0; i < ARRAY_SIZE (opt); i++)
    {
      cni_ip ip;
      r = parse_ip_field (obj, opt[i].key, where, false, &ip, err);
      if (r < 0)
        return r;
      if (r == 0)
        continue;
      if (!cni_ip_in_subnet (&ip, &rg->subnet))
        return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s.%s: %s is outside the subnet", where,
                        opt[i].key, json_string_value (json_object_get (obj, opt[i].key)));
      ip.prefix = -1;
      *opt[i].dst = ip;
    }
  rg->start.prefix = rg->end.prefix = rg->gateway.prefix = -1;
  if (cni_ip_cmp (&rg->start, &rg->end) > 0)
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s: rangeStart is after rangeEnd", where);
  return 0;
}

static int
parse_routes (json_t *arr, cni_route **out, size_t *n, const char *where, husk_error **err)
{
  if (arr == NULL)
    return 0;
  size_t cnt = json_array_size (arr);
  cni_route *routes = xcalloc (cnt + 1, sizeof *routes);
  *out = routes;
  *n = cnt;
  for (size_t i = 0; i < cnt; i++)
    {
      json_t *o = json_array_get (arr, i);
      _cleanup_free_ char *w = xasprintf ("%s[%zu]", where, i);
      if (!json_is_object (o))
        return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s: expected object", w);
      int r = parse_ip_field (o, "dst", w, true, &routes[i].dst, err);
      if (r < 0)
        return r;
      if (r == 0)
        return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s.dst: required", w);
      routes[i].dst = cni_ip_network (&routes[i].dst, routes[i].dst.prefix);
      r = parse_ip_field (o, "gw", w, false, &routes[i].gw, err);
      if (r < 0)
        return r;
    }
  return 0;
}

static int
parse_ipam (json_t *j, cni_ipam_conf *ipam, husk_error **err)
{
  const char *type = NULL, *dir = NULL;
  CONF_TRY (husk_json_get_str (j, "type", "ipam", &type, err));
  if (type == NULL || *type == '\0')
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "ipam.type: required");
  if (strchr (type, '/') || streq (type, ".") || streq (type, ".."))
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "ipam.type: invalid plugin name \"%s\"", type);
  ipam->type = xstrdup (type);
  if (!streq (type, "host-local"))
    return 0; /* a delegated plugin reads its own keys */
  CONF_TRY (husk_json_get_str (j, "dataDir", "ipam", &dir, err));
  ipam->data_dir = xstrdup (dir && *dir ? dir : "/var/lib/cni/networks");

  json_t *ranges = NULL, *routes = NULL;
  CONF_TRY (husk_json_get_arr (j, "ranges", "ipam", &ranges, err));
  CONF_TRY (husk_json_get_arr (j, "routes", "ipam", &routes, err));
  if (ranges && json_object_get (j, "subnet"))
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "ipam: give either subnet or ranges, not both");
  if (ranges == NULL && json_object_get (j, "subnet") == NULL)
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "ipam: host-local needs ranges or subnet");
  if (ranges == NULL)
    {
      ipam->nsets = 1;
      ipam->sets = xcalloc (1, sizeof *ipam->sets);
      ipam->sets[0].n = 1;
      ipam->sets[0].ranges = xcalloc (1, sizeof (cni_range));
      CONF_TRY (parse_range (j, "ipam", &ipam->sets[0].ranges[0], err));
    }
  else
    {
      ipam->nsets = json_array_size (ranges);
      if (ipam->nsets == 0)
        return cni_err (err, CNI_ERR_INVALID_CONFIG, "ipam.ranges: empty");
      ipam->sets = xcalloc (ipam->nsets, sizeof *ipam->sets);
      for (size_t i = 0; i < ipam->nsets; i++)
        {
          json_t *set = json_array_get (ranges, i);
          if (!json_is_array (set) || json_array_size (set) == 0)
            return cni_err (err, CNI_ERR_INVALID_CONFIG,
                            "ipam.ranges[%zu]: expected a non-empty array of ranges", i);
          ipam->sets[i].ranges = xcalloc (json_array_size (set), sizeof (cni_range));
          for (size_t k = 0; k < json_array_size (set); k++)
            {
              _cleanup_free_ char *w = xasprintf ("ipam.ranges[%zu][%zu]", i, k);
              ipam->sets[i].n = k + 1;
              CONF_TRY (parse_range (json_array_get (set, k), w, &ipam->sets[i].ranges[k], err));
              if (ipam->sets[i].ranges[k].subnet.family != ipam->sets[i].ranges[0].subnet.family)
                return cni_err (err, CNI_ERR_INVALID_CONFIG,
                                "%s: mixes IPv4 and IPv6 within one range set", w);
            }
        }
    }
  return parse_routes (routes, &ipam->routes, &ipam->nroutes, "ipam.routes", err);
}

static int
parse_port_mappings (json_t *rc, cni_conf *c, husk_error **err)
{
  json_t *pm = NULL;
  CONF_TRY (husk_json_get_arr (rc, "portMappings", "runtimeConfig", &pm, err));
  if (pm == NULL)
    return 0;
  c->nport_mappings = json_array_size (pm);
  c->port_mappings = xcalloc (c->nport_mappings + 1, sizeof *c->port_mappings);
  for (size_t i = 0; i < c->nport_mappings; i++)
    {
      json_t *o = json_array_get (pm, i);
      cni_port_mapping *m = &c->port_mappings[i];
      _cleanup_free_ char *w = xasprintf ("runtimeConfig.portMappings[%zu]", i);
      json_int_t hp = 0, cp = 0;
      const char *proto = NULL;
      if (!json_is_object (o))
        return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s: expected object", w);
      CONF_TRY (husk_json_get_int (o, "hostPort", w, &hp, err));
      CONF_TRY (husk_json_get_int (o, "containerPort", w, &cp, err));
      CONF_TRY (husk_json_get_str (o, "protocol", w, &proto, err));
      if (hp < 1 || hp > 65535 || cp < 1 || cp > 65535)
        return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s: ports must be within 1-65535", w);
      if (proto == NULL || *proto == '\0')
        proto = "tcp";
      if (!streq (proto, "tcp") && !streq (proto, "udp") && !streq (proto, "sctp"))
        return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s.protocol: unknown protocol \"%s\"", w,
                        proto);
      m->host_port = (int)hp;
      m->container_port = (int)cp;
      m->protocol = xstrdup (proto);
      const char *hip = NULL;
      CONF_TRY (husk_json_get_str (o, "hostIP", w, &hip, err));
      if (hip && *hip && cni_ip_parse (hip, &m->host_ip, err) < 0)
        return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s.hostIP: invalid address \"%s\"", w, hip);
    }
  return 0;
}

static int
parse_valid_attachments (json_t *raw, cni_conf *c, husk_error **err)
{
  json_t *va = NULL;
  CONF_TRY (husk_json_get_arr (raw, "cni.dev/valid-attachments", "", &va, err));
  if (va == NULL)
    return 0;
  c->nvalid_attachments = json_array_size (va);
  c->valid_attachments = xcalloc (c->nvalid_attachments + 1, sizeof *c->valid_attachments);
  for (size_t i = 0; i < c->nvalid_attachments; i++)
    {
      json_t *o = json_array_get (va, i);
      const char *id = NULL, *ifn = NULL;
      _cleanup_free_ char *w = xasprintf ("cni.dev/valid-attachments[%zu]", i);
      if (!json_is_object (o))
        return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s: expected object", w);
      CONF_TRY (husk_json_get_str (o, "containerID", w, &id, err));
      CONF_TRY (husk_json_get_str (o, "ifname", w, &ifn, err));
      if (id == NULL || ifn == NULL)
        return cni_err (err, CNI_ERR_INVALID_CONFIG, "%s: needs containerID and ifname", w);
      c->valid_attachments[i].container_id = xstrdup (id);
      c->valid_attachments[i].ifname = xstrdup (ifn);
    }
  return 0;
}

/* Keys of the standard bridge plugin that husk-cni does not implement. Present with their
   default value they are accepted (a configuration written for `bridge` works unchanged);
   any other value is the spec's code 2, naming the key and value, rather than a pod
   silently attached differently from what was asked (e.g. on the wrong VLAN). */
static int
check_unsupported (json_t *raw, husk_error **err)
{
  json_int_t vlan = 0;
  CONF_TRY (husk_json_get_int (raw, "vlan", "", &vlan, err));
  if (vlan != 0)
    return cni_err (err, CNI_ERR_UNSUPPORTED_FIELD,
                    "vlan: %lld: VLANs on the bridge are not supported by husk-cni", (long long)vlan);
  json_t *trunk = NULL;
  CONF_TRY (husk_json_get_arr (raw, "vlanTrunk", "", &trunk, err));
  if (json_array_size (trunk) > 0)
    return cni_err (err, CNI_ERR_UNSUPPORTED_FIELD,
                    "vlanTrunk: %zu entries: VLAN trunks are not supported by husk-cni",
                    json_array_size (trunk));
  static const char *const off_only[] = { "macspoofchk", "enabledad", "portIsolation",
                                          "disableContainerInterface" };
  for (size_t i = 0; i < ARRAY_SIZE (off_only); i++)
    {
      bool on = false;
      CONF_TRY (husk_json_get_bool (raw, off_only[i], "", &on, err));
      if (on)
        return cni_err (err, CNI_ERR_UNSUPPORTED_FIELD, "%s: true is not supported by husk-cni",
                        off_only[i]);
    }
  bool ignored = false;
  const char *backend = NULL;
  CONF_TRY (husk_json_get_bool (raw, "forceAddress", "", &ignored, err));
  CONF_TRY (husk_json_get_bool (raw, "preserveDefaultVlan", "", &ignored, err));
  CONF_TRY (husk_json_get_str (raw, "ipMasqBackend", "", &backend, err));
  if (backend && !streq (backend, "nftables") && !streq (backend, "iptables"))
    return cni_err (err, CNI_ERR_INVALID_CONFIG,
                    "ipMasqBackend: \"%s\" is neither nftables nor iptables", backend);
  return 0;
}

static int
conf_decode (cni_conf *c, husk_error **err)
{
  json_t *raw = c->raw;
  const char *s = NULL;
  if (!json_is_object (raw))
    return cni_err (err, CNI_ERR_DECODE, "network configuration: expected a JSON object");
  CONF_TRY (husk_json_get_str (raw, "cniVersion", "", &s, err));
  if (s == NULL)
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "cniVersion: required");
  c->cni_version = xstrdup (s);
  if (!cni_version_supported (s))
    return cni_err (err, CNI_ERR_INCOMPATIBLE_VERSION,
                    "incompatible CNI version %s (husk-cni supports 0.3.0-1.1.0)", s);
  s = NULL;
  CONF_TRY (husk_json_get_str (raw, "name", "", &s, err));
  if (s == NULL || *s == '\0')
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "name: required");
  if (strchr (s, '/') || streq (s, ".") || streq (s, ".."))
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "name: \"%s\" is not a valid network name", s);
  c->name = xstrdup (s);
  s = NULL;
  CONF_TRY (husk_json_get_str (raw, "type", "", &s, err));
  c->type = xstrdup (s ? s : "husk-cni");
  s = NULL;
  CONF_TRY (husk_json_get_str (raw, "bridge", "", &s, err));
  if (s && (strlen (s) == 0 || strlen (s) >= IFNAMSIZ || strchr (s, '/') || strchr (s, ' ')))
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "bridge: \"%s\" is not a valid interface name", s);
  c->bridge = xstrdup (s ? s : "husk0");
  CONF_TRY (husk_json_get_bool (raw, "isGateway", "", &c->is_gateway, err));
  CONF_TRY (husk_json_get_bool (raw, "isDefaultGateway", "", &c->is_default_gateway, err));
  CONF_TRY (husk_json_get_bool (raw, "ipMasq", "", &c->ip_masq, err));
  CONF_TRY (husk_json_get_bool (raw, "hairpinMode", "", &c->hairpin_mode, err));
  CONF_TRY (husk_json_get_bool (raw, "promiscMode", "", &c->promisc_mode, err));
  c->fast_path = true;
  CONF_TRY (husk_json_get_bool (raw, "fastPath", "", &c->fast_path, err));
  CONF_TRY (check_unsupported (raw, err));
  if (c->is_default_gateway)
    c->is_gateway = true;
  _cleanup_strv_ char **excl = NULL;
  CONF_TRY (husk_json_get_strv (raw, "ipMasqExclude", "", &excl, err));
  for (size_t i = 0; excl && excl[i]; i++)
    {
      cni_ip ip;
      if (cni_ip_parse (excl[i], &ip, NULL) < 0 || ip.prefix < 0)
        return cni_err (err, CNI_ERR_INVALID_CONFIG, "ipMasqExclude[%zu]: \"%s\" is not a CIDR", i,
                        excl[i]);
      c->masq_exclude = xreallocarray (c->masq_exclude, i + 1, sizeof *c->masq_exclude);
      c->masq_exclude[i] = cni_ip_network (&ip, ip.prefix);
      c->nmasq_exclude = i + 1;
    }
  _cleanup_strv_ char **nt = NULL;
  CONF_TRY (husk_json_get_strv (raw, "notrackCIDRs", "", &nt, err));
  for (size_t i = 0; nt && nt[i]; i++)
    {
      cni_ip ip;
      if (cni_ip_parse (nt[i], &ip, NULL) < 0 || ip.prefix < 0)
        return cni_err (err, CNI_ERR_INVALID_CONFIG, "notrackCIDRs[%zu]: \"%s\" is not a CIDR", i,
                        nt[i]);
      c->notrack = xreallocarray (c->notrack, i + 1, sizeof *c->notrack);
      c->notrack[i] = cni_ip_network (&ip, ip.prefix);
      c->nnotrack = i + 1;
    }
  json_int_t mtu = 0;
  CONF_TRY (husk_json_get_int (raw, "mtu", "", &mtu, err));
  if (mtu != 0 && (mtu < 68 || mtu > 65535))
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "mtu: %lld is outside 68-65535", (long long)mtu);
  c->mtu = (int)mtu;
  json_int_t gso = 0;
  CONF_TRY (husk_json_get_int (raw, "gsoMaxSize", "", &gso, err));
  if (gso != 0 && (gso < CNI_GSO_LEGACY_MAX || gso > CNI_GSO_MAX))
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "gsoMaxSize: %lld is outside %d-%d",
                    (long long)gso, CNI_GSO_LEGACY_MAX, CNI_GSO_MAX);
  c->gso_max_size = (int)gso;

  json_t *ipam = NULL, *rc = NULL;
  CONF_TRY (husk_json_get_obj (raw, "ipam", "", &ipam, err));
  if (ipam && json_object_size (ipam) > 0)
    {
      c->has_ipam = true;
      CONF_TRY (parse_ipam (ipam, &c->ipam, err));
    }
  CONF_TRY (husk_json_get_obj (raw, "runtimeConfig", "", &rc, err));
  if (rc)
    CONF_TRY (parse_port_mappings (rc, c, err));
  CONF_TRY (parse_valid_attachments (raw, c, err));
  json_t *prev = json_object_get (raw, "prevResult");
  if (prev && !json_is_object (prev))
    return cni_err (err, CNI_ERR_INVALID_CONFIG, "prevResult: expected object");
  c->prev_result = prev;
  return 0;
}

int
cni_conf_parse (const char *data, size_t len, cni_conf **out, husk_error **err)
{
  _cleanup_ (cni_conf_freep) cni_conf *c = xzalloc (sizeof *c);
  json_error_t jerr;
  c->raw = json_loadb (data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (c->raw == NULL)
    return cni_err (err, CNI_ERR_DECODE, "network configuration: line %d, column %d: %s", jerr.line,
                    jerr.column, jerr.text);
  int r = conf_decode (c, err);
  if (r < 0)
    {
      /* Getter errors are EINVAL: in a network configuration that means code 7. */
      if (err && *err && (*err)->errnum == EINVAL)
        (*err)->errnum = CNI_ERRNUM (CNI_ERR_INVALID_CONFIG);
      return r;
    }
  *out = TAKE_PTR (c);
  return 0;
}

void
cni_conf_free (cni_conf *c)
{
  if (c == NULL)
    return;
  json_decref (c->raw);
  free (c->cni_version);
  free (c->name);
  free (c->type);
  free (c->bridge);
  free (c->masq_exclude);
  free (c->notrack);
  free (c->ipam.type);
  free (c->ipam.data_dir);
  for (size_t i = 0; i < c->ipam.nsets; i++)
    free (c->ipam.sets[i].ranges);
  free (c->ipam.sets);
  free (c->ipam.routes);
  for (size_t i = 0; i < c->nport_mappings; i++)
    free (c->port_mappings[i].protocol);
  free (c->port_mappings);
  for (size_t i = 0; i < c->nvalid_attachments; i++)
    {
      free (c->valid_attachments[i].container_id);
      free (c->valid_attachments[i].ifname);
    }
  free (c->valid_attachments);
  free (c);
}

static const char *
env_get (const char *name)
{
  const char *v = getenv (name);
  return v && *v ? v : NULL;
}

int
cni_env_load (cni_env *env, husk_error **err)
{
  cni_env e = {
    .command = env_get ("CNI_COMMAND"),
    .container_id = env_get ("CNI_CONTAINERID"),
    .netns = env_get ("CNI_NETNS"),
    .ifname = env_get ("CNI_IFNAME"),
    .args = env_get ("CNI_ARGS"),
    .path = env_get ("CNI_PATH"),
  };
  if (e.command == NULL)
    return cni_err (err, CNI_ERR_INVALID_ENV, "CNI_COMMAND is not set");
  bool add = streq (e.command, "ADD"), check = streq (e.command, "CHECK"),
       del = streq (e.command, "DEL");
  if (!add && !check && !del && !streq (e.command, "VERSION") && !streq (e.command, "GC")
      && !streq (e.command, "STATUS"))
    return cni_err (err, CNI_ERR_INVALID_ENV, "CNI_COMMAND: unknown command \"%s\"", e.command);
  if ((add || check || del) && e.container_id == NULL)
    return cni_err (err, CNI_ERR_INVALID_ENV, "CNI_CONTAINERID is not set");
  if ((add || check) && e.netns == NULL)
    return cni_err (err, CNI_ERR_INVALID_ENV, "CNI_NETNS is not set");
  if ((add || check || del) && e.ifname == NULL)
    return cni_err (err, CNI_ERR_INVALID_ENV, "CNI_IFNAME is not set");
  if (e.container_id)
    for (const char *p = e.container_id; *p; p++)
      if (!(isalnum ((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-')
          || (p == e.container_id && !isalnum ((unsigned char)*p)))
        return cni_err (err, CNI_ERR_INVALID_ENV,
                        "CNI_CONTAINERID: \"%s\" is not a valid container id", e.container_id);
  if (e.ifname
      && (strlen (e.ifname) >= IFNAMSIZ || strchr (e.ifname, '/') || strchr (e.ifname, ':')
          || strchr (e.ifname, ' ') || streq (e.ifname, ".") || streq (e.ifname, "..")))
    return cni_err (err, CNI_ERR_INVALID_ENV, "CNI_IFNAME: \"%s\" is not a valid interface name",
                    e.ifname);
  *env = e;
  return 0;
}
