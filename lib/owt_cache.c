/* owt_cache.c - the response cache directory: keys, entries, LRU eviction.
 *
 * Entry layout (integers little-endian; docs/cache.md has the table):
 *   "OWTCACHE" u32 version u32 flags u64 created_ms u32 status u32 nheaders
 *   digest[32] u32 keylen key[keylen]
 *   nheaders x (u32 len name, u32 len value)
 *   chunks: u32 len (> 0) bytes[len] ...
 *   end: u32 0, u32 nchunks, u64 body_len, sha256[32] of every byte before it
 * The counts sit after the chunks because a stream is written while it
 * streams; the checksum covers them, so a truncated or altered file fails
 * the check before a byte of it is sent. */
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

#include "owt_log.h"

#define MAGIC "OWTCACHE"
#define MAGIC_LEN 8
#define FLAG_STREAMED 1u
#define FIXED_LEN (MAGIC_LEN + 4 + 4 + 8 + 4 + 4 + 32 + 4) /* up to and including keylen */
#define TRAILER_LEN (4 + 4 + 8 + 32)
#define TMP_PREFIX ".owt-tmp-"
#define TMP_STALE_SECONDS 3600.0
#define PENDING_FLUSH (64u << 10)

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

static int is_entry_name(const char *name) {
  size_t i = 0;
  for (; name[i] && i <= OWT_CACHE_NAME_LEN; i++)
    if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) return 0;
  return i == OWT_CACHE_NAME_LEN;
}

/* ---- open / close ------------------------------------------------------------- */

/* mkdir -p for a path from the command line (not request data). */
static int make_dirs(const char *dir) {
  char path[4096];
  int n = snprintf(path, sizeof path, "%s", dir);
  if (n < 0 || (size_t)n >= sizeof path) return (errno = ENAMETOOLONG), -1;
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(path, 0700) != 0 && errno != EEXIST) return -1;
  return 0;
}

/* The nearest existing ancestor of a missing dir can be written to: the
 * directory can be made when the first entry is stored. */
static int creatable(const char *dir) {
  char path[4096];
  struct stat st;
  int n = snprintf(path, sizeof path, "%s", dir);
  if (n < 0 || (size_t)n >= sizeof path) return (errno = ENAMETOOLONG), 0;
  while (stat(path, &st) != 0) {
    if (errno != ENOENT) return 0;
    char *slash = strrchr(path, '/');
    if (!slash) return access(".", W_OK | X_OK) == 0;
    if (slash == path) slash[1] = '\0';
    else *slash = '\0';
  }
  if (!S_ISDIR(st.st_mode)) return (errno = ENOTDIR), 0;
  return access(path, W_OK | X_OK) == 0;
}

/* Open c->dir (creating it when create is set). 0, or -1 with errno. */
static int attach(owt_cache *c, int create) {
  if (c->dirfd >= 0) return 0;
  if (!c->dir) return (errno = ENOENT), -1;
  if (create && make_dirs(c->dir) != 0) return -1;
  c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return c->dirfd >= 0 ? 0 : -1;
}

