/* husk-cni: configuration decoding, results and error objects as the CNI spec prints them. */
#include "config.h"

#include <sys/socket.h>

#include "cni/cni.h"
#include "cni/crossnode.h"
#include "lib/json.h"
#include "tests/unit/tap.h"

static cni_conf *
parse (const char *s, husk_error **err)
{
  cni_conf *c = NULL;
  if (cni_conf_parse (s, strlen (s), &c, err) < 0)
    return NULL;
  return c;
}

static void
test_bridge_conf (void)
{
  _cleanup_error_ husk_error *err = NULL;
  cni_conf *c = parse ("{\"cniVersion\":\"1.0.0\",\"name\":\"podnet\",\"type\":\"husk-cni\","
                       "\"bridge\":\"cni0\",\"isDefaultGateway\":true,\"ipMasq\":true,"
                       "\"mtu\":1400,\"hairpinMode\":true,\"gsoMaxSize\":196608,"
                       "\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"/tmp/x\",\"ranges\":"
                       "[[{\"subnet\":\"10.42.3.0/24\",\"rangeStart\":\"10.42.3.10\","
                       "\"rangeEnd\":\"10.42.3.20\"}],[{\"subnet\":\"fd42::/64\"}]],"
                       "\"routes\":[{\"dst\":\"0.0.0.0/0\"},{\"dst\":\"::/0\"}]}}",
                       &err);
  ok (c != NULL, "standard bridge configuration parses%s%s", err ? ": " : "", err ? err->msg : "");
  if (!c)
    return;
  is_str (c->bridge, "cni0", "bridge name");
  ok (c->is_gateway && c->is_default_gateway && c->ip_masq && c->hairpin_mode,
      "isDefaultGateway implies isGateway; flags read");
  is_int (c->mtu, 1400, "mtu");
  is_int (c->gso_max_size, 196608, "gsoMaxSize");
  ok (c->fast_path, "fastPath defaults to true (the pod-to-pod shortcut)");
  is_int (c->ipam.nsets, 2, "two range sets (dual stack)");
  _cleanup_free_ char *s = cni_ip_format (&c->ipam.sets[0].ranges[0].start, false);
  is_str (s, "10.42.3.10", "rangeStart");
  _cleanup_free_ char *g = cni_ip_format (&c->ipam.sets[0].ranges[0].gateway, false);
  is_str (g, "10.42.3.1", "gateway defaults to the subnet's first address");
  _cleanup_free_ char *e6 = cni_ip_format (&c->ipam.sets[1].ranges[0].end, false);
  is_str (e6, "fd42::ffff:ffff:ffff:ffff", "v6 rangeEnd defaults to the last address");
  is_int (c->ipam.nroutes, 2, "routes");
  cni_conf_free (c);

  c = parse ("{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\","
             "\"subnet\":\"10.1.0.0/16\"}}",
             &err);
  ok (c && streq (c->bridge, "husk0"), "bridge defaults to husk0");
  if (c)
    {
      _cleanup_free_ char *end = cni_ip_format (&c->ipam.sets[0].ranges[0].end, false);
      is_str (end, "10.1.255.254", "v4 rangeEnd excludes broadcast");
      is_str (c->ipam.data_dir, "/var/lib/cni/networks", "dataDir default");
    }
  cni_conf_free (c);

  c = parse ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"vlan\":0,\"macspoofchk\":false,"
             "\"enabledad\":false,\"forceAddress\":true,\"preserveDefaultVlan\":true,"
             "\"ipMasqBackend\":\"nftables\"}",
             &err);
  ok (c != NULL, "bridge keys at their defaults (vlan 0, macspoofchk false, ...) are accepted");
  cni_conf_free (c);

  c = parse ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"fastPath\":false}", &err);
  ok (c && !c->fast_path, "fastPath false turns the shortcut off");
  cni_conf_free (c);

  c = parse ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"notrackCIDRs\":[\"10.42.1.7/16\","
             "\"fd42::/48\"]}",
             &err);
  ok (c && c->nnotrack == 2, "notrackCIDRs: two CIDRs");
  if (c && c->nnotrack == 2)
    {
      _cleanup_free_ char *n0 = cni_ip_format (&c->notrack[0], true);
      _cleanup_free_ char *n1 = cni_ip_format (&c->notrack[1], true);
      is_str (n0, "10.42.0.0/16", "notrackCIDRs: the network address");
      is_str (n1, "fd42::/48", "notrackCIDRs: IPv6");
    }
  cni_conf_free (c);
}

static void
expect_code (const char *conf, int code, const char *needle, const char *name)
{
  _cleanup_error_ husk_error *err = NULL;
  cni_conf *c = parse (conf, &err);
  ok (c == NULL && err && cni_error_code (err) == code && strstr (err->msg, needle), "%s", name);
  if (err && (cni_error_code (err) != code || !strstr (err->msg, needle)))
    printf ("#   code %d msg %s\n", cni_error_code (err), err->msg);
  cni_conf_free (c);
}

