/* owt_codestore.c - the code store directory: entries, the shared total,
 * LRU eviction.
 *
 * Entry layout (integers little-endian):
 *   "OWTCODE1" u32 flags u32 source_len [sig[64] if flags & 1] source
 * The file's size must be exactly what the head says; the source's SHA-256
 * must be the file's name. The usage file ".usage" holds
 *   "OWTUSE1\n" u64 bytes u64 entries u64 stores_since_scan
 * and is the lock every rename, eviction and update of it holds. The file
 * ".deletions" holds a u64 that every process using the store maps and adds
 * to when it deletes an entry (owt_codestore_deletions). */
#include "owt_codestore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "owt_dir.h"
#include "owt_dirscan.h"
#include "owt_log.h"

#define MAGIC "OWTCODE1"
#define MAGIC_LEN 8
#define HEAD_LEN OWT_CODESTORE_HEAD_LEN
#define SIG_LEN OWT_CODESTORE_SIG_LEN
#define USAGE_NAME ".usage"
#define USAGE_MAGIC "OWTUSE1\n"
#define USAGE_LEN (8 + 8 + 8 + 8)
#define DELETIONS_NAME ".deletions"
#define TMP_PREFIX ".owt-tmp-"
#define TMP_STALE_SECONDS 3600.0

/* ---- small helpers ------------------------------------------------------------- */

static void put_u32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p) { return get_u32(p) | (uint64_t)get_u32(p + 4) << 32; }

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mtime_of(const struct stat *st) {
  return (double)st->st_mtim.tv_sec + (double)st->st_mtim.tv_nsec / 1e9;
}


static int write_all(int fd, const void *p, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t k = write(fd, (const char *)p + off, n - off);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    off += (size_t)k;
  }
  return 0;
}

static int read_all_at(int fd, void *p, size_t n, off_t at) {
  for (size_t got = 0; got < n;) {
    ssize_t k = pread(fd, (char *)p + got, n - got, at + (off_t)got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    got += (size_t)k;
  }
  return 0;
}

void owt_codestore_name(const unsigned char digest[32], char name[OWT_CODESTORE_NAME_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    name[2 * i] = hex[digest[i] >> 4];
    name[2 * i + 1] = hex[digest[i] & 15];
  }
  name[OWT_CODESTORE_NAME_LEN] = '\0';
}

owt_err owt_codestore_hash(const owt_codestore *cs, owt_str source, unsigned char digest[32]) {
  unsigned int len = 32;
  const EVP_MD *md = cs && cs->sha256 ? (const EVP_MD *)cs->sha256 : EVP_sha256();
  if (!EVP_Digest(source.len ? source.p : "", source.len, digest, &len, md, NULL) || len != 32)
    return OWT_E_INTERNAL;
  return OWT_OK;
}

/* ---- open / close -------------------------------------------------------------- */

/* Map the directory's deletion counter, shared by every process using it
 * (a file mapping: coherent between processes without a system call to
 * read it). Left unmapped when it cannot be: then deletions by other
 * processes are not seen at once (owt_codestore_deletions). */
static void map_deletions(owt_codestore *cs, int dirfd) {
  struct stat st;
  int fd = openat(dirfd, DELETIONS_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0) return;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      (st.st_size >= (off_t)sizeof(uint64_t) || ftruncate(fd, sizeof(uint64_t)) == 0)) {
    void *p = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) atomic_store(&cs->shared_deletions, (uint64_t *)p);
  }
  close(fd);
}

/* One more entry gone, by this process. */
static void count_deletions(owt_codestore *cs, uint64_t n) {
  uint64_t *shared = atomic_load(&cs->shared_deletions);
  if (shared) __atomic_fetch_add(shared, n, __ATOMIC_RELAXED);
}

/* Open cs->dir (making it when create is set), once, whichever thread gets
 * here first. 0 with the fd, or -1 with errno. */
