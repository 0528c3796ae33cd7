/* owt_stats.h - this worker's counters, for /_owt/status and /_owt/metrics
 * and the access log. Plain numbers; one struct per worker process. */
#ifndef OWT_STATS_H
#define OWT_STATS_H

#include <stdint.h>
#include <sys/types.h>

typedef struct {
  pid_t pid;
  double started;       /* unix time the worker started */
  double busy_since;    /* unix time the current request started; 0 when idle */
  uint64_t requests;    /* requests answered */
  uint64_t errors_4xx;
  uint64_t errors_5xx;
  uint64_t timeouts;
  uint64_t client_gone; /* responses cut short by the client */
  uint64_t bytes_out;   /* body bytes sent */
  uint64_t cache_hits;  /* use_cache requests answered from the cache */
  uint64_t cache_misses; /* use_cache requests that were not */
  uint64_t rss_bytes;   /* resident memory after the last request */
  char path[128];       /* path of the current (or last) request */
} owt_stats;

double owt_now(void);

/* Resident set size of this process in bytes (from /proc/self/statm); 0 if unknown. */
uint64_t owt_stats_rss(void);

#endif
