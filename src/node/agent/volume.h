/* husk node agent: volumes made of files, as kubelet makes them.

   configMap, secret, downwardAPI and projected volumes are a payload (relative path ->
   bytes + mode) written by the atomic writer: the files live in a timestamped directory
   "..2026_11_27_05_10_00.123456789", "..data" is a symlink to it, and each top-level
   name is a symlink "<name>" -> "..data/<name>". An update writes a new timestamped
   directory and renames a fresh symlink over "..data", so a reader sees the old set or
   the new set, never a mix. secret and projected volumes live on tmpfs (never on disk).
   emptyDir is a directory (or tmpfs for medium Memory, sized by sizeLimit); hostPath is
   checked against its type. */
#ifndef HUSK_AGENT_VOLUME_H
#define HUSK_AGENT_VOLUME_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"

typedef struct agent_vol_file
{
  char *path; /* relative, validated */
  char *data;
  size_t len;
  mode_t mode;
} agent_vol_file;

typedef struct agent_vol_payload
{
  agent_vol_file *files;
  size_t n;
} agent_vol_payload;

/* Adds or replaces path (a copy of data is kept). */
void agent_vol_payload_add (agent_vol_payload *p, const char *path, const char *data, size_t len,
                            mode_t mode);
void agent_vol_payload_free (agent_vol_payload *p);

/* kubelet's validatePath: relative, no ".." element, not starting with "..", at most
   4096 bytes and 255 per element. */
int agent_vol_path_valid (const char *path, husk_error **err);

/* Writes the payload into dir with the atomic writer scheme (creating dir). Files not in
   the payload any more disappear; an unchanged payload writes nothing (*changed false).
   fs_group >= 0: files get that group and mode | 0440 (kubelet's SetVolumeOwnership for
   read-only volumes). changed may be NULL. */
int agent_atomic_write (const char *dir, const agent_vol_payload *p, gid_t fs_group, bool *changed,
                        husk_error **err);

/* ---- payloads from the API objects ------------------------------------------------------ */

typedef struct agent_vol_ctx
{
  /* As agent_env_ctx: *out = new reference or NULL when it does not exist. */
  int (*get_configmap) (void *ud, const char *name, json_t **out, husk_error **err);
  int (*get_secret) (void *ud, const char *name, json_t **out, husk_error **err);
  /* A service account token for projected serviceAccountToken sources (NULL: refused). */
  int (*get_token) (void *ud, const char *audience, int64_t expiration_seconds, char **out,
                    husk_error **err);
  /* A PersistentVolumeClaim of the pod's namespace / a PersistentVolume (cluster scope)
     by name, as get_configmap: for persistentVolumeClaim volumes. */
  int (*get_pvc) (void *ud, const char *name, json_t **out, husk_error **err);
  int (*get_pv) (void *ud, const char *name, json_t **out, husk_error **err);
  void *ud;
  json_t *pod;
  json_t *node_allocatable;
} agent_vol_ctx;

typedef enum agent_vol_kind
{
  AGENT_VOL_UNKNOWN = 0,
  AGENT_VOL_CONFIGMAP,
  AGENT_VOL_SECRET,
  AGENT_VOL_DOWNWARD_API,
  AGENT_VOL_PROJECTED,
  AGENT_VOL_EMPTY_DIR,
  AGENT_VOL_HOST_PATH,
  AGENT_VOL_PVC,
} agent_vol_kind;

/* The kind of a pod.spec.volumes[] entry, and kubelet's plugin directory name for it
   ("kubernetes.io~configmap", ...). */
agent_vol_kind agent_vol_kind_of (json_t *volume);
const char *agent_vol_plugin_dir (agent_vol_kind k);

/* The payload of a configMap, secret, downwardAPI or projected volume (pod.spec.volumes[]
   entry). Missing objects/keys not marked optional fail with kubelet's messages
   (`configmap "x" not found`, `configmap references non-existent config key: k`). */
int agent_vol_payload_for (const agent_vol_ctx *ctx, json_t *volume, agent_vol_payload **out,
                           husk_error **err);

/* ---- directories and mounts ---------------------------------------------------------------- */

/* Mounts a tmpfs on dir (created) unless one is already there; size_bytes <= 0: no size
   option. mode 0755 (0777 for emptyDir). */
int agent_vol_tmpfs (const char *dir, int64_t size_bytes, mode_t mode, husk_error **err);
/* Detaches the mount on dir if there is one (not mounted is fine). */
int agent_vol_umount (const char *dir, husk_error **err);
/* True when dir is the root of a tmpfs mount. */
bool agent_vol_is_tmpfs (const char *dir);

/* emptyDir (the volume's "emptyDir" object): a 0777 directory, or a tmpfs for medium
   "Memory" sized by sizeLimit. */
int agent_vol_empty_dir (json_t *empty_dir, const char *dir, husk_error **err);
/* Size of a medium Memory emptyDir as kubelet computes it: node allocatable memory, or the
   pod's memory limit when smaller, or the volume's sizeLimit when smaller still; 0 when
   none is known (the kernel's default, half of RAM). */
int64_t agent_vol_memory_size (const agent_vol_ctx *ctx, json_t *empty_dir);

/* hostPath (the volume's "hostPath" object): checks spec.type ("", Directory,
   DirectoryOrCreate, File, FileOrCreate, Socket, CharDevice, BlockDevice), creating for
   the *OrCreate types. *out = the path. */
int agent_vol_host_path (json_t *host_path, char **out, husk_error **err);
/* subPath inside a volume: refuses absolute paths and "..", resolves symlinks inside
   the volume so that the result never leaves it. */
int agent_vol_subpath (const char *volume_dir, const char *subpath, char **out, husk_error **err);

/* persistentVolumeClaim (the volume's object): the claim must be Bound to a PV with
   hostPath (type-checked like a hostPath volume) or local (path must exist). *out = the
   host path. */
int agent_vol_pvc (const agent_vol_ctx *ctx, json_t *pvc_source, char **out, husk_error **err);

/* Everything for one file-backed volume of a pod: <pods_dir>/<uid>/volumes/<plugin>/<name>
   made (tmpfs for secret and projected, and emptyDir Memory) and filled; hostPath checked;
   persistentVolumeClaim resolved to its PV's path.
   *out = the host path to bind into containers. Calling it again refreshes a
   configMap/secret/downwardAPI/projected volume atomically (the update path). */
int agent_vol_setup (const agent_vol_ctx *ctx, const char *pods_dir, json_t *volume, gid_t fs_group,
                     char **out, husk_error **err);
/* Unmounts and removes <pods_dir>/<uid>/volumes (never touching hostPath volumes). */
int agent_vol_teardown_pod (const char *pods_dir, const char *uid, husk_error **err);

#endif
