/* husk node agent: small shared helpers (see agent-internal.h). */
#include <errno.h>

#include "lib/buf.h"
#include "src/node/agent/agent-internal.h"

char *
agent_go_quote (const char *s)
{
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_putc (&b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    switch (*p)
      {
      case '"':
        husk_buf_puts (&b, "\\\"");
        break;
      case '\\':
        husk_buf_puts (&b, "\\\\");
        break;
      case '\a':
        husk_buf_puts (&b, "\\a");
        break;
      case '\b':
        husk_buf_puts (&b, "\\b");
        break;
      case '\f':
        husk_buf_puts (&b, "\\f");
        break;
      case '\n':
        husk_buf_puts (&b, "\\n");
        break;
      case '\r':
        husk_buf_puts (&b, "\\r");
        break;
      case '\t':
        husk_buf_puts (&b, "\\t");
        break;
      case '\v':
        husk_buf_puts (&b, "\\v");
        break;
      default:
        if (*p < 0x20 || *p == 0x7f)
          husk_buf_printf (&b, "\\x%02x", *p);
        else
          husk_buf_putc (&b, *p);
      }
  husk_buf_putc (&b, '"');
  return husk_buf_steal (&b);
}

json_t *
agent_pod_container (json_t *pod, const char *name)
{
  static const char *const lists[] = { "containers", "initContainers", "ephemeralContainers" };
  json_t *spec = json_object_get (pod, "spec");
  if (!spec)
    spec = pod; /* a bare PodSpec */
  for (size_t i = 0; i < ARRAY_SIZE (lists); i++)
    {
      size_t j;
      json_t *c;
      json_array_foreach (json_object_get (spec, lists[i]), j, c)
      {
        const char *n = json_string_value (json_object_get (c, "name"));
        if (n && streq (n, name))
          return c;
      }
    }
  return NULL;
}

bool
agent_env_name_valid (const char *s)
{
  if (!s || !*s)
    return false;
  for (const char *p = s; *p; p++)
    {
      char c = *p;
      bool alpha
          = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-' || c == '.';
      if (!alpha && !(p > s && c >= '0' && c <= '9'))
        return false;
    }
  return true;
}

bool
agent_dns_label_valid (const char *s)
{
  size_t n = s ? strlen (s) : 0;
  if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
      return false;
  return true;
}
