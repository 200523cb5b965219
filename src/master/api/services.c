/* husk api: ClusterIP allocation from the service CIDR 10.43.0.0/16 and NodePort allocation
   from 30000-32767. What is in use is read from the stored services (so deleting a service
   releases both). Callers hold the server's alloc_lock from allocation until the service is
   stored, so two creates never pick the same address or port. */
#include "config.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>

#include "src/master/api/handlers.h"

#define SVC_NET 0x0a2b0000u /* 10.43.0.0 */
#define SVC_MASK 0xffff0000u
#define NODEPORT_MIN 30000
#define NODEPORT_MAX 32767

typedef struct in_use
{
  uint8_t *ips;   /* bitmap over the /16 */
  uint8_t *ports; /* bitmap over NODEPORT_MIN..MAX */
} in_use;

static void
mark_ip (in_use *u, const char *s)
{
  struct in_addr a;
  if (s && inet_pton (AF_INET, s, &a) == 1)
    {
      uint32_t h = ntohl (a.s_addr);
      if ((h & SVC_MASK) == SVC_NET)
        u->ips[(h & 0xffff) / 8] |= (uint8_t) (1 << (h & 7));
    }
}

static void
mark_port (in_use *u, json_int_t p)
{
  if (p >= NODEPORT_MIN && p <= NODEPORT_MAX)
    u->ports[(p - NODEPORT_MIN) / 8] |= (uint8_t) (1 << ((p - NODEPORT_MIN) & 7));
}

static bool
ip_used (in_use *u, uint32_t off)
{
  return u->ips[off / 8] & (1 << (off & 7));
}

static bool
port_used (in_use *u, int p)
{
  return u->ports[(p - NODEPORT_MIN) / 8] & (1 << ((p - NODEPORT_MIN) & 7));
}

/* Everything allocated, except to the service being updated (same namespace/name). */
static void
scan (api_req *r, in_use *u, const json_t *self)
{
  const char *sns = husk_json_path_str (self, "metadata.namespace");
  const char *sname = husk_json_path_str (self, "metadata.name");
  store_list_result l = {0};
  if (store_list (r->srv->store, "services", NULL, 0, NULL, &l, NULL) == 0)
    for (size_t i = 0; i < l.n; i++)
      {
        json_auto_t *o = NULL;
        if (husk_json_parse (l.items[i], strlen (l.items[i]), &o, NULL) < 0)
          continue;
        const char *ns = husk_json_path_str (o, "metadata.namespace");
        const char *name = husk_json_path_str (o, "metadata.name");
        if (sns && sname && ns && name && streq (ns, sns) && streq (name, sname))
          continue;
        mark_ip (u, husk_json_path_str (o, "spec.clusterIP"));
        size_t j;
        json_t *p;
        json_array_foreach (husk_json_path (o, "spec.ports"), j, p)
            mark_port (u, json_integer_value (json_object_get (p, "nodePort")));
      }
  store_list_result_free (&l);
  /* .0, .1 (the kubernetes service) and .10 (cluster DNS) are never handed out at random. */
  u->ips[0] |= 1 | 2;
  u->ips[1] |= 1 << 2;
}

static uint32_t
rnd (void)
{
  uint32_t v;
  gnutls_rnd (GNUTLS_RND_NONCE, &v, sizeof v);
  return v;
}

static bool
invalid (api_req *r, json_t *svc, const char *field, const char *msg)
{
  json_t *st = api_status_new (422, "Invalid", NULL);
  const char *name = husk_json_path_str (svc, "metadata.name");
  json_object_set_new (st, "message", json_sprintf ("Service \"%s\" is invalid: %s: %s",
                                                    name ? name : "", field, msg));
  api_status_details (st, name, "", "Service");
  api_status_cause (st, "FieldValueInvalid", field, msg);
  api_reply_status (r, st);
  return false;
}

