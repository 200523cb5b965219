/* husk: file and path helpers; joins that refuse to leave their root. */
#ifndef HUSK_PATH_H
#define HUSK_PATH_H

#include <sys/types.h>

#include "lib/error.h"

/* Joins root and rel lexically: rel may be absolute (taken relative to root); a ".."
   that would climb above root is refused (EACCES naming rel). Result is normalised. */
int husk_path_join (const char *root, const char *rel, char **out, husk_error **err);

/* Like husk_path_join but also follows symlinks found under root, each resolved as if
   root were "/", so the result stays inside root (as securejoin does for runc).
   Components that do not exist yet are appended lexically. */
int husk_path_resolve_in_root (const char *root, const char *rel, char **out, husk_error **err);

/* Lexical normalisation: collapses "//", "/./", "x/.." ; returns NULL-free string. */
char *husk_path_normalize (const char *path);

int husk_mkdir_p (const char *path, mode_t mode, husk_error **err);
/* Whole file into memory, NUL-terminated; *len_out may be NULL. */
int husk_read_file (const char *path, char **out, size_t *len_out, husk_error **err);
/* Writes to path.tmpXXXXXX, fsyncs, renames over path. */
int husk_write_file_atomic (const char *path, const void *data, size_t len, mode_t mode,
                            husk_error **err);
/* The same without the fsync: readers see the old or the new file, never a part, but a
   crash may leave the old one (for files rewritten at every start, like a pod's). */
int husk_write_file_replace (const char *path, const void *data, size_t len, mode_t mode,
                             husk_error **err);
/* Removes a tree without following symlinks; a missing path is not an error. */
int husk_rm_rf (const char *path, husk_error **err);

/* The executable NAME in the running program's directory, or NULL when there is none or the
   running program is NAME itself. Free it. */
char *husk_program_beside_self (const char *name);

#endif
