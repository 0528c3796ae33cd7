/* owt_admin.c - /_owt/health, /_owt/status, /_owt/metrics, /_owt/history,
 * /_owt/cache, and the dashboard's routes (the page: owt_dashboard.c). */
#include "owt_admin.h"

#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "owt_dashboard.h"
#include "owt_escape.h"
#include "owt_form.h"
#include "owt_response.h"

#define PREFIX "/_owt/"

int owt_admin_is_reserved(owt_str path) {
  return path.len >= sizeof PREFIX - 2 && memcmp(path.p, PREFIX, sizeof PREFIX - 2) == 0 &&
         (path.len == sizeof PREFIX - 2 || path.p[sizeof PREFIX - 2] == '/');
}

int owt_admin_is_public(owt_str path) { return owt_str_eq(path, OWT_STR_LIT("/_owt/health")); }

/* Status and metrics are built for however many workers and threads the
 * board holds: no fixed-size buffer that a big server would outgrow. */
static size_t page_cap(const owt_scoreboard *board) {
  /* A record's JSON is at most ~700 bytes (a path escapes to 4 bytes a byte). */
  return (size_t)(64 * 1024) + board->n * (4096 + board->records * 1024);
}

static int add_number(cJSON *obj, const char *name, double v) {
  return cJSON_AddNumberToObject(obj, name, v) != NULL;
}

static int add_counter(cJSON *obj, const char *name, const uint64_t *v) {
  return add_number(obj, name, (double)owt_stats_get(v));
}

/* The in-flight requests of one slot, as a JSON array. */
static cJSON *inflight_json(const owt_scoreboard *board, const owt_slot *slot, double now) {
  cJSON *list = cJSON_CreateArray();
  size_t records = owt_scoreboard_records(board, slot);
  for (size_t t = 0; list && t < records; t++) {
    owt_inflight rec;
    owt_inflight_read(&slot->inflight[t], &rec);
    if (!rec.busy_since) continue;
    cJSON *r = cJSON_CreateObject();
    char method[40], path[4 * OWT_INFLIGHT_PATH + 1];
    owt_inflight_text(&rec, method, sizeof method, path, sizeof path);
    int ok = r && add_number(r, "thread", (double)t) && cJSON_AddStringToObject(r, "method", method) &&
             cJSON_AddStringToObject(r, "path", path) && add_number(r, "busy_since", rec.busy_since) &&
             add_number(r, "busy_for", now - rec.busy_since) &&
             add_number(r, "request", (double)rec.number);
    if (!ok || !cJSON_AddItemToArray(list, r)) {
      cJSON_Delete(r);
      cJSON_Delete(list);
      return NULL;
    }
  }
  return list;
}

