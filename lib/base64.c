#include "config.h"

#include <errno.h>
#include <nettle/base64.h>

#include "lib/base64.h"
#include "lib/util.h"

char *
husk_base64_encode (const void *data, size_t len)
{
  char *out = xmalloc (BASE64_ENCODE_RAW_LENGTH (len) + 1);
  base64_encode_raw (out, len, data);
  out[BASE64_ENCODE_RAW_LENGTH (len)] = '\0';
  return out;
}

int
husk_base64_decode (const char *s, size_t slen, char **out, size_t *out_len)
{
  /* nettle wants the standard alphabet and whole quanta: translate and pad a copy. */
  _cleanup_free_ char *std = xmalloc (slen + 4);
  size_t n = 0, data_chars = 0;
  for (size_t i = 0; i < slen; i++)
    {
      char c = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '=')
        data_chars++;
      std[n++] = c;
    }
  bool padded = memchr (std, '=', n) != NULL;
  while (!padded && data_chars % 4 != 0)
    std[n++] = '=', data_chars++;

  struct base64_decode_ctx ctx;
  _cleanup_free_ char *buf = xmalloc (BASE64_DECODE_LENGTH (n) + 1);
  size_t got = BASE64_DECODE_LENGTH (n);
  base64_decode_init (&ctx);
  if (!base64_decode_update (&ctx, &got, (uint8_t *) buf, n, std) || !base64_decode_final (&ctx))
    return -EINVAL;
  buf[got] = '\0';
  if (out_len)
    *out_len = got;
  *out = TAKE_PTR (buf);
  return 0;
}
