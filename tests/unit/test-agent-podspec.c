/* Pod spec helpers: quantities, env resolution and $(VAR) expansion, QoS, cgroup v2 values,
   resolv.conf, /etc/hosts and hostname. */
#include <errno.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/path.h"
#include "src/node/agent/podspec.h"
#include "tests/unit/tap.h"

static json_t *
J (const char *s)
{
  json_error_t e;
  json_t *j = json_loads (s, 0, &e);
  if (!j)
    {
      printf ("# bad test JSON: %s: %s\n", e.text, s);
      exit (99);
    }
  return j;
}

static void
test_quantity (void)
{
  int64_t v;
  husk_error *err = NULL;
  struct
  {
    const char *q;
    bool milli;
    int64_t want;
  } cases[] = {
    { "500m", true, 500 },
    { "1", true, 1000 },
    { "0.1", true, 100 },
    { "1.5", true, 1500 },
    { "2", false, 2 },
    { "128Mi", false, 134217728 },
    { "1Gi", false, 1073741824 },
    { "1G", false, 1000000000 },
    { "1e3", false, 1000 },
    { "1.5Ki", false, 1536 },
    { "100k", false, 100000 },
    { "1m", false, 1 },
    { "1u", true, 1 },
    { "0", true, 0 },
    { "250m", false, 1 },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      int ret = cases[i].milli ? husk_quantity_parse (cases[i].q, 1000, &v, &err)
                               : husk_quantity_parse (cases[i].q, 1, &v, &err);
      ok (ret == 0 && v == cases[i].want, "quantity %s %s = %lld (got %lld)", cases[i].q,
          cases[i].milli ? "milli" : "value", (long long)cases[i].want, (long long)v);
    }
  ok (husk_quantity_parse ("12Qi", 1, &v, &err) < 0 && err->errnum == EINVAL, "bad suffix refused");
  husk_error_free (err);
  err = NULL;
  ok (husk_quantity_parse ("", 1, &v, &err) < 0, "empty refused");
  husk_error_free (err);
  err = NULL;
  ok (husk_quantity_parse ("99999999999E", 1, &v, &err) < 0, "overflow refused");
  husk_error_free (err);
  err = NULL;
  json_t *n = json_integer (2);
  ok (husk_quantity_json (n, 1000, "cpu", &v, &err) == 0 && v == 2000, "JSON number 2 is 2000m");
  json_decref (n);
}

/* ---- env ------------------------------------------------------------------------------ */

static json_t *objects;

static int
get_obj (void *ud, const char *name, json_t **out, husk_error **err)
{
  json_t *o = json_object_get (json_object_get (objects, ud), name);
  *out = o ? json_incref (o) : NULL;
  return 0;
}

static int
get_cm (void *ud, const char *name, json_t **out, husk_error **err)
{
  return get_obj ("configmaps", name, out, err);
}

static int
get_secret (void *ud, const char *name, json_t **out, husk_error **err)
{
  return get_obj ("secrets", name, out, err);
}

static const char *
lookup_fixed (void *ud, const char *name)
{
  if (streq (name, "VAR"))
    return "value";
  if (streq (name, "EMPTY"))
    return "";
  return NULL;
}