owt_err owt_cache_open(owt_cache *c, const char *dir, uint64_t max_bytes, double ttl, char *why,
                       size_t why_len) {
  memset(c, 0, sizeof *c);
  c->dirfd = -1;
  c->max_bytes = max_bytes;
  c->low_water = max_bytes - max_bytes / 16;
  c->ttl = ttl;
  c->touch_interval = 1.0;
  c->scan_every = 64;
  c->clock = default_clock;
  owt_buf_init(&c->readbuf, OWT_CACHE_READ_MAX);
  if (!dir || !dir[0]) return OWT_OK;
  c->dir = dir;
  /* A missing directory is made by the first store, so a server that never
   * caches leaves nothing behind; one that could never make it fails now. */
  if (attach(c, 0) != 0) {
    if (errno != ENOENT || !creatable(dir)) {
      snprintf(why, why_len, "--cache-dir %s: cannot open or create it: %s", dir, strerror(errno));
      c->dir = NULL;
      return OWT_E_INTERNAL;
    }
  } else if (faccessat(c->dirfd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
    snprintf(why, why_len, "--cache-dir %s: not writable by this user: %s", dir, strerror(errno));
    close(c->dirfd);
    c->dirfd = -1;
    c->dir = NULL;
    return OWT_E_INTERNAL;
  }
  return OWT_OK;
}

void owt_cache_close(owt_cache *c) {
  if (c->dirfd >= 0) close(c->dirfd);
  c->dirfd = -1;
  owt_buf_free(&c->readbuf);
}

/* ---- keys ---------------------------------------------------------------------- */

static void hash_part(EVP_MD_CTX *ctx, char tag, owt_str part) {
  unsigned char len[8];
  uint64_t n = part.len;
  for (int i = 0; i < 8; i++) len[i] = (unsigned char)(n >> (8 * i));
  EVP_DigestUpdate(ctx, &tag, 1);
  EVP_DigestUpdate(ctx, len, sizeof len);
  if (part.len) EVP_DigestUpdate(ctx, part.p, part.len);
}

void owt_cache_key_make(owt_cache_key *key, owt_str base, const owt_str *kwargs, const owt_str *user) {
  static const char hex[] = "0123456789abcdef";
  static const char domain[] = "owt-cache-key-v1";
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned int len = 32;
  memset(key, 0, sizeof *key);
  key->base = base;
  if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
    EVP_DigestUpdate(ctx, domain, sizeof domain); /* with its NUL */
    hash_part(ctx, 'k', base);
    if (kwargs && kwargs->len) hash_part(ctx, 'a', *kwargs);
    if (user) hash_part(ctx, 'u', *user);
    EVP_DigestFinal_ex(ctx, key->digest, &len);
  }
  /* Without a context the digest stays all-zero: every key then shares one
   * name, and the stored base key no longer matching makes that a miss. */
  EVP_MD_CTX_free(ctx);
  for (int i = 0; i < 32; i++) {
    key->name[2 * i] = hex[key->digest[i] >> 4];
    key->name[2 * i + 1] = hex[key->digest[i] & 15];
  }
  key->name[OWT_CACHE_NAME_LEN] = '\0';
}

/* ---- reading an entry ---------------------------------------------------------- */

/* Check the whole entry m[0..size) and fill hit's head. 0 when it is a sound entry
 * for digest; -1 when anything is off. */
static int parse_entry(const unsigned char *m, size_t size, const unsigned char digest[32],
                       owt_cache_hit *hit, uint64_t *created) {
  unsigned char sum[32];
  unsigned int sum_len = 32;
  if (size < FIXED_LEN + TRAILER_LEN || memcmp(m, MAGIC, MAGIC_LEN) != 0) return -1;
  if (get_u32(m + 8) != OWT_CACHE_VERSION) return -1;
  if (!EVP_Digest(m, size - 32, sum, &sum_len, EVP_sha256(), NULL) || memcmp(sum, m + size - 32, 32))
    return -1;
  uint32_t flags = get_u32(m + 12);
  *created = get_u64(m + 16);
  uint32_t status = get_u32(m + 24), nheaders = get_u32(m + 28);
  if (memcmp(m + 32, digest, 32) != 0 || status < 100 || status > 999) return -1;
  if (nheaders > OWT_CACHE_MAX_HEADERS) return -1;
  size_t end = size - TRAILER_LEN; /* where the end record starts */
  size_t at = FIXED_LEN;
  uint32_t keylen = get_u32(m + FIXED_LEN - 4);
  if (keylen > end - at) return -1;
  at += keylen;
  for (uint32_t i = 0; i < nheaders; i++) {
    owt_str part[2];
    for (int j = 0; j < 2; j++) {
      if (end - at < 4) return -1;
      uint32_t n = get_u32(m + at);
      at += 4;
      if (n > end - at) return -1;
      part[j] = (owt_str){(const char *)m + at, n};
      at += n;
    }
    hit->headers[i] = (owt_header){part[0], part[1]};
  }
  size_t chunks_at = at;
  uint32_t nchunks = 0;
  uint64_t body = 0;
  while (at < end) {
    if (end - at < 4) return -1;
    uint32_t n = get_u32(m + at);
    if (n == 0 || n > end - at - 4) return -1;
    at += 4 + (size_t)n;
    body += n;
    nchunks++;
  }
  if (at != end || get_u32(m + end) != 0 || get_u32(m + end + 4) != nchunks ||
      get_u64(m + end + 8) != body)
    return -1;
  hit->status = (int)status;
  hit->streamed = (flags & FLAG_STREAMED) != 0;
  hit->nheaders = nheaders;
  hit->body_len = body;
  hit->nchunks = nchunks;
  hit->chunks_left = nchunks;
  hit->next = chunks_at;
  return 0;
}

/* Delete name unless it is no longer the file we judged (a fresh entry
 * renamed over it since). */
