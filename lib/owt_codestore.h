/* owt_codestore.h - the code store: adaptor sources kept by their SHA-256,
 * so a request can name code (code_sha256, PROTOCOL §2) instead of sending it.
 *
 * Worker processes share nothing but a directory, so that is the store:
 * one file per source, named by the hex SHA-256 of the source's bytes,
 * written to a temporary file and renamed into place (readers see a whole
 * entry or none). A load re-hashes the source and compares it with the
 * name, so a corrupt, truncated or swapped file is a miss (and is deleted),
 * never run. An entry may carry the Ed25519 signature that was verified
 * when it was stored; the store treats it as opaque bytes, and whoever
 * trusts a signature verifies it again on load (lib/owt_code.c), so a file
 * written by someone else cannot make code count as signed.
 *
 * The directory is bounded in bytes as a whole. Several processes (and
 * threads) store at once, so the running total is kept in the directory
 * itself (the file ".usage"), updated under an flock(2) on that file that
 * serialises every rename and eviction; a scan of the directory replaces
 * the total whenever it is over the bound, unknown, or has not been checked
 * for scan_every stores. Least recently used entries (by mtime, touched on
 * load and on a repeated store) go first. The file layout is in
 * docs/protocol.md ("The code store").
 *
 * Thread-safe: one owt_codestore may be used by any number of threads at
 * once. Nothing per call lives in the struct; its counters are atomic, and
 * the directory is opened once, under a mutex. */
#ifndef OWT_CODESTORE_H
#define OWT_CODESTORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "owt_buf.h"

#define OWT_CODESTORE_DIGEST_LEN 32
#define OWT_CODESTORE_NAME_LEN 64 /* hex SHA-256: an entry's file name */
#define OWT_CODESTORE_SIG_LEN 64  /* an Ed25519 signature */
#define OWT_CODESTORE_HEAD_LEN 16 /* magic, flags, source length */
#define OWT_CODESTORE_FLAG_SIG 1u /* a signature follows the head */

typedef struct {
  int opened;            /* set by owt_codestore_open: close is a no-op on a zeroed struct */
  const char *dir;       /* the configured directory (borrowed); NULL: the store is off */
  _Atomic int dirfd;     /* dir, once it exists and is open; -1 before */
  pthread_mutex_t attach_lock;
  uint64_t max_bytes;    /* bound of the directory's entry bytes */
  uint64_t low_water;    /* eviction stops at or below this (15/16 of max_bytes) */
  size_t max_source;     /* longest source stored or loaded (--max-code) */
  double touch_interval; /* a load refreshes the mtime when it is older than this (1 s) */
  unsigned scan_every;   /* stores (by all processes) between scans that check the total */
  void *sha256;          /* EVP_MD*, fetched once, read-only afterwards */
  _Atomic unsigned tmp_counter;
  _Atomic uint64_t hits, misses, stores, evictions, corrupt; /* this process's */
  uint64_t *_Atomic shared_deletions; /* mapped from the directory's ".deletions" once attached */
} owt_codestore;

/* An entry's head, checked against the file's size by owt_codestore_parse_head. */
typedef struct {
  uint32_t flags;
  uint32_t source_len;
  size_t sig_at;    /* offset of the signature (flags & OWT_CODESTORE_FLAG_SIG) */
  size_t source_at; /* offset of the source */
} owt_codestore_head;

/* Use the directory dir (borrowed: it must outlive cs) for sources of at
 * most max_source bytes, max_bytes in all. A missing dir is made, mode 0700
 * with its parents, by the first store. dir NULL or empty leaves the store
 * off: loads miss, stores do nothing. OWT_E_INTERNAL with a message for the
 * operator in why when dir exists but cannot be opened or written, or could
 * never be made (the store is then off). Close with owt_codestore_close(). */
owt_err owt_codestore_open(owt_codestore *cs, const char *dir, uint64_t max_bytes, size_t max_source,
                           char *why, size_t why_len);

static inline int owt_codestore_enabled(const owt_codestore *cs) { return cs->dir != NULL; }

/* Release what open took. Safe on a struct that was only zeroed (never
 * opened) and on one already closed. */
void owt_codestore_close(owt_codestore *cs);

/* The SHA-256 of source into digest (cs may be NULL: no store needed).
 * OWT_E_INTERNAL when OpenSSL fails. */
owt_err owt_codestore_hash(const owt_codestore *cs, owt_str source, unsigned char digest[32]);

/* The lower-case hex of digest and a NUL into name (an entry's file name). */
void owt_codestore_name(const unsigned char digest[32], char name[OWT_CODESTORE_NAME_LEN + 1]);

/* Keep source under digest, which must be owt_codestore_hash() of it, with
 * sig (64 bytes; NULL: none) when the caller verified one. An entry already
 * there is only touched, unless sig is given and it does not hold that
 * signature: then it is rewritten with it. Afterwards the directory is at or under its bound
 * (older entries evicted; this one never). OWT_E_TOO_LARGE when the entry
 * alone is over max_source or max_bytes (nothing stored); OWT_E_INTERNAL
 * (logged) on an I/O error. A store that is off returns OWT_OK. */
owt_err owt_codestore_put(owt_codestore *cs, const unsigned char digest[32], owt_str source,
                          const unsigned char *sig);

/* Append the source stored under digest to source (bounded by source->max)
 * and, when the entry carries one, its signature to sig with *has_sig = 1.
 * OWT_E_NOT_FOUND: no such entry, or one that is not sound (not a regular
 * file, a bad head, a source whose SHA-256 is not digest), which is then
 * deleted. OWT_E_TOO_LARGE: the source does not fit source->max (the entry
 * stays). On any failure source is unchanged. Refreshes the mtime for LRU. */
owt_err owt_codestore_get(owt_codestore *cs, const unsigned char digest[32], owt_buf *source,
                          unsigned char sig[OWT_CODESTORE_SIG_LEN], int *has_sig);

/* Check the first n bytes of an entry file (n may be less than the whole
 * head; at most OWT_CODESTORE_HEAD_LEN + OWT_CODESTORE_SIG_LEN are looked
 * at) against the file's size. OWT_OK fills *h; OWT_E_NOT_FOUND when it is
 * not a sound entry: wrong magic, unknown flags, or lengths that do not add
 * up to file_size. Pure: the fuzz target drives it. */
owt_err owt_codestore_parse_head(const unsigned char *p, size_t n, uint64_t file_size,
                                 owt_codestore_head *h);

/* How many entries were deleted (evicted, or dropped as damaged) so far by
 * the processes using the store directory, read without a system call: a
 * change says an entry once seen may be gone. Only this process's deletions
 * when the directory's counter is not mapped (yet, or it cannot be); never
 * a deletion by hand. */
static inline uint64_t owt_codestore_deletions(const owt_codestore *cs) {
  uint64_t *shared = atomic_load_explicit(&cs->shared_deletions, memory_order_acquire);
  if (shared) return __atomic_load_n(shared, __ATOMIC_RELAXED);
  return atomic_load_explicit(&cs->evictions, memory_order_relaxed) +
         atomic_load_explicit(&cs->corrupt, memory_order_relaxed);
}

/* Entry count and bytes in the directory now (a scan; no eviction). */
owt_err owt_codestore_usage(owt_codestore *cs, uint64_t *entries, uint64_t *bytes);

/* Under the lock: scan the directory, set the shared total from it, and
 * delete least recently used entries until the bytes are at or below
 * low_water if they exceed max_bytes; also removes temporary files
 * abandoned over an hour ago. Called by put when needed; exported for
 * tests. */
owt_err owt_codestore_evict(owt_codestore *cs);

#endif
