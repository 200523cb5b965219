/* husk node agent: helpers shared by the agent's files. */
#ifndef HUSK_AGENT_INTERNAL_H
#define HUSK_AGENT_INTERNAL_H

#include <jansson.h>

#include "lib/error.h"

/* Go's %q for a string: quotes, backslash escapes, printable UTF-8 kept. */
char *agent_go_quote (const char *s);
/* A container object of spec.containers, initContainers or ephemeralContainers by name. */
json_t *agent_pod_container (json_t *pod, const char *name);
/* upstream IsEnvVarName: [-._a-zA-Z][-._a-zA-Z0-9]* */
bool agent_env_name_valid (const char *s);
/* IsDNS1123Label: [a-z0-9]([-a-z0-9]*[a-z0-9])? up to 63 */
bool agent_dns_label_valid (const char *s);

#endif
