/* husk runtime: capability names and the five sets, through libcap. */
#include "config.h"

#include <errno.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "lib/path.h"
#include "runtime/internal.h"

/* Capabilities the running kernel knows: 0..rt_cap_last(). */
int
rt_cap_last (void)
{
  static int last = -1;
  if (last < 0)
    {
      _cleanup_free_ char *s = NULL;
      if (husk_read_file ("/proc/sys/kernel/cap_last_cap", &s, NULL, NULL) == 0)
        last = atoi (s);
      else
        last = CAP_LAST_CAP;
    }
  return last;
}

int
rt_cap_from_name (const char *name)
{
  if (strncasecmp (name, "CAP_", 4) != 0)
    return -1;
  for (int i = 0; i < 64; i++)
    {
      char *n = cap_to_name (i);
      bool match = n && strcasecmp (n, name) == 0;
      cap_free (n);
      if (match)
        return i;
    }
  return -1;
}

const char *
rt_cap_name (int cap)
{
  static char buf[64][32];
  if (cap < 0 || cap >= 64)
    return "?";
  if (buf[cap][0] == '\0')
    {
      char *n = cap_to_name (cap);
      snprintf (buf[cap], sizeof buf[cap], "%s", n ? n : "?");
      cap_free (n);
      for (char *p = buf[cap]; *p; p++)
        if (*p >= 'a' && *p <= 'z')
          *p = (char) (*p - 'a' + 'A');
    }
  return buf[cap];
}

int
rt_caps_parse (json_t *arr, const char *where, uint64_t *out, husk_error **err)
{
  size_t i;
  json_t *e;
  uint64_t mask = 0;
  json_array_foreach (arr, i, e)
  {
    const char *name = json_string_value (e);
    int c = rt_cap_from_name (name);
    if (c < 0)
      return husk_err (err, EINVAL, "%s[%zu]: unknown capability \"%s\"", where, i, name);
    /* Capabilities newer than the kernel are ignored, as runc does. */
    if (c <= rt_cap_last ())
      mask |= 1ULL << c;
  }
  *out = mask;
  return 0;
}

int
rt_caps_bounding (const rt_process *p, husk_error **err)
{
  for (int c = 0; c <= rt_cap_last (); c++)
    if (!(p->caps[RT_CAP_BOUNDING] & (1ULL << c)) && prctl (PR_CAPBSET_DROP, c, 0, 0, 0) < 0
        && errno != EINVAL)
      return husk_err_errno (err, "process.capabilities.bounding: drop %s", rt_cap_name (c));
  return 0;
}

static int
fill_set (cap_t caps, cap_flag_t flag, uint64_t mask)
{
  for (int c = 0; c <= rt_cap_last (); c++)
    if (mask & (1ULL << c))
      {
        cap_value_t v = c;
        if (cap_set_flag (caps, flag, 1, &v, CAP_SET) < 0)
          return -1;
      }
  return 0;
}

int
rt_caps_apply (const rt_process *p, husk_error **err)
{
  cap_t caps = cap_init ();
  if (caps == NULL)
    return husk_err_errno (err, "cap_init");
  int r = 0;
  if (fill_set (caps, CAP_EFFECTIVE, p->caps[RT_CAP_EFFECTIVE]) < 0
      || fill_set (caps, CAP_PERMITTED, p->caps[RT_CAP_PERMITTED]) < 0
      || fill_set (caps, CAP_INHERITABLE, p->caps[RT_CAP_INHERITABLE]) < 0)
    r = husk_err_errno (err, "process.capabilities: cap_set_flag");
  else if (cap_set_proc (caps) < 0)
    r = husk_err_errno (err, "process.capabilities: capset");
  cap_free (caps);
  if (r < 0)
    return r;
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return husk_err_errno (err, "process.capabilities.ambient: clear");
  for (int c = 0; c <= rt_cap_last (); c++)
    if ((p->caps[RT_CAP_AMBIENT] & (1ULL << c))
        && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      {
        /* As runc: an ambient capability missing from permitted/inheritable is skipped. */
        if (errno == EPERM)
          continue;
        return husk_err_errno (err, "process.capabilities.ambient: raise %s", rt_cap_name (c));
      }
  return 0;
}
