/* husk api: CA and serving certificate, generated with GnuTLS on first start. */
#include "config.h"

#include <errno.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "lib/path.h"
#include "src/master/api/tls.h"

#define CERT_DAYS (10 * 365)

char *
api_random_hex (size_t n)
{
  _cleanup_free_ unsigned char *raw = xmalloc (n);
  if (gnutls_rnd (GNUTLS_RND_KEY, raw, n) < 0)
    husk_oom ();
  /* A table, not sprintf per byte: every create makes a uid (sprintf was 3% of a create). */
  static const char digits[] = "0123456789abcdef";
  char *hex = xmalloc (2 * n + 1);
  for (size_t i = 0; i < n; i++)
    {
      hex[2 * i] = digits[raw[i] >> 4];
      hex[2 * i + 1] = digits[raw[i] & 15];
    }
  hex[2 * n] = '\0';
  return hex;
}

static int
gnutls_fail (husk_error **err, int gret, const char *what)
{
  return husk_err (err, EINVAL, "tls: %s: %s", what, gnutls_strerror (gret));
}

static int
export_pem (gnutls_datum_t *tmp, char **out)
{
  *out = xstrndup ((const char *) tmp->data, tmp->size);
  gnutls_free (tmp->data);
  return 0;
}

static int
make_key (gnutls_x509_privkey_t *key, char **pem, husk_error **err)
{
  int r = gnutls_x509_privkey_init (key);
  if (r < 0)
    return gnutls_fail (err, r, "key init");
  r = gnutls_x509_privkey_generate (*key, GNUTLS_PK_ECDSA,
                                    GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0);
  if (r < 0)
    return gnutls_fail (err, r, "generate key");
  gnutls_datum_t d;
  r = gnutls_x509_privkey_export2 (*key, GNUTLS_X509_FMT_PEM, &d);
  if (r < 0)
    return gnutls_fail (err, r, "export key");
  return export_pem (&d, pem);
}

static int
crt_common (gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn, husk_error **err)
{
  unsigned char serial[16];
  gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof serial);
  serial[0] &= 0x7f;
  time_t now = time (NULL);
  int r;
  if ((r = gnutls_x509_crt_set_version (crt, 3)) < 0
      || (r = gnutls_x509_crt_set_serial (crt, serial, sizeof serial)) < 0
      || (r = gnutls_x509_crt_set_activation_time (crt, now - 3600)) < 0
      || (r = gnutls_x509_crt_set_expiration_time (crt, now + (time_t) CERT_DAYS * 86400)) < 0
      || (r = gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen (cn)))
             < 0
      || (r = gnutls_x509_crt_set_key (crt, key)) < 0)
    return gnutls_fail (err, r, "certificate fields");
  return 0;
}

static void
add_ip_san (gnutls_x509_crt_t crt, int family, const void *addr)
{
  size_t len = family == AF_INET ? 4 : 16;
  gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS, addr, len, GNUTLS_FSAN_APPEND);
}

static void
add_dns_san (gnutls_x509_crt_t crt, const char *name)
{
  gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, name, strlen (name),
                                        GNUTLS_FSAN_APPEND);
}

static void
add_sans (gnutls_x509_crt_t crt)
{
  static const char *const dns[]
      = {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
         "kubernetes.default.svc.cluster.local"};
  for (size_t i = 0; i < ARRAY_SIZE (dns); i++)
    add_dns_san (crt, dns[i]);
  char host[256];
  if (gethostname (host, sizeof host) == 0)
    {
      host[sizeof host - 1] = '\0';
      if (host[0] && !streq (host, "localhost"))
        add_dns_san (crt, host);
    }
  struct in_addr a4;
  inet_pton (AF_INET, "127.0.0.1", &a4);
  add_ip_san (crt, AF_INET, &a4);
  inet_pton (AF_INET, "10.43.0.1", &a4);
  add_ip_san (crt, AF_INET, &a4);
  struct in6_addr a6 = IN6ADDR_LOOPBACK_INIT;
  add_ip_san (crt, AF_INET6, &a6);
  struct ifaddrs *ifs = NULL;
  if (getifaddrs (&ifs) < 0)
    return;
  for (struct ifaddrs *i = ifs; i; i = i->ifa_next)
    {
      if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK))
        continue;
      if (i->ifa_addr->sa_family == AF_INET)
        add_ip_san (crt, AF_INET, &((struct sockaddr_in *) i->ifa_addr)->sin_addr);
      else if (i->ifa_addr->sa_family == AF_INET6)
        add_ip_san (crt, AF_INET6, &((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr);
    }
  freeifaddrs (ifs);
}

static int
export_crt (gnutls_x509_crt_t crt, char **pem, husk_error **err)
{
  gnutls_datum_t d;
  int r = gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &d);
  if (r < 0)
    return gnutls_fail (err, r, "export certificate");
  return export_pem (&d, pem);
}

