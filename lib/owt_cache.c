/* owt_cache.c - the response cache directory: keys, entries, LRU eviction,
 * and the accounting that bounds the directory across processes.
 *
 * Entry layout (integers little-endian; docs/cache.md has the table):
 *   "OWTCACHE" u32 version u32 flags u64 created_ms u32 status u32 nheaders
 *   digest[32] u32 keylen key[keylen]
 *   nheaders x (u32 len name, u32 len value)
 *   chunks: u32 len (> 0) bytes[len] ...
 *   end: u32 0, u32 nchunks, u64 body_len, sha256[32] of every byte before it
 * The counts sit after the chunks because a stream is written while it
 * streams; the checksum covers them, so a truncated or altered file fails
 * the check before a byte of it is sent.
 *
 * Accounting: the file ".owt-usage" in the directory holds the entries'
 * total bytes and the stores since the last scan:
 *   "OWTUSAGE" u32 version u32 stores_since_scan u64 bytes
 * Every change to the set of entries a process makes (a store's rename, an
 * eviction, a purge, deleting a damaged entry) happens under a POSIX
 * record lock on it (which excludes other processes, and works whatever
 * fds were shared by fork) and c->lock (which excludes this process's
 * other threads: record locks belong to the process). So a store knows the
 * directory's total, not only its own share, and the bound holds with any
 * number of workers. Why a counter and not a scan per store: a store then
 * costs a stat, a rename and two 24-byte preads/pwrites under the lock,
 * whatever the number of entries, and lookups (the hot path) never touch
 * it. What the counter cannot see (files deleted by hand, a process killed
 * between its rename and its write) is corrected by the scan that every
 * scan_every-th store of the directory makes, and by any eviction. */
#include "owt_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "owt_dir.h"
#include "owt_dirscan.h"
#include "owt_log.h"

#define MAGIC "OWTCACHE"
#define MAGIC_LEN 8
#define FLAG_STREAMED 1u
#define FIXED_LEN (MAGIC_LEN + 4 + 4 + 8 + 4 + 4 + 32 + 4) /* up to and including keylen */
#define TRAILER_LEN (4 + 4 + 8 + 32)
#define TMP_PREFIX ".owt-tmp-"
#define TMP_STALE_SECONDS 3600.0
#define PENDING_FLUSH (64u << 10)
#define USAGE_NAME ".owt-usage"
#define USAGE_MAGIC "OWTUSAGE"
#define USAGE_VERSION 1
#define USAGE_LEN (MAGIC_LEN + 4 + 4 + 8)

static const owt_str cache_header_name = OWT_STR_LIT("X-Owt-Cache");

/* ---- little-endian fields ------------------------------------------------------ */

static owt_err put_u32(owt_buf *b, uint32_t v) {
  unsigned char p[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 24)};
  return owt_buf_append(b, p, 4);
}

static owt_err put_u64(owt_buf *b, uint64_t v) {
  owt_err err = put_u32(b, (uint32_t)v);
  return err ? err : put_u32(b, (uint32_t)(v >> 32));
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p) { return get_u32(p) | (uint64_t)get_u32(p + 4) << 32; }

static double default_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


/* ---- open / close ------------------------------------------------------------- */

/* Open (creating it) the accounting file: a regular file, not a link, and
 * an open that cannot block. -1 when it cannot be used. */
static int open_usage(int dirfd) {
  struct stat st;
  int fd = openat(dirfd, USAGE_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0) return -1;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return (errno = EINVAL), -1;
  }
  return fd;
}

/* Open c->dir (creating it when create is set) and its accounting file.
 * 0, or -1 with errno. Once c->dirfd is set it never changes. */