static int attach(owt_codestore *cs, int create) {
  int fd = atomic_load(&cs->dirfd);
  if (fd >= 0) return fd;
  if (!cs->dir) return (errno = ENOENT), -1;
  pthread_mutex_lock(&cs->attach_lock);
  fd = atomic_load(&cs->dirfd);
  if (fd < 0 && (!create || owt_dir_make(cs->dir) == 0)) {
    fd = open(cs->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) map_deletions(cs, fd);
    if (fd >= 0) atomic_store(&cs->dirfd, fd);
  }
  int saved = errno;
  pthread_mutex_unlock(&cs->attach_lock);
  errno = saved;
  return fd;
}

owt_err owt_codestore_open(owt_codestore *cs, const char *dir, uint64_t max_bytes, size_t max_source,
                           char *why, size_t why_len) {
  memset(cs, 0, sizeof *cs);
  atomic_init(&cs->dirfd, -1);
  atomic_init(&cs->tmp_counter, 0);
  atomic_init(&cs->hits, 0);
  atomic_init(&cs->misses, 0);
  atomic_init(&cs->shared_deletions, NULL);
  atomic_init(&cs->stores, 0);
  atomic_init(&cs->evictions, 0);
  atomic_init(&cs->corrupt, 0);
  pthread_mutex_init(&cs->attach_lock, NULL);
  cs->opened = 1;
  cs->max_bytes = max_bytes;
  cs->low_water = max_bytes - max_bytes / 16;
  cs->max_source = max_source;
  cs->touch_interval = 1.0;
  cs->scan_every = 256;
  cs->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL); /* NULL: EVP_sha256() per call */
  if (!dir || !dir[0]) return OWT_OK;
  cs->dir = dir;
  int fd = attach(cs, 0);
  if (fd < 0) {
    if (errno != ENOENT || !owt_dir_creatable(dir)) {
      snprintf(why, why_len, "--code-store %s: cannot open or create it: %s", dir, strerror(errno));
      cs->dir = NULL;
      return OWT_E_INTERNAL;
    }
  } else if (faccessat(fd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
    snprintf(why, why_len, "--code-store %s: not writable by this user: %s", dir, strerror(errno));
    close(fd);
    atomic_store(&cs->dirfd, -1);
    cs->dir = NULL;
    return OWT_E_INTERNAL;
  }
  return OWT_OK;
}

void owt_codestore_close(owt_codestore *cs) {
  if (!cs->opened) return; /* zeroed: its dirfd 0 is not ours to close */
  int fd = atomic_exchange(&cs->dirfd, -1);
  if (fd >= 0) close(fd);
  uint64_t *shared = atomic_exchange(&cs->shared_deletions, NULL);
  if (shared) munmap(shared, sizeof *shared);
  EVP_MD_free(cs->sha256);
  cs->sha256 = NULL;
  pthread_mutex_destroy(&cs->attach_lock);
  cs->opened = 0;
}

/* ---- entries ------------------------------------------------------------------- */

owt_err owt_codestore_parse_head(const unsigned char *p, size_t n, uint64_t file_size,
                                 owt_codestore_head *h) {
  memset(h, 0, sizeof *h);
  if (n < HEAD_LEN || file_size < HEAD_LEN || memcmp(p, MAGIC, MAGIC_LEN) != 0) return OWT_E_NOT_FOUND;
  h->flags = get_u32(p + 8);
  h->source_len = get_u32(p + 12);
  if (h->flags & ~OWT_CODESTORE_FLAG_SIG) return OWT_E_NOT_FOUND;
  h->sig_at = HEAD_LEN;
  h->source_at = HEAD_LEN + ((h->flags & OWT_CODESTORE_FLAG_SIG) ? SIG_LEN : 0);
  if ((uint64_t)h->source_at + h->source_len != file_size) return OWT_E_NOT_FOUND;
  return OWT_OK;
}

/* Delete name unless it is no longer the file judged (a fresh entry renamed
 * over it since). */
static void unlink_if_same(int dirfd, const char *name, const struct stat *judged) {
  struct stat now;
  if (fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == judged->st_ino &&
      now.st_dev == judged->st_dev)
    unlinkat(dirfd, name, 0);
}

