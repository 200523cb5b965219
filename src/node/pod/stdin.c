/* husk node: containers with spec.stdin get a pipe as their stdin. The shim's fork makes it
   (pod/container.c shim_child): the container reads its end as fd 0, husk-shim holds the
   write end on fd 5 for as long as the container runs, so the container sees no EOF while
   nobody is attached or the agent is away. `kubectl attach -i` writes into it through
   /proc/<shim>/fd/5 (nodeapi/attach.c); with stdinOnce the first attach's end closes it
   (SIGUSR1 to the shim). <bundle>/stdin tells the node API which: "open" or "once". */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "lib/json.h"
#include "src/node/node-internal.h"

int
pod_ctr_stdin_pipe (node_agent *a, const char *id, const char *bundle, int fds[2])
{
  for (node_pod *p = a->pods; p; p = p->next)
    for (size_t i = 0; i < p->nctrs; i++)
      {
        node_ctr *c = &p->ctrs[i];
        _cleanup_free_ char *cid = pod_ctr_runtime_id (p, c);
        if (!streq (cid, id))
          continue;
        if (!json_is_true (json_object_get (c->spec, "stdin")))
          return -1;
        if (pipe2 (fds, O_CLOEXEC) < 0)
          return -1;
        const char *mode = json_is_true (json_object_get (c->spec, "stdinOnce")) ? "once\n" : "open\n";
        _cleanup_free_ char *path = xasprintf ("%s/stdin", bundle);
        int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0)
          {
            if (write (fd, mode, strlen (mode)) < 0)
              (void) 0;
            close (fd);
          }
        return 0;
      }
  return -1;
}
