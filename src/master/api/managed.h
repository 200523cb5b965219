/* husk api: metadata.managedFields and server-side apply (field managers, conflicts, removal
   of fields a manager stops applying), as upstream's field manager keeps them. */
#ifndef HUSK_API_MANAGED_H
#define HUSK_API_MANAGED_H

#include "src/master/api/handlers.h"

/* The field manager of a request: ?fieldManager=, else the User-Agent up to its first '/'.
   Replies 422 and returns NULL when it is invalid, or missing on an apply. */
char *api_field_manager (api_req *r, bool apply);

/* Records the write of obj over old (NULL on create) as an Update operation of the request's
   manager in obj's metadata.managedFields: the fields it changed become its own and leave
   other managers; fields removed leave everybody. A managedFields the client sent is the
   starting point ([{}] resets it); a write that changes nothing keeps the stored one.
   Does nothing when r->managed_done (apply has set them). Replies and returns false on a bad
   fieldManager. */
bool api_managed_update (api_req *r, const api_route *rt, json_t *obj, const json_t *old);

/* Server-side apply of config by manager over live (NULL: the object does not exist): the
   merged object with its managedFields (new reference), or NULL after replying 409 Conflict
   (one cause per field another manager owns and the config changes; none with ?force=true,
   which takes them over) or 400 for a config that cannot be merged. Fields manager applied
   before and no longer applies are removed unless another manager owns them. */
json_t *api_managed_apply (api_req *r, const api_route *rt, const char *manager,
                           const json_t *live, const json_t *config);

#endif
