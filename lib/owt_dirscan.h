/* owt_dirscan.h - the entry files of a store directory, for the response
 * cache and the code store alike: listing them (stale temporary files are
 * removed on the way) and evicting the oldest.
 *
 * An entry is a regular file named by 64 lower-case hex digits (a SHA-256);
 * its mtime is its last use (a hit or a load touches it). Callers hold their
 * directory's accounting lock around a scan and its eviction; readers do
 * not take it, so an entry touched since the scan is skipped, not evicted. */
#ifndef OWT_DIRSCAN_H
#define OWT_DIRSCAN_H

#include <stdint.h>
#include <time.h>

#include "owt_err.h"

#define OWT_DIRSCAN_NAME_LEN 64 /* hex SHA-256 */

typedef struct {
  struct timespec mtime;
  uint64_t size;
  char name[OWT_DIRSCAN_NAME_LEN + 1];
} owt_dirscan_entry;

typedef struct {
  owt_dirscan_entry *v; /* owned: owt_dirscan_free */
  size_t n, cap;
  uint64_t bytes; /* the sum of their sizes */
} owt_dirscan;

#define OWT_DIRSCAN_INIT {NULL, 0, 0, 0}

/* Whether name is an entry's: exactly OWT_DIRSCAN_NAME_LEN lower-case hex digits. */
int owt_dirscan_is_entry_name(const char *name);

/* Every entry file of dirfd into l (NULL: only counted into *entries and
 * *bytes). Files named tmp_prefix... whose mtime is more than
 * stale_seconds before now are removed: a writer died before publishing
 * them. OWT_E_INTERNAL when the directory cannot be read, OWT_E_NOMEM. */
owt_err owt_dirscan_read(int dirfd, const char *tmp_prefix, double now, double stale_seconds, owt_dirscan *l,
                         uint64_t *entries, uint64_t *bytes);

/* Remove entries of l, oldest first, until l's bytes are at most
 * low_water; never keep (NULL: none), nor one touched since the scan.
 * Entries already gone leave the sums too. Updates l->bytes and returns how
 * many files this call removed; *left (may be NULL) gets the entries that
 * remain. Sorts l. */
uint64_t owt_dirscan_evict_oldest(int dirfd, owt_dirscan *l, uint64_t low_water, const char *keep, uint64_t *left);

void owt_dirscan_free(owt_dirscan *l);

#endif
