/* husk api: the master's certificates (CA + serving certificate). */
#ifndef HUSK_API_TLS_H
#define HUSK_API_TLS_H

#include "lib/error.h"

typedef struct api_tls
{
  char *ca_pem;   /* CA certificate (PEM), for kubeconfigs; NULL with --tls-cert */
  char *cert_pem; /* serving certificate (PEM) */
  char *key_pem;  /* serving key (PEM) */
} api_tls;

/* With cert_file/key_file set, loads them. Otherwise makes, on first start, a CA and a
   serving certificate under <data_dir>/pki (SANs: 127.0.0.1, ::1, every local address,
   the hostname, localhost, kubernetes, kubernetes.default, kubernetes.default.svc,
   kubernetes.default.svc.cluster.local, 10.43.0.1) and loads them on later starts. */
int api_tls_ensure (const char *data_dir, const char *cert_file, const char *key_file,
                    api_tls *out, husk_error **err);
void api_tls_clear (api_tls *t);

/* n random bytes as 2n lowercase hex digits. */
char *api_random_hex (size_t n);

#endif
