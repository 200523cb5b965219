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

/* Facts about a namespace that admission reads from the store on every create and that
   hold until the store's resource of the fact is written again (store_resource_write_rev):
   a cache that spares the creates of a namespace without quotas or LimitRanges their store
   LIST, and every create its namespace GET. */
typedef enum api_fact
{
  API_FACT_NS_USABLE,    /* the namespace exists and is not terminating (resource namespaces) */
  API_FACT_NO_QUOTA,     /* no ResourceQuota in the namespace */
  API_FACT_NO_LIMITRANGE /* no LimitRange in the namespace */
} api_fact;

/* The write revision of the fact's resource to look up and note the fact with (-1: the
   store cannot tell, nothing is cached). Take it before reading the store. */
int64_t api_fact_rev (store *st, api_fact f);
/* Whether the fact was noted for ns at revision rev (and rev is not -1). */
bool api_fact_holds (api_fact f, const char *ns, int64_t rev);
/* Notes that the fact held for ns when read after rev was taken. */
void api_fact_note (api_fact f, const char *ns, int64_t rev);

#endif
