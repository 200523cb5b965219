/* husk api: a pod's Table row from its stored JSON text. A LIST of 10,000 pods as a Table
   otherwise parses every pod (containers, tolerations, volumes, managedFields: all of it) into
   a jansson tree only to read a dozen fields, builds a row tree and dumps it. The scanner here
   only skips values (strings with escapes, nested objects and arrays, scalars) and notes where
   the fields the cells read are; the row is then written from those spans. Input is the
   store's own compact JSON, but nothing is assumed that a malformed text could turn into a
   read past its end: anything unexpected sends the caller to the general path. */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <stdlib.h>
#include <errno.h>

#include "lib/buf.h"
#include "src/master/api/slim.h"
#include "src/master/api/table.h"

typedef struct scan
{
  const char *p, *end;
} scan;

static void
ws (scan *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\t' || *s->p == '\r'))
    s->p++;
}

/* Bytes that matter while skipping: inside strings the quote and the backslash, outside
   them also the brackets. A table lookup per byte: the strings of a pod are short, so that a
   call (memchr) per string costs more than it saves. */
enum
{
  IN_STR = 1,
  OUT_STR = 2
};
static const unsigned char special[256] = {
  ['"'] = IN_STR | OUT_STR, ['\\'] = IN_STR, ['{'] = OUT_STR,
  ['}'] = OUT_STR,          ['['] = OUT_STR,   [']'] = OUT_STR,
};

/* Past the string whose opening quote is at p[-1]: the first byte after its closing quote,
   or NULL when the text ends first. */
static const char *
string_end (const char *p, const char *end)
{
  for (;;)
    {
      while (p < end && !(special[(unsigned char) *p] & IN_STR))
        p++;
      if (p >= end)
        return NULL;
      if (*p++ == '"')
        return p;
      p++; /* the escaped byte */
    }
}

/* At '"': moves past the closing quote. */
static bool
skip_string (scan *s)
{
  const char *e = string_end (s->p + 1, s->end);
  if (e == NULL)
    return false;
  s->p = e;
  return true;
}

/* At '{' or '[': moves past the matching bracket (brackets inside strings do not count). */
static bool
skip_nested (scan *s)
{
  const char *p = s->p, *end = s->end;
  int depth = 0;
  for (;;)
    {
      while (p < end && !(special[(unsigned char) *p] & OUT_STR))
        p++;
      if (p >= end)
        return false;
      char c = *p++;
      if (c == '"')
        {
          p = string_end (p, end);
          if (p == NULL)
            return false;
        }
      else if (c == '{' || c == '[')
        depth++;
      else if (--depth == 0)
        {
          s->p = p;
          return true;
        }
    }
}

static bool
skip_value (scan *s)
{
  ws (s);
  if (s->p >= s->end)
    return false;
  if (*s->p == '"')
    return skip_string (s);
  if (*s->p == '{' || *s->p == '[')
    return skip_nested (s);
  while (s->p < s->end && *s->p != ',' && *s->p != '}' && *s->p != ']' && *s->p != ' '
         && *s->p != '\n')
    s->p++;
  return true;
}

/* An object member: key (with its quotes) and value range. */
typedef struct member
{
  const char *k;
  size_t kl;
  const char *v, *ve;
} member;

/* Handed each member with s at its value; moves s past the value (take, or a descent) and
   sets m->ve. False stops the walk (malformed, or a shape the row cannot copy). */
typedef bool (*member_fn) (scan *s, member *m, void *ud);

static bool
take (scan *s, member *m)
{
  if (!skip_value (s))
    return false;
  m->ve = s->p;
  return true;
}

/* At '{': hands every member to fn and moves past the closing '}'. */
static bool
members (scan *s, member_fn fn, void *ud)
{
  ws (s);
  if (s->p >= s->end || *s->p != '{')
    return false;
  s->p++;
  ws (s);
  if (s->p < s->end && *s->p == '}')
    {
      s->p++;
      return true;
    }
  for (;;)
    {
      member m;
      ws (s);
      if (s->p >= s->end || *s->p != '"')
        return false;
      m.k = s->p;
      if (!skip_string (s))
        return false;
      m.kl = (size_t) (s->p - m.k);
      ws (s);
      if (s->p >= s->end || *s->p != ':')
        return false;
      s->p++;
      ws (s);
      if (s->p >= s->end)
        return false;
      m.v = s->p;
      if (!fn (s, &m, ud))
        return false;
      ws (s);
      if (s->p < s->end && *s->p == '}')
        {
          s->p++;
          return true;
        }
      if (s->p >= s->end || *s->p != ',')
        return false;
      s->p++;
    }
}

/* At '[': hands every item to fn (s at the item; fn moves past it; NULL: skipped, counted)
   and moves past the closing ']'. *n gets the number of items. */