static int attach(owt_cache *c, int create) {
  int rc = 0;
  if (atomic_load_explicit(&c->dirfd, memory_order_acquire) >= 0) return 0;
  if (!c->dir) return (errno = ENOENT), -1;
  pthread_mutex_lock(&c->lock);
  if (atomic_load_explicit(&c->dirfd, memory_order_relaxed) < 0) {
    int fd = -1;
    if ((create && owt_dir_make(c->dir) != 0) || (fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
      rc = -1;
    } else {
      int saved = errno;
      c->usage_fd = open_usage(fd); /* checked where it is needed: a store */
      errno = saved;
      atomic_store_explicit(&c->dirfd, fd, memory_order_release);
    }
  }
  pthread_mutex_unlock(&c->lock);
  return rc;
}

owt_err owt_cache_open(owt_cache *c, const char *dir, uint64_t max_bytes, double ttl, char *why,
                       size_t why_len) {
  memset(c, 0, sizeof *c);
  atomic_init(&c->dirfd, -1);
  c->usage_fd = -1;
  pthread_mutex_init(&c->lock, NULL);
  c->max_bytes = max_bytes;
  c->low_water = max_bytes - max_bytes / 16;
  c->ttl = ttl;
  c->touch_interval = 1.0;
  c->scan_every = 64;
  c->clock = default_clock;
  if (!dir || !dir[0]) return OWT_OK;
  c->dir = dir;
  /* A missing directory is made by the first store, so a server that never
   * caches leaves nothing behind; one that could never make it fails now. */
  if (attach(c, 0) != 0) {
    if (errno != ENOENT || !owt_dir_creatable(dir)) {
      snprintf(why, why_len, "--cache-dir %s: cannot open or create it: %s", dir, strerror(errno));
      c->dir = NULL;
      return OWT_E_INTERNAL;
    }
  } else if (faccessat(c->dirfd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
    snprintf(why, why_len, "--cache-dir %s: not writable by this user: %s", dir, strerror(errno));
    owt_cache_close(c);
    c->dir = NULL;
    return OWT_E_INTERNAL;
  } else if (c->usage_fd < 0 && (c->usage_fd = open_usage(c->dirfd)) < 0) { /* again, for errno */
    snprintf(why, why_len, "--cache-dir %s: cannot use its accounting file " USAGE_NAME ": %s", dir,
             strerror(errno));
    owt_cache_close(c);
    c->dir = NULL;
    return OWT_E_INTERNAL;
  }
  return OWT_OK;
}

void owt_cache_close(owt_cache *c) {
  int fd = atomic_exchange(&c->dirfd, -1);
  if (fd >= 0) close(fd);
  if (c->usage_fd >= 0) close(c->usage_fd);
  c->usage_fd = -1;
}

/* ---- the accounting ------------------------------------------------------------ */

typedef struct {
  uint64_t bytes;
  uint32_t stores; /* since the last scan */
} usage;

/* Take the accounting lock: c->lock, then a write lock on the accounting
 * file. 0, or -1 (nothing held) when the file cannot be used: logged once. */
static int usage_lock(owt_cache *c) {
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
  pthread_mutex_lock(&c->lock);
  if (c->usage_fd >= 0) {
    for (;;) {
      if (fcntl(c->usage_fd, F_SETLKW, &fl) == 0) return 0;
      if (errno != EINTR) break;
    }
  } else {
    errno = ENOENT;
  }
  int saved = errno;
  pthread_mutex_unlock(&c->lock);
  if (!atomic_exchange(&c->usage_warned, 1))
    owt_log(OWT_LOG_WARNING, "cache: the accounting file %s/" USAGE_NAME " cannot be used (%s): "
            "nothing is stored", c->dir ? c->dir : "", strerror(saved));
  errno = saved;
  return -1;
}

static void usage_unlock(owt_cache *c) {
  struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
  fcntl(c->usage_fd, F_SETLK, &fl);
  pthread_mutex_unlock(&c->lock);
}

/* The record, under the lock. 0, or -1 when it is missing or not one (a
 * new directory, a damaged file): the caller scans then. */
static int usage_read(owt_cache *c, usage *u) {
  unsigned char r[USAGE_LEN];
  if (pread(c->usage_fd, r, sizeof r, 0) != (ssize_t)sizeof r || memcmp(r, USAGE_MAGIC, MAGIC_LEN) != 0 ||
      get_u32(r + 8) != USAGE_VERSION)
    return -1;
  u->stores = get_u32(r + 12);
  u->bytes = get_u64(r + 16);
  return 0;
}

static void usage_write(owt_cache *c, const usage *u) {
  char r[USAGE_LEN + 1];
  owt_buf b = OWT_BUF_FIXED(r);
  if (owt_buf_append(&b, USAGE_MAGIC, MAGIC_LEN) || put_u32(&b, USAGE_VERSION) || put_u32(&b, u->stores) ||
      put_u64(&b, u->bytes))
    return;
  /* A short write leaves a record usage_read refuses: the next store scans. */
  if (pwrite(c->usage_fd, b.data, b.len, 0) != (ssize_t)b.len && ftruncate(c->usage_fd, 0) != 0)
    owt_log(OWT_LOG_WARNING, "cache: cannot write the accounting file: %s", strerror(errno));
}

/* Take size bytes of a deleted entry off the record (under the lock). */
static void usage_forget(owt_cache *c, uint64_t size) {
  usage u;
  if (usage_read(c, &u) != 0) return;
  u.bytes = u.bytes > size ? u.bytes - size : 0;
  usage_write(c, &u);
}

/* ---- keys ---------------------------------------------------------------------- */

static int hash_part(EVP_MD_CTX *ctx, char tag, owt_str part) {
  unsigned char len[8];
  uint64_t n = part.len;
  for (int i = 0; i < 8; i++) len[i] = (unsigned char)(n >> (8 * i));
  return EVP_DigestUpdate(ctx, &tag, 1) && EVP_DigestUpdate(ctx, len, sizeof len) &&
         (!part.len || EVP_DigestUpdate(ctx, part.p, part.len));
}

owt_err owt_cache_key_make(owt_cache_key *key, owt_str base, const owt_str *kwargs, const owt_str *user) {
  static const char hex[] = "0123456789abcdef";
  static const char domain[] = "owt-cache-key-v1";
  EVP_MD_CTX *ctx = EVP_MD_CTX_new(); /* per call: threads share nothing here */
  unsigned int len = 0;
  memset(key, 0, sizeof *key);
  key->base = base;
  int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
           EVP_DigestUpdate(ctx, domain, sizeof domain) /* with its NUL */ && hash_part(ctx, 'k', base) &&
           (!kwargs || !kwargs->len || hash_part(ctx, 'a', *kwargs)) &&
           (!user || hash_part(ctx, 'u', *user)) &&
           EVP_DigestFinal_ex(ctx, key->digest, &len) && len == 32;
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    /* No name: lookups miss and nothing is stored. (An all-zero digest
     * would have made every such request share one entry.) */
    memset(key->digest, 0, sizeof key->digest);
    return OWT_E_INTERNAL;
  }
  for (int i = 0; i < 32; i++) {
    key->name[2 * i] = hex[key->digest[i] >> 4];
    key->name[2 * i + 1] = hex[key->digest[i] & 15];
  }
  key->name[OWT_CACHE_NAME_LEN] = '\0';
  return OWT_OK;
}

/* ---- reading an entry ---------------------------------------------------------- */

owt_err owt_cache_entry_parse(const unsigned char *m, size_t size, const unsigned char digest[32],
                              owt_cache_hit *hit, uint64_t *created_ms) {
  unsigned char sum[32];
  unsigned int sum_len = 32;
  memset(hit, 0, sizeof *hit);
  if (size < FIXED_LEN + TRAILER_LEN || memcmp(m, MAGIC, MAGIC_LEN) != 0) return OWT_E_NOT_FOUND;
  if (get_u32(m + 8) != OWT_CACHE_VERSION) return OWT_E_NOT_FOUND;
  if (!EVP_Digest(m, size - 32, sum, &sum_len, EVP_sha256(), NULL) || memcmp(sum, m + size - 32, 32))
    return OWT_E_NOT_FOUND;
  uint32_t flags = get_u32(m + 12);
  uint64_t created = get_u64(m + 16);
  uint32_t status = get_u32(m + 24), nheaders = get_u32(m + 28);
  if (memcmp(m + 32, digest, 32) != 0 || status < 100 || status > 999) return OWT_E_NOT_FOUND;
  if (nheaders > OWT_CACHE_MAX_HEADERS) return OWT_E_NOT_FOUND;
  size_t end = size - TRAILER_LEN; /* where the end record starts */
  size_t at = FIXED_LEN;
  uint32_t keylen = get_u32(m + FIXED_LEN - 4);
  if (keylen > end - at) return OWT_E_NOT_FOUND;
  hit->key = (owt_str){(const char *)m + at, keylen};
  at += keylen;
  for (uint32_t i = 0; i < nheaders; i++) {
    owt_str part[2];
    for (int j = 0; j < 2; j++) {
      if (end - at < 4) return OWT_E_NOT_FOUND;
      uint32_t n = get_u32(m + at);
      at += 4;
      if (n > end - at) return OWT_E_NOT_FOUND;
      part[j] = (owt_str){(const char *)m + at, n};
      at += n;
    }
    hit->headers[i] = (owt_header){part[0], part[1]};
  }
  size_t chunks_at = at;
  uint32_t nchunks = 0;
  uint64_t body = 0;
  while (at < end) {
    if (end - at < 4) return OWT_E_NOT_FOUND;
    uint32_t n = get_u32(m + at);
    if (n == 0 || n > end - at - 4 || nchunks == UINT32_MAX) return OWT_E_NOT_FOUND;
    at += 4 + (size_t)n;
    body += n;
    nchunks++;
  }
  if (at != end || get_u32(m + end) != 0 || get_u32(m + end + 4) != nchunks || get_u64(m + end + 8) != body)
    return OWT_E_NOT_FOUND;
  hit->status = (int)status;
  hit->streamed = (flags & FLAG_STREAMED) != 0;
  hit->nheaders = nheaders;
  hit->body_len = body;
  hit->nchunks = nchunks;
  hit->chunks_left = nchunks;
  hit->next = chunks_at;
  hit->map = m;
  hit->map_len = size;
  *created_ms = created;
  return OWT_OK;
}

/* Delete name unless it is no longer the file we judged (a fresh entry
 * renamed over it since), and take it off the accounting. */
static void drop_entry(owt_cache *c, const char *name, const struct stat *judged) {
  struct stat now;
  int locked = usage_lock(c) == 0;
  if (fstatat(c->dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == judged->st_ino &&
      now.st_dev == judged->st_dev && unlinkat(c->dirfd, name, 0) == 0 && locked && S_ISREG(now.st_mode))
    usage_forget(c, (uint64_t)now.st_size);
  if (locked) usage_unlock(c);
}

/* The entry's size bytes: read into a buffer of its own when it is small (in
 * a VM a mapping's page faults cost more than the copy), mapped when large.
 * NULL when neither works, or the file is shorter than size; *owned or
 * *mapped says what to undo. */
static const unsigned char *load_entry(int fd, size_t size, void **owned, int *mapped) {
  size_t got = 0;
  *mapped = 0;
  *owned = NULL;
  if (size > OWT_CACHE_READ_MAX) {
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) return NULL;
    *mapped = 1;
    return m;
  }
  unsigned char *buf = malloc(size);
  if (!buf) return NULL;
  while (got < size) {
    ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      free(buf);
      return NULL;
    }
    got += (size_t)n;
  }
  *owned = buf;
  return buf;
}

