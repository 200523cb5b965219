/* husk api: admission plugins of the create path (admission.c). */
#ifndef HUSK_API_ADMISSION_H
#define HUSK_API_ADMISSION_H

#include "src/master/api/handlers.h"

/* Runs after validation, before the object is stored. On create (old NULL): pods get
   upstream's default NoExecute tolerations (DefaultTolerationSeconds) and their LimitRange
   defaults, then LimitRange constraints; claims without a class get the default
   StorageClass; then every ResourceQuota of the namespace is checked; an accepted create is charged
   to the quotas' status.used. On update (old set, no subresource): what grew in a pod's,
   claim's or service's usage is checked and charged the same way (upstream's quota
   admission on Update); nothing else. Subresources pass. Returns false after replying (403
   Forbidden with upstream's message, or 500). */
bool api_admission (api_req *r, const api_route *rt, json_t *obj, const json_t *old);

#endif