/* {"count","sum" (seconds),"buckets":[per bucket, owt_stats_bucket_le]} */
static cJSON *latency_json(const owt_latency *l) {
  cJSON *o = cJSON_CreateObject(), *b = cJSON_CreateArray();
  uint64_t count = 0;
  for (size_t i = 0; o && b && i < OWT_STATS_BUCKETS; i++) {
    uint64_t v = owt_stats_get(&l->buckets[i]);
    count += v; /* count from the buckets: they agree even while requests end */
    cJSON *n = cJSON_CreateNumber((double)v);
    if (!n || !cJSON_AddItemToArray(b, n)) {
      cJSON_Delete(n);
      cJSON_Delete(b);
      b = NULL;
    }
  }
  if (!o || !b || !add_number(o, "count", (double)count) ||
      !add_number(o, "sum", (double)owt_stats_get(&l->sum_us) / 1e6) || !cJSON_AddItemToObject(o, "buckets", b)) {
    cJSON_Delete(b);
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static int add_latency(cJSON *obj, const owt_latency *l) {
  cJSON *j = latency_json(l);
  if (j && cJSON_AddItemToObject(obj, "latency", j)) return 1;
  cJSON_Delete(j);
  return 0;
}

static int add_warm(cJSON *obj, const owt_stats *s) {
  cJSON *w = cJSON_CreateObject();
  if (w && add_counter(w, "adaptors", &s->warm_adaptors) && add_counter(w, "named", &s->named_adaptors) &&
      add_counter(w, "compiled", &s->compiled) && cJSON_AddItemToObject(obj, "warm", w))
    return 1;
  cJSON_Delete(w);
  return 0;
}

/* One worker: its counters, and each request it holds. busy_since/path
 * speak of its oldest request in flight (the one a watchdog looks at). */
static cJSON *slot_json(const owt_scoreboard *board, const owt_slot *slot, double now) {
  const owt_stats *s = &slot->worker;
  cJSON *inflight = inflight_json(board, slot, now);
  if (!inflight) return NULL;
  double oldest = 0;
  const char *oldest_path = "";
  cJSON *item;
  cJSON_ArrayForEach(item, inflight) {
    double since = cJSON_GetObjectItem(item, "busy_since")->valuedouble;
    if (!oldest || since < oldest) {
      oldest = since;
      oldest_path = cJSON_GetObjectItem(item, "path")->valuestring;
    }
  }
  const char *state = s->retiring ? "retiring" : oldest ? "busy" : "idle";
  cJSON *w = cJSON_CreateObject();
  int ok = w && add_number(w, "pid", (double)s->pid) && cJSON_AddStringToObject(w, "state", state) &&
           add_number(w, "threads", (double)s->threads) &&
           add_number(w, "busy", (double)cJSON_GetArraySize(inflight)) &&
           add_number(w, "busy_since", oldest) && add_number(w, "busy_for", oldest ? now - oldest : 0.0) &&
           cJSON_AddStringToObject(w, "path", oldest_path) &&
           add_number(w, "uptime", s->started ? now - s->started : 0.0) &&
           add_counter(w, "requests", &s->requests) && add_counter(w, "errors_4xx", &s->errors_4xx) &&
           add_counter(w, "errors_5xx", &s->errors_5xx) && add_counter(w, "timeouts", &s->timeouts) &&
           add_counter(w, "client_gone", &s->client_gone) && add_counter(w, "bytes_out", &s->bytes_out) &&
           add_counter(w, "promotions", &s->promotions) &&
           add_counter(w, "cache_hits", &s->cache_hits) && add_counter(w, "cache_misses", &s->cache_misses) &&
           add_counter(w, "rss_bytes", &s->rss_bytes) && add_counter(w, "kills", &slot->kills) &&
           add_counter(w, "respawns", &slot->respawns) && add_latency(w, &s->latency) && add_warm(w, s);
  if (!ok || !cJSON_AddItemToObject(w, "inflight", inflight)) {
    cJSON_Delete(inflight);
    cJSON_Delete(w);
    return NULL;
  }
  return w;
}

/* Add one worker's counters (or the retired ones) into sum (private). */
static void sum_into(owt_stats *sum, const owt_stats *w) {
  sum->requests += owt_stats_get(&w->requests);
  sum->errors_4xx += owt_stats_get(&w->errors_4xx);
  sum->errors_5xx += owt_stats_get(&w->errors_5xx);
  sum->timeouts += owt_stats_get(&w->timeouts);
  sum->client_gone += owt_stats_get(&w->client_gone);
  sum->promotions += owt_stats_get(&w->promotions);
  sum->bytes_out += owt_stats_get(&w->bytes_out);
  sum->cache_hits += owt_stats_get(&w->cache_hits);
  sum->cache_misses += owt_stats_get(&w->cache_misses);
  sum->compiled += owt_stats_get(&w->compiled);
  owt_latency_add(&sum->latency, &w->latency);
}

static void totals(const owt_scoreboard *board, owt_stats *sum, uint64_t *kills) {
  memset(sum, 0, sizeof *sum);
  sum_into(sum, board->retired); /* workers that have exited still count */
  *kills = 0;
  for (size_t i = 0; i < board->n; i++) {
    const owt_slot *slot = owt_scoreboard_slot(board, i);
    *kills += owt_stats_get(&slot->kills);
    if (!__atomic_load_n(&slot->in_use, __ATOMIC_ACQUIRE)) continue;
    sum_into(sum, &slot->worker);
    sum->threads += slot->worker.threads;
    sum->warm_adaptors += owt_stats_get(&slot->worker.warm_adaptors);
  }
}

static cJSON *totals_json(const owt_scoreboard *board, size_t live, size_t busy, size_t busy_workers) {
  owt_stats sum;
  uint64_t kills;
  totals(board, &sum, &kills);
  cJSON *t = cJSON_CreateObject();
  if (!t || !add_number(t, "workers", (double)live) || !add_number(t, "threads", (double)sum.threads) ||
      !add_number(t, "busy", (double)busy) || !add_number(t, "busy_workers", (double)busy_workers) ||
      !add_counter(t, "requests", &sum.requests) || !add_counter(t, "errors_4xx", &sum.errors_4xx) ||
      !add_counter(t, "errors_5xx", &sum.errors_5xx) || !add_counter(t, "timeouts", &sum.timeouts) ||
      !add_counter(t, "client_gone", &sum.client_gone) || !add_counter(t, "bytes_out", &sum.bytes_out) ||
      !add_counter(t, "promotions", &sum.promotions) ||
      !add_counter(t, "kills", &kills) || !add_counter(t, "cache_hits", &sum.cache_hits) ||
      !add_counter(t, "cache_misses", &sum.cache_misses) || !add_counter(t, "compiled", &sum.compiled) ||
      !add_counter(t, "warm_adaptors", &sum.warm_adaptors) || !add_latency(t, &sum.latency)) {
    cJSON_Delete(t);
    return NULL;
  }
  return t;
}

static owt_err status_json(owt_buf *out, const owt_scoreboard *board, const char *python_version) {
  double now = owt_now();
  size_t live = 0, busy = 0, busy_workers = 0;
  char py[32];
  owt_escape_field(py, sizeof py, owt_str_make(python_version, strcspn(python_version, " ")));
  owt_err err = OWT_E_NOMEM;
  cJSON *root = cJSON_CreateObject(), *workers = cJSON_CreateArray(), *tot = NULL;
  char *text = NULL;
  if (!root || !workers) goto done;
  const char *kind = board->file ? "shared" : board->n > 1 ? "master" : "single";
  cJSON *le = cJSON_CreateDoubleArray(owt_stats_bucket_le, OWT_STATS_BUCKETS - 1);
  if (!le || !cJSON_AddItemToObject(root, "buckets_le", le)) {
    cJSON_Delete(le);
    cJSON_Delete(workers);
    goto done;
  }
  if (!cJSON_AddStringToObject(root, "version", PACKAGE_VERSION) ||
      !cJSON_AddStringToObject(root, "python", py) || !add_number(root, "pid", (double)getpid()) ||
      !cJSON_AddStringToObject(root, "scoreboard", kind) || !add_number(root, "since", board->since) ||
      !add_number(root, "now", now) || !cJSON_AddItemToObject(root, "workers", workers)) {
    cJSON_Delete(workers);
    goto done;
  }
  for (size_t i = 0; i < board->n; i++) {
    const owt_slot *slot = owt_scoreboard_slot(board, i);
    if (!__atomic_load_n(&slot->in_use, __ATOMIC_ACQUIRE)) continue;
    cJSON *w = slot_json(board, slot, now);
    if (!w || !cJSON_AddItemToArray(workers, w)) {
      cJSON_Delete(w);
      goto done;
    }
    size_t n = (size_t)cJSON_GetObjectItem(w, "busy")->valuedouble;
    live++;
    busy += n;
    busy_workers += n > 0;
  }
  if (!(tot = totals_json(board, live, busy, busy_workers)) || !cJSON_AddItemToObject(root, "totals", tot)) {
    cJSON_Delete(tot);
    goto done;
  }
  if (!(text = cJSON_PrintUnformatted(root))) goto done;
  err = owt_buf_append_str(out, text);
  if (!err) err = owt_buf_append_byte(out, '\n');
done:
  cJSON_free(text);
  cJSON_Delete(root);
  return err;
}

/* One Prometheus family: its HELP/TYPE lines, then a sample per worker. */
static owt_err metric_family(owt_buf *out, const owt_scoreboard *board, const char *name,
                             const char *type, const char *help, size_t field_offset) {
  owt_err err = owt_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
  for (size_t i = 0; !err && i < board->n; i++) {
    const owt_slot *slot = owt_scoreboard_slot(board, i);
    if (!__atomic_load_n(&slot->in_use, __ATOMIC_ACQUIRE)) continue;
    uint64_t v = owt_stats_get((const uint64_t *)((const char *)&slot->worker + field_offset));
    err = owt_buf_printf(out, "%s{pid=\"%ld\"} %llu\n", name, (long)slot->worker.pid,
                         (unsigned long long)v);
  }
  return err;
}

/* Gauges read from the in-flight records and the worker's thread count. */
static owt_err metric_busy(owt_buf *out, const owt_scoreboard *board) {
  owt_err err = owt_buf_append_str(out, "# HELP owt_requests_in_flight Requests being answered now.\n"
                                        "# TYPE owt_requests_in_flight gauge\n");
  for (size_t i = 0; !err && i < board->n; i++) {
    const owt_slot *slot = owt_scoreboard_slot(board, i);
    size_t busy = 0;
    if (!slot->in_use) continue;
    owt_scoreboard_oldest(board, slot, &busy);
    err = owt_buf_printf(out, "owt_requests_in_flight{pid=\"%ld\"} %zu\n", (long)slot->worker.pid, busy);
  }
  if (!err)
    err = owt_buf_append_str(out, "# HELP owt_worker_threads Request threads of the worker.\n"
                                  "# TYPE owt_worker_threads gauge\n");
  for (size_t i = 0; !err && i < board->n; i++) {
    const owt_slot *slot = owt_scoreboard_slot(board, i);
    if (!slot->in_use) continue;
    err = owt_buf_printf(out, "owt_worker_threads{pid=\"%ld\"} %u\n", (long)slot->worker.pid,
                         (unsigned)slot->worker.threads);
  }
  return err;
}

/* owt_request_duration_seconds: a histogram per worker. */
static owt_err metric_latency(owt_buf *out, const owt_scoreboard *board) {
  owt_err err = owt_buf_append_str(out, "# HELP owt_request_duration_seconds Time from a request's start to "
                                        "its response's last byte.\n"
                                        "# TYPE owt_request_duration_seconds histogram\n");
  for (size_t i = 0; !err && i < board->n; i++) {
    const owt_slot *slot = owt_scoreboard_slot(board, i);
    if (!__atomic_load_n(&slot->in_use, __ATOMIC_ACQUIRE)) continue;
    const owt_latency *l = &slot->worker.latency;
    long pid = (long)slot->worker.pid;
    uint64_t cum = 0;
    for (size_t b = 0; !err && b < OWT_STATS_BUCKETS; b++) {
      cum += owt_stats_get(&l->buckets[b]);
      if (b < OWT_STATS_BUCKETS - 1)
        err = owt_buf_printf(out, "owt_request_duration_seconds_bucket{pid=\"%ld\",le=\"%g\"} %llu\n", pid,
                             owt_stats_bucket_le[b], (unsigned long long)cum);
      else
        err = owt_buf_printf(out, "owt_request_duration_seconds_bucket{pid=\"%ld\",le=\"+Inf\"} %llu\n", pid,
                             (unsigned long long)cum);
    }
    if (!err)
      err = owt_buf_printf(out, "owt_request_duration_seconds_sum{pid=\"%ld\"} %.6f\n"
                                "owt_request_duration_seconds_count{pid=\"%ld\"} %llu\n",
                           pid, (double)owt_stats_get(&l->sum_us) / 1e6, pid, (unsigned long long)cum);
  }
  return err;
}

static owt_err metrics_text(owt_buf *out, const owt_scoreboard *board) {
  static const struct {
    const char *name, *type, *help;
    size_t offset;
  } families[] = {
      {"owt_requests_total", "counter", "Requests answered.", offsetof(owt_stats, requests)},
      {"owt_errors_4xx_total", "counter", "Responses with a 4xx status.", offsetof(owt_stats, errors_4xx)},
      {"owt_errors_5xx_total", "counter", "Responses with a 5xx status.", offsetof(owt_stats, errors_5xx)},
      {"owt_timeouts_total", "counter", "Adaptors stopped by --timeout.", offsetof(owt_stats, timeouts)},
      {"owt_client_gone_total", "counter", "Responses cut short because the client left.",
       offsetof(owt_stats, client_gone)},
      {"owt_response_bytes_total", "counter", "Body bytes sent.", offsetof(owt_stats, bytes_out)},
      {"owt_promotions_total", "counter",
       "Times an idle thread took over the lead or a waiting connection because the leader was serving.",
       offsetof(owt_stats, promotions)},
      {"owt_cache_hits_total", "counter", "use_cache requests answered from the cache.",
       offsetof(owt_stats, cache_hits)},
      {"owt_cache_misses_total", "counter", "use_cache requests not in the cache.",
       offsetof(owt_stats, cache_misses)},
      {"owt_worker_rss_bytes", "gauge", "Resident memory of the worker, read 4 times a second.",
       offsetof(owt_stats, rss_bytes)},
      {"owt_warm_adaptors", "gauge", "Code adaptors kept warm by the worker.", offsetof(owt_stats, warm_adaptors)},
      {"owt_adaptors_compiled_total", "counter", "Code adaptors the worker built.", offsetof(owt_stats, compiled)},
  };
  owt_err err = OWT_OK;
  for (size_t i = 0; !err && i < sizeof families / sizeof families[0]; i++)
    err = metric_family(out, board, families[i].name, families[i].type, families[i].help,
                        families[i].offset);
  if (!err) err = metric_busy(out, board);
  if (!err) err = metric_latency(out, board);
  owt_stats sum;
  uint64_t kills;
  totals(board, &sum, &kills);
  if (!err)
    err = owt_buf_printf(out, "# HELP owt_worker_kills_total Workers the master had to kill.\n"
                              "# TYPE owt_worker_kills_total counter\nowt_worker_kills_total %llu\n",
                         (unsigned long long)kills);
  return err;
}

/* /_owt/history: the last OWT_HISTORY_STEPS steps of the whole server,
 * oldest first (the dashboard's chart). */
static owt_err history_json(owt_buf *out, const owt_scoreboard *board) {
  double now = owt_now();
  uint64_t latest = (uint64_t)(now / OWT_HISTORY_STEP_SECONDS);
  owt_err err = owt_buf_printf(out, "{\"step\":%d,\"now\":%.3f,\"buckets_le\":[", OWT_HISTORY_STEP_SECONDS, now);
  for (size_t b = 0; !err && b < OWT_STATS_BUCKETS - 1; b++)
    err = owt_buf_printf(out, "%s%g", b ? "," : "", owt_stats_bucket_le[b]);
  if (!err) err = owt_buf_append_str(out, "],\"steps\":[");
  for (uint64_t k = 0; !err && k < OWT_HISTORY_STEPS; k++) {
    uint64_t e = latest - (OWT_HISTORY_STEPS - 1) + k;
    owt_tick sum, one;
    memset(&sum, 0, sizeof sum);
    for (size_t i = 0; i <= board->n; i++) {
      const owt_stats *w = i < board->n ? &owt_scoreboard_slot(board, i)->worker : board->retired;
      if (i < board->n && !__atomic_load_n(&owt_scoreboard_slot(board, i)->in_use, __ATOMIC_ACQUIRE)) continue;
      owt_stats_read_tick(w->history, e, &one);
      sum.requests += one.requests;
      sum.errors += one.errors;
      owt_latency_add(&sum.latency, &one.latency);
    }
    err = owt_buf_printf(out, "%s{\"t\":%llu,\"requests\":%llu,\"errors\":%llu,\"latency_sum\":%.6f,\"buckets\":[",
                         k ? "," : "", (unsigned long long)(e * OWT_HISTORY_STEP_SECONDS),
                         (unsigned long long)sum.requests, (unsigned long long)sum.errors,
                         (double)sum.latency.sum_us / 1e6);
    for (size_t b = 0; !err && b < OWT_STATS_BUCKETS; b++)
      err = owt_buf_printf(out, "%s%llu", b ? "," : "", (unsigned long long)sum.latency.buckets[b]);
    if (!err) err = owt_buf_append_str(out, "]}");
  }
  if (!err) err = owt_buf_append_str(out, "]}\n");
  return err;
}

/* Send what a page says: the body with type when answer is OWT_OK, else the
 * error response for answer with the body as its message. Returns answer,
 * or OWT_E_IO when the client went away. */
static owt_err send_page(owt_io *io, owt_err answer, owt_str type, const owt_buf *body) {
  owt_err sent = answer == OWT_OK ? owt_response_send(io, type, owt_buf_str(body))
                                  : owt_response_send_error(io, answer, owt_buf_str(body), NULL, 0);
  return sent == OWT_E_IO ? OWT_E_IO : answer;
}

owt_err owt_admin_handle(owt_io *io, owt_str method, owt_str path, owt_scoreboard *board,
                         const char *python_version) {
  int get = owt_str_eq(method, OWT_STR_LIT("GET")) || owt_str_eq(method, OWT_STR_LIT("HEAD"));
  if (get && owt_str_eq(path, OWT_STR_LIT("/_owt/"))) return owt_dashboard_send(io);
  if (get && owt_str_eq(path, OWT_STR_LIT("/_owt"))) return owt_dashboard_redirect(io);
  if (!owt_admin_is_public(path)) owt_scoreboard_sweep(board); /* processes that died leave the board */
  owt_buf body = OWT_BUF_INIT(page_cap(board));
  owt_str type = OWT_STR_LIT("text/plain; charset=utf-8");
  owt_err answer = OWT_OK; /* what the page says */
  owt_err err = OWT_OK;    /* whether it could be built */
  if (!get) {
    answer = OWT_E_METHOD;
    err = owt_buf_append_str(&body, "the /_owt/ pages answer GET only");
  } else if (owt_str_eq(path, OWT_STR_LIT("/_owt/health"))) {
    err = owt_buf_append_str(&body, "ok");
  } else if (owt_str_eq(path, OWT_STR_LIT("/_owt/status"))) {
    type = OWT_STR_LIT("application/json");
    err = status_json(&body, board, python_version);
  } else if (owt_str_eq(path, OWT_STR_LIT("/_owt/metrics"))) {
    type = OWT_STR_LIT("text/plain; version=0.0.4; charset=utf-8");
    err = metrics_text(&body, board);
  } else if (owt_str_eq(path, OWT_STR_LIT("/_owt/history"))) {
    type = OWT_STR_LIT("application/json");
    err = history_json(&body, board);
  } else {
    answer = OWT_E_NOT_FOUND;
    err = owt_buf_append_str(&body, "no such page: /_owt/ has the dashboard (/_owt/), health, status, "
                                    "metrics, history and cache");
  }
  if (err) {
    answer = OWT_E_INTERNAL;
    owt_buf_reset(&body);
    owt_buf_append_str(&body, "the page could not be built");
  }
  owt_err rc = send_page(io, answer, type, &body);
  owt_buf_free(&body);
  return rc;
}

/* ---- /_owt/cache ------------------------------------------------------------- */

typedef struct {
  owt_buf *key;
  int found;
} cache_query;

static owt_err cache_query_field(void *ctx, owt_str raw_key, owt_str raw_value) {
  cache_query *q = ctx;
  if (!owt_form_key_is(raw_key, "key")) return OWT_OK;
  owt_buf_reset(q->key);
  q->found = 1;
  return raw_value.p ? owt_url_decode(raw_value.p, raw_value.len, q->key) : OWT_OK;
}

static owt_err cache_usage_json(owt_buf *out, owt_cache *cache, owt_scoreboard *board) {
  uint64_t entries = 0, bytes = 0, hits = 0, misses = 0;
  owt_err err = owt_cache_usage(cache, &entries, &bytes);
  if (board && board->retired) {
    hits = owt_stats_get(&board->retired->cache_hits);
    misses = owt_stats_get(&board->retired->cache_misses);
  }
  if (err) return err;
  if (board) owt_scoreboard_sweep(board);
  for (size_t i = 0; board && i < board->n; i++) {
    const owt_slot *slot = owt_scoreboard_slot(board, i);
    if (!slot->in_use) continue; /* an exited worker's counters are in retired */
    hits += owt_stats_get(&slot->worker.cache_hits);
    misses += owt_stats_get(&slot->worker.cache_misses);
  }
  return owt_buf_printf(out,
                        "{\"enabled\":%s,\"entries\":%llu,\"bytes\":%llu,\"max_bytes\":%llu,"
                        "\"ttl\":%.3f,\"hits\":%llu,\"misses\":%llu}\n",
                        owt_cache_enabled(cache) ? "true" : "false", (unsigned long long)entries,
                        (unsigned long long)bytes, (unsigned long long)cache->max_bytes, cache->ttl,
                        (unsigned long long)hits, (unsigned long long)misses);
}

owt_err owt_admin_cache(owt_io *io, owt_str method, owt_str query, owt_cache *cache,
                        owt_scoreboard *board) {
  owt_buf body = OWT_BUF_INIT(4096);
  owt_buf key = OWT_BUF_INIT(OWT_CACHE_MAX_KEY);
  owt_str type = OWT_STR_LIT("application/json");
  cache_query q = {&key, 0};
  uint64_t purged = 0;
  owt_err answer = OWT_OK; /* what the page says */
  owt_err err = OWT_OK;    /* whether it could be built */
  if (owt_str_eq(method, OWT_STR_LIT("GET")) || owt_str_eq(method, OWT_STR_LIT("HEAD"))) {
    err = cache_usage_json(&body, cache, board);
  } else if (!owt_str_eq(method, OWT_STR_LIT("DELETE"))) {
    answer = OWT_E_METHOD;
    err = owt_buf_append_str(&body, "/_owt/cache answers GET (usage) and DELETE (purge)");
  } else if (!owt_cache_enabled(cache)) {
    answer = OWT_E_CONFLICT;
    err = owt_buf_append_str(&body, "the cache is off: start owt-fcgi with --cache-dir DIR");
  } else if (query.len && owt_form_each(query.p, query.len, 64, cache_query_field, &q) != OWT_OK) {
    answer = OWT_E_BAD_REQUEST;
    err = owt_buf_append_str(&body, "the query string does not parse (want ?key=KEY)");
  } else if ((err = owt_cache_purge(cache, q.found ? &(owt_str){key.data ? key.data : "", key.len} : NULL,
                                    &purged)) == OWT_OK) {
    err = owt_buf_printf(&body, "{\"purged\":%llu}\n", (unsigned long long)purged);
  }
  if (err) {
    answer = OWT_E_INTERNAL;
    owt_buf_reset(&body);
    owt_buf_append_str(&body, "the cache directory could not be read");
  }
  owt_err rc = send_page(io, answer, type, &body);
  owt_buf_free(&body);
  owt_buf_free(&key);
  return rc;
}
