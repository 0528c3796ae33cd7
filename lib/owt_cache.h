/* owt_cache.h - the shared, persistent response cache (PROTOCOL §8).
 *
 * Worker processes share nothing but a directory, so that is the cache: one
 * file per key, named by the hex SHA-256 of the key's parts, written to a
 * temporary file and renamed into place (readers see a whole entry or none).
 * Each entry carries its own lengths, its key and a SHA-256 over its bytes,
 * so a corrupt, truncated or misplaced file is a miss (and is deleted),
 * never served. Only regular files are opened, never through a symbolic
 * link, and never in a way that can block (a FIFO at an entry's name is a
 * miss, not a hung worker). The directory is bounded in bytes as a whole:
 * every process keeps one accounting file in it up to date under a lock
 * (docs/cache.md says why); the least recently used entries (by file mtime,
 * touched on hits) go first. No Python here: a hit is answered from C alone.
 * The on-disk format is described in docs/cache.md.
 *
 * Threads: every function may be called by several threads of one process
 * at once on the same owt_cache (and by any number of processes on the same
 * directory). Nothing is static; a hit, a key and a writer are the caller's
 * and belong to one thread at a time; the counters are atomic; the
 * directory's accounting is kept under c->lock plus a record lock on the
 * accounting file. Only owt_cache_open and owt_cache_close must not race
 * with anything. */
#ifndef OWT_CACHE_H
#define OWT_CACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "owt_buf.h"
#include "owt_response.h"

#define OWT_CACHE_VERSION 1
#define OWT_CACHE_MAX_HEADERS 64    /* headers kept per entry (the adaptor's own) */
#define OWT_CACHE_NAME_LEN 64       /* hex SHA-256: an entry's file name */
#define OWT_CACHE_MAX_KEY (64u << 10) /* bytes of the key string kept in an entry */
#define OWT_CACHE_READ_MAX (256u << 10) /* entries up to this are read, larger ones mapped */

/* A key: the digest of its parts, the file name, and the base string
 * (cache_key_override or the path) which is kept in the entry, compared on
 * lookup, and lets DELETE /_owt/cache?key= find every variant of it. A key
 * whose digest could not be made has an empty name: nothing is looked up
 * or stored under it. */
typedef struct {
  unsigned char digest[32];
  char name[OWT_CACHE_NAME_LEN + 1];
  owt_str base; /* borrowed from the caller */
} owt_cache_key;

typedef struct {
  const char *dir;       /* the configured directory (borrowed); NULL: the cache is off */
  _Atomic int dirfd;     /* dir, once it exists; -1 before (set once, under lock) */
  int usage_fd;          /* the accounting file in dir; -1 when it cannot be used */
  pthread_mutex_t lock;  /* attaching, and the accounting (with a record lock on usage_fd) */
  uint64_t max_bytes;    /* bound of the directory's entry bytes */
  uint64_t low_water;    /* eviction stops at or below this (default 15/16 of max_bytes) */
  double ttl;            /* seconds an entry is served after it was stored; 0: forever */
  double touch_interval; /* a hit refreshes the mtime when it is older than this (default 1 s) */
  unsigned scan_every;   /* stores into the directory between scans that correct the accounting */
  double (*clock)(void); /* unix time; replaceable by tests */
  /* this process's counters */
  atomic_uint tmp_counter;
  _Atomic uint64_t hits, misses, stores, evictions, corrupt;
  atomic_int usage_warned; /* the accounting file's trouble was logged once */
} owt_cache;

/* An entry being replayed: the head, then the chunks in order. Pointers
 * point into the entry's bytes (a buffer the hit owns, or a read-only
 * mapping of a large file), valid until owt_cache_hit_release(). */
typedef struct {
  int status;
  int streamed; /* 1: the response was streamed; replay chunk by chunk, flushing each */
  owt_str key;  /* the base key the entry was stored for */
  owt_header headers[OWT_CACHE_MAX_HEADERS];
  size_t nheaders;
  uint64_t body_len; /* all chunks together */
  uint32_t nchunks;
  /* private */
  const unsigned char *map;
  size_t map_len;
  int mapped;        /* map is an mmap() to undo on release */
  void *owned;       /* map is this malloc()ed copy, freed on release */
  size_t next;       /* offset of the next chunk record */
  uint32_t chunks_left;
} owt_cache_hit;

/* A response being recorded into a temporary file. A writer that fails
 * (disk full, entry over the cap) turns itself off; the response it
 * records is not affected. */
typedef struct {
  int fd; /* -1: not recording */
  char tmp_name[64];
  owt_cache_key key;
  void *md; /* EVP_MD_CTX* over every byte written so far */
  owt_buf pending; /* bytes not yet written to fd */
  uint64_t size;   /* bytes of the entry so far */
  uint64_t body_len;
  uint32_t nchunks;
} owt_cache_writer;