static void unlink_if_same(owt_cache *c, const char *name, const struct stat *judged) {
  struct stat now;
  if (fstatat(c->dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == judged->st_ino &&
      now.st_dev == judged->st_dev)
    unlinkat(c->dirfd, name, 0);
}

/* The entry's size bytes: read into c->readbuf when it is small (in a VM a
 * mapping's page faults cost more than the copy), mapped when large. NULL
 * when neither works, or the file is shorter than size. */
static const unsigned char *load_entry(owt_cache *c, int fd, size_t size, int *mapped) {
  size_t got = 0;
  *mapped = 0;
  if (size > OWT_CACHE_READ_MAX) {
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) return NULL;
    *mapped = 1;
    return m;
  }
  owt_buf_reset(&c->readbuf);
  if (owt_buf_reserve(&c->readbuf, size) != OWT_OK) return NULL;
  while (got < size) {
    ssize_t n = pread(fd, c->readbuf.data + got, size - got, (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return NULL;
    got += (size_t)n;
  }
  c->readbuf.len = size;
  return (const unsigned char *)c->readbuf.data;
}

owt_err owt_cache_lookup(owt_cache *c, const owt_cache_key *key, owt_cache_hit *hit) {
  struct stat st;
  const unsigned char *data = NULL;
  int mapped = 0;
  uint64_t created = 0;
  const char *why = NULL;
  int fd = -1;
  memset(hit, 0, sizeof *hit);
  memset(&st, 0, sizeof st);
  if (attach(c, 0) != 0) goto miss;
  fd = openat(c->dirfd, key->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) goto miss;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    why = "not a regular file";
  } else if (st.st_size < FIXED_LEN + TRAILER_LEN || (uint64_t)st.st_size > SIZE_MAX) {
    why = "truncated";
  } else {
    data = load_entry(c, fd, (size_t)st.st_size, &mapped);
    if (!data) why = "unreadable";
    else if (parse_entry(data, (size_t)st.st_size, key->digest, hit, &created) != 0)
      why = "corrupt or truncated (length or checksum mismatch)";
  }
  double now = c->clock();
  if (!why && c->ttl > 0 && now - (double)created / 1000.0 > c->ttl) why = ""; /* expired */
  if (!why && now - ((double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9) >= c->touch_interval)
    futimens(fd, NULL); /* LRU: a hit makes the entry the most recently used */
  close(fd);
  if (why) {
    if (why[0]) {
      c->corrupt++;
      owt_log(OWT_LOG_WARNING, "cache entry %s for %.*s is %s: deleted, treated as a miss", key->name,
              (int)(key->base.len > 200 ? 200 : key->base.len), key->base.p ? key->base.p : "", why);
    }
    if (mapped) munmap((void *)data, (size_t)st.st_size);
    unlink_if_same(c, key->name, &st);
    memset(hit, 0, sizeof *hit);
    goto miss;
  }
  hit->map = data;
  hit->map_len = (size_t)st.st_size;
  hit->mapped = mapped;
  c->hits++;
  return OWT_OK;
miss:
  c->misses++;
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
  if (attach(c, 1) != 0) {
    owt_log(OWT_LOG_WARNING, "cache: cannot create --cache-dir %s: %s", c->dir, strerror(errno));
    return OWT_E_INTERNAL;
  }
  for (size_t i = 0; i < nheaders; i++) kept += (uint32_t)keep_header(headers[i].name);
  if (kept > OWT_CACHE_MAX_HEADERS || key->base.len > OWT_CACHE_MAX_KEY) return OWT_E_TOO_LARGE;
  w->key = *key;
  snprintf(w->tmp_name, sizeof w->tmp_name, TMP_PREFIX "%ld-%u", (long)getpid(), c->tmp_counter++);
  w->fd = openat(c->dirfd, w->tmp_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
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
  if (renameat(c->dirfd, w->tmp_name, c->dirfd, w->key.name) != 0) {
    err = OWT_E_INTERNAL;
    unlinkat(c->dirfd, w->tmp_name, 0);
    goto fail;
  }
  writer_release(w);
  c->stores++;
  c->estimate += size;
  c->stores_since_scan++;
  if (!c->estimate_known || c->estimate > c->max_bytes || c->stores_since_scan >= c->scan_every)
    owt_cache_evict(c);
  return OWT_OK;
fail:
  owt_log(OWT_LOG_WARNING, "cache: storing the entry for %.*s failed: %s",
          (int)(w->key.base.len > 200 ? 200 : w->key.base.len), w->key.base.p ? w->key.base.p : "",
          strerror(errno));
  owt_cache_writer_abort(c, w);
  return err;
}

/* ---- scanning the directory ---------------------------------------------------- */

typedef struct {
  struct timespec mtime;
  uint64_t size;
  char name[OWT_CACHE_NAME_LEN + 1];
} scan_entry;

typedef struct {
  scan_entry *v; /* owned */
  size_t n, cap;
  uint64_t bytes;
} scan_list;

static owt_err scan_push(scan_list *l, const char *name, const struct stat *st) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    scan_entry *v = realloc(l->v, cap * sizeof *v);
    if (!v) return OWT_E_NOMEM;
    l->v = v;
    l->cap = cap;
  }
  scan_entry *e = &l->v[l->n++];
  e->mtime = st->st_mtim;
  e->size = (uint64_t)st->st_size;
  memcpy(e->name, name, OWT_CACHE_NAME_LEN + 1);
  l->bytes += e->size;
  return OWT_OK;
}

/* Every entry file into l (when l is not NULL); stale temporary files are
 * removed on the way. */
static owt_err scan_dir(owt_cache *c, scan_list *l, uint64_t *entries, uint64_t *bytes) {
  owt_err err = OWT_OK;
  struct dirent *de;
  struct stat st;
  double now = c->clock();
  *entries = *bytes = 0;
  int fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0) close(fd);
    return OWT_E_INTERNAL;
  }
  while ((de = readdir(d)) != NULL) {
    if (strncmp(de->d_name, TMP_PREFIX, sizeof TMP_PREFIX - 1) == 0) {
      if (fstatat(c->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          now - (double)st.st_mtim.tv_sec > TMP_STALE_SECONDS)
        unlinkat(c->dirfd, de->d_name, 0); /* a worker died mid-response */
      continue;
    }
    if (!is_entry_name(de->d_name)) continue;
    if (fstatat(c->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    ++*entries;
    *bytes += (uint64_t)st.st_size;
    if (l && (err = scan_push(l, de->d_name, &st))) break;
  }
  closedir(d);
  return err;
}

static int older_first(const void *a, const void *b) {
  const scan_entry *x = a, *y = b;
  if (x->mtime.tv_sec != y->mtime.tv_sec) return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
  if (x->mtime.tv_nsec != y->mtime.tv_nsec) return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
  return strcmp(x->name, y->name);
}

owt_err owt_cache_evict(owt_cache *c) {
  scan_list l = {NULL, 0, 0, 0};
  uint64_t entries = 0, bytes = 0;
  struct stat st;
  owt_err err;
  if (attach(c, 0) != 0) return OWT_OK;
  c->stores_since_scan = 0;
  if ((err = scan_dir(c, &l, &entries, &bytes))) goto done;
  if (bytes > c->max_bytes) {
    qsort(l.v, l.n, sizeof *l.v, older_first);
    for (size_t i = 0; i < l.n && bytes > c->low_water; i++) {
      /* Skip one another worker hit since the scan: it is no longer the oldest. */
      if (fstatat(c->dirfd, l.v[i].name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        bytes -= l.v[i].size;
        continue;
      }
      if (st.st_mtim.tv_sec != l.v[i].mtime.tv_sec || st.st_mtim.tv_nsec != l.v[i].mtime.tv_nsec) continue;
      if (unlinkat(c->dirfd, l.v[i].name, 0) == 0 || errno == ENOENT) {
        bytes -= l.v[i].size;
        c->evictions++;
      }
    }
  }
  c->estimate = bytes;
  c->estimate_known = 1;
done:
  free(l.v);
  return err;
}

owt_err owt_cache_usage(owt_cache *c, uint64_t *entries, uint64_t *bytes) {
  *entries = *bytes = 0;
  if (attach(c, 0) != 0) return OWT_OK;
  owt_err err = scan_dir(c, NULL, entries, bytes);
  if (!err) {
    c->estimate = *bytes;
    c->estimate_known = 1;
  }
  return err;
}

/* Whether the entry file name was stored under base key. */
static int entry_has_base(owt_cache *c, const char *name, owt_str base) {
  unsigned char fixed[FIXED_LEN];
  char small[1024];
  int same = 0;
  int fd = openat(c->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 0;
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
  scan_list l = {NULL, 0, 0, 0};
  uint64_t entries = 0, bytes = 0;
  owt_err err;
  *purged = 0;
  if (attach(c, 0) != 0) return OWT_OK;
  if ((err = scan_dir(c, &l, &entries, &bytes))) goto done;
  for (size_t i = 0; i < l.n; i++) {
    if (key && !entry_has_base(c, l.v[i].name, *key)) continue;
    if (unlinkat(c->dirfd, l.v[i].name, 0) == 0) {
      ++*purged;
      bytes -= l.v[i].size;
    }
  }
  c->estimate = bytes;
  c->estimate_known = 1;
done:
  free(l.v);
  return err;
}