static bool
items (scan *s, bool (*fn) (scan *s, void *ud), void *ud, size_t *n)
{
  *n = 0;
  ws (s);
  if (s->p >= s->end || *s->p != '[')
    return false;
  s->p++;
  ws (s);
  if (s->p < s->end && *s->p == ']')
    {
      s->p++;
      return true;
    }
  for (;;)
    {
      ws (s);
      if (!(fn ? fn (s, ud) : skip_value (s)))
        return false;
      (*n)++;
      ws (s);
      if (s->p < s->end && *s->p == ']')
        {
          s->p++;
          return true;
        }
      if (s->p >= s->end || *s->p != ',')
        return false;
      s->p++;
    }
}

static bool
key_is (const member *m, const char *k)
{
  size_t n = strlen (k);
  return m->kl == n + 2 && memcmp (m->k + 1, k, n) == 0;
}

/* A string's contents, without its quotes; p is NULL when absent or not a string. */
typedef struct span
{
  const char *p;
  size_t n;
} span;

/* Takes m's value; *out gets its contents when it is a string (else absent, as
   json_string_value says). False for a string the row could not copy as jansson would
   write it: escapes or control characters. */
static bool
take_str (scan *s, member *m, span *out)
{
  if (!take (s, m))
    return false;
  out->p = NULL;
  out->n = 0;
  if (*m->v != '"')
    return true;
  const char *a = m->v + 1, *e = m->ve - 1;
  for (const char *c = a; c < e; c++)
    if (*c == '\\' || (unsigned char) *c < 0x20)
      return false;
  out->p = a;
  out->n = (size_t) (e - a);
  return true;
}

static bool
span_is (span s, const char *lit)
{
  size_t n = strlen (lit);
  return s.p && s.n == n && memcmp (s.p, lit, n) == 0;
}

static bool
span_eq (span a, span b)
{
  return a.p && b.p && a.n == b.n && memcmp (a.p, b.p, a.n) == 0;
}

/* A value range [v, ve); v is NULL when absent. */
typedef struct range
{
  const char *v, *ve;
} range;

/* Takes an array member into *r; false when it is of another type. */
static bool
take_array (scan *s, member *m, range *r)
{
  if (*m->v != '[' || !take (s, m))
    return false;
  r->v = m->v;
  r->ve = m->ve;
  return true;
}

/* What the pod columns read, found in one pass over the text. */
typedef struct pod_facts
{
  range meta;       /* the metadata object */
  range cut;        /* managedFields in it, with one adjacent comma */
  const char *prev; /* while in metadata: the end of the member before, NULL at the first */
  span name, created, node, reason, phase, ip, nominated;
  bool deleting;
  size_t containers;
  range gates, statuses, conditions; /* arrays */
} pod_facts;

static bool
meta_member (scan *s, member *m, void *ud)
{
  pod_facts *f = ud;
  bool ok = true;
  if (key_is (m, "name"))
    ok = take_str (s, m, &f->name);
  else if (key_is (m, "creationTimestamp"))
    ok = take_str (s, m, &f->created);
  else
    {
      ok = take (s, m);
      f->deleting |= key_is (m, "deletionTimestamp"); /* any value, as husk_json_path */
      if (ok && key_is (m, "managedFields"))
        {
          /* ",managedFields..." after another member; "managedFields...," when first */
          f->cut.v = f->prev ? f->prev : m->k;
          f->cut.ve = m->ve;
          scan after = *s;
          ws (&after);
          if (f->prev == NULL && after.p < after.end && *after.p == ',')
            f->cut.ve = after.p + 1;
        }
    }
  f->prev = s->p;
  return ok;
}

static bool
spec_member (scan *s, member *m, void *ud)
{
  pod_facts *f = ud;
  if (key_is (m, "nodeName"))
    return take_str (s, m, &f->node);
  if (key_is (m, "containers"))
    return *m->v == '[' && items (s, NULL, NULL, &f->containers);
  if (key_is (m, "readinessGates"))
    return take_array (s, m, &f->gates);
  return take (s, m);
}

static bool
status_member (scan *s, member *m, void *ud)
{
  pod_facts *f = ud;
  if (key_is (m, "reason"))
    return take_str (s, m, &f->reason);
  if (key_is (m, "phase"))
    return take_str (s, m, &f->phase);
  if (key_is (m, "podIP"))
    return take_str (s, m, &f->ip);
  if (key_is (m, "nominatedNodeName"))
    return take_str (s, m, &f->nominated);
  if (key_is (m, "containerStatuses"))
    return take_array (s, m, &f->statuses);
  if (key_is (m, "conditions"))
    return take_array (s, m, &f->conditions);
  return take (s, m);
}

