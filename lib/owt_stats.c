/* owt_stats.c - clocks, memory readings and the in-flight records. */
#include "owt_stats.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "owt_escape.h"

double owt_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double owt_monotonic(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t owt_stats_rss(void) {
  unsigned long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "re");
  if (!f) return 0;
  int n = fscanf(f, "%lu %lu", &size, &resident);
  fclose(f);
  if (n != 2) return 0;
  return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void write_begin(owt_inflight *rec) {
  __atomic_fetch_add(&rec->seq, 1, __ATOMIC_ACQ_REL); /* odd: being written */
  __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void write_end(owt_inflight *rec) {
  __atomic_thread_fence(__ATOMIC_RELEASE);
  __atomic_fetch_add(&rec->seq, 1, __ATOMIC_ACQ_REL); /* even: stable */
}

void owt_inflight_set_idle(owt_inflight *rec) {
  write_begin(rec);
  rec->busy_since = 0;
  write_end(rec);
}

void owt_inflight_set_busy(owt_inflight *rec, double since, uint64_t number, const char *method,
                           size_t method_len, const char *path, size_t path_len) {
  write_begin(rec);
  rec->busy_since = since;
  rec->number = number;
  if (method) {
    if (method_len > sizeof rec->method) method_len = sizeof rec->method;
    memcpy(rec->method, method, method_len);
    rec->method_len = (uint8_t)method_len;
  }
  if (path) {
    if (path_len > sizeof rec->path) path_len = sizeof rec->path;
    memcpy(rec->path, path, path_len);
    rec->path_len = (uint8_t)path_len;
  }
  write_end(rec);
}

void owt_inflight_text(const owt_inflight *rec, char *method_out, size_t method_cap, char *path_out,
                       size_t path_cap) {
  size_t ml = rec->method_len < sizeof rec->method ? rec->method_len : sizeof rec->method;
  size_t pl = rec->path_len < sizeof rec->path ? rec->path_len : sizeof rec->path;
  owt_escape_field(method_out, method_cap, owt_str_make(rec->method, ml));
  owt_escape_field(path_out, path_cap, owt_str_make(rec->path, pl));
}

void owt_inflight_read(const owt_inflight *rec, owt_inflight *out) {
  for (int tries = 0; tries < 1000; tries++) {
    uint32_t before = __atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE);
    if (before & 1) {
      sched_yield();
      continue;
    }
    memcpy(out, rec, sizeof *out);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE) == before) return;
  }
  /* A writer that died mid-update (its process crashed): report idle. */
  memset(out, 0, sizeof *out);
}