static void
test_bad_confs (void)
{
  expect_code ("{\"cniVersion\":", CNI_ERR_DECODE, "line 1", "truncated JSON: code 6");
  expect_code ("[]", CNI_ERR_DECODE, "expected a JSON object", "not an object: code 6");
  expect_code ("{\"cniVersion\":\"9.9.9\",\"name\":\"n\"}", CNI_ERR_INCOMPATIBLE_VERSION, "9.9.9",
               "unknown version: code 1");
  expect_code ("{\"cniVersion\":\"1.0.0\"}", CNI_ERR_INVALID_CONFIG, "name", "no name: code 7");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"mtu\":\"big\"}", CNI_ERR_INVALID_CONFIG,
               "mtu", "mtu of the wrong type: code 7");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"fastPath\":\"no\"}",
               CNI_ERR_INVALID_CONFIG, "fastPath", "fastPath of the wrong type: code 7");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"gsoMaxSize\":65535}",
               CNI_ERR_INVALID_CONFIG, "gsoMaxSize: 65535 is outside 65536-524280",
               "gsoMaxSize below 64 KiB: code 7");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"gsoMaxSize\":1048576}",
               CNI_ERR_INVALID_CONFIG, "gsoMaxSize: 1048576 is outside",
               "gsoMaxSize above the kernel's maximum: code 7");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\","
               "\"subnet\":\"10.0.0.0\"}}",
               CNI_ERR_INVALID_CONFIG, "prefix", "subnet without prefix: code 7");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\","
               "\"subnet\":\"10.0.0.0/24\",\"rangeStart\":\"10.0.1.5\"}}",
               CNI_ERR_INVALID_CONFIG, "outside", "rangeStart outside subnet: code 7");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\"}}",
               CNI_ERR_INVALID_CONFIG, "ranges or subnet", "host-local without ranges: code 7");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"../x\"}", CNI_ERR_INVALID_CONFIG,
               "not a valid network name", "network name with a slash: code 7");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"runtimeConfig\":{\"portMappings\":"
               "[{\"hostPort\":0,\"containerPort\":80}]}}",
               CNI_ERR_INVALID_CONFIG, "1-65535", "bad hostPort: code 7");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"vlan\":100}", CNI_ERR_UNSUPPORTED_FIELD,
               "vlan: 100", "bridge plugin's vlan (not implemented): code 2 naming key and value");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"macspoofchk\":true}",
               CNI_ERR_UNSUPPORTED_FIELD, "macspoofchk: true", "macspoofchk true: code 2");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"vlan\":\"x\"}", CNI_ERR_INVALID_CONFIG,
               "vlan", "vlan of the wrong type: code 7");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipMasqExclude\":[\"10.42.0.0\"]}",
               CNI_ERR_INVALID_CONFIG, "ipMasqExclude[0]",
               "ipMasqExclude entry without prefix: code 7");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"notrackCIDRs\":[\"10.42.0.0/16\",\"x\"]}",
               CNI_ERR_INVALID_CONFIG, "notrackCIDRs[1]", "notrackCIDRs entry not a CIDR: code 7");
  expect_code ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"notrackCIDRs\":\"10.42.0.0/16\"}",
               CNI_ERR_INVALID_CONFIG, "notrackCIDRs", "notrackCIDRs not a list: code 7");
}

static void
test_result_json (void)
{
  _cleanup_error_ husk_error *err = NULL;
  const char *in = "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":"
                   "\"aa:bb:cc:dd:ee:ff\",\"sandbox\":\"/run/netns/x\"}],\"ips\":[{\"address\":"
                   "\"10.0.0.5/24\",\"gateway\":\"10.0.0.1\",\"interface\":0}],\"routes\":[{"
                   "\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}";
  _cleanup_json_ json_t *j = json_loads (in, 0, NULL);
  cni_result *r = NULL;
  ok (cni_result_from_json (j, &r, &err) == 0, "result decodes");
  if (!r)
    return;
  _cleanup_json_ json_t *o = cni_result_to_json (r, "1.0.0");
  _cleanup_free_ char *s = husk_json_dump (o);
  is_str (s, in, "1.0.0 result round-trips exactly");
  _cleanup_json_ json_t *o4 = cni_result_to_json (r, "0.4.0");
  is_str (husk_json_path_str (o4, "ips.0.version"), "4", "0.4.0 results carry ips[].version");
  cni_result_free (r);

  husk_error *e = NULL;
  cni_err (&e, CNI_ERR_TRY_AGAIN, "busy");
  _cleanup_json_ json_t *ej = cni_error_to_json (e, "1.1.0", "more");
  _cleanup_free_ char *es = husk_json_dump (ej);
  is_str (es, "{\"cniVersion\":\"1.1.0\",\"code\":11,\"msg\":\"busy\",\"details\":\"more\"}",
          "error object");
  husk_error_free (e);
  _cleanup_json_ json_t *v = cni_cmd_version ("0.4.0");
  _cleanup_free_ char *vs = husk_json_dump (v);
  is_str (vs,
          "{\"cniVersion\":\"0.4.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\","
          "\"1.0.0\",\"1.1.0\"]}",
          "VERSION answers in the requested version");
}

