/* husk-cni: a CNI 1.0/1.1 bridge plugin with built-in host-local IPAM.
   Public interface of the cni/ library (linked by husk-cni and, later, the node agent). */
#ifndef HUSK_CNI_H
#define HUSK_CNI_H

#include <jansson.h>
#include <netinet/in.h>

#include "lib/error.h"

/* CNI spec error codes. A husk_error whose errnum is CNI_ERRNUM(code) carries that code
   through to the error object printed on stdout; any other errnum maps through
   cni_error_code(). */
enum
{
  CNI_ERR_INCOMPATIBLE_VERSION = 1,
  CNI_ERR_UNSUPPORTED_FIELD = 2,
  CNI_ERR_UNKNOWN_CONTAINER = 3,
  CNI_ERR_INVALID_ENV = 4,
  CNI_ERR_IO = 5,
  CNI_ERR_DECODE = 6,
  CNI_ERR_INVALID_CONFIG = 7,
  CNI_ERR_TRY_AGAIN = 11,
  CNI_ERR_PLUGIN_NOT_AVAILABLE = 50,
  CNI_ERR_LIMITED_CONNECTIVITY = 51,
  /* plugin-specific codes (100+) */
  CNI_ERR_INTERNAL = 100,
  CNI_ERR_NO_ADDRESSES = 101, /* the IPAM range is exhausted */
  CNI_ERR_CHECK_FAILED = 102, /* CHECK found the attachment differs from prevResult */
  CNI_ERR_DELEGATE = 103,     /* a delegated plugin failed without a CNI error object */
};
#define CNI_ERRNUM_BASE  100000
#define CNI_ERRNUM(code) (CNI_ERRNUM_BASE + (code))
/* The CNI code for an error: its explicit code, or one derived from its errno. */
int cni_error_code (const husk_error *err);
/* Sets *err with an explicit CNI code; returns < 0. */
int cni_err (husk_error **err, int code, const char *fmt, ...) _printf_ (3, 4);

/* The newest spec version we speak and the list we accept (NULL-terminated). */
#define CNI_VERSION_LATEST "1.1.0"
extern const char *const cni_supported_versions[];
bool cni_version_supported (const char *v);
/* strverscmp-like comparison of "a.b.c" versions: <0, 0, >0. */
int cni_version_cmp (const char *a, const char *b);

/* ---- addresses ---- */
typedef struct cni_ip
{
  int family; /* AF_INET or AF_INET6; 0 = unset */
  uint8_t addr[16];
  int prefix; /* prefix length, -1 when none was given */
} cni_ip;

/* Parses "10.1.2.3", "10.1.2.3/24", "fd00::1/64". */
int cni_ip_parse (const char *s, cni_ip *out, husk_error **err);
/* "10.1.2.3" (without prefix) or "10.1.2.3/24" (with_prefix and prefix >= 0). */
char *cni_ip_format (const cni_ip *ip, bool with_prefix);
int cni_ip_len (const cni_ip *ip);                 /* 4 or 16 */
int cni_ip_cmp (const cni_ip *a, const cni_ip *b); /* compares family and address only */
/* The network address (host bits cleared) of ip/prefix. */
cni_ip cni_ip_network (const cni_ip *ip, int prefix);
/* The last address of ip/prefix (host bits set). */
cni_ip cni_ip_last (const cni_ip *ip, int prefix);
bool cni_ip_in_subnet (const cni_ip *ip, const cni_ip *subnet);
/* ip + delta (delta may be negative); wraps within the address width. */
cni_ip cni_ip_add (const cni_ip *ip, int delta);

/* ---- configuration ---- */
typedef struct cni_range
{
  cni_ip subnet; /* with prefix */
  cni_ip start, end, gateway;
} cni_range;

typedef struct cni_rangeset
{
  cni_range *ranges;
  size_t n;
} cni_rangeset;

