/* husk api: access reviews (`kubectl auth can-i`). There is no RBAC yet: every
   authenticated user (admin token, node token) may do everything, and the answer says so. */
#include "config.h"

#include "src/master/api/handlers.h"

/* UserInfo {username, groups} of an authenticated user, as upstream names them. */
static json_t *
api_user_info (const char *user)
{
  if (user && strncmp (user, "system:serviceaccount:", 22) == 0)
    {
      const char *ns = user + 22;
      size_t n = strcspn (ns, ":");
      return json_pack ("{s:s, s:[s, s+#, s]}", "username", user, "groups",
                        "system:serviceaccounts", "system:serviceaccounts:", ns, (int) n,
                        "system:authenticated");
    }
  if (user && streq (user, "system:node"))
    return json_pack ("{s:s, s:[s, s]}", "username", "system:node", "groups", "system:nodes",
                      "system:authenticated");
  return json_pack ("{s:s, s:[s, s]}", "username", user ? user : "system:anonymous", "groups",
                    "system:masters", "system:authenticated");
}

enum MHD_Result
api_do_review (api_req *r, const api_route *rt)
{
  json_t *obj = NULL;
  if (!api_decode_body (r, rt, &obj))
    return MHD_YES;
  if (streq (rt->res->kind, "SelfSubjectReview"))
    json_object_set_new (obj, "status", json_pack ("{s:o}", "userInfo", api_user_info (r->user)));
  else if (streq (rt->res->kind, "SelfSubjectRulesReview"))
    json_object_set_new (
        obj, "status",
        json_pack ("{s:[{s:[s], s:[s], s:[s]}], s:[{s:[s], s:[s]}], s:b}", "resourceRules",
                   "verbs", "*", "apiGroups", "*", "resources", "*", "nonResourceRules", "verbs",
                   "*", "nonResourceURLs", "*", "incomplete", 0));
  else
    json_object_set_new (obj, "status",
                         json_pack ("{s:b, s:s}", "allowed", 1, "reason",
                                    "husk has no RBAC yet: authenticated users may do everything"));
  json_t *meta = json_object_get (obj, "metadata");
  if (!json_is_object (meta))
    json_object_set_new (obj, "metadata", json_object ());
  return api_reply_json (r, 201, obj);
}
