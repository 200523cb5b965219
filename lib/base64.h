/* husk: base64 over nettle (kubeconfig certificate data, Secret values, etcd keys, tokens). */
#ifndef HUSK_BASE64_H
#define HUSK_BASE64_H

#include <stddef.h>

/* Standard alphabet, padded; never NULL. */
char *husk_base64_encode (const void *data, size_t len);

/* Decodes the standard or the URL-safe alphabet, padding optional, whitespace ignored.
   *out is NUL-terminated (for text payloads) and *out_len (may be NULL) its length.
   Returns 0, or -EINVAL on anything that is not base64 (*out untouched). */
int husk_base64_decode (const char *s, size_t slen, char **out, size_t *out_len);

#endif