typedef struct cni_route
{
  cni_ip dst; /* with prefix */
  cni_ip gw;  /* family 0 when absent */
} cni_route;

typedef struct cni_ipam_conf
{
  char *type;     /* "host-local" is built in; anything else is exec'd from CNI_PATH */
  char *data_dir; /* host-local state root; the network's files live in data_dir/<name> */
  cni_rangeset *sets;
  size_t nsets;
  cni_route *routes;
  size_t nroutes;
} cni_ipam_conf;

typedef struct cni_port_mapping
{
  int host_port, container_port;
  char *protocol; /* "tcp", "udp" or "sctp" */
  cni_ip host_ip; /* family 0 = any local address */
} cni_port_mapping;

typedef struct cni_attachment
{
  char *container_id, *ifname;
} cni_attachment;

/* gsoMaxSize bounds: the kernel's legacy GSO size and its BIG TCP maximum (tso_max_size of
   veth and bridge). */
#define CNI_GSO_LEGACY_MAX 65536
#define CNI_GSO_MAX 524280

typedef struct cni_conf
{
  json_t *raw; /* the whole stdin document (owned) */
  char *cni_version, *name, *type;
  char *bridge; /* default husk0 */
  bool is_gateway, is_default_gateway, ip_masq, hairpin_mode, promisc_mode;
  cni_ip *masq_exclude; /* ipMasqExclude: more destinations not masqueraded (e.g. the
                           cluster and service CIDRs), each with prefix */
  size_t nmasq_exclude;
  cni_ip *notrack; /* notrackCIDRs (husk): pod traffic to/from these not conntracked */
  size_t nnotrack;
  bool fast_path; /* fastPath (husk, default true): pod-to-pod frames of this node go veth to
                     veth past the bridge and conntrack (cni/fastpath.c) */
  int mtu; /* 0 = kernel default */
  int gso_max_size; /* gsoMaxSize (husk): BIG TCP on both veth ends and the bridge; 0 = the
                       kernel's 64 KiB */
  bool has_ipam;
  cni_ipam_conf ipam;
  cni_port_mapping *port_mappings; /* runtimeConfig.portMappings */
  size_t nport_mappings;
  cni_attachment *valid_attachments; /* GC: cni.dev/valid-attachments */
  size_t nvalid_attachments;
  json_t *prev_result; /* borrowed from raw */
} cni_conf;

/* Parses the network configuration read from stdin. Errors carry CNI codes 1, 6 or 7. */
int cni_conf_parse (const char *data, size_t len, cni_conf **out, husk_error **err);
void cni_conf_free (cni_conf *c);
DEFINE_CLEANUP (cni_conf *, cni_conf_free)

typedef struct cni_env
{
  const char *command, *container_id, *netns, *ifname, *args, *path;
} cni_env;

/* Reads CNI_* from the environment and checks what `command` needs (code 4 otherwise). */
int cni_env_load (cni_env *env, husk_error **err);

/* ---- results ---- */
typedef struct cni_result_ip
{
  cni_ip address; /* with prefix */
  cni_ip gateway; /* family 0 when none */
  int interface;  /* index into interfaces, -1 when none */
} cni_result_ip;

typedef struct cni_result_iface
{
  char *name, *mac, *sandbox;
  int mtu;
} cni_result_iface;

typedef struct cni_result
{
  cni_result_iface *ifaces;
  size_t nifaces;
  cni_result_ip *ips;
  size_t nips;
  cni_route *routes;
  size_t nroutes;
  json_t *dns; /* owned; may be NULL */
} cni_result;

void cni_result_free (cni_result *r);
DEFINE_CLEANUP (cni_result *, cni_result_free)
int cni_result_add_iface (cni_result *r, const char *name, const char *mac, const char *sandbox);
/* The result as the spec prints it for version (0.3.x/0.4.0 carry "version" in ips). */
json_t *cni_result_to_json (const cni_result *r, const char *version);
/* Decodes a result (prevResult or a delegated IPAM plugin's output). */
int cni_result_from_json (json_t *j, cni_result **out, husk_error **err);
/* The spec error object for err. */
json_t *cni_error_to_json (const husk_error *err, const char *version, const char *details);

