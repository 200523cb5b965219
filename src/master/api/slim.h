/* husk api: a pod's stored JSON cut down to what its Table row needs, without a parse. */
#ifndef HUSK_API_SLIM_H
#define HUSK_API_SLIM_H

#include <stddef.h>

/* Copies pod JSON text json[0..len) keeping metadata (less managedFields), status and the
   spec fields the pod columns read (nodeName, readinessGates; containers as that many empty
   objects). NULL when the text is not the shape expected (the caller then parses it whole). */
char *api_slim_pod (const char *json, size_t len);

#endif
