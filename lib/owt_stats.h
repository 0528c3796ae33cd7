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
  char method[8];
  char path[OWT_INFLIGHT_PATH]; /* escaped (owt_escape_field): printable ASCII */
} owt_inflight;

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
 * (path is escaped into the record; a NULL path keeps the one there). */
void owt_inflight_set_idle(owt_inflight *rec);
void owt_inflight_set_busy(owt_inflight *rec, double since, uint64_t number, const char *method,
                           size_t method_len, const char *path, size_t path_len);

/* Anyone: a consistent copy of rec into out. */
void owt_inflight_read(const owt_inflight *rec, owt_inflight *out);

#endif