/* ---- host-local IPAM (cni/ipam.c) ---- */
/* Allocates one address per range set for (container_id, ifname) under
   data_dir/<network>, holding an flock on the network's lock file. An attachment that
   already holds addresses gets the same ones back. Fills r->ips (interface -1) and r->routes. */
int cni_ipam_alloc (const cni_ipam_conf *ipam, const char *network, const char *container_id,
                    const char *ifname, cni_result *r, husk_error **err);
/* Releases every address held by (container_id, ifname); none held is not an error. */
int cni_ipam_release (const cni_ipam_conf *ipam, const char *network, const char *container_id,
                      const char *ifname, husk_error **err);
/* Releases every address whose holder is not in valid[]. *released counts them. */
int cni_ipam_gc (const cni_ipam_conf *ipam, const char *network, const cni_attachment *valid,
                 size_t nvalid, int *released, husk_error **err);
/* Lists the addresses held by (container_id, ifname) (for CHECK). */
int cni_ipam_held (const cni_ipam_conf *ipam, const char *network, const char *container_id,
                   const char *ifname, cni_ip **out, size_t *n, husk_error **err);
/* Fails with code 50 when a range set has no free address left (STATUS). */
int cni_ipam_check_free (const cni_ipam_conf *ipam, const char *network, husk_error **err);
/* The directory holding a network's state. */
char *cni_ipam_dir (const cni_ipam_conf *ipam, const char *network);

/* ---- delegation (cni/exec.c) ---- */
/* Runs plugin `type` found on the CNI_PATH list with `command`, the same environment
   otherwise, and stdin_json on stdin. *out gets its parsed stdout (may stay NULL for
   DEL/GC/STATUS). A failure passes the plugin's CNI error object through in err. */
int cni_exec_plugin (const char *type, const char *cni_path, const char *command,
                     json_t *stdin_json, json_t **out, husk_error **err);
/* Runs the plugin at path (named type in messages) the same way, with the environment envp
   (which must hold CNI_COMMAND=command) or, when envp is NULL, this process's environment
   with CNI_COMMAND set; its stderr goes to stderr_fd (-1: inherited). */
int cni_exec_file (const char *path, const char *type, const char *command, char *const *envp,
                   int stderr_fd, json_t *stdin_json, json_t **out, husk_error **err);
/* The first executable CNI_PATH entry named type, or NULL. */
char *cni_find_plugin (const char *type, const char *cni_path);
/* The outside-input half of cni_exec_plugin: a plugin's stdout `text` (NUL-terminated) and
   wait status -> *out (its JSON object; untouched when out is NULL or text is blank), or
   its error object as err (code passed through), or code 6/103. */
int cni_exec_decode (const char *type, const char *command, int status, const char *text,
                     json_t **out, husk_error **err);

/* ---- the plugin commands (cni/plugin.c) ---- */
/* Each takes the parsed configuration and environment and, on success, the JSON to print
   on stdout (NULL for nothing). */
int cni_cmd_add (const cni_conf *c, const cni_env *env, json_t **out, husk_error **err);
int cni_cmd_del (const cni_conf *c, const cni_env *env, husk_error **err);
int cni_cmd_check (const cni_conf *c, const cni_env *env, husk_error **err);
int cni_cmd_gc (const cni_conf *c, const cni_env *env, husk_error **err);
int cni_cmd_status (const cni_conf *c, const cni_env *env, husk_error **err);
json_t *cni_cmd_version (const char *requested);

/* Runs the whole plugin: reads stdin and the environment, dispatches, prints the result
   or the error object. Returns the process exit status. */
int cni_plugin_main (FILE *in, FILE *out);

#endif
