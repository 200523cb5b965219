/* husk node agent: static pods from a manifest directory (kubelet's file source). */
#ifndef HUSK_AGENT_STATIC_H
#define HUSK_AGENT_STATIC_H

#include <jansson.h>
#include <stdint.h>

#include "lib/error.h"

/* Reads every non-hidden regular file of dir as one Pod (YAML or JSON) and defaults it as
   kubelet does: name "<name>-<node>", namespace "default" when unset, spec.nodeName,
   a UID that is a hash of the file's content, the node and the path (stable across agent
   restarts, new when the file changes), annotations kubernetes.io/config.hash (= UID),
   kubernetes.io/config.source "file" and kubernetes.io/config.seen (now), and a toleration
   of every NoExecute taint. Files that do not parse or are not a Pod are skipped and
   named in *errors (NULL-terminated, may be empty; caller frees with strv_free).
   *out: a JSON array of pods, sorted by file name. The mirror pod the agent creates in the
   API is such a pod with kubernetes.io/config.mirror set to the hash. */
int agent_static_pods_load (const char *dir, const char *node_name, int64_t now, json_t **out,
                            char ***errors, husk_error **err);

#endif