/* metadata, spec and status are walked into, everything else skipped; any of the three that
   is not an object sends the caller to the general path. */
static bool
top_member (scan *s, member *m, void *ud)
{
  pod_facts *f = ud;
  bool meta = key_is (m, "metadata"), spec = key_is (m, "spec");
  if (!meta && !spec && !key_is (m, "status"))
    return take (s, m);
  if (*m->v != '{')
    return false;
  f->prev = NULL;
  if (meta)
    f->cut.v = f->cut.ve = NULL;
  if (!members (s, meta ? meta_member : spec ? spec_member : status_member, f))
    return false;
  m->ve = s->p;
  if (meta)
    {
      f->meta.v = m->v;
      f->meta.ve = m->ve;
    }
  return true;
}

/* ---- the cells ---- */

/* One container status: ready, restartCount, state.{waiting,terminated}.reason. */
typedef struct cstatus
{
  bool ready;
  long long restarts;
  span waiting, terminated;
} cstatus;

/* Takes an integer literal's value, 0 for any other value (json_integer_value); false when
   it does not fit (jansson refuses such a text). */
static bool
take_int (scan *s, member *m, long long *out)
{
  *out = 0;
  if (!take (s, m))
    return false;
  const char *c = m->v;
  if (c < m->ve && *c == '-')
    c++;
  if (c == m->ve)
    return true;
  for (; c < m->ve; c++)
    if (*c < '0' || *c > '9')
      return true;
  char num[32];
  size_t n = (size_t) (m->ve - m->v);
  if (n >= sizeof num)
    return false;
  memcpy (num, m->v, n);
  num[n] = '\0';
  errno = 0;
  *out = strtoll (num, NULL, 10);
  return errno == 0;
}

/* Walks into an object member with fn; any other value is taken and left unread. */
static bool
take_object (scan *s, member *m, member_fn fn, void *ud)
{
  if (*m->v != '{')
    return take (s, m);
  if (!members (s, fn, ud))
    return false;
  m->ve = s->p;
  return true;
}

static bool
reason_member (scan *s, member *m, void *ud)
{
  return key_is (m, "reason") ? take_str (s, m, ud) : take (s, m);
}

static bool
state_member (scan *s, member *m, void *ud)
{
  cstatus *c = ud;
  if (key_is (m, "waiting"))
    return take_object (s, m, reason_member, &c->waiting);
  if (key_is (m, "terminated"))
    return take_object (s, m, reason_member, &c->terminated);
  return take (s, m);
}

static bool
cstatus_member (scan *s, member *m, void *ud)
{
  cstatus *c = ud;
  if (key_is (m, "restartCount"))
    return take_int (s, m, &c->restarts);
  if (key_is (m, "state"))
    {
      c->waiting.p = c->terminated.p = NULL;
      return take_object (s, m, state_member, c);
    }
  if (!take (s, m))
    return false;
  if (key_is (m, "ready"))
    c->ready = (size_t) (m->ve - m->v) == 4 && memcmp (m->v, "true", 4) == 0;
  return true;
}

/* READY, STATUS and RESTARTS as api_cell_pod_ready/_status/_restarts make them. */
typedef struct pod_cells
{
  const pod_facts *f;
  size_t ready;
  span status;
  long long restarts;
} pod_cells;

static bool
cstatus_item (scan *s, void *ud)
{
  pod_cells *c = ud;
  cstatus cs = {0};
  if (*s->p != '{')
    return skip_value (s);
  if (!members (s, cstatus_member, &cs))
    return false;
  c->ready += cs.ready;
  c->restarts += cs.restarts;
  if (cs.waiting.p && cs.waiting.n)
    c->status = cs.waiting;
  else if (cs.terminated.p && cs.terminated.n && !span_is (c->f->phase, "Running"))
    c->status = cs.terminated;
  return true;
}

static bool
status_cells (const pod_facts *f, pod_cells *c)
{
  static const span pending = {"Pending", 7}, terminating = {"Terminating", 11};
  memset (c, 0, sizeof *c);
  c->f = f;
  c->status = f->reason.p ? f->reason : f->phase.p ? f->phase : pending;
  size_t n;
  scan s = {f->statuses.v, f->statuses.ve};
  if (f->statuses.v && !items (&s, cstatus_item, c, &n))
    return false;
  if (f->deleting)
    c->status = terminating;
  return true;
}

/* A condition's type and status, or a readiness gate's conditionType (in type). */
typedef struct cond
{
  span type, status;
  const pod_facts *f;
  size_t ok; /* for a gate: the True conditions of its type */
} cond;