/* Use the cache directory dir (borrowed: it must outlive c). A missing dir
 * is created, mode 0700 with its parents, by the first store. dir NULL or
 * empty leaves the cache off: lookups miss, stores do nothing.
 * OWT_E_INTERNAL with a message for the operator in why when dir exists
 * but cannot be opened or written, or could never be created. Close with
 * owt_cache_close(). */
owt_err owt_cache_open(owt_cache *c, const char *dir, uint64_t max_bytes, double ttl, char *why,
                       size_t why_len);

static inline int owt_cache_enabled(const owt_cache *c) { return c->dir != NULL; }

void owt_cache_close(owt_cache *c);

/* The key of a request (PROTOCOL §8): base is cache_key_override or the
 * path; kwargs is the raw kwargs text when cache_kwargs is true (NULL or
 * empty: not part of the key); user the authenticated user when auth is
 * on (NULL: not part of it). Parts are length-prefixed before hashing, so
 * no two different part lists share a key. key->base borrows base.
 * OWT_E_INTERNAL when the digest cannot be made (OpenSSL out of memory):
 * key is then unusable, so the request is neither looked up nor stored. */
owt_err owt_cache_key_make(owt_cache_key *key, owt_str base, const owt_str *kwargs, const owt_str *user);

static inline int owt_cache_key_valid(const owt_cache_key *key) { return key->name[0] != '\0'; }

/* Look key up. OWT_OK: *hit holds the entry (release it with
 * owt_cache_hit_release); the file's mtime is refreshed for LRU.
 * OWT_E_NOT_FOUND: a miss, which is also what a corrupt, truncated,
 * mismatched (another key's) or expired entry is, or anything but a
 * regular file at the entry's name (such a file is deleted); an unusable
 * key is a miss too. Counts the hit or the miss. */
owt_err owt_cache_lookup(owt_cache *c, const owt_cache_key *key, owt_cache_hit *hit);

/* Check a whole entry m[0..size) stored under digest and fill hit's head:
 * magic, version, checksum, digest, every length; hit->key is the base key
 * stored in it (lookup compares it with the key asked for). OWT_OK and
 * *created_ms (when it was stored) for a sound entry, hit pointing into m
 * (hit->mapped and hit->owned stay 0: m remains the caller's);
 * OWT_E_NOT_FOUND otherwise. What lookup uses; exported for the fuzz
 * target. */
owt_err owt_cache_entry_parse(const unsigned char *m, size_t size, const unsigned char digest[32],
                              owt_cache_hit *hit, uint64_t *created_ms);

/* The next chunk of a hit into *chunk: 1 while there is one, 0 at the end. */
int owt_cache_hit_next(owt_cache_hit *hit, owt_str *chunk);

void owt_cache_hit_release(owt_cache_hit *hit);

/* Start recording a response for key: status, the adaptor's headers
 * (X-Owt-Cache is dropped), and whether it streams. Returns OWT_OK, or an
 * error after which w is inert (every later call does nothing): an
 * unusable key is OWT_E_INTERNAL. The key's base stays borrowed until the
 * writer ends. Always end with owt_cache_writer_commit() or _abort(). */
owt_err owt_cache_writer_begin(owt_cache *c, owt_cache_writer *w, const owt_cache_key *key, int status,
                               const owt_header *headers, size_t nheaders, int streamed);

/* Record the next chunk (a non-streamed body is one chunk). Empty chunks
 * are skipped. An entry growing past c->max_bytes is abandoned. */
owt_err owt_cache_writer_chunk(owt_cache *c, owt_cache_writer *w, const void *p, size_t n);

/* Finish the entry and rename it into place, replacing an older one for the
 * same key, and count it in the directory's accounting; then evict least
 * recently used entries if the directory is over its bound. All of that
 * under the accounting lock, so the bound holds across processes.
 * OWT_E_INTERNAL (logged, nothing stored) on an I/O error, or when the
 * accounting file cannot be used. */
owt_err owt_cache_writer_commit(owt_cache *c, owt_cache_writer *w);

/* Throw the recording away (the response did not complete) and delete its
 * temporary file. Safe on an inert or already finished writer. */
void owt_cache_writer_abort(owt_cache *c, owt_cache_writer *w);

#define OWT_CACHE_WRITER_INIT {.fd = -1}

static inline int owt_cache_writer_active(const owt_cache_writer *w) { return w->fd >= 0; }

/* Entry count and bytes in the directory now (a scan, which also corrects
 * the accounting; no eviction). */
owt_err owt_cache_usage(owt_cache *c, uint64_t *entries, uint64_t *bytes);

/* Delete every entry (key NULL), or every entry whose base key equals *key
 * (all its kwargs and user variants). *purged gets the count. */
owt_err owt_cache_purge(owt_cache *c, const owt_str *key, uint64_t *purged);

/* Scan the directory, correct the accounting, and delete least recently
 * used entries until the bytes are at or below c->low_water if they exceed
 * c->max_bytes; also removes temporary files abandoned over an hour ago.
 * Called by commit when needed; exported for tests and the admin page. */
owt_err owt_cache_evict(owt_cache *c);

#endif
