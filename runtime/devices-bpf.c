/* husk runtime: the device cgroup of cgroup v2, an eBPF program (BPF_CGROUP_DEVICE)
   generated from linux.resources.devices. As runc: rules apply in order (a later one wins),
   the default devices and linux.devices are always allowed, anything else is denied. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

#include "runtime/internal.h"

typedef struct dev_rule
{
  bool allow;
  int type;    /* BPF_DEVCG_DEV_CHAR, BPF_DEVCG_DEV_BLOCK, 0: any */
  int64_t major, minor; /* -1: any */
  int access;  /* BPF_DEVCG_ACC_* bits */
} dev_rule;

/* runc's AllowedDevices: null, zero, full, tty, random, urandom, console, ptmx, pts, and
   mknod of anything. */
static const dev_rule default_rules[] = {
  {true, BPF_DEVCG_DEV_CHAR, -1, -1, BPF_DEVCG_ACC_MKNOD},
  {true, BPF_DEVCG_DEV_BLOCK, -1, -1, BPF_DEVCG_ACC_MKNOD},
  {true, BPF_DEVCG_DEV_CHAR, 1, 3, 7},   {true, BPF_DEVCG_DEV_CHAR, 1, 5, 7},
  {true, BPF_DEVCG_DEV_CHAR, 1, 7, 7},   {true, BPF_DEVCG_DEV_CHAR, 5, 0, 7},
  {true, BPF_DEVCG_DEV_CHAR, 1, 8, 7},   {true, BPF_DEVCG_DEV_CHAR, 1, 9, 7},
  {true, BPF_DEVCG_DEV_CHAR, 5, 1, 7},   {true, BPF_DEVCG_DEV_CHAR, 5, 2, 7},
  {true, BPF_DEVCG_DEV_CHAR, 136, -1, 7},
};

static int
access_bits (const char *s)
{
  int a = 0;
  for (; s && *s; s++)
    a |= *s == 'r' ? BPF_DEVCG_ACC_READ : *s == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  return a ? a : 7;
}

typedef struct prog
{
  struct bpf_insn *v;
  size_t n;
} prog;

static void
emit (prog *p, struct bpf_insn i)
{
  p->v = xreallocarray (p->v, p->n + 1, sizeof *p->v);
  p->v[p->n++] = i;
}

#define INSN(c, d, s, o, im) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (im)})

/* r2 = type, r3 = access, r4 = major, r5 = minor (from struct bpf_cgroup_dev_ctx in r1).
   Returns true when the rule matches every access (nothing after it can run). */
