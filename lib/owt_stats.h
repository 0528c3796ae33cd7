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

/* Request durations: a histogram with Prometheus' default bounds, in
 * seconds (OWT_STATS_BUCKETS - 1 bounds, the last bucket is +Inf). */
#define OWT_STATS_BUCKETS 12
extern const double owt_stats_bucket_le[OWT_STATS_BUCKETS - 1];

typedef struct {
  uint64_t count;
  uint64_t sum_us;                       /* summed durations, microseconds */
  uint64_t buckets[OWT_STATS_BUCKETS];   /* per bucket, not cumulative */
} owt_latency;

/* The last few minutes, in steps: requests that ended in each step. A step's
 * record is reused when its time comes round again (epoch tells which step
 * it holds); the writer that moves it on zeroes it first, under the epoch
 * value OWT_TICK_MOVING, so no count of the new step lands in the old. */
#define OWT_HISTORY_STEPS 60
#define OWT_HISTORY_STEP_SECONDS 5
#define OWT_TICK_MOVING UINT64_MAX

typedef struct {
  uint64_t epoch;    /* unix time / OWT_HISTORY_STEP_SECONDS of the step held; 0: none */
  uint64_t requests;
  uint64_t errors;   /* status >= 500 or the client gone */
  owt_latency latency;
} owt_tick;

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
  uint64_t promotions;   /* an idle thread woken to take the lead or a ready connection over from a busy leader */
  uint64_t bytes_out;    /* body bytes sent */
  uint64_t cache_hits;   /* use_cache requests answered from the cache */
  uint64_t cache_misses; /* use_cache requests that were not */
  uint64_t rss_bytes;    /* resident memory, read by the worker's dispatcher 4 times a second */
  owt_latency latency;   /* every request's duration (owt_stats_observe) */
  owt_tick history[OWT_HISTORY_STEPS];
  /* the warm adaptors, as the Python runtime reports them (owt_stats_report_warm) */
  uint64_t warm_adaptors;  /* code adaptors in the warm LRU now */
  uint64_t named_adaptors; /* named adaptors resolved and kept */
  uint64_t compiled;       /* code adaptors built (compiled and run) since the start */
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

/* Record one finished request: its duration in seconds and its status
 * (< 0: the client left) into s->latency and the history step of `now`.
 * Any thread, any process sharing s. */
void owt_stats_observe(owt_stats *s, double now, double seconds, int status);

/* Add the recent steps of src (a worker that exits) into dst (the retired
 * counters of its board), moving dst's records on where they hold older steps. */
void owt_stats_add_history(owt_tick *dst, const owt_tick *src, double now);

/* A consistent copy of the step record for epoch e in history (zeroes when
 * it holds another step, or is being moved). */
void owt_stats_read_tick(const owt_tick *history, uint64_t e, owt_tick *out);

/* Add src into dst (both may be shared: atomic). */
void owt_latency_add(owt_latency *dst, const owt_latency *src);

/* The process whose counters the Python runtime's reports go to (its slot's
 * owt_stats), and the report: warm code adaptors, named adaptors, builds. */
void owt_stats_set_self(owt_stats *self);
void owt_stats_report_warm(uint64_t warm, uint64_t named, uint64_t compiled);

/* The owner thread: mark rec idle, or describe the request it now holds
 * (method and path are copied raw, cut to fit; a NULL path keeps the one
 * there). Escaping waits until someone reads the record. */
void owt_inflight_set_idle(owt_inflight *rec);
void owt_inflight_set_busy(owt_inflight *rec, double since, uint64_t number, const char *method,
                           size_t method_len, const char *path, size_t path_len);

/* Anyone: a consistent copy of rec into out. */
void owt_inflight_read(const owt_inflight *rec, owt_inflight *out);

#endif