static void refresh_mtime(const owt_codestore *cs, int fd, int dirfd, const char *name,
                          const struct stat *st) {
  if (now_seconds() - mtime_of(st) < cs->touch_interval) return;
  if (fd >= 0) futimens(fd, NULL);
  else utimensat(dirfd, name, NULL, AT_SYMLINK_NOFOLLOW);
}

/* A file under an entry's name that is not a sound entry: counted, logged,
 * deleted (when it is still the file judged; st NULL: whatever is there is
 * not a regular file, e.g. a symlink). */
static void drop_unsound(owt_codestore *cs, int dirfd, const char *name, const struct stat *st,
                         const char *why) {
  struct stat now;
  atomic_fetch_add(&cs->corrupt, 1);
  count_deletions(cs, 1);
  owt_log(OWT_LOG_WARNING, "code store entry %s is %s: deleted, treated as unknown", name, why);
  if (st) unlink_if_same(dirfd, name, st);
  else if (fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(now.st_mode) &&
           !S_ISDIR(now.st_mode))
    unlinkat(dirfd, name, 0);
}

owt_err owt_codestore_get(owt_codestore *cs, const unsigned char digest[32], owt_buf *source,
                          unsigned char sig[OWT_CODESTORE_SIG_LEN], int *has_sig) {
  char name[OWT_CODESTORE_NAME_LEN + 1];
  unsigned char head[HEAD_LEN + SIG_LEN], sum[32];
  owt_codestore_head h;
  struct stat st;
  owt_err err = OWT_E_NOT_FOUND;
  const char *why = NULL;
  int fd = -1, dirfd;
  *has_sig = 0;
  memset(&st, 0, sizeof st);
  if (!owt_codestore_enabled(cs) || (dirfd = attach(cs, 0)) < 0) goto done;
  owt_codestore_name(digest, name);
  /* O_NONBLOCK: a FIFO planted under the name must not hang the worker. */
  fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ELOOP) drop_unsound(cs, dirfd, name, NULL, "a symbolic link");
    goto done;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    why = "not a regular file";
  } else if ((uint64_t)st.st_size > (uint64_t)HEAD_LEN + SIG_LEN + cs->max_source) {
    why = "longer than any entry can be";
  } else {
    size_t want = (size_t)st.st_size < sizeof head ? (size_t)st.st_size : sizeof head;
    if (read_all_at(fd, head, want, 0) != 0 || owt_codestore_parse_head(head, want, (uint64_t)st.st_size, &h))
      why = "damaged (its head does not match its length)";
  }
  if (why) goto unsound;
  if ((err = owt_buf_reserve(source, h.source_len))) goto done; /* too large for this server: kept */
  err = OWT_E_NOT_FOUND;
  char *dst = source->data + source->len;
  if (h.source_len && read_all_at(fd, dst, h.source_len, (off_t)h.source_at) != 0) {
    why = "unreadable";
    goto unsound;
  }
  if (owt_codestore_hash(cs, (owt_str){dst, h.source_len}, sum) != OWT_OK) {
    err = OWT_E_INTERNAL;
    goto done;
  }
  if (memcmp(sum, digest, 32) != 0) {
    why = "damaged or swapped (its source does not hash to its name)";
    goto unsound;
  }
  if (h.flags & OWT_CODESTORE_FLAG_SIG) {
    memcpy(sig, head + h.sig_at, SIG_LEN);
    *has_sig = 1;
  }
  source->len += h.source_len;
  source->data[source->len] = '\0';
  refresh_mtime(cs, fd, dirfd, name, &st);
  err = OWT_OK;
  goto done;
unsound:
  drop_unsound(cs, dirfd, name, &st, why);
done:
  if (fd >= 0) close(fd);
  if (err == OWT_OK) atomic_fetch_add(&cs->hits, 1);
  else if (err == OWT_E_NOT_FOUND) atomic_fetch_add(&cs->misses, 1);
  return err;
}

/* ---- the shared total ------------------------------------------------------------ */

typedef struct {
  int fd;
  int known; /* the file held a total (else a scan sets one) */
  uint64_t bytes, entries, stores;
} usage;