static bool
cond_member (scan *s, member *m, void *ud)
{
  cond *c = ud;
  if (key_is (m, "type") || key_is (m, "conditionType"))
    return take_str (s, m, &c->type);
  if (key_is (m, "status"))
    return take_str (s, m, &c->status);
  return take (s, m);
}

static bool
cond_read (scan *s, cond *c)
{
  c->type.p = c->status.p = NULL;
  return *s->p != '{' ? skip_value (s) : members (s, cond_member, c);
}

static bool
condition_item (scan *s, void *ud)
{
  cond *gate = ud, c = {{0}};
  if (!cond_read (s, &c))
    return false;
  gate->ok += span_eq (c.type, gate->type) && span_is (c.status, "True");
  return true;
}

static bool
gate_item (scan *s, void *ud)
{
  cond *all = ud, gate = {.f = all->f};
  if (!cond_read (s, &gate))
    return false;
  size_t n;
  scan cs = {all->f->conditions.v, all->f->conditions.ve};
  if (gate.type.p && cs.p && !items (&cs, condition_item, &gate, &n))
    return false;
  all->ok += gate.ok;
  return true;
}

/* READINESS GATES as api_cell_pod_gates: each gate counts the True conditions of its type. */
static bool
gates_cell (const pod_facts *f, husk_buf *out)
{
  cond all = {.f = f};
  size_t n = 0;
  scan s = {f->gates.v, f->gates.ve};
  if (f->gates.v && !items (&s, gate_item, &all, &n))
    return false;
  if (n == 0)
    husk_buf_puts (out, "\"<none>\"");
  else
    husk_buf_printf (out, "\"%zu/%zu\"", all.ok, n);
  return true;
}

static void
put_span (husk_buf *b, span s)
{
  husk_buf_putc (b, '"');
  if (s.p)
    husk_buf_append (b, s.p, s.n);
  husk_buf_putc (b, '"');
}

/* A string cell that says <none> when absent or empty. */
static void
put_or_none (husk_buf *b, span s)
{
  if (s.p && s.n)
    put_span (b, s);
  else
    husk_buf_puts (b, "\"<none>\"");
}

static bool
put_cells (husk_buf *b, const pod_facts *f)
{
  pod_cells c;
  if (!status_cells (f, &c))
    return false;
  husk_buf_puts (b, "{\"cells\":[");
  put_span (b, f->name);
  husk_buf_printf (b, ",\"%zu/%zu\",", c.ready, f->containers);
  put_span (b, c.status);
  _cleanup_free_ char *ts = f->created.p ? xstrndup (f->created.p, f->created.n) : NULL;
  _cleanup_free_ char *age = api_age (ts);
  husk_buf_printf (b, ",%lld,\"%s\",", c.restarts, age);
  put_or_none (b, f->ip);
  husk_buf_putc (b, ',');
  put_or_none (b, f->node);
  husk_buf_putc (b, ',');
  put_or_none (b, f->nominated);
  husk_buf_putc (b, ',');
  if (!gates_cell (f, b))
    return false;
  husk_buf_putc (b, ']');
  return true;
}

/* ---- the row's object ---- */

/* Text [from, to) without the managedFields member (f->cut), when it lies inside. */
static void
put_uncut (husk_buf *b, const pod_facts *f, const char *from, const char *to)
{
  if (f->cut.v && f->cut.v >= from && f->cut.ve <= to)
    {
      husk_buf_append (b, from, (size_t) (f->cut.v - from));
      husk_buf_append (b, f->cut.ve, (size_t) (to - f->cut.ve));
    }
  else
    husk_buf_append (b, from, (size_t) (to - from));
}

static void
put_row_object (husk_buf *b, const pod_facts *f, const char *json, const char *end,
                const char *io)
{
  husk_buf_puts (b, ",\"object\":");
  if (io && streq (io, "None"))
    husk_buf_puts (b, "null");
  else if (io && streq (io, "Object"))
    put_uncut (b, f, json, end);
  else
    {
      husk_buf_puts (b, "{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\","
                        "\"metadata\":");
      if (f->meta.v == NULL)
        husk_buf_puts (b, "{}");
      else
        put_uncut (b, f, f->meta.v, f->meta.ve);
      husk_buf_putc (b, '}');
    }
}

bool
api_slim_pod_row (const char *json, size_t len, const char *include_object, husk_buf *out)
{
  pod_facts f = {0};
  scan s = {json, json + len};
  ws (&s);
  const char *start = s.p;
  size_t mark = out->len;
  if (members (&s, top_member, &f) && put_cells (out, &f))
    {
      put_row_object (out, &f, start, s.p, include_object);
      husk_buf_putc (out, '}');
      return true;
    }
  out->len = mark;
  if (out->data)
    out->data[mark] = '\0';
  return false;
}
