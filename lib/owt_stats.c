/* owt_stats.c - clocks, memory readings, the in-flight records, and the
 * request durations (histogram and recent history) of a worker. */
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

/* ---- durations -------------------------------------------------------------- */

const double owt_stats_bucket_le[OWT_STATS_BUCKETS - 1] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1.0,  2.5,   5.0,  10.0};

static size_t bucket_of(double seconds) {
  for (size_t i = 0; i < OWT_STATS_BUCKETS - 1; i++)
    if (seconds <= owt_stats_bucket_le[i]) return i;
  return OWT_STATS_BUCKETS - 1;
}

void owt_latency_add(owt_latency *dst, const owt_latency *src) {
  owt_stats_add(&dst->count, owt_stats_get(&src->count));
  owt_stats_add(&dst->sum_us, owt_stats_get(&src->sum_us));
  for (size_t i = 0; i < OWT_STATS_BUCKETS; i++) owt_stats_add(&dst->buckets[i], owt_stats_get(&src->buckets[i]));
}

static void tick_zero(owt_tick *t) {
  __atomic_store_n(&t->requests, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&t->errors, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&t->latency.count, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&t->latency.sum_us, 0, __ATOMIC_RELAXED);
  for (size_t i = 0; i < OWT_STATS_BUCKETS; i++) __atomic_store_n(&t->latency.buckets[i], 0, __ATOMIC_RELAXED);
}

/* The record of step e, moved on to e when it held an older step. NULL when
 * it already holds a newer one (e is too old to count). */
static owt_tick *tick_for(owt_tick *history, uint64_t e) {
  owt_tick *t = &history[e % OWT_HISTORY_STEPS];
  for (int tries = 0; tries < 1000; tries++) {
    uint64_t cur = __atomic_load_n(&t->epoch, __ATOMIC_ACQUIRE);
    if (cur == e) return t;
    if (cur == OWT_TICK_MOVING) {
      sched_yield();
      continue;
    }
    if (cur > e) return NULL;
    if (__atomic_compare_exchange_n(&t->epoch, &cur, OWT_TICK_MOVING, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      tick_zero(t);
      __atomic_store_n(&t->epoch, e, __ATOMIC_RELEASE);
      return t;
    }
  }
  /* The process moving it died half way: take the record over. */
  tick_zero(t);
  __atomic_store_n(&t->epoch, e, __ATOMIC_RELEASE);
  return t;
}

static uint64_t epoch_of(double now) { return now > 0 ? (uint64_t)(now / OWT_HISTORY_STEP_SECONDS) : 0; }

void owt_stats_observe(owt_stats *s, double now, double seconds, int status) {
  if (!(seconds >= 0)) seconds = 0; /* a clock that stepped back, or NaN */
  uint64_t us = seconds < 1e9 ? (uint64_t)(seconds * 1e6) : (uint64_t)1e15;
  size_t b = bucket_of(seconds);
  int error = status < 0 || status >= 500;
  owt_stats_add(&s->latency.count, 1);
  owt_stats_add(&s->latency.sum_us, us);
  owt_stats_add(&s->latency.buckets[b], 1);
  owt_tick *t = tick_for(s->history, epoch_of(now));
  if (!t) return;
  owt_stats_add(&t->requests, 1);
  if (error) owt_stats_add(&t->errors, 1);
  owt_stats_add(&t->latency.count, 1);
  owt_stats_add(&t->latency.sum_us, us);
  owt_stats_add(&t->latency.buckets[b], 1);
}

void owt_stats_read_tick(const owt_tick *history, uint64_t e, owt_tick *out) {
  const owt_tick *t = &history[e % OWT_HISTORY_STEPS];
  memset(out, 0, sizeof *out);
  if (__atomic_load_n(&t->epoch, __ATOMIC_ACQUIRE) != e) return;
  out->requests = owt_stats_get(&t->requests);
  out->errors = owt_stats_get(&t->errors);
  owt_latency_add(&out->latency, &t->latency);
  if (__atomic_load_n(&t->epoch, __ATOMIC_ACQUIRE) != e) memset(out, 0, sizeof *out); /* moved meanwhile */
  else out->epoch = e;
}

void owt_stats_add_history(owt_tick *dst, const owt_tick *src, double now) {
  uint64_t latest = epoch_of(now);
  for (size_t i = 0; i < OWT_HISTORY_STEPS; i++) {
    uint64_t e = __atomic_load_n(&src[i].epoch, __ATOMIC_ACQUIRE);
    if (e == 0 || e == OWT_TICK_MOVING || e + OWT_HISTORY_STEPS <= latest) continue;
    owt_tick copy;
    owt_stats_read_tick(src, e, &copy);
    owt_tick *t = copy.epoch ? tick_for(dst, e) : NULL;
    if (!t) continue;
    owt_stats_add(&t->requests, copy.requests);
    owt_stats_add(&t->errors, copy.errors);
    owt_latency_add(&t->latency, &copy.latency);
  }
}

/* ---- the warm adaptors ---------------------------------------------------------- */

static owt_stats *self_stats;

void owt_stats_set_self(owt_stats *self) { __atomic_store_n(&self_stats, self, __ATOMIC_RELEASE); }

void owt_stats_report_warm(uint64_t warm, uint64_t named, uint64_t compiled) {
  owt_stats *s = __atomic_load_n(&self_stats, __ATOMIC_ACQUIRE);
  if (!s) return;
  __atomic_store_n(&s->warm_adaptors, warm, __ATOMIC_RELAXED);
  __atomic_store_n(&s->named_adaptors, named, __ATOMIC_RELAXED);
  __atomic_store_n(&s->compiled, compiled, __ATOMIC_RELAXED);
}