/* Open and lock the usage file. 0, or -1 with errno. */
static int usage_lock(int dirfd, usage *u) {
  unsigned char raw[USAGE_LEN];
  struct stat st;
  memset(u, 0, sizeof *u);
  u->fd = openat(dirfd, USAGE_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (u->fd < 0) return -1;
  if (fstat(u->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(u->fd);
    u->fd = -1;
    return (errno = EINVAL), -1;
  }
  while (flock(u->fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    close(u->fd);
    u->fd = -1;
    return -1;
  }
  if (read_all_at(u->fd, raw, sizeof raw, 0) == 0 && memcmp(raw, USAGE_MAGIC, 8) == 0) {
    u->known = 1;
    u->bytes = get_u64(raw + 8);
    u->entries = get_u64(raw + 16);
    u->stores = get_u64(raw + 24);
  }
  return 0;
}

/* Write the total back and unlock. */
static void usage_unlock(usage *u) {
  unsigned char raw[USAGE_LEN];
  if (u->fd < 0) return;
  memcpy(raw, USAGE_MAGIC, 8);
  put_u64(raw + 8, u->bytes);
  put_u64(raw + 16, u->entries);
  put_u64(raw + 24, u->stores);
  if (pwrite(u->fd, raw, sizeof raw, 0) != (ssize_t)sizeof raw)
    owt_log(OWT_LOG_WARNING, "code store: cannot update %s: %s", USAGE_NAME, strerror(errno));
  close(u->fd); /* releases the flock */
  u->fd = -1;
}

/* ---- scanning and eviction (the lock held) ------------------------------------------ */

/* Every entry file counted, and listed into l when l is not NULL; stale
 * temporary files (a worker died while writing one) are removed on the way. */
static owt_err scan_dir(int dirfd, owt_dirscan *l, uint64_t *entries, uint64_t *bytes) {
  return owt_dirscan_read(dirfd, TMP_PREFIX, now_seconds(), TMP_STALE_SECONDS, l, entries, bytes);
}

/* Scan, evict down to low_water when over max_bytes (never keep, the entry
 * just stored), and set u from what is left. */
static owt_err evict_locked(owt_codestore *cs, int dirfd, usage *u, const char *keep) {
  owt_dirscan l = OWT_DIRSCAN_INIT;
  uint64_t entries, bytes;
  owt_err err = scan_dir(dirfd, &l, &entries, &bytes);
  if (err) goto done;
  if (l.bytes > cs->max_bytes) {
    uint64_t evicted = owt_dirscan_evict_oldest(dirfd, &l, cs->low_water, keep, &entries);
    atomic_fetch_add(&cs->evictions, evicted);
    if (evicted) count_deletions(cs, evicted);
  }
  u->bytes = l.bytes;
  u->entries = entries;
  u->stores = 0;
  u->known = 1;
done:
  owt_dirscan_free(&l);
  return err;
}

owt_err owt_codestore_evict(owt_codestore *cs) {
  usage u;
  int dirfd;
  if (!owt_codestore_enabled(cs) || (dirfd = attach(cs, 0)) < 0) return OWT_OK;
  if (usage_lock(dirfd, &u) != 0) return OWT_E_INTERNAL;
  owt_err err = evict_locked(cs, dirfd, &u, NULL);
  usage_unlock(&u);
  return err;
}

owt_err owt_codestore_usage(owt_codestore *cs, uint64_t *entries, uint64_t *bytes) {
  int dirfd;
  *entries = *bytes = 0;
  if (!owt_codestore_enabled(cs) || (dirfd = attach(cs, 0)) < 0) return OWT_OK;
  return scan_dir(dirfd, NULL, entries, bytes); /* counts only: no list to build */
}

/* ---- storing ------------------------------------------------------------------------ */

/* Whether the entry under name already holds this source (judged by its
 * size: the hash in the name settles the rest, and a load checks it) and,
 * when sig is given, that very signature (a damaged one is replaced).
 * Touches it when so. */
static int already_stored(const owt_codestore *cs, int dirfd, const char *name, size_t source_len,
                          const unsigned char *sig) {
  unsigned char held[SIG_LEN];
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) return 0;
  uint64_t plain = (uint64_t)HEAD_LEN + source_len, signed_ = plain + SIG_LEN;
  if ((uint64_t)st.st_size != signed_ && ((uint64_t)st.st_size != plain || sig)) return 0;
  if (sig) {
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    int same = fd >= 0 && read_all_at(fd, held, SIG_LEN, HEAD_LEN) == 0 && memcmp(held, sig, SIG_LEN) == 0;
    if (fd >= 0) close(fd);
    if (!same) return 0;
  }
  refresh_mtime(cs, -1, dirfd, name, &st);
  return 1;
}

/* Write the entry to a new temporary file named into tmp. 0, or -1. */
static int write_temp(owt_codestore *cs, int dirfd, char *tmp, size_t tmp_len, owt_str source,
                      const unsigned char *sig) {
  unsigned char head[HEAD_LEN];
  memcpy(head, MAGIC, MAGIC_LEN);
  put_u32(head + 8, sig ? OWT_CODESTORE_FLAG_SIG : 0);
  put_u32(head + 12, (uint32_t)source.len);
  snprintf(tmp, tmp_len, TMP_PREFIX "%ld-%u", (long)getpid(), atomic_fetch_add(&cs->tmp_counter, 1));
  int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -1;
  int failed = write_all(fd, head, sizeof head) || (sig && write_all(fd, sig, SIG_LEN)) ||
               (source.len && write_all(fd, source.p, source.len));
  if (close(fd) != 0) failed = 1;
  if (failed) unlinkat(dirfd, tmp, 0);
  return failed ? -1 : 0;
}

owt_err owt_codestore_put(owt_codestore *cs, const unsigned char digest[32], owt_str source,
                          const unsigned char *sig) {
  char name[OWT_CODESTORE_NAME_LEN + 1], tmp[64];
  struct stat old;
  usage u = {.fd = -1};
  int dirfd;
  if (!owt_codestore_enabled(cs)) return OWT_OK;
  uint64_t size = (uint64_t)HEAD_LEN + (sig ? SIG_LEN : 0) + source.len;
  if (source.len > cs->max_source || source.len > UINT32_MAX || size > cs->max_bytes) return OWT_E_TOO_LARGE;
  if ((dirfd = attach(cs, 1)) < 0) {
    owt_log(OWT_LOG_WARNING, "code store: cannot create --code-store %s: %s", cs->dir, strerror(errno));
    return OWT_E_INTERNAL;
  }
  owt_codestore_name(digest, name);
  if (already_stored(cs, dirfd, name, source.len, sig)) return OWT_OK;
  if (write_temp(cs, dirfd, tmp, sizeof tmp, source, sig) != 0) {
    owt_log(OWT_LOG_WARNING, "code store: cannot write an entry: %s", strerror(errno));
    return OWT_E_INTERNAL;
  }
  if (usage_lock(dirfd, &u) != 0) {
    owt_log(OWT_LOG_WARNING, "code store: cannot lock %s: %s", USAGE_NAME, strerror(errno));
    unlinkat(dirfd, tmp, 0);
    return OWT_E_INTERNAL;
  }
  int existed = fstatat(dirfd, name, &old, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(old.st_mode);
  if (renameat(dirfd, tmp, dirfd, name) != 0) {
    owt_log(OWT_LOG_WARNING, "code store: cannot rename an entry into place: %s", strerror(errno));
    unlinkat(dirfd, tmp, 0);
    usage_unlock(&u);
    return OWT_E_INTERNAL;
  }
  atomic_fetch_add(&cs->stores, 1);
  uint64_t gone = existed ? (uint64_t)old.st_size : 0;
  uint64_t rest = u.bytes >= gone ? u.bytes - gone : 0;
  u.bytes = rest > UINT64_MAX - size ? UINT64_MAX : rest + size; /* a damaged total only brings a scan */
  u.entries += !existed;
  u.stores++;
  owt_err err = OWT_OK;
  if (!u.known || u.bytes > cs->max_bytes || u.stores >= cs->scan_every)
    err = evict_locked(cs, dirfd, &u, name);
  usage_unlock(&u);
  if (err) owt_log(OWT_LOG_WARNING, "code store: scanning %s failed", cs->dir);
  return OWT_OK;
}
