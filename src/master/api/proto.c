/* husk api: protobuf bodies. Not decoded yet: callers answer 400 naming the encoding. */
#include "config.h"

#include <errno.h>

#include "src/master/api/proto.h"

int
api_proto_decode (const unsigned char *data, size_t len, json_t **out, husk_error **err)
{
  if (len < 4 || memcmp (data, "k8s\0", 4) != 0)
    return husk_err (err, EINVAL, "protobuf: missing the k8s envelope magic");
  return husk_err (err, ENOTSUP, "protobuf request bodies are not supported yet; use -o json "
                                 "or kubectl create -f");
}
