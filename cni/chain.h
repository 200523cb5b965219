/* husk-cni library: running a network configuration list (a chain of plugins) the way the
   CNI spec's runtime section says (libcni's behaviour), for the node agent when it is given
   a standard chain (e.g. Debian's bridge + host-local, portmap, tuning) instead of husk-cni. */
#ifndef HUSK_CNI_CHAIN_H
#define HUSK_CNI_CHAIN_H

#include "cni/cni.h"

typedef struct cni_list_rt
{
  const char *container_id, *netns, *ifname, *args; /* CNI_CONTAINERID, ... (netns may be NULL) */
  const char *cni_path;                             /* CNI_PATH: where plugins are found */
  const char *husk_cni;  /* the husk-cni executable for type "husk-cni" (NULL: from cni_path) */
  json_t *capability_args; /* e.g. {"portMappings": [...]}: each key goes, as runtimeConfig,
                              to the plugins whose "capabilities" declare it */
  const char *cache_dir;   /* ADD's final result is kept here for DEL and CHECK (NULL: none) */
  int stderr_fd;           /* the plugins' stderr (-1: inherited) */
} cni_list_rt;

/* Whether conf is a configuration list ({"name", "cniVersion"/"cniVersions", "plugins"}). */
bool cni_list_is_list (json_t *conf);

/* Runs command (ADD, DEL, CHECK, GC, STATUS) over conf, a list or a single configuration.
   ADD runs the plugins in order, each getting the previous one's result as prevResult, and
   sets *out to the last result; a failed ADD is undone (DEL of the plugins already run, in
   reverse) before returning the plugin's error with its CNI code. DEL runs in reverse with
   the cached result as prevResult and does not stop at a failing plugin (the first error is
   returned after all ran). CHECK (unless disableCheck) runs in order with the cached result.
   The environment handed to plugins is CNI_* from rt and PATH only. */
int cni_list_run (json_t *conf, const cni_list_rt *rt, const char *command, json_t **out,
                  husk_error **err);

/* The cache file of an attachment (cache_dir/<network>-<container id>-<ifname>). */
char *cni_list_cache_path (const char *cache_dir, const char *network, const char *container_id,
                           const char *ifname);

#endif
