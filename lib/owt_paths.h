/* owt_paths.h - where the shipped adaptors/ tree (the owt package) is.
 *
 * Installed: $(pkgdatadir)/adaptors. Run from a build tree: the source
 * tree's adaptors/. Decided from where the running binary is. */
#ifndef OWT_PATHS_H
#define OWT_PATHS_H

#include <stddef.h>

/* Write the directory into out. Returns 0, or -1 when none holds owt/. */
int owt_paths_adaptors(char *out, size_t len);

#endif
