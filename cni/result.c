/* CNI results and error objects as the spec prints them. */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>

#include "cni/cni.h"
#include "lib/json.h"

void
cni_result_free (cni_result *r)
{
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->nifaces; i++)
    {
      free (r->ifaces[i].name);
      free (r->ifaces[i].mac);
      free (r->ifaces[i].sandbox);
    }
  free (r->ifaces);
  free (r->ips);
  free (r->routes);
  json_decref (r->dns);
  free (r);
}

int
cni_result_add_iface (cni_result *r, const char *name, const char *mac, const char *sandbox)
{
  r->ifaces = xreallocarray (r->ifaces, r->nifaces + 1, sizeof *r->ifaces);
  r->ifaces[r->nifaces] = (cni_result_iface){
    .name = xstrdup (name),
    .mac = mac ? xstrdup (mac) : NULL,
    .sandbox = sandbox ? xstrdup (sandbox) : NULL,
  };
  return (int)r->nifaces++;
}

static void
set_ip (json_t *o, const char *key, const cni_ip *ip, bool prefix)
{
  char *s = cni_ip_format (ip, prefix);
  json_object_set_new (o, key, json_string (s));
  free (s);
}

json_t *
cni_result_to_json (const cni_result *r, const char *version)
{
  json_t *o = json_object ();
  bool pre1 = cni_version_cmp (version, "1.0.0") < 0;
  json_object_set_new (o, "cniVersion", json_string (version));
  if (r->nifaces)
    {
      json_t *a = json_array ();
      for (size_t i = 0; i < r->nifaces; i++)
        {
          json_t *e = json_object ();
          json_object_set_new (e, "name", json_string (r->ifaces[i].name));
          if (r->ifaces[i].mac)
            json_object_set_new (e, "mac", json_string (r->ifaces[i].mac));
          if (r->ifaces[i].mtu > 0 && cni_version_cmp (version, "1.1.0") >= 0)
            json_object_set_new (e, "mtu", json_integer (r->ifaces[i].mtu));
          if (r->ifaces[i].sandbox)
            json_object_set_new (e, "sandbox", json_string (r->ifaces[i].sandbox));
          json_array_append_new (a, e);
        }
      json_object_set_new (o, "interfaces", a);
    }
  json_t *ips = json_array ();
  for (size_t i = 0; i < r->nips; i++)
    {
      json_t *e = json_object ();
      const cni_result_ip *ip = &r->ips[i];
      if (pre1)
        json_object_set_new (e, "version",
                             json_string (ip->address.family == AF_INET6 ? "6" : "4"));
      set_ip (e, "address", &ip->address, true);
      if (ip->gateway.family)
        set_ip (e, "gateway", &ip->gateway, false);
      if (ip->interface >= 0)
        json_object_set_new (e, "interface", json_integer (ip->interface));
      json_array_append_new (ips, e);
    }
  json_object_set_new (o, "ips", ips);
  if (r->nroutes)
    {
      json_t *a = json_array ();
      for (size_t i = 0; i < r->nroutes; i++)
        {
          json_t *e = json_object ();
          set_ip (e, "dst", &r->routes[i].dst, true);
          if (r->routes[i].gw.family)
            set_ip (e, "gw", &r->routes[i].gw, false);
          json_array_append_new (a, e);
        }
      json_object_set_new (o, "routes", a);
    }
  json_object_set_new (o, "dns", r->dns ? json_incref (r->dns) : json_object ());
  return o;
}

static int
decode_ip (json_t *o, const char *key, const char *where, bool need_prefix, cni_ip *out,
           husk_error **err)
{
  const char *s = NULL;
  if (!json_is_object (o))
    return cni_err (err, CNI_ERR_DECODE, "%s: expected object", where);
  if (husk_json_get_str (o, key, where, &s, NULL) < 0)
    return cni_err (err, CNI_ERR_DECODE, "%s.%s: expected a string", where, key);
  if (s == NULL)
    return 0;
  if (cni_ip_parse (s, out, NULL) < 0 || (need_prefix && out->prefix < 0))
    return cni_err (err, CNI_ERR_DECODE, "%s.%s: invalid address \"%s\"", where, key, s);
  return 1;
}

int
cni_result_from_json (json_t *j, cni_result **out, husk_error **err)
{
  _cleanup_ (cni_result_freep) cni_result *r = xzalloc (sizeof *r);
  if (!json_is_object (j))
    return cni_err (err, CNI_ERR_DECODE, "result: expected object");
  json_t *a = json_object_get (j, "interfaces"), *e;
  size_t i;
  if (a && !json_is_array (a))
    return cni_err (err, CNI_ERR_DECODE, "result.interfaces: expected an array");
  json_array_foreach (a, i, e)
  {
    const char *name = json_string_value (json_object_get (e, "name"));
    if (name == NULL)
      return cni_err (err, CNI_ERR_DECODE, "result.interfaces[%zu].name: required", i);
    int k = cni_result_add_iface (r, name, json_string_value (json_object_get (e, "mac")),
                                  json_string_value (json_object_get (e, "sandbox")));
    r->ifaces[k].mtu = (int)json_integer_value (json_object_get (e, "mtu"));
  }
  a = json_object_get (j, "ips");
  if (a && !json_is_array (a))
    return cni_err (err, CNI_ERR_DECODE, "result.ips: expected an array");
  r->ips = xcalloc (json_array_size (a) + 1, sizeof *r->ips);
  json_array_foreach (a, i, e)
  {
    _cleanup_free_ char *w = xasprintf ("result.ips[%zu]", i);
    cni_result_ip *ip = &r->ips[r->nips];
    ip->interface = -1;
    int rc = decode_ip (e, "address", w, true, &ip->address, err);
    if (rc <= 0)
      return rc < 0 ? rc : cni_err (err, CNI_ERR_DECODE, "%s.address: required", w);
    if (decode_ip (e, "gateway", w, false, &ip->gateway, err) < 0)
      return -1;
    json_t *ifx = json_object_get (e, "interface");
    if (json_is_integer (ifx))
      ip->interface = (int)json_integer_value (ifx);
    r->nips++;
  }
  a = json_object_get (j, "routes");
  if (a && !json_is_array (a))
    return cni_err (err, CNI_ERR_DECODE, "result.routes: expected an array");
  r->routes = xcalloc (json_array_size (a) + 1, sizeof *r->routes);
  json_array_foreach (a, i, e)
  {
    _cleanup_free_ char *w = xasprintf ("result.routes[%zu]", i);
    cni_route *rt = &r->routes[r->nroutes];
    int rc = decode_ip (e, "dst", w, true, &rt->dst, err);
    if (rc <= 0)
      return rc < 0 ? rc : cni_err (err, CNI_ERR_DECODE, "%s.dst: required", w);
    if (decode_ip (e, "gw", w, false, &rt->gw, err) < 0)
      return -1;
    r->nroutes++;
  }
  json_t *dns = json_object_get (j, "dns");
  if (json_is_object (dns))
    r->dns = json_incref (dns);
  *out = TAKE_PTR (r);
  return 0;
}

json_t *
cni_error_to_json (const husk_error *err, const char *version, const char *details)
{
  json_t *o = json_object ();
  json_object_set_new (o, "cniVersion", json_string (version ? version : CNI_VERSION_LATEST));
  json_object_set_new (o, "code", json_integer (cni_error_code (err)));
  json_object_set_new (o, "msg", json_string (err && err->msg ? err->msg : "unknown error"));
  if (details && *details)
    json_object_set_new (o, "details", json_string (details));
  return o;
}