static void
test_expand (void)
{
  struct
  {
    const char *in, *want;
  } cases[] = {
    { "$(VAR)", "value" },
    { "a$(VAR)b", "avalueb" },
    { "$(MISSING)", "$(MISSING)" },
    { "$$(VAR)", "$(VAR)" },
    { "$$$(VAR)", "$value" },
    { "$VAR", "$VAR" },
    { "$(VAR", "$(VAR" },
    { "$", "$" },
    { "x$", "x$" },
    { "$$", "$" },
    { "$(EMPTY)-", "-" },
    { "$()", "$()" },
    { "$(VAR)$(VAR)", "valuevalue" },
    { "no vars", "no vars" },
    { "$$$$", "$$" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char *got = agent_expand (cases[i].in, lookup_fixed, NULL);
      ok (streq (got, cases[i].want), "expand '%s' -> '%s' (got '%s')", cases[i].in, cases[i].want,
          got);
      free (got);
    }
}

static void
test_env (void)
{
  objects = J ("{\"configmaps\":{\"cfg\":{\"data\":{\"A\":\"1\",\"B\":\"two\",\"bad key\":\"x\"}}},"
               "\"secrets\":{\"sec\":{\"data\":{\"PASSWORD\":\"czNjcjN0\"}}}}");
  json_t *pod = J (
      "{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"prod\",\"uid\":\"u-1\","
      "\"labels\":{\"app\":\"web\",\"tier\":\"front\"},\"annotations\":{\"note\":\"a \\\"q\\\"\"}},"
      "\"spec\":{\"nodeName\":\"n1\",\"serviceAccountName\":\"sa\",\"containers\":[{\"name\":\"c\","
      "\"resources\":{\"limits\":{\"memory\":\"64Mi\"},\"requests\":{\"cpu\":\"250m\"}}}]},"
      "\"status\":{\"podIP\":\"10.42.0.5\",\"podIPs\":[{\"ip\":\"10.42.0.5\"},{\"ip\":\"fd00::5\"}]"
      ","
      "\"hostIP\":\"192.0.2.1\"}}");
  json_t *alloc = J ("{\"cpu\":\"4\",\"memory\":\"8Gi\"}");
  char *base[] = { "KUBERNETES_SERVICE_HOST=10.43.0.1", "A=base", NULL };
  agent_env_ctx ctx = { .get_configmap = get_cm,
                        .get_secret = get_secret,
                        .pod = pod,
                        .node_allocatable = alloc,
                        .base = base };
  json_t *c = J (
      "{\"name\":\"c\",\"envFrom\":[{\"configMapRef\":{\"name\":\"cfg\"}},"
      "{\"prefix\":\"S_\",\"secretRef\":{\"name\":\"sec\"}},"
      "{\"configMapRef\":{\"name\":\"nope\",\"optional\":true}}],"
      "\"env\":[{\"name\":\"GREETING\",\"value\":\"hello $(B) $(LATER) $$(B)\"},"
      "{\"name\":\"LATER\",\"value\":\"later\"},"
      "{\"name\":\"B\",\"value\":\"override\"},"
      "{\"name\":\"KEY\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cfg\",\"key\":\"B\"}}},"
      "{\"name\":\"PW\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"sec\",\"key\":\"PASSWORD\"}}},"
      "{\"name\":\"OPT\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cfg\",\"key\":\"nokey\","
      "\"optional\":true}}},"
      "{\"name\":\"POD\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
      "{\"name\":\"NS\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.namespace\"}}},"
      "{\"name\":\"APP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.labels['app']\"}}},"
      "{\"name\":\"IPS\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.podIPs\"}}},"
      "{\"name\":\"NODE\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.nodeName\"}}},"
      "{\"name\":\"MEM\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.memory\","
      "\"divisor\":\"1Mi\"}}},"
      "{\"name\":\"CPU_LIM\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.cpu\"}}},"
      "{\"name\":\"CPU_REQ\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"requests.cpu\"}}},"
      "{\"name\":\"CPU_REQ_M\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"requests.cpu\","
      "\"divisor\":\"1m\"}}},"
      "{\"name\":\"REF\",\"value\":\"$(POD).$(NS)\"}],"
      "\"command\":[\"/bin/sh\",\"-c\"],\"args\":[\"echo $(GREETING) $(NOPE)\"]}");
  agent_env *e = NULL;
  husk_error *err = NULL;
  int ret = agent_env_resolve (&ctx, c, &e, &err);
  ok (ret == 0, "env resolves%s%s", err ? ": " : "", err ? err->msg : "");
  if (ret < 0)
    return;
  is_str (agent_env_get (e, "KUBERNETES_SERVICE_HOST"), "10.43.0.1", "base variables kept");
  is_str (agent_env_get (e, "A"), "1", "envFrom overrides base");
  is_str (agent_env_get (e, "S_PASSWORD"), "s3cr3t", "secretRef with prefix, base64 decoded");
  is_str (agent_env_get (e, "GREETING"), "hello two $(LATER) $(B)",
          "$(B) from envFrom, later vars untouched, $$ escapes");
  is_str (agent_env_get (e, "B"), "override", "env overrides envFrom");
  is_str (agent_env_get (e, "KEY"), "two", "configMapKeyRef");
  is_str (agent_env_get (e, "PW"), "s3cr3t", "secretKeyRef decoded");
  ok (agent_env_get (e, "OPT") == NULL, "optional missing key leaves the variable unset");
  is_str (agent_env_get (e, "POD"), "web-1", "fieldRef metadata.name");
  is_str (agent_env_get (e, "APP"), "web", "fieldRef metadata.labels['app']");
  is_str (agent_env_get (e, "IPS"), "10.42.0.5,fd00::5", "fieldRef status.podIPs");
  is_str (agent_env_get (e, "NODE"), "n1", "fieldRef spec.nodeName");
  is_str (agent_env_get (e, "MEM"), "64", "resourceFieldRef limits.memory / 1Mi");
  is_str (agent_env_get (e, "CPU_LIM"), "4", "limits.cpu without a limit is node allocatable");
  is_str (agent_env_get (e, "CPU_REQ"), "1", "requests.cpu 250m rounds up to 1");
  is_str (agent_env_get (e, "CPU_REQ_M"), "250", "requests.cpu divisor 1m");
  is_str (agent_env_get (e, "REF"), "web-1.prod", "value expands fieldRef variables");
  ok (e->invalid[0] && streq (e->invalid[0], "bad key") && !e->invalid[1],
      "invalid envFrom key skipped and reported");
  ok (agent_env_get (e, "bad key") == NULL, "invalid key not in the environment");
  char **argv = agent_container_argv (c, e, NULL, NULL);
  ok (argv[0] && streq (argv[0], "/bin/sh") && argv[2]
          && streq (argv[2], "echo hello two $(LATER) $(B) $(NOPE)") && !argv[3],
      "command and args expanded against the environment");
  strv_free (argv);
  char **strv = agent_env_strv (e);
  bool found = false;
  for (char **p = strv; *p; p++)
    if (streq (*p, "PW=s3cr3t"))
      found = true;
  ok (found, "strv holds NAME=value");
  strv_free (strv);
  agent_env_free (e);
  json_decref (c);

  /* image defaults */
  char *ep[] = { "/entry", NULL }, *cmd[] = { "default-arg", NULL };
  agent_env empty = { 0 };
  json_t *c2 = J ("{\"name\":\"c\",\"args\":[\"x\"]}");
  argv = agent_container_argv (c2, &empty, ep, cmd);
  ok (streq (argv[0], "/entry") && streq (argv[1], "x") && !argv[2],
      "args alone keep the entrypoint");
  strv_free (argv);
  json_decref (c2);
  c2 = J ("{\"name\":\"c\",\"command\":[\"/bin/true\"]}");
  argv = agent_container_argv (c2, &empty, ep, cmd);
  ok (streq (argv[0], "/bin/true") && !argv[1], "command drops the image's cmd");
  strv_free (argv);
  json_decref (c2);
  c2 = J ("{\"name\":\"c\"}");
  argv = agent_container_argv (c2, &empty, ep, cmd);
  ok (streq (argv[0], "/entry") && streq (argv[1], "default-arg"),
      "neither: image entrypoint + cmd");
  strv_free (argv);
  json_decref (c2);

  /* errors that become CreateContainerConfigError */
  struct
  {
    const char *c, *msg;
  } bad[] = {
    { "{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"missing\",\"key\":"
      "\"k\"}}}]}",
      "configmap \"missing\" not found" },
    { "{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cfg\",\"key\":"
      "\"k\"}}}]}",
      "couldn't find key k in ConfigMap prod/cfg" },
    { "{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"sec\",\"key\":\"k\"}}}"
      "]}",
      "couldn't find key k in Secret prod/sec" },
    { "{\"envFrom\":[{\"secretRef\":{\"name\":\"nosec\"}}]}", "secret \"nosec\" not found" },
    { "{\"env\":[{\"name\":\"X\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.bogus\"}}}]}",
      "unsupported fieldPath: spec.bogus" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      json_t *bc = J (bad[i].c);
      err = NULL;
      e = NULL;
      ret = agent_env_resolve (&ctx, bc, &e, &err);
      ok (ret < 0 && err && streq (err->msg, bad[i].msg), "error: %s (got: %s)", bad[i].msg,
          err ? err->msg : "success");
      husk_error_free (err);
      agent_env_free (e);
      json_decref (bc);
    }

  char *v = NULL;
  err = NULL;
  ok (agent_field_ref (pod, "metadata.labels", true, &v, &err) == 0
          && streq (v, "app=\"web\"\ntier=\"front\""),
      "whole labels map formats as sorted k=\"v\" lines");
  free (v);
  ok (agent_field_ref (pod, "metadata.annotations", true, &v, &err) == 0
          && streq (v, "note=\"a \\\"q\\\"\""),
      "annotations quoted like Go's %%q");
  free (v);
  json_decref (pod);
  json_decref (alloc);
  json_decref (objects);
}

/* ---- QoS and cgroup -------------------------------------------------------------------- */

static const char *
qos_of (const char *spec)
{
  json_t *j = J (spec);
  agent_qos q;
  husk_error *err = NULL;
  const char *name = agent_pod_qos (j, &q, &err) == 0 ? agent_qos_name (q) : "error";
  husk_error_free (err);
  json_decref (j);
  return name;
}

static void
test_qos (void)
{
  is_str (qos_of ("{\"containers\":[{\"name\":\"a\"}]}"), "BestEffort", "no resources: BestEffort");
  is_str (qos_of ("{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\","
                  "\"memory\":\"1Gi\"}}}]}"),
          "Guaranteed", "limits only (requests default to them): Guaranteed");
  is_str (qos_of ("{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\","
                  "\"memory\":\"1Gi\"},"
                  "\"requests\":{\"cpu\":\"1000m\",\"memory\":\"1024Mi\"}}}]}"),
          "Guaranteed", "equal requests and limits in other units: Guaranteed");
  is_str (qos_of ("{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\","
                  "\"memory\":\"1Gi\"},"
                  "\"requests\":{\"cpu\":\"500m\"}}}]}"),
          "Burstable", "request below limit: Burstable");
  is_str (qos_of ("{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\","
                  "\"memory\":\"1Gi\"}}},"
                  "{\"name\":\"b\"}]}"),
          "Burstable", "one container without limits: Burstable");
  is_str (
      qos_of (
          "{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"memory\":\"10Mi\"}}}]}"),
      "Burstable", "a request only: Burstable");
  is_str (
      qos_of ("{\"initContainers\":[{\"name\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}],"
              "\"containers\":[{\"name\":\"a\"}]}"),
      "Burstable", "init containers count");
  is_str (
      qos_of ("{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"0\"}}}]}"),
      "BestEffort", "zero requests are ignored");

  is_int (agent_cpu_shares (0), 2, "no request: 2 shares");
  is_int (agent_cpu_shares (1), 2, "1m: clamped to 2 shares");
  is_int (agent_cpu_shares (500), 512, "500m: 512 shares");
  is_int (agent_cpu_shares (1000000), 262144, "1000 cpus: clamped to 262144");
  is_int (agent_cpu_weight_from_shares (2), 1, "2 shares: weight 1");
  is_int (agent_cpu_weight_from_shares (1024), 39, "1024 shares: weight 39");
  is_int (agent_cpu_weight_from_shares (512), 20, "512 shares: weight 20");
  is_int (agent_cpu_weight_from_shares (262144), 10000, "max shares: weight 10000");
  is_int (agent_cpu_quota (250), 25000, "250m: quota 25000");
  is_int (agent_cpu_quota (1), 1000, "1m: quota at least 1000");
  is_int (agent_cpu_quota (0), -1, "no limit: no quota");

  json_t *c
      = J ("{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"250m\",\"memory\":\"128Mi\"},"
           "\"requests\":{\"cpu\":\"100m\",\"memory\":\"64Mi\"}}}");
  agent_cgroup_res r;
  husk_error *err = NULL;
  ok (agent_container_cgroup (c, &r, &err) == 0, "container cgroup values");
  char *v;
  is_str (v = agent_cgroup_value (&r, "cpu.weight"), "4", "cpu.weight for 100m");
  free (v);
  is_str (v = agent_cgroup_value (&r, "cpu.max"), "25000 100000", "cpu.max for 250m");
  free (v);
  is_str (v = agent_cgroup_value (&r, "memory.max"), "134217728", "memory.max = limit");
  free (v);
  is_str (v = agent_cgroup_value (&r, "memory.low"), "67108864", "memory.low = request");
  free (v);
  json_decref (c);
  c = J ("{\"name\":\"a\"}");
  agent_container_cgroup (c, &r, &err);
  is_str (v = agent_cgroup_value (&r, "cpu.max"), "max 100000", "no cpu limit: max");
  free (v);
  is_str (v = agent_cgroup_value (&r, "memory.max"), "max", "no memory limit: max");
  free (v);
  is_str (v = agent_cgroup_value (&r, "cpu.weight"), "1", "no request: weight 1");
  free (v);
  json_decref (c);

  json_t *spec
      = J ("{\"initContainers\":[{\"name\":\"i\",\"resources\":{\"limits\":{\"cpu\":\"2\","
           "\"memory\":\"1Gi\"}}}],"
           "\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":"
           "\"100Mi\"}}},"
           "{\"name\":\"b\",\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"100Mi\"}}}]}");
  ok (agent_pod_cgroup (spec, 1024, &r, &err) == 0, "pod cgroup values");
  is_str (v = agent_cgroup_value (&r, "cpu.max"), "200000 100000",
          "pod cpu.max: the init container's 2 cpus win over 1");
  free (v);
  is_str (v = agent_cgroup_value (&r, "memory.max"), "1073741824",
          "pod memory.max: max(init, sum)");
  free (v);
  is_str (v = agent_cgroup_value (&r, "pids.max"), "1024", "pod pids.max from the pod pids limit");
  free (v);
  json_decref (spec);
  spec = J ("{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"500m\"}}},{"
            "\"name\":\"b\"}]}");
  agent_pod_cgroup (spec, -1, &r, &err);
  is_str (v = agent_cgroup_value (&r, "cpu.max"), "max 100000",
          "Burstable pod with one unlimited container: no quota");
  free (v);
  is_str (v = agent_cgroup_value (&r, "cpu.weight"), "20",
          "Burstable pod weight from summed requests");
  free (v);
  json_decref (spec);
  /* kubelet: a regular init container counts with the sidecars started before it. */
  spec = J ("{\"initContainers\":[{\"name\":\"s\",\"restartPolicy\":\"Always\","
            "\"resources\":{\"limits\":{\"memory\":\"100Mi\"}}},"
            "{\"name\":\"i\",\"resources\":{\"limits\":{\"memory\":\"200Mi\"}}}],"
            "\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"memory\":\"50Mi\"}}}]}");
  ok (agent_pod_cgroup (spec, -1, &r, &err) == 0, "pod with a sidecar");
  is_str (v = agent_cgroup_value (&r, "memory.max"), "314572800",
          "memory.max: init 200Mi + the sidecar before it 100Mi (more than 100Mi + 50Mi)");
  free (v);
  is_str (v = agent_cgroup_value (&r, "cpu.max"), "max 100000", "no cpu limit anywhere: no quota");
  free (v);
  json_decref (spec);
  /* Burstable, every container with a memory limit but not a cpu one. */
  spec = J ("{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"memory\":\"24Mi\"},"
            "\"requests\":{\"cpu\":\"100m\"}}},{\"name\":\"b\",\"resources\":{\"limits\":{"
            "\"memory\":\"40Mi\"},\"requests\":{\"cpu\":\"100m\"}}}]}");
  agent_pod_cgroup (spec, -1, &r, &err);
  is_str (v = agent_cgroup_value (&r, "memory.max"), "67108864", "every memory limit: the sum");
  free (v);
  is_str (v = agent_cgroup_value (&r, "cpu.max"), "max 100000", "no cpu limit: max");
  free (v);
  is_str (v = agent_cgroup_value (&r, "pids.max"), "max", "no pod pids limit: max");
  free (v);
  json_decref (spec);
  spec = J ("{\"containers\":[{\"name\":\"a\"}]}");
  agent_pod_cgroup (spec, -1, &r, &err);
  is_str (v = agent_cgroup_value (&r, "cpu.weight"), "1", "BestEffort pod: weight 1");
  free (v);
  json_decref (spec);
}

/* ---- DNS -------------------------------------------------------------------------------- */

static char *
resolv (const char *pod, const char *host)
{
  json_t *p = J (pod);
  agent_dns_cluster c = { .host_resolv = host };
  char *out = NULL;
  husk_error *err = NULL;
  if (agent_resolv_conf (p, &c, &out, &err) < 0)
    {
      out = xasprintf ("error: %s", err->msg);
      husk_error_free (err);
    }
  json_decref (p);
  return out;
}

static void
test_dns (void)
{
  const char *host
      = "# host\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example. lab.example\n"
        "options timeout:2 rotate\n";
  char *s = resolv ("{\"metadata\":{\"namespace\":\"prod\"},\"spec\":{}}", host);
  is_str (s,
          "search prod.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\n"
          "nameserver 10.43.0.10\noptions ndots:5\n",
          "ClusterFirst: cluster DNS, namespace searches then the host's, ndots:5");
  free (s);
  s = resolv ("{\"metadata\":{\"namespace\":\"prod\"},\"spec\":{\"dnsPolicy\":\"Default\"}}", host);
  is_str (s,
          "search corp.example lab.example\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n"
          "options timeout:2 rotate\n",
          "Default: the node's resolv.conf");
  free (s);
  s = resolv ("{\"metadata\":{\"namespace\":\"prod\"},\"spec\":{\"hostNetwork\":true}}", host);
  ok (strstr (s, "nameserver 192.0.2.53") && !strstr (s, "10.43.0.10"),
      "ClusterFirst with hostNetwork falls back to Default");
  free (s);
  s = resolv ("{\"metadata\":{\"namespace\":\"prod\"},\"spec\":{\"hostNetwork\":true,"
              "\"dnsPolicy\":\"ClusterFirstWithHostNet\"}}",
              host);
  ok (strstr (s, "nameserver 10.43.0.10") != NULL, "ClusterFirstWithHostNet uses cluster DNS");
  free (s);
  s = resolv (
      "{\"metadata\":{\"namespace\":\"prod\"},\"spec\":{\"dnsPolicy\":\"None\",\"dnsConfig\":"
      "{\"nameservers\":[\"1.2.3.4\"],\"searches\":[\"ns1.svc.cluster-domain.example\",\"my.dns."
      "search.suffix\"],"
      "\"options\":[{\"name\":\"ndots\",\"value\":\"2\"},{\"name\":\"edns0\"}]}}}",
      host);
  is_str (s,
          "search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 1.2.3.4\n"
          "options ndots:2 edns0\n",
          "None: only dnsConfig (the upstream docs' example)");
  free (s);
  s = resolv ("{\"metadata\":{\"namespace\":\"prod\"},\"spec\":{\"dnsConfig\":"
              "{\"nameservers\":[\"10.43.0.10\",\"1.1.1.1\",\"2.2.2.2\",\"3.3.3.3\"],\"searches\":["
              "\"cluster.local\",\"x.example\"],"
              "\"options\":[{\"name\":\"ndots\",\"value\":\"1\"}]}}}",
              "");
  is_str (s,
          "search prod.svc.cluster.local svc.cluster.local cluster.local x.example\n"
          "nameserver 10.43.0.10\nnameserver 1.1.1.1\nnameserver 2.2.2.2\noptions ndots:1\n",
          "dnsConfig merges: duplicates dropped, 3 nameservers at most, options by name");
  free (s);
  s = resolv ("{\"spec\":{\"dnsPolicy\":\"Sometimes\"}}", "");
  ok (strncmp (s, "error: ", 7) == 0, "unknown dnsPolicy refused");
  free (s);

  json_t *pod = J (
      "{\"metadata\":{\"name\":\"web-0\",\"namespace\":\"prod\"},\"spec\":{\"hostname\":\"web-0\","
      "\"subdomain\":\"web\",\"hostAliases\":[{\"ip\":\"127.0.0.1\",\"hostnames\":[\"foo.local\","
      "\"bar.local\"]}]}}");
  char *h = NULL, *d = NULL;
  husk_error *err = NULL;
  ok (agent_pod_hostname (pod, NULL, &h, &d, &err) == 0, "hostname computed");
  is_str (h, "web-0", "hostname from spec.hostname");
  is_str (d, "web.prod.svc.cluster.local", "domain from subdomain");
  char *ips[] = { "10.42.0.7", NULL };
  char *hosts = agent_hosts_file (pod, ips, h, d);
  is_str (hosts,
          "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
          "::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
          "fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
          "10.42.0.7\tweb-0.web.prod.svc.cluster.local\tweb-0\n"
          "\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n",
          "/etc/hosts as kubelet writes it");
  free (hosts);
  free (h);
  free (d);
  json_decref (pod);

  pod = J ("{\"metadata\":{\"name\":\"a-very-long-pod-name-that-goes-on-and-on-beyond-sixty-three-"
           "chars-x\"},\"spec\":{}}");
  agent_pod_hostname (pod, NULL, &h, &d, &err);
  is_str (h, "a-very-long-pod-name-that-goes-on-and-on-beyond-sixty-three-cha",
          "long pod name cut to 63");
  ok (streq (d, ""), "no subdomain: no domain");
  char *ips2[] = { "10.42.0.8", NULL };
  hosts = agent_hosts_file (pod, ips2, h, d);
  ok (strstr (hosts, "10.42.0.8\ta-very-long-pod-name-that-goes-on-and-on-beyond-sixty-three-cha\n")
          && !strstr (hosts, "HostAliases"),
      "hosts without domain nor aliases");
  free (hosts);
  free (h);
  free (d);
  json_decref (pod);
  pod = J ("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},\"spec\":{\"subdomain\":\"s\","
           "\"setHostnameAsFQDN\":true}}");
  agent_pod_hostname (pod, "cluster.local", &h, &d, &err);
  is_str (h, "p.s.ns.svc.cluster.local", "setHostnameAsFQDN gives the FQDN");
  free (h);
  free (d);
  json_decref (pod);
  pod = J ("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"hostname\":\"Not_Valid\"}}");
  ok (agent_pod_hostname (pod, NULL, &h, &d, &err) < 0
          && strstr (err->msg, "not a valid DNS label"),
      "invalid hostname refused");
  husk_error_free (err);
  json_decref (pod);
}

static void
test_net_files (void)
{
  char dir[] = "/tmp/test-agent-netfiles.XXXXXX";
  if (!mkdtemp (dir))
    return;
  husk_error *err = NULL;
  json_t *pod = J ("{\"metadata\":{\"name\":\"web-0\",\"namespace\":\"prod\"},\"spec\":{}}");
  char *ips[] = { "10.42.0.9", NULL };
  agent_dns_cluster c = { .host_resolv = "nameserver 192.0.2.53\n" };
  ok (agent_pod_write_net_files (pod, &c, ips, NULL, "node-1", dir, &err) == 0,
      "pod net files written");
  char *p = xasprintf ("%s/hostname", dir), *text = NULL;
  husk_read_file (p, &text, NULL, &err);
  is_str (text, "web-0\n", "hostname file");
  free (p);
  free (text);
  p = xasprintf ("%s/hosts", dir);
  husk_read_file (p, &text, NULL, &err);
  ok (text && strstr (text, "10.42.0.9\tweb-0\n"), "hosts file names the pod");
  free (p);
  free (text);
  p = xasprintf ("%s/resolv.conf", dir);
  husk_read_file (p, &text, NULL, &err);
  ok (text && strstr (text, "nameserver 10.43.0.10\n"), "resolv.conf file");
  free (p);
  free (text);
  json_decref (pod);
  pod = J ("{\"metadata\":{\"name\":\"hn\",\"namespace\":\"prod\"},\"spec\":{\"hostNetwork\":true,"
           "\"hostAliases\":[{\"ip\":\"10.1.2.3\",\"hostnames\":[\"db.local\"]}]}}");
  ok (agent_pod_write_net_files (pod, &c, ips, "127.0.0.1 localhost\n192.0.2.7 node-1", "node-1",
                                 dir, &err)
          == 0,
      "host network files written");
  p = xasprintf ("%s/hosts", dir);
  husk_read_file (p, &text, NULL, &err);
  is_str (text,
          "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n192.0.2.7 node-1\n"
          "\n# Entries added by HostAliases.\n10.1.2.3\tdb.local\n",
          "hostNetwork hosts: the node's file plus aliases");
  free (p);
  free (text);
  p = xasprintf ("%s/hostname", dir);
  husk_read_file (p, &text, NULL, &err);
  is_str (text, "node-1\n", "hostNetwork hostname is the node's");
  free (p);
  free (text);
  p = xasprintf ("%s/resolv.conf", dir);
  husk_read_file (p, &text, NULL, &err);
  is_str (text, "nameserver 192.0.2.53\n", "hostNetwork ClusterFirst uses the node's resolv.conf");
  free (p);
  free (text);
  json_decref (pod);
  husk_rm_rf (dir, &err);
}

static void
test_service_env (void)
{
  json_t *svcs = J ("[{\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"default\"},"
                    "\"spec\":{\"clusterIP\":\"10.43.0.1\",\"ports\":[{\"name\":\"https\",\"port\":"
                    "443,\"protocol\":\"TCP\"}]}},"
                    "{\"metadata\":{\"name\":\"redis-master\",\"namespace\":\"prod\"},"
                    "\"spec\":{\"clusterIP\":\"10.43.0.11\",\"ports\":[{\"port\":6379},{\"name\":"
                    "\"metrics\",\"port\":9121,\"protocol\":\"UDP\"}]}},"
                    "{\"metadata\":{\"name\":\"headless\",\"namespace\":\"prod\"},\"spec\":{"
                    "\"clusterIP\":\"None\",\"ports\":[{\"port\":80}]}},"
                    "{\"metadata\":{\"name\":\"other\",\"namespace\":\"dev\"},\"spec\":{"
                    "\"clusterIP\":\"10.43.0.12\",\"ports\":[{\"port\":80}]}}]");
  char **v = agent_service_env (svcs, "prod", true);
  husk_buf b = HUSK_BUF_INIT;
  for (char **p = v; *p; p++)
    husk_buf_printf (&b, "%s\n", *p);
  is_str (
      husk_buf_str (&b),
      "KUBERNETES_SERVICE_HOST=10.43.0.1\nKUBERNETES_SERVICE_PORT=443\nKUBERNETES_SERVICE_PORT_"
      "HTTPS=443\n"
      "KUBERNETES_PORT=tcp://10.43.0.1:443\nKUBERNETES_PORT_443_TCP=tcp://10.43.0.1:443\n"
      "KUBERNETES_PORT_443_TCP_PROTO=tcp\nKUBERNETES_PORT_443_TCP_PORT=443\nKUBERNETES_PORT_443_"
      "TCP_ADDR=10.43.0.1\n"
      "REDIS_MASTER_SERVICE_HOST=10.43.0.11\nREDIS_MASTER_SERVICE_PORT=6379\nREDIS_MASTER_SERVICE_"
      "PORT_METRICS=9121\n"
      "REDIS_MASTER_PORT=tcp://10.43.0.11:6379\nREDIS_MASTER_PORT_6379_TCP=tcp://10.43.0.11:6379\n"
      "REDIS_MASTER_PORT_6379_TCP_PROTO=tcp\nREDIS_MASTER_PORT_6379_TCP_PORT=6379\nREDIS_MASTER_"
      "PORT_6379_TCP_ADDR=10.43.0.11\n"
      "REDIS_MASTER_PORT_9121_UDP=udp://10.43.0.11:9121\nREDIS_MASTER_PORT_9121_UDP_PROTO=udp\n"
      "REDIS_MASTER_PORT_9121_UDP_PORT=9121\nREDIS_MASTER_PORT_9121_UDP_ADDR=10.43.0.11\n",
      "service links as kubelet's (master service, own namespace only, headless skipped)");
  husk_buf_free (&b);
  strv_free (v);
  v = agent_service_env (svcs, "prod", false);
  size_t n = 0;
  while (v[n])
    n++;
  ok (n == 8 && strncmp (v[0], "KUBERNETES_", 11) == 0,
      "enableServiceLinks false: only the master service");
  strv_free (v);
  json_decref (svcs);
}

int
main (void)
{
  test_quantity ();
  test_expand ();
  test_env ();
  test_qos ();
  test_dns ();
  test_service_env ();
  test_net_files ();
  return tap_done ();
}