/* Makes ca.crt, ca.key, server.crt, server.key as PEM strings. */
static int
generate (char **ca_pem, char **ca_key_pem, char **crt_pem, char **key_pem, husk_error **err)
{
  gnutls_x509_privkey_t cakey = NULL, key = NULL;
  gnutls_x509_crt_t ca = NULL, crt = NULL;
  int ret = make_key (&cakey, ca_key_pem, err);
  if (ret == 0)
    ret = make_key (&key, key_pem, err);
  if (ret == 0 && gnutls_x509_crt_init (&ca) == 0 && gnutls_x509_crt_init (&crt) == 0)
    {
      ret = crt_common (ca, cakey, "husk-ca", err);
      if (ret == 0)
        {
          gnutls_x509_crt_set_basic_constraints (ca, 1, -1);
          gnutls_x509_crt_set_key_usage (ca, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN
                                                 | GNUTLS_KEY_DIGITAL_SIGNATURE);
          int r = gnutls_x509_crt_sign2 (ca, ca, cakey, GNUTLS_DIG_SHA256, 0);
          ret = r < 0 ? gnutls_fail (err, r, "sign CA") : export_crt (ca, ca_pem, err);
        }
      if (ret == 0)
        ret = crt_common (crt, key, "husk-apiserver", err);
      if (ret == 0)
        {
          gnutls_x509_crt_set_basic_constraints (crt, 0, -1);
          gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE
                                                  | GNUTLS_KEY_KEY_ENCIPHERMENT);
          gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
          add_sans (crt);
          int r = gnutls_x509_crt_sign2 (crt, ca, cakey, GNUTLS_DIG_SHA256, 0);
          ret = r < 0 ? gnutls_fail (err, r, "sign serving certificate")
                      : export_crt (crt, crt_pem, err);
        }
    }
  else if (ret == 0)
    ret = husk_err (err, ENOMEM, "tls: certificate init");
  if (ca)
    gnutls_x509_crt_deinit (ca);
  if (crt)
    gnutls_x509_crt_deinit (crt);
  if (cakey)
    gnutls_x509_privkey_deinit (cakey);
  if (key)
    gnutls_x509_privkey_deinit (key);
  return ret;
}

static int
write_pki (const char *dir, const char *ca, const char *cakey, const char *crt, const char *key,
           husk_error **err)
{
  const char *names[] = {"ca.crt", "ca.key", "server.crt", "server.key"};
  const char *data[] = {ca, cakey, crt, key};
  int ret = husk_mkdir_p (dir, 0700, err);
  for (size_t i = 0; ret == 0 && i < 4; i++)
    {
      _cleanup_free_ char *p = xasprintf ("%s/%s", dir, names[i]);
      ret = husk_write_file_atomic (p, data[i], strlen (data[i]), strstr (names[i], "key") ? 0600 : 0644,
                                    err);
    }
  return ret;
}

int
api_tls_ensure (const char *data_dir, const char *cert_file, const char *key_file, api_tls *out,
                husk_error **err)
{
  api_tls t = {0};
  int ret;
  if (cert_file && key_file)
    {
      ret = husk_read_file (cert_file, &t.cert_pem, NULL, err);
      if (ret == 0)
        ret = husk_read_file (key_file, &t.key_pem, NULL, err);
      if (ret < 0)
        {
          api_tls_clear (&t);
          return ret;
        }
      *out = t;
      return 0;
    }
  _cleanup_free_ char *dir = xasprintf ("%s/pki", data_dir);
  _cleanup_free_ char *crt_path = xasprintf ("%s/server.crt", dir);
  if (access (crt_path, R_OK) < 0)
    {
      _cleanup_free_ char *ca = NULL, *cakey = NULL, *crt = NULL, *key = NULL;
      ret = generate (&ca, &cakey, &crt, &key, err);
      if (ret == 0)
        ret = write_pki (dir, ca, cakey, crt, key, err);
      if (ret < 0)
        return husk_err_wrap (err, "make certificates in %s", dir);
    }
  _cleanup_free_ char *ca_path = xasprintf ("%s/ca.crt", dir);
  _cleanup_free_ char *key_path = xasprintf ("%s/server.key", dir);
  ret = husk_read_file (ca_path, &t.ca_pem, NULL, err);
  if (ret == 0)
    ret = husk_read_file (crt_path, &t.cert_pem, NULL, err);
  if (ret == 0)
    ret = husk_read_file (key_path, &t.key_pem, NULL, err);
  if (ret < 0)
    {
      api_tls_clear (&t);
      return ret;
    }
  *out = t;
  return 0;
}

void
api_tls_clear (api_tls *t)
{
  free (t->ca_pem);
  free (t->cert_pem);
  free (t->key_pem);
  memset (t, 0, sizeof *t);
}