static void
test_ip (void)
{
  cni_ip a;
  ok (cni_ip_parse ("10.0.0.255", &a, NULL) == 0, "parse v4");
  cni_ip b = cni_ip_add (&a, 1);
  _cleanup_free_ char *s = cni_ip_format (&b, false);
  is_str (s, "10.0.1.0", "add carries");
  cni_ip c = cni_ip_add (&b, -1);
  ok (cni_ip_cmp (&a, &c) == 0, "subtract borrows");
  cni_ip n;
  cni_ip_parse ("fd00::1:2/112", &n, NULL);
  cni_ip net = cni_ip_network (&n, 112);
  _cleanup_free_ char *ns = cni_ip_format (&net, true);
  is_str (ns, "fd00::1:0/112", "v6 network");
  ok (cni_version_cmp ("0.4.0", "1.0.0") < 0 && cni_version_cmp ("1.1.0", "1.0.0") > 0,
      "version compare");
}

static void
test_vtep (void)
{
  cni_ip node, cidr;
  cni_ip_parse ("192.168.72.2", &node, NULL);
  cni_ip_parse ("10.42.2.0/24", &cidr, NULL);
  uint8_t mac[6];
  cni_vtep_mac (&node, mac);
  ok (mac[0] == 0x0a && mac[1] == 0x58 && mac[2] == 192 && mac[3] == 168 && mac[4] == 72
          && mac[5] == 2,
      "VTEP MAC is 0a:58 + the node address");
  cni_ip v = cni_vtep_ip (&cidr);
  _cleanup_free_ char *s = cni_ip_format (&v, true);
  is_str (s, "10.42.2.0/32", "VTEP address is the podCIDR's network address");
}

/* A delegated plugin's stdout, as cni/exec.c decodes it. */
static void
test_exec_decode (void)
{
  husk_error *err = NULL;
  json_t *j = NULL;
  ok (cni_exec_decode ("ipam", "ADD", 1 << 8, "{\"code\":7,\"msg\":\"bad\",\"details\":\"d\"}",
                       &j, &err) < 0
          && cni_error_code (err) == 7 && streq (err->msg, "ipam ADD: bad: d"),
      "a plugin's error object passes through with its code and context");
  husk_error_free (err), err = NULL;
  ok (cni_exec_decode ("ipam", "ADD", 1 << 8, "{\"code\":-4,\"msg\":\"neg\"}", &j, &err) < 0
          && cni_error_code (err) == CNI_ERR_DELEGATE && strstr (err->msg, "neg"),
      "a code outside the spec's range becomes 103, keeping the message");
  husk_error_free (err), err = NULL;
  ok (cni_exec_decode ("ipam", "ADD", 1 << 8, "{\"code\":2147483647}", &j, &err) < 0
          && cni_error_code (err) == CNI_ERR_DELEGATE,
      "a code that would overflow becomes 103");
  husk_error_free (err), err = NULL;
  ok (cni_exec_decode ("ipam", "ADD", 0, "[1]", &j, &err) < 0 && cni_error_code (err) == 6
          && strstr (err->msg, "expected a JSON object") && j == NULL,
      "a result that is not an object: code 6");
  husk_error_free (err), err = NULL;
  ok (cni_exec_decode ("ipam", "ADD", 0, "{\"ips\":{}}", &j, &err) == 0 && j != NULL,
      "a result object decodes");
  cni_result *r = NULL;
  ok (cni_result_from_json (j, &r, &err) < 0 && cni_error_code (err) == 6
          && strstr (err->msg, "result.ips: expected an array"),
      "ips that is not an array: code 6 naming the field");
  husk_error_free (err), err = NULL;
  json_decref (j);
  j = json_loads ("{\"ips\":[{\"address\":7}]}", 0, NULL);
  ok (cni_result_from_json (j, &r, &err) < 0 && cni_error_code (err) == 6
          && strstr (err->msg, "result.ips[0].address: expected a string"),
      "an address that is not a string: code 6 naming the field");
  husk_error_free (err);
  json_decref (j);
}

int
main (void)
{
  test_bridge_conf ();
  test_bad_confs ();
  test_result_json ();
  test_exec_decode ();
  test_ip ();
  test_vtep ();
  return tap_done ();
}
