/* husk: the node agent flags `husk node` and `husk up` share (static pods, eviction, image
   GC): their help lines, getopt entries and handling. */
#ifndef HUSK_CLI_NODEFLAGS_H
#define HUSK_CLI_NODEFLAGS_H

#include <getopt.h>
#include <stdbool.h>

#include "src/node/node.h"

#define NODE_EXTRA_FLAGS_HELP                                                                     \
  "  --pod-manifest-path D  run the pods in D's files as static pods (mirror pods in the API)\n" \
  "  --eviction-hard LIST   memory.available<100Mi,nodefs.available<10%%,nodefs.inodesFree<5%%\n" \
  "  --image-gc-high-threshold PCT  image GC starts at this disk usage (default 85)\n"           \
  "  --image-gc-low-threshold PCT   and frees down to this one (default 80)\n"                   \
  "  --image-minimum-gc-age DUR     images used more recently are kept (default 2m)\n"           \
  "  --image-gc-period DUR          how often image GC looks (default 5m)\n"                  \
  "  --allowed-unsafe-sysctls LIST  namespaced sysctls allowed beyond the safe set (kernel.msg*)\n" \
  "  --seccomp-profile-root D       Localhost seccomp profiles (default <data-dir>/seccomp)\n" \
  "  --pod-max-pids N               pids.max of every pod's cgroup (default -1: no limit)\n"

#define NODE_EXTRA_OPTIONS                                                                        \
  {"pod-manifest-path", required_argument, NULL, 0x100},                                         \
  {"eviction-hard", required_argument, NULL, 0x101},                                             \
  {"image-gc-high-threshold", required_argument, NULL, 0x102},                                   \
  {"image-gc-low-threshold", required_argument, NULL, 0x103},                                    \
  {"image-minimum-gc-age", required_argument, NULL, 0x104},                                      \
  {"image-gc-period", required_argument, NULL, 0x105},                                           \
  {"allowed-unsafe-sysctls", required_argument, NULL, 0x106},                                    \
  {"seccomp-profile-root", required_argument, NULL, 0x107},                                      \
  {"pod-max-pids", required_argument, NULL, 0x108}

/* The agent's command line run in this process (src/cli/node.c); `husk node` execs the
   lean husk-node program (src/cli/husk-node.c) when it is installed next to husk. */
int husk_node_main (int argc, char **argv);
/* `husk node --image-helper ...`: what husk-node runs through husk (src/cli/node-image-helper.c). */
int node_image_helper (int argc, char **argv);

/* Takes getopt's answer c for one of NODE_EXTRA_OPTIONS: true when it was one. The values
   are checked when the node starts. */
static inline bool
node_extra_flag (int c, const char *arg, node_config *cfg)
{
  switch (c)
    {
    case 0x100: cfg->pod_manifest_path = arg; return true;
    case 0x101: cfg->eviction_hard = arg; return true;
    case 0x102: cfg->image_gc_high = arg; return true;
    case 0x103: cfg->image_gc_low = arg; return true;
    case 0x104: cfg->image_min_age = arg; return true;
    case 0x105: cfg->image_gc_period = arg; return true;
    case 0x106: cfg->allowed_unsafe_sysctls = arg; return true;
    case 0x107: cfg->seccomp_profile_root = arg; return true;
    case 0x108: cfg->pod_max_pids = arg; return true;
    default: return false;
    }
}

#endif