static bool
emit_rule (prog *p, const dev_rule *r)
{
  /* Each check jumps to the end of this block when it fails; offsets are patched below. */
  size_t start = p->n;
  if (r->type)
    emit (p, INSN (BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, r->type));
  if (r->access != 7)
    {
      emit (p, INSN (BPF_ALU64 | BPF_MOV | BPF_X, 6, 3, 0, 0));
      emit (p, INSN (BPF_ALU64 | BPF_AND | BPF_K, 6, 0, 0, ~r->access & 7));
      emit (p, INSN (BPF_JMP | BPF_JNE | BPF_K, 6, 0, 0, 0));
    }
  if (r->major >= 0)
    emit (p, INSN (BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, (int32_t) r->major));
  if (r->minor >= 0)
    emit (p, INSN (BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int32_t) r->minor));
  emit (p, INSN (BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r->allow ? 1 : 0));
  emit (p, INSN (BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  for (size_t i = start; i < p->n; i++)
    if (BPF_CLASS (p->v[i].code) == BPF_JMP && BPF_OP (p->v[i].code) == BPF_JNE)
      p->v[i].off = (int16_t) (p->n - i - 1);
  return p->n - start == 2;
}

static int
collect (json_t *resources, const rt_spec *spec, dev_rule **out, size_t *n, husk_error **err)
{
  size_t i, cnt = 0;
  json_t *d;
  json_t *arr = json_object_get (resources, "devices");
  dev_rule *v = xcalloc (json_array_size (arr) + ARRAY_SIZE (default_rules)
                           + (spec ? spec->ndevices : 0) + 1,
                         sizeof *v);
  json_array_foreach (arr, i, d)
  {
    const char *t = json_string_value (json_object_get (d, "type"));
    json_t *maj = json_object_get (d, "major"), *min = json_object_get (d, "minor");
    dev_rule *r = &v[cnt++];
    r->allow = json_is_true (json_object_get (d, "allow"));
    r->type = !t || t[0] == 'a' ? 0 : t[0] == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
    r->major = maj ? json_integer_value (maj) : -1;
    r->minor = min ? json_integer_value (min) : -1;
    r->access = access_bits (json_string_value (json_object_get (d, "access")));
    if (!r->allow && r->type == 0 && r->access == 7 && (r->major >= 0 || r->minor >= 0))
      {
        free (v);
        return husk_err (err, EINVAL, "linux.resources.devices[%zu]: type \"a\" with numbers", i);
      }
  }
  for (i = 0; i < ARRAY_SIZE (default_rules); i++)
    v[cnt++] = default_rules[i];
  for (i = 0; spec && i < spec->ndevices; i++)
    if (spec->devices[i].type != 'p')
      v[cnt++] = (dev_rule){true,
                            spec->devices[i].type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR,
                            spec->devices[i].major, spec->devices[i].minor, 7};
  *out = v;
  *n = cnt;
  return 0;
}

static void
build (prog *p, const dev_rule *rules, size_t n)
{
  emit (p, INSN (BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0));
  emit (p, INSN (BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff));
  emit (p, INSN (BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0));
  emit (p, INSN (BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16));
  emit (p, INSN (BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0));
  emit (p, INSN (BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0));
  for (size_t i = n; i-- > 0;) /* the last matching rule decides */
    if (emit_rule (p, &rules[i]))
      return;
  emit (p, INSN (BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
  emit (p, INSN (BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

static long
bpf (int cmd, union bpf_attr *a)
{
  return syscall (SYS_bpf, cmd, a, sizeof *a);
}

/* Detaches every device program of the cgroup except keep. */
static void
detach_others (int cgfd, int keep)
{
  uint32_t ids[64], cnt = 64;
  union bpf_attr q = {0};
  q.query.target_fd = (uint32_t) cgfd;
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = (uint64_t) (uintptr_t) ids;
  q.query.prog_cnt = cnt;
  if (bpf (BPF_PROG_QUERY, &q) < 0)
    return;
  struct bpf_prog_info info = {0};
  union bpf_attr ia = {0};
  ia.info.bpf_fd = (uint32_t) keep;
  ia.info.info_len = sizeof info;
  ia.info.info = (uint64_t) (uintptr_t) &info;
  if (bpf (BPF_OBJ_GET_INFO_BY_FD, &ia) < 0)
    return;
  for (uint32_t i = 0; i < q.query.prog_cnt && i < 64; i++)
    {
      if (ids[i] == info.id)
        continue;
      union bpf_attr g = {0};
      g.prog_id = ids[i];
      int fd = (int) bpf (BPF_PROG_GET_FD_BY_ID, &g);
      if (fd < 0)
        continue;
      union bpf_attr d = {0};
      d.target_fd = (uint32_t) cgfd;
      d.attach_bpf_fd = (uint32_t) fd;
      d.attach_type = BPF_CGROUP_DEVICE;
      bpf (BPF_PROG_DETACH, &d);
      close (fd);
    }
}

int
rt_devices_cgroup (const rt_cgroup *cg, json_t *resources, const rt_spec *spec, husk_error **err)
{
  dev_rule *rules = NULL;
  size_t n = 0;
  int r = collect (resources, spec, &rules, &n, err);
  if (r < 0)
    return r;
  prog p = {0};
  build (&p, rules, n);
  free (rules);
  char log[4096] = "";
  union bpf_attr a = {0};
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uint64_t) (uintptr_t) p.v;
  a.insn_cnt = (uint32_t) p.n;
  a.license = (uint64_t) (uintptr_t) "Apache-2.0";
  _cleanup_close_ int pfd = (int) bpf (BPF_PROG_LOAD, &a);
  if (pfd < 0 && errno == EACCES)
    {
      /* The verifier refused it: load again for its log. */
      a.log_buf = (uint64_t) (uintptr_t) log;
      a.log_size = sizeof log;
      a.log_level = 1;
      bpf (BPF_PROG_LOAD, &a);
      errno = EACCES;
    }
  free (p.v);
  if (pfd < 0)
    return husk_err_errno (err, "linux.resources.devices: load the device filter%s%s",
                           *log ? ": " : "", log);
  _cleanup_close_ int cgfd = open (cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0)
    return husk_err_errno (err, "open cgroup %s", cg->path);
  union bpf_attr at = {0};
  at.target_fd = (uint32_t) cgfd;
  at.attach_bpf_fd = (uint32_t) pfd;
  at.attach_type = BPF_CGROUP_DEVICE;
  at.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf (BPF_PROG_ATTACH, &at) < 0)
    return husk_err_errno (err, "linux.resources.devices: attach the device filter to %s",
                           cg->path);
  detach_others (cgfd, pfd);
  return 0;
}
