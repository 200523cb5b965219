/* libFuzzer target: layer tarballs (gzip/zstd/plain), unpacked into a scratch directory.
   Any entry must stay inside it: a file appearing in the fence directory is a crash. */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>

#include "lib/path.h"
#include "src/node/image/image.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static char base[] = "/tmp/husk-fuzz-layer-XXXXXX";
  static bool init;
  if (!init)
    {
      if (!mkdtemp (base))
        abort ();
      init = true;
    }
  _cleanup_free_ char *layer = xasprintf ("%s/deep/er/layer", base);
  husk_rm_rf (base, NULL);
  if (husk_mkdir_p (layer, 0755, NULL) < 0)
    abort ();
  int fd = memfd_create ("layer", MFD_CLOEXEC);
  if (fd < 0 || write (fd, data, size) != (ssize_t)size || lseek (fd, 0, SEEK_SET) < 0)
    abort ();
  _cleanup_error_ husk_error *err = NULL;
  image_unpack_layer_fd (fd, layer, NULL, &err);
  close (fd);
  /* nothing may appear next to the layer dir (entries climbing out) */
  _cleanup_free_ char *outside = xasprintf ("%s/deep/er", base);
  _cleanup_free_ char *cmd = xasprintf ("test $(ls -A '%s' | wc -l) = 1", outside);
  if (system (cmd) != 0)
    __builtin_trap ();
  return 0;
}
