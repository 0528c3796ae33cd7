/* owt_dirscan.c - see owt_dirscan.h. */
#define _GNU_SOURCE 1
#include "owt_dirscan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int owt_dirscan_is_entry_name(const char *name) {
  size_t i = 0;
  for (; name[i] && i <= OWT_DIRSCAN_NAME_LEN; i++)
    if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) return 0;
  return i == OWT_DIRSCAN_NAME_LEN;
}

static owt_err push(owt_dirscan *l, const char *name, const struct stat *st) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    owt_dirscan_entry *v = realloc(l->v, cap * sizeof *v);
    if (!v) return OWT_E_NOMEM;
    l->v = v;
    l->cap = cap;
  }
  owt_dirscan_entry *e = &l->v[l->n++];
  e->mtime = st->st_mtim;
  e->size = (uint64_t)st->st_size;
  memcpy(e->name, name, OWT_DIRSCAN_NAME_LEN + 1);
  l->bytes += e->size;
  return OWT_OK;
}

owt_err owt_dirscan_read(int dirfd, const char *tmp_prefix, double now, double stale_seconds, owt_dirscan *l,
                         uint64_t *entries, uint64_t *bytes) {
  owt_err err = OWT_OK;
  struct dirent *de;
  struct stat st;
  size_t tmp_len = strlen(tmp_prefix);
  *entries = *bytes = 0;
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0) close(fd);
    return OWT_E_INTERNAL;
  }
  while ((de = readdir(d)) != NULL) {
    if (strncmp(de->d_name, tmp_prefix, tmp_len) == 0) {
      if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          now - ((double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9) > stale_seconds)
        unlinkat(dirfd, de->d_name, 0);
      continue;
    }
    if (!owt_dirscan_is_entry_name(de->d_name)) continue;
    if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    ++*entries;
    *bytes += (uint64_t)st.st_size;
    if (l && (err = push(l, de->d_name, &st))) break;
  }
  closedir(d);
  return err;
}

static int older_first(const void *a, const void *b) {
  const owt_dirscan_entry *x = a, *y = b;
  if (x->mtime.tv_sec != y->mtime.tv_sec) return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
  if (x->mtime.tv_nsec != y->mtime.tv_nsec) return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
  return strcmp(x->name, y->name);
}

uint64_t owt_dirscan_evict_oldest(int dirfd, owt_dirscan *l, uint64_t low_water, const char *keep, uint64_t *left) {
  struct stat st;
  uint64_t removed = 0, entries = l->n;
  qsort(l->v, l->n, sizeof *l->v, older_first);
  for (size_t i = 0; i < l->n && l->bytes > low_water; i++) {
    const owt_dirscan_entry *e = &l->v[i];
    if (keep && strcmp(e->name, keep) == 0) continue;
    if (fstatat(dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) != 0) { /* gone meanwhile */
      l->bytes -= e->size;
      entries--;
      continue;
    }
    /* Used since the scan (readers do not take the lock): no longer the oldest. */
    if (st.st_mtim.tv_sec != e->mtime.tv_sec || st.st_mtim.tv_nsec != e->mtime.tv_nsec) continue;
    if (unlinkat(dirfd, e->name, 0) == 0 || errno == ENOENT) {
      l->bytes -= e->size;
      entries--;
      removed++;
    }
  }
  if (left) *left = entries;
  return removed;
}

void owt_dirscan_free(owt_dirscan *l) {
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
  l->bytes = 0;
}