static const char other_key[] = "stored for another key";

/* Judge the open entry fd for key. NULL: *hit holds it (and owns its
 * bytes). Otherwise hit is empty and the answer says why it is a miss: ""
 * for a sound entry that expired, other_key for a sound entry stored for
 * another key (kept: it is that key's), else what is wrong with the file. */
static const char *judge_entry(owt_cache *c, int fd, const owt_cache_key *key, owt_cache_hit *hit,
                               struct stat *st) {
  const unsigned char *data = NULL;
  void *owned = NULL;
  int mapped = 0;
  uint64_t created = 0;
  const char *why = NULL;
  if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) return "not a regular file";
  if (st->st_size < FIXED_LEN + TRAILER_LEN || (uint64_t)st->st_size > SIZE_MAX) return "truncated";
  if ((uint64_t)st->st_size > c->max_bytes) return "larger than --cache-max-bytes";
  size_t size = (size_t)st->st_size;
  if (!(data = load_entry(fd, size, &owned, &mapped))) return "unreadable";
  double now = c->clock();
  if (owt_cache_entry_parse(data, size, key->digest, hit, &created) != OWT_OK)
    why = "corrupt or truncated (length or checksum mismatch)";
  else if (!owt_str_eq(hit->key, key->base)) /* the key itself, not only its digest */
    why = other_key;
  else if (c->ttl > 0 && now - (double)created / 1000.0 > c->ttl)
    why = ""; /* expired */
  if (why) {
    if (mapped) munmap((void *)data, size);
    free(owned);
    memset(hit, 0, sizeof *hit);
    return why;
  }
  if (now - ((double)st->st_mtim.tv_sec + (double)st->st_mtim.tv_nsec / 1e9) >= c->touch_interval)
    futimens(fd, NULL); /* LRU: a hit makes the entry the most recently used */
  hit->mapped = mapped;
  hit->owned = owned;
  return NULL;
}