static bool
allocate_ip (api_req *r, in_use *u, json_t *svc, json_t *spec, const json_t *old)
{
  const char *want = json_string_value (json_object_get (spec, "clusterIP"));
  const char *had = husk_json_path_str (old, "spec.clusterIP");
  if (want == NULL && had)
    want = had;
  if (want && streq (want, "None"))
    {
      json_object_set_new (spec, "clusterIPs", json_pack ("[s]", "None"));
      return true;
    }
  uint32_t off;
  if (want && *want)
    {
      struct in_addr a;
      if (inet_pton (AF_INET, want, &a) != 1 || (ntohl (a.s_addr) & SVC_MASK) != SVC_NET)
        {
          _cleanup_free_ char *m = xasprintf ("Invalid value: \"%s\": must be an address in the "
                                              "service CIDR 10.43.0.0/16", want);
          return invalid (r, svc, "spec.clusterIP", m);
        }
      off = ntohl (a.s_addr) & 0xffff;
      bool keeps = had && streq (had, want);
      if (!keeps && off > 10 && ip_used (u, off))
        {
          _cleanup_free_ char *m = xasprintf ("Invalid value: []string{\"%s\"}: failed to "
                                              "allocate IP %s: provided IP is already allocated",
                                              want, want);
          return invalid (r, svc, "spec.clusterIPs", m);
        }
    }
  else
    {
      uint32_t start = rnd () % 0xfffe;
      off = 0;
      for (uint32_t i = 0; i < 0xfffe && off == 0; i++)
        {
          uint32_t c = 1 + (start + i) % 0xfffe;
          if (!ip_used (u, c))
            off = c;
        }
      if (off == 0)
        return invalid (r, svc, "spec.clusterIP", "Internal error: the service CIDR is full");
    }
  uint32_t h = SVC_NET | off;
  struct in_addr a = {htonl (h)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &a, buf, sizeof buf);
  json_object_set_new (spec, "clusterIP", json_string (buf));
  json_object_set_new (spec, "clusterIPs", json_pack ("[s]", buf));
  return true;
}

static bool
allocate_ports (api_req *r, in_use *u, json_t *svc, json_t *spec, const json_t *old)
{
  size_t i;
  json_t *p;
  json_array_foreach (json_object_get (spec, "ports"), i, p)
  {
    json_int_t np = json_integer_value (json_object_get (p, "nodePort"));
    if (np == 0)
      {
        /* Keep the port an update did not mention. */
        json_t *op = json_array_get (husk_json_path (old, "spec.ports"), i);
        np = json_integer_value (json_object_get (op, "nodePort"));
      }
    if (np)
      {
        if (np < NODEPORT_MIN || np > NODEPORT_MAX)
          {
            _cleanup_free_ char *f = xasprintf ("spec.ports[%zu].nodePort", i);
            _cleanup_free_ char *m = xasprintf ("Invalid value: %lld: provided port is not in "
                                                "the valid range. The range of valid ports is "
                                                "30000-32767", (long long) np);
            return invalid (r, svc, f, m);
          }
        if (port_used (u, (int) np))
          {
            _cleanup_free_ char *f = xasprintf ("spec.ports[%zu].nodePort", i);
            _cleanup_free_ char *m = xasprintf ("Invalid value: %lld: provided port is already "
                                                "allocated", (long long) np);
            return invalid (r, svc, f, m);
          }
      }
    else
      {
        int span = NODEPORT_MAX - NODEPORT_MIN + 1, start = (int) (rnd () % (uint32_t) span);
        for (int k = 0; k < span && np == 0; k++)
          if (!port_used (u, NODEPORT_MIN + (start + k) % span))
            np = NODEPORT_MIN + (start + k) % span;
        if (np == 0)
          return invalid (r, svc, "spec.ports", "Internal error: no node port left");
      }
    mark_port (u, np);
    json_object_set_new (p, "nodePort", json_integer (np));
  }
  return true;
}

bool
api_service_allocate (api_req *r, json_t *svc, const json_t *old)
{
  json_t *spec = json_object_get (svc, "spec");
  const char *type = json_string_value (json_object_get (spec, "type"));
  if (!json_is_object (spec) || (type && streq (type, "ExternalName")))
    return true;
  in_use u = {xzalloc (65536 / 8), xzalloc ((NODEPORT_MAX - NODEPORT_MIN + 1) / 8 + 1)};
  scan (r, &u, svc);
  bool ok = allocate_ip (r, &u, svc, spec, old);
  if (ok && type && (streq (type, "NodePort") || streq (type, "LoadBalancer")))
    ok = allocate_ports (r, &u, svc, spec, old);
  free (u.ips);
  free (u.ports);
  return ok;
}
