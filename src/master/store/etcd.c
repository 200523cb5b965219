/* placeholder while the etcd backend is written */
#include "src/master/store/store-internal.h"
static int
e_open (store *s, const store_options *opts, husk_error **err)
{
  return husk_err (err, ENOSYS, "etcd: not yet");
}
const store_backend_ops store_etcd_ops = {.name = "etcd", .open = e_open};