owt_err owt_cache_lookup(owt_cache *c, const owt_cache_key *key, owt_cache_hit *hit) {
  struct stat st;
  const char *why = NULL;
  memset(hit, 0, sizeof *hit);
  memset(&st, 0, sizeof st);
  if (!owt_cache_key_valid(key) || attach(c, 0) != 0) goto miss;
  /* Never block (a FIFO), never follow a link; then only a regular file. */
  int fd = openat(c->dirfd, key->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd >= 0) {
    why = judge_entry(c, fd, key, hit, &st);
    close(fd);
  } else if (errno == ELOOP && fstatat(c->dirfd, key->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    why = "a symbolic link";
  } else {
    goto miss;
  }
  if (!why) {
    atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
    return OWT_OK;
  }
  if (why == other_key) goto miss;
  if (why[0]) {
    atomic_fetch_add_explicit(&c->corrupt, 1, memory_order_relaxed);
    owt_log(OWT_LOG_WARNING, "cache entry %s for %.*s is %s: deleted, treated as a miss", key->name,
            (int)(key->base.len > 200 ? 200 : key->base.len), key->base.p ? key->base.p : "", why);
  }
  drop_entry(c, key->name, &st);
miss:
  atomic_fetch_add_explicit(&c->misses, 1, memory_order_relaxed);
  return OWT_E_NOT_FOUND;
}

int owt_cache_hit_next(owt_cache_hit *hit, owt_str *chunk) {
  if (!hit->map || hit->chunks_left == 0) {
    *chunk = OWT_STR_NULL;
    return 0;
  }
  uint32_t n = get_u32(hit->map + hit->next);
  *chunk = (owt_str){(const char *)hit->map + hit->next + 4, n};
  hit->next += 4 + (size_t)n;
  hit->chunks_left--;
  return 1;
}

void owt_cache_hit_release(owt_cache_hit *hit) {
  if (hit->map && hit->mapped) munmap((void *)hit->map, hit->map_len);
  free(hit->owned);
  hit->owned = NULL;
  hit->map = NULL;
  hit->mapped = 0;
  hit->map_len = 0;
  hit->chunks_left = 0;
}

/* ---- writing an entry ---------------------------------------------------------- */

static owt_err flush_pending(owt_cache_writer *w) {
  size_t off = 0;
  while (off < w->pending.len) {
    ssize_t n = write(w->fd, w->pending.data + off, w->pending.len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return OWT_E_INTERNAL;
    off += (size_t)n;
  }
  owt_buf_reset(&w->pending);
  return OWT_OK;
}

/* Hash p[0..n) and queue it for the file. */
static owt_err emit(owt_cache_writer *w, const void *p, size_t n) {
  owt_err err;
  if (!EVP_DigestUpdate(w->md, p, n)) return OWT_E_INTERNAL;
  w->size += n;
  if (w->pending.len + n <= PENDING_FLUSH) return owt_buf_append(&w->pending, p, n);
  if ((err = flush_pending(w))) return err;
  if (n <= PENDING_FLUSH) return owt_buf_append(&w->pending, p, n);
  for (size_t off = 0; off < n;) {
    ssize_t k = write(w->fd, (const char *)p + off, n - off);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return OWT_E_INTERNAL;
    off += (size_t)k;
  }
  return OWT_OK;
}

static owt_err emit_u32(owt_cache_writer *w, uint32_t v) {
  char small[8];
  owt_buf b = OWT_BUF_FIXED(small);
  owt_err err = put_u32(&b, v);
  return err ? err : emit(w, b.data, b.len);
}

static owt_err emit_str(owt_cache_writer *w, owt_str s) {
  owt_err err = emit_u32(w, (uint32_t)s.len);
  return err ? err : emit(w, s.p, s.len);
}

/* Close and free w without touching the directory. */
static void writer_release(owt_cache_writer *w) {
  if (w->fd >= 0) close(w->fd);
  w->fd = -1;
  EVP_MD_CTX_free(w->md);
  w->md = NULL;
  owt_buf_free(&w->pending);
}

void owt_cache_writer_abort(owt_cache *c, owt_cache_writer *w) {
  if (w->fd >= 0 && w->tmp_name[0] && c->dirfd >= 0) unlinkat(c->dirfd, w->tmp_name, 0);
  writer_release(w);
}

static int keep_header(owt_str name) { return !owt_str_caseeq(name, cache_header_name); }

owt_err owt_cache_writer_begin(owt_cache *c, owt_cache_writer *w, const owt_cache_key *key, int status,
                               const owt_header *headers, size_t nheaders, int streamed) {
  owt_err err = OWT_OK;
  char head[FIXED_LEN + 1]; /* + the NUL an owt_buf keeps */
  owt_buf fixed = OWT_BUF_FIXED(head);
  uint32_t kept = 0;
  memset(w, 0, sizeof *w);
  w->fd = -1;
  owt_buf_init(&w->pending, PENDING_FLUSH + 64);
  if (!owt_cache_enabled(c)) return OWT_OK;
  if (!owt_cache_key_valid(key)) return OWT_E_INTERNAL;
  if (attach(c, 1) != 0) {
    owt_log(OWT_LOG_WARNING, "cache: cannot create --cache-dir %s: %s", c->dir, strerror(errno));
    return OWT_E_INTERNAL;
  }
  for (size_t i = 0; i < nheaders; i++) kept += (uint32_t)keep_header(headers[i].name);
  if (kept > OWT_CACHE_MAX_HEADERS || key->base.len > OWT_CACHE_MAX_KEY) return OWT_E_TOO_LARGE;
  w->key = *key;
  /* A name no other process or thread uses; O_EXCL: a new regular file,
   * never whatever sits there (a FIFO would block, a link lead elsewhere).
   * Something at our own name is a leftover of a process with our pid, or
   * planted: out of the way with it, once. */
  snprintf(w->tmp_name, sizeof w->tmp_name, TMP_PREFIX "%ld-%u", (long)getpid(),
           atomic_fetch_add_explicit(&c->tmp_counter, 1, memory_order_relaxed));
  for (int attempt = 0; attempt < 2 && w->fd < 0; attempt++) {
    w->fd = openat(c->dirfd, w->tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (w->fd < 0 && (errno != EEXIST || unlinkat(c->dirfd, w->tmp_name, 0) != 0)) break;
  }
  if (w->fd < 0) {
    owt_log(OWT_LOG_WARNING, "cache: cannot create a temporary entry: %s", strerror(errno));
    err = OWT_E_INTERNAL;
    goto fail;
  }
  if (!(w->md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(w->md, EVP_sha256(), NULL)) {
    err = OWT_E_NOMEM;
    goto fail;
  }
  double now = c->clock();
  uint64_t created_ms = now > 0 ? (uint64_t)(now * 1000.0) : 0;
  if ((err = owt_buf_append(&fixed, MAGIC, MAGIC_LEN)) || (err = put_u32(&fixed, OWT_CACHE_VERSION)) ||
      (err = put_u32(&fixed, streamed ? FLAG_STREAMED : 0)) || (err = put_u64(&fixed, created_ms)) ||
      (err = put_u32(&fixed, (uint32_t)status)) || (err = put_u32(&fixed, kept)) ||
      (err = owt_buf_append(&fixed, key->digest, 32)) || (err = put_u32(&fixed, (uint32_t)key->base.len)))
    goto fail;
  if ((err = emit(w, fixed.data, fixed.len)) || (err = emit(w, key->base.p, key->base.len))) goto fail;
  for (size_t i = 0; i < nheaders; i++) {
    if (!keep_header(headers[i].name)) continue;
    if ((err = emit_str(w, headers[i].name)) || (err = emit_str(w, headers[i].value))) goto fail;
  }
  if (w->size + TRAILER_LEN > c->max_bytes) {
    err = OWT_E_TOO_LARGE;
    goto fail;
  }
  return OWT_OK;
fail:
  owt_cache_writer_abort(c, w);
  return err;
}

owt_err owt_cache_writer_chunk(owt_cache *c, owt_cache_writer *w, const void *p, size_t n) {
  owt_err err;
  if (w->fd < 0 || n == 0) return OWT_OK;
  if (n > UINT32_MAX || w->size + 4 + n + TRAILER_LEN > c->max_bytes) {
    err = OWT_E_TOO_LARGE; /* evicted the moment it landed: not worth writing */
    goto fail;
  }
  if ((err = emit_u32(w, (uint32_t)n)) || (err = emit(w, p, n))) goto fail;
  w->body_len += n;
  w->nchunks++;
  return OWT_OK;
fail:
  if (err != OWT_E_TOO_LARGE) owt_log(OWT_LOG_WARNING, "cache: writing an entry failed: %s", strerror(errno));
  owt_cache_writer_abort(c, w);
  return err;
}

static owt_err evict_locked(owt_cache *c);

/* Rename tmp onto name and count its size bytes in the accounting, under
 * the accounting lock; evict when the directory is then over its bound or
 * a correcting scan is due. On failure tmp is gone. */
static owt_err publish_entry(owt_cache *c, const char *tmp, const char *name, uint64_t size) {
  struct stat old;
  usage u;
  if (usage_lock(c) != 0) {
    unlinkat(c->dirfd, tmp, 0);
    return OWT_E_INTERNAL;
  }
  uint64_t replaced = 0; /* the entry this one replaces, if any */
  if (fstatat(c->dirfd, name, &old, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(old.st_mode))
    replaced = (uint64_t)old.st_size;
  if (renameat(c->dirfd, tmp, c->dirfd, name) != 0) {
    int saved = errno;
    unlinkat(c->dirfd, tmp, 0);
    usage_unlock(c);
    errno = saved;
    return OWT_E_INTERNAL;
  }
  if (usage_read(c, &u) != 0) {
    evict_locked(c); /* no record yet (or a damaged one): count the directory */
  } else {
    u.bytes = (u.bytes > replaced ? u.bytes - replaced : 0) + size;
    u.stores++;
    if (u.bytes > c->max_bytes || u.stores >= c->scan_every) evict_locked(c);
    else usage_write(c, &u);
  }
  usage_unlock(c);
  return OWT_OK;
}

owt_err owt_cache_writer_commit(owt_cache *c, owt_cache_writer *w) {
  unsigned char sum[32];
  unsigned int sum_len = 32;
  char tail[16 + 1];
  owt_buf t = OWT_BUF_FIXED(tail);
  owt_err err;
  if (w->fd < 0) return OWT_OK;
  if ((err = put_u32(&t, 0)) || (err = put_u32(&t, w->nchunks)) || (err = put_u64(&t, w->body_len)) ||
      (err = emit(w, t.data, t.len)))
    goto fail;
  if (!EVP_DigestFinal_ex(w->md, sum, &sum_len) || owt_buf_append(&w->pending, sum, 32) ||
      (err = flush_pending(w))) {
    err = OWT_E_INTERNAL;
    goto fail;
  }
  uint64_t size = w->size + 32;
  int fd = w->fd;
  w->fd = -1;
  if (close(fd) != 0) {
    err = OWT_E_INTERNAL;
    unlinkat(c->dirfd, w->tmp_name, 0);
    goto fail;
  }
  if ((err = publish_entry(c, w->tmp_name, w->key.name, size))) goto fail;
  writer_release(w);
  atomic_fetch_add_explicit(&c->stores, 1, memory_order_relaxed);
  return OWT_OK;
fail:
  owt_log(OWT_LOG_WARNING, "cache: storing the entry for %.*s failed: %s",
          (int)(w->key.base.len > 200 ? 200 : w->key.base.len), w->key.base.p ? w->key.base.p : "",
          strerror(errno));
  owt_cache_writer_abort(c, w);
  return err;
}

/* ---- scanning the directory ---------------------------------------------------- */

/* Every entry file into l (when l is not NULL); stale temporary files (a
 * worker died mid-response) are removed on the way. */
static owt_err scan_dir(owt_cache *c, owt_dirscan *l, uint64_t *entries, uint64_t *bytes) {
  return owt_dirscan_read(c->dirfd, TMP_PREFIX, c->clock(), TMP_STALE_SECONDS, l, entries, bytes);
}

/* Scan, evict down to low_water when over max_bytes, and write the exact
 * total into the accounting. Under the accounting lock. */
static owt_err evict_locked(owt_cache *c) {
  owt_dirscan l = OWT_DIRSCAN_INIT;
  uint64_t entries = 0, bytes = 0;
  owt_err err;
  if ((err = scan_dir(c, &l, &entries, &bytes))) goto done;
  if (l.bytes > c->max_bytes)
    atomic_fetch_add_explicit(&c->evictions, owt_dirscan_evict_oldest(c->dirfd, &l, c->low_water, NULL, NULL),
                              memory_order_relaxed);
  usage_write(c, &(usage){l.bytes, 0});
done:
  owt_dirscan_free(&l);
  return err;
}

owt_err owt_cache_evict(owt_cache *c) {
  if (attach(c, 0) != 0) return OWT_OK;
  if (usage_lock(c) != 0) return OWT_E_INTERNAL;
  owt_err err = evict_locked(c);
  usage_unlock(c);
  return err;
}

owt_err owt_cache_usage(owt_cache *c, uint64_t *entries, uint64_t *bytes) {
  *entries = *bytes = 0;
  if (attach(c, 0) != 0) return OWT_OK;
  if (usage_lock(c) != 0) return scan_dir(c, NULL, entries, bytes); /* still worth showing */
  owt_err err = scan_dir(c, NULL, entries, bytes);
  if (!err) {
    usage u = {*bytes, 0};
    if (usage_read(c, &u) == 0) u.bytes = *bytes; /* keep its count of stores */
    usage_write(c, &u);
  }
  usage_unlock(c);
  return err;
}

/* Whether the entry file name was stored under base key. */
static int entry_has_base(owt_cache *c, const char *name, owt_str base) {
  unsigned char fixed[FIXED_LEN];
  char small[1024];
  struct stat st;
  int same = 0;
  int fd = openat(c->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return 0;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) goto done;
  if (pread(fd, fixed, sizeof fixed, 0) != (ssize_t)sizeof fixed || memcmp(fixed, MAGIC, MAGIC_LEN))
    goto done;
  if (get_u32(fixed + FIXED_LEN - 4) != base.len) goto done;
  for (size_t off = 0; off < base.len;) {
    size_t want = base.len - off < sizeof small ? base.len - off : sizeof small;
    if (pread(fd, small, want, (off_t)(FIXED_LEN + off)) != (ssize_t)want ||
        memcmp(small, base.p + off, want))
      goto done;
    off += want;
  }
  same = 1;
done:
  close(fd);
  return same;
}

owt_err owt_cache_purge(owt_cache *c, const owt_str *key, uint64_t *purged) {
  owt_dirscan l = OWT_DIRSCAN_INIT;
  uint64_t entries = 0, bytes = 0;
  owt_err err;
  *purged = 0;
  if (attach(c, 0) != 0) return OWT_OK;
  if (usage_lock(c) != 0) return OWT_E_INTERNAL;
  if ((err = scan_dir(c, &l, &entries, &bytes))) goto done;
  for (size_t i = 0; i < l.n; i++) {
    if (key && !entry_has_base(c, l.v[i].name, *key)) continue;
    if (unlinkat(c->dirfd, l.v[i].name, 0) == 0) {
      ++*purged;
      bytes -= l.v[i].size;
    }
  }
  usage_write(c, &(usage){bytes, 0});
done:
  usage_unlock(c);
  owt_dirscan_free(&l);
  return err;
}
