/* husk api: pods/{name}/log, exec, attach and portforward proxied to the node API of the
   pod's node (src/master/api/nodeproxy.c). */
#ifndef HUSK_API_NODEPROXY_H
#define HUSK_API_NODEPROXY_H

#include "src/master/api/handlers.h"

/* Answers r for the stored pod pod_json: a WebSocket upgrade is passed through to the node
   (bytes relayed both ways once both sides switched protocols), logs are relayed as they
   stream. The node is the pod's spec.nodeName: its InternalIP and
   status.daemonEndpoints.kubeletEndpoint.Port, over TLS (its certificate is not verified,
   as kubelet's default), with the master's node token (the admin token on a 401). */
enum MHD_Result api_node_proxy (api_req *r, const api_route *rt, const char *pod_json);

#endif
