/* owt_stats.h - a worker's counters and its requests in flight, for
 * /_owt/status, /_owt/metrics, the access log and the master's watchdog.
 *
 * A worker runs several request threads: the counters are shared by them
 * and only ever changed with owt_stats_add (atomic, so they also work in
 * memory shared with other processes). Each thread describes the request
 * it holds in an owt_inflight record of its own. */
#ifndef OWT_STATS_H
#define OWT_STATS_H

#include <stdint.h>
#include <sys/types.h>

typedef struct {
  pid_t pid;
  double started;        /* unix time the worker started */
  uint32_t threads;      /* request threads of this worker */
  uint32_t busy;         /* requests in flight now */
  uint32_t retiring;     /* the worker drains and will exit: start its replacement */
  uint64_t requests;     /* requests answered */
  uint64_t errors_4xx;
  uint64_t errors_5xx;
  uint64_t timeouts;
  uint64_t client_gone;  /* responses cut short by the client */
  uint64_t bytes_out;    /* body bytes sent */
  uint64_t cache_hits;   /* use_cache requests answered from the cache */
  uint64_t cache_misses; /* use_cache requests that were not */
  uint64_t rss_bytes;    /* resident memory, read every few requests */
} owt_stats;

#define OWT_INFLIGHT_PATH 128

/* The request one thread holds. Written only by that thread, read by
 * anyone: the writer brackets changes with owt_inflight_begin/_end (a
 * sequence lock) so a reader never sees half of one (owt_inflight_read). */
typedef struct {
  uint32_t seq;         /* odd while the owner writes */
  double busy_since;    /* unix time the request started; 0: idle */
  uint64_t number;      /* the worker's request counter when it started */
  uint8_t method_len;
  uint8_t path_len;
  char method[8];               /* raw bytes (escape before showing: owt_inflight_text) */
  char path[OWT_INFLIGHT_PATH]; /* raw bytes, the first OWT_INFLIGHT_PATH of the path */
} owt_inflight;

/* The escaped (owt_escape_field) text of a record's method and path, for
 * status pages and logs: method_out of at least 33, path_out of at least
 * 4 * OWT_INFLIGHT_PATH + 1 bytes. */
void owt_inflight_text(const owt_inflight *rec, char *method_out, size_t method_cap, char *path_out,
                       size_t path_cap);

double owt_now(void);

/* Seconds on a clock that never jumps (deadlines, durations). */
double owt_monotonic(void);

/* Resident set size of this process in bytes (from /proc/self/statm); 0 if unknown. */
uint64_t owt_stats_rss(void);

/* *counter += n, atomically. */
static inline void owt_stats_add(uint64_t *counter, uint64_t n) {
  __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline uint64_t owt_stats_get(const uint64_t *counter) {
  return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* The owner thread: mark rec idle, or describe the request it now holds
 * (method and path are copied raw, cut to fit; a NULL path keeps the one
 * there). Escaping waits until someone reads the record. */
void owt_inflight_set_idle(owt_inflight *rec);
void owt_inflight_set_busy(owt_inflight *rec, double since, uint64_t number, const char *method,
                           size_t method_len, const char *path, size_t path_len);

/* Anyone: a consistent copy of rec into out. */
void owt_inflight_read(const owt_inflight *rec, owt_inflight *out);

#endif
