/* Address helpers: parsing, formatting and arithmetic on IPv4/IPv6 addresses. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "cni/cni.h"

int
cni_ip_len (const cni_ip *ip)
{
  return ip->family == AF_INET6 ? 16 : 4;
}

int
cni_ip_parse (const char *s, cni_ip *out, husk_error **err)
{
  cni_ip ip = { .prefix = -1 };
  _cleanup_free_ char *addr = xstrdup (s);
  char *slash = strchr (addr, '/');
  if (slash)
    {
      *slash++ = '\0';
      char *end = NULL;
      errno = 0;
      long p = strtol (slash, &end, 10);
      if (*slash == '\0' || *end != '\0' || errno || p < 0 || p > 128)
        return husk_err (err, EINVAL, "invalid prefix length in \"%s\"", s);
      ip.prefix = (int)p;
    }
  if (inet_pton (AF_INET, addr, ip.addr) == 1)
    ip.family = AF_INET;
  else if (inet_pton (AF_INET6, addr, ip.addr) == 1)
    ip.family = AF_INET6;
  else
    return husk_err (err, EINVAL, "invalid IP address \"%s\"", s);
  if (ip.family == AF_INET && ip.prefix > 32)
    return husk_err (err, EINVAL, "invalid prefix length in \"%s\"", s);
  *out = ip;
  return 0;
}

char *
cni_ip_format (const cni_ip *ip, bool with_prefix)
{
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop (ip->family == AF_INET6 ? AF_INET6 : AF_INET, ip->addr, buf, sizeof buf) == NULL)
    return xstrdup ("invalid");
  if (with_prefix && ip->prefix >= 0)
    return xasprintf ("%s/%d", buf, ip->prefix);
  return xstrdup (buf);
}

int
cni_ip_cmp (const cni_ip *a, const cni_ip *b)
{
  if (a->family != b->family)
    return a->family < b->family ? -1 : 1;
  return memcmp (a->addr, b->addr, cni_ip_len (a));
}

static cni_ip
mask_bits (const cni_ip *ip, int prefix, bool set)
{
  cni_ip r = *ip;
  int len = cni_ip_len (ip);
  for (int i = 0; i < len; i++)
    {
      int bits = prefix - i * 8;
      uint8_t m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
      r.addr[i] = set ? (uint8_t)(r.addr[i] | ~m) : (uint8_t)(r.addr[i] & m);
    }
  r.prefix = prefix;
  return r;
}

cni_ip
cni_ip_network (const cni_ip *ip, int prefix)
{
  return mask_bits (ip, prefix, false);
}

cni_ip
cni_ip_last (const cni_ip *ip, int prefix)
{
  return mask_bits (ip, prefix, true);
}

bool
cni_ip_in_subnet (const cni_ip *ip, const cni_ip *subnet)
{
  if (ip->family != subnet->family || subnet->prefix < 0)
    return false;
  cni_ip a = cni_ip_network (ip, subnet->prefix), b = cni_ip_network (subnet, subnet->prefix);
  return memcmp (a.addr, b.addr, cni_ip_len (ip)) == 0;
}

cni_ip
cni_ip_add (const cni_ip *ip, int delta)
{
  cni_ip r = *ip;
  int len = cni_ip_len (ip);
  int carry = delta;
  for (int i = len - 1; i >= 0 && carry != 0; i--)
    {
      int v = r.addr[i] + (carry % 256);
      carry /= 256;
      if (v > 255)
        {
          v -= 256;
          carry++;
        }
      else if (v < 0)
        {
          v += 256;
          carry--;
        }
      r.addr[i] = (uint8_t)v;
    }
  return r;
}
