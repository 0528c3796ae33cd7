/* owt_paths.h - where the shipped adaptors/ tree (the owt package) is.
 *
 * Installed: $(pkgdatadir)/adaptors. Run from a build tree: the source
 * tree's adaptors/. Decided from where the running binary is. */
#ifndef OWT_PATHS_H
#define OWT_PATHS_H

#include <stddef.h>

#include "owt_err.h"

/* Write the directory into out. OWT_OK, or OWT_E_NOT_FOUND when no
 * candidate holds owt/ (or its path does not fit out). */
owt_err owt_paths_adaptors(char *out, size_t len);

#endif
