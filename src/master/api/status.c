/* husk api: metav1.Status errors as kubectl prints them. */
#include "config.h"

#include <errno.h>

#include "src/master/api/api-internal.h"

json_t *
api_status_new (unsigned code, const char *reason, const char *message)
{
  json_t *st = json_pack ("{s:s, s:s, s:{}, s:s, s:s}", "kind", "Status", "apiVersion", "v1",
                          "metadata", "status", code < 300 ? "Success" : "Failure", "message",
                          message ? message : "");
  if (reason && *reason)
    json_object_set_new (st, "reason", json_string (reason));
  json_object_set_new (st, "code", json_integer (code));
  return st;
}

static json_t *
details_of (json_t *st)
{
  json_t *d = json_object_get (st, "details");
  if (d == NULL)
    {
      d = json_object ();
      json_object_set_new (st, "details", d);
    }
  return d;
}

void
api_status_details (json_t *st, const char *name, const char *group, const char *kind)
{
  json_t *d = details_of (st);
  if (name)
    json_object_set_new (d, "name", json_string (name));
  if (group)
    json_object_set_new (d, "group", json_string (group));
  if (kind)
    json_object_set_new (d, "kind", json_string (kind));
}

void
api_status_cause (json_t *st, const char *reason, const char *field, const char *message)
{
  json_t *d = details_of (st);
  json_t *causes = json_object_get (d, "causes");
  if (causes == NULL)
    {
      causes = json_array ();
      json_object_set_new (d, "causes", causes);
    }
  json_t *c = json_object ();
  if (reason)
    json_object_set_new (c, "reason", json_string (reason));
  if (message)
    json_object_set_new (c, "message", json_string (message));
  if (field)
    json_object_set_new (c, "field", json_string (field));
  json_array_append_new (causes, c);
}

enum MHD_Result
api_reply_status (api_req *r, json_t *st)
{
  unsigned code = (unsigned) json_integer_value (json_object_get (st, "code"));
  return api_reply_json (r, code ? code : 500, st);
}

enum MHD_Result
api_reply_error (api_req *r, unsigned code, const char *reason, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  return api_reply_status (r, api_status_new (code, reason, msg));
}

void
api_errno_status (int errnum, unsigned *code, const char **reason)
{
  switch (errnum)
    {
    case ENOENT:
      *code = 404, *reason = "NotFound";
      break;
    case EEXIST:
      *code = 409, *reason = "AlreadyExists";
      break;
    case ESTALE:
    case EAGAIN:
      *code = 409, *reason = "Conflict";
      break;
    case EINVAL:
      *code = 400, *reason = "BadRequest";
      break;
    case ERANGE:
      *code = 410, *reason = "Expired";
      break;
    case EHOSTUNREACH:
      *code = 503, *reason = "ServiceUnavailable";
      break;
    case EPERM:
    case EACCES:
      *code = 403, *reason = "Forbidden";
      break;
    case ETIME:
    case ENODATA:
      *code = 410, *reason = "Expired";
      break;
    case EMSGSIZE:
      *code = 413, *reason = "RequestEntityTooLarge";
      break;
    case ENOSPC:
      *code = 500, *reason = "InternalError";
      break;
    default:
      *code = 500, *reason = "InternalError";
    }
}
