/* owt_admin.c - /_owt/health, /_owt/status, /_owt/metrics. */
#include "owt_admin.h"

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "owt_form.h"
#include "owt_response.h"

#define PREFIX "/_owt/"

int owt_admin_is_reserved(owt_str path) {
  return path.len >= sizeof PREFIX - 2 && memcmp(path.p, PREFIX, sizeof PREFIX - 2) == 0 &&
         (path.len == sizeof PREFIX - 2 || path.p[sizeof PREFIX - 2] == '/');
}

int owt_admin_is_public(owt_str path) { return owt_str_eq(path, OWT_STR_LIT("/_owt/health")); }

/* The JSON of one worker slot. python_version and paths are cut at their
 * first quote or backslash, so the JSON stays well-formed without an escaper. */
static owt_err slot_json(owt_buf *out, const owt_slot *slot, double now) {
  const owt_stats *s = &slot->worker;
  return owt_buf_printf(
      out,
      "{\"pid\":%ld,\"state\":\"%s\",\"busy_since\":%.3f,\"busy_for\":%.3f,\"path\":\"%.*s\","
      "\"uptime\":%.3f,\"requests\":%llu,\"errors_4xx\":%llu,\"errors_5xx\":%llu,"
      "\"timeouts\":%llu,\"client_gone\":%llu,\"bytes_out\":%llu,\"rss_bytes\":%llu,"
      "\"kills\":%llu,\"respawns\":%llu}",
      (long)s->pid, s->busy_since ? "busy" : "idle", s->busy_since,
      s->busy_since ? now - s->busy_since : 0.0, (int)strcspn(s->path, "\"\\"), s->path,
      now - s->started, (unsigned long long)s->requests, (unsigned long long)s->errors_4xx,
      (unsigned long long)s->errors_5xx, (unsigned long long)s->timeouts,
      (unsigned long long)s->client_gone, (unsigned long long)s->bytes_out,
      (unsigned long long)s->rss_bytes, (unsigned long long)slot->kills,
      (unsigned long long)slot->respawns);
}

static void totals(const owt_scoreboard *board, owt_stats *sum, uint64_t *kills) {
  *sum = *board->retired; /* workers that have exited still count */
  *kills = 0;
  for (size_t i = 0; i < board->n; i++) {
    const owt_slot *slot = &board->slots[i];
    *kills += slot->kills;
    if (!slot->in_use) continue;
    sum->requests += slot->worker.requests;
    sum->errors_4xx += slot->worker.errors_4xx;
    sum->errors_5xx += slot->worker.errors_5xx;
    sum->timeouts += slot->worker.timeouts;
    sum->client_gone += slot->worker.client_gone;
    sum->bytes_out += slot->worker.bytes_out;
  }
}

static owt_err status_json(owt_buf *out, const owt_scoreboard *board, const char *python_version) {
  double now = owt_now();
  owt_stats sum;
  uint64_t kills;
  size_t busy = 0, live = 0;
  owt_err err = owt_buf_printf(out, "{\"version\":\"%s\",\"python\":\"%.*s\",\"workers\":[",
                               PACKAGE_VERSION, (int)strcspn(python_version, " \"\\"), python_version);
  for (size_t i = 0; !err && i < board->n; i++) {
    const owt_slot *slot = &board->slots[i];
    if (!slot->in_use) continue;
    busy += slot->worker.busy_since != 0;
    if (live++ && (err = owt_buf_append_byte(out, ','))) break;
    err = slot_json(out, slot, now);
  }
  if (err) return err;
  totals(board, &sum, &kills);
  return owt_buf_printf(out,
                        "],\"totals\":{\"workers\":%zu,\"busy\":%zu,\"requests\":%llu,"
                        "\"errors_4xx\":%llu,\"errors_5xx\":%llu,\"timeouts\":%llu,"
                        "\"client_gone\":%llu,\"kills\":%llu}}\n",
                        live, busy, (unsigned long long)sum.requests,
                        (unsigned long long)sum.errors_4xx, (unsigned long long)sum.errors_5xx,
                        (unsigned long long)sum.timeouts, (unsigned long long)sum.client_gone,
                        (unsigned long long)kills);
}

/* One Prometheus family: its HELP/TYPE lines, then a sample per worker. */
static owt_err metric_family(owt_buf *out, const owt_scoreboard *board, const char *name,
                             const char *type, const char *help, size_t field_offset) {
  owt_err err = owt_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
  for (size_t i = 0; !err && i < board->n; i++) {
    const owt_slot *slot = &board->slots[i];
    if (!slot->in_use) continue;
    uint64_t v = *(const uint64_t *)((const char *)&slot->worker + field_offset);
    err = owt_buf_printf(out, "%s{pid=\"%ld\"} %llu\n", name, (long)slot->worker.pid,
                         (unsigned long long)v);
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
      {"owt_cache_hits_total", "counter", "use_cache requests answered from the cache.",
       offsetof(owt_stats, cache_hits)},
      {"owt_cache_misses_total", "counter", "use_cache requests not in the cache.",
       offsetof(owt_stats, cache_misses)},
      {"owt_worker_rss_bytes", "gauge", "Resident memory of the worker after its last request.",
       offsetof(owt_stats, rss_bytes)},
  };
  owt_err err = OWT_OK;
  for (size_t i = 0; !err && i < sizeof families / sizeof families[0]; i++)
    err = metric_family(out, board, families[i].name, families[i].type, families[i].help,
                        families[i].offset);
  owt_stats sum;
  uint64_t kills;
  totals(board, &sum, &kills);
  if (!err)
    err = owt_buf_printf(out, "# HELP owt_worker_kills_total Workers the master had to kill.\n"
                              "# TYPE owt_worker_kills_total counter\nowt_worker_kills_total %llu\n",
                         (unsigned long long)kills);
  return err;
}

int owt_admin_handle(owt_io *io, owt_str method, owt_str path, const owt_scoreboard *board,
                     const char *python_version) {
  owt_buf body = OWT_BUF_INIT(64 * 1024);
  owt_str type = OWT_STR_LIT("text/plain; charset=utf-8");
  int status = 200;
  owt_err err = OWT_OK;
  if (!owt_str_eq(method, OWT_STR_LIT("GET")) && !owt_str_eq(method, OWT_STR_LIT("HEAD"))) {
    status = 405;
    err = owt_buf_append_str(&body, "the /_owt/ pages answer GET only");
  } else if (owt_str_eq(path, OWT_STR_LIT("/_owt/health"))) {
    err = owt_buf_append_str(&body, "ok");
  } else if (owt_str_eq(path, OWT_STR_LIT("/_owt/status"))) {
    type = OWT_STR_LIT("application/json");
    err = status_json(&body, board, python_version);
  } else if (owt_str_eq(path, OWT_STR_LIT("/_owt/metrics"))) {
    type = OWT_STR_LIT("text/plain; version=0.0.4; charset=utf-8");
    err = metrics_text(&body, board);
  } else {
    status = 404;
    err = owt_buf_append_str(&body, "no such page: /_owt/ has health, status, metrics and cache");
  }
  if (err) {
    status = 500;
    owt_buf_reset(&body);
  }
  int rc = owt_response_send(io, status, type, owt_buf_str(&body)) ? -1 : status;
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

static owt_err cache_usage_json(owt_buf *out, owt_cache *cache, const owt_scoreboard *board) {
  uint64_t entries = 0, bytes = 0, hits = 0, misses = 0;
  owt_err err = owt_cache_usage(cache, &entries, &bytes);
  if (board && board->retired) {
    hits = board->retired->cache_hits;
    misses = board->retired->cache_misses;
  }
  if (err) return err;
  for (size_t i = 0; board && i < board->n; i++) {
    if (!board->slots[i].in_use) continue; /* an exited worker's counters are in retired */
    hits += board->slots[i].worker.cache_hits;
    misses += board->slots[i].worker.cache_misses;
  }
  return owt_buf_printf(out,
                        "{\"enabled\":%s,\"entries\":%llu,\"bytes\":%llu,\"max_bytes\":%llu,"
                        "\"ttl\":%.3f,\"hits\":%llu,\"misses\":%llu}\n",
                        owt_cache_enabled(cache) ? "true" : "false", (unsigned long long)entries,
                        (unsigned long long)bytes, (unsigned long long)cache->max_bytes, cache->ttl,
                        (unsigned long long)hits, (unsigned long long)misses);
}

int owt_admin_cache(owt_io *io, owt_str method, owt_str query, owt_cache *cache,
                    const owt_scoreboard *board) {
  owt_buf body = OWT_BUF_INIT(4096);
  owt_buf key = OWT_BUF_INIT(OWT_CACHE_MAX_KEY);
  owt_str json = OWT_STR_LIT("application/json");
  owt_str text = OWT_STR_LIT("text/plain; charset=utf-8");
  owt_str type = json;
  cache_query q = {&key, 0};
  uint64_t purged = 0;
  int status = 200;
  owt_err err = OWT_OK;
  if (owt_str_eq(method, OWT_STR_LIT("GET")) || owt_str_eq(method, OWT_STR_LIT("HEAD"))) {
    err = cache_usage_json(&body, cache, board);
  } else if (!owt_str_eq(method, OWT_STR_LIT("DELETE"))) {
    status = 405;
    type = text;
    err = owt_buf_append_str(&body, "/_owt/cache answers GET (usage) and DELETE (purge)");
  } else if (!owt_cache_enabled(cache)) {
    status = 409;
    type = text;
    err = owt_buf_append_str(&body, "the cache is off: start owt-fcgi with --cache-dir DIR");
  } else if (query.len && owt_form_each(query.p, query.len, 64, cache_query_field, &q) != OWT_OK) {
    status = 400;
    type = text;
    err = owt_buf_append_str(&body, "the query string does not parse (want ?key=KEY)");
  } else if ((err = owt_cache_purge(cache, q.found ? &(owt_str){key.data ? key.data : "", key.len} : NULL,
                                    &purged)) == OWT_OK) {
    err = owt_buf_printf(&body, "{\"purged\":%llu}\n", (unsigned long long)purged);
  }
  if (err) {
    status = 500;
    type = text;
    owt_buf_reset(&body);
    owt_buf_append_str(&body, "the cache directory could not be read");
  }
  int rc = owt_response_send(io, status, type, owt_buf_str(&body)) ? -1 : status;
  owt_buf_free(&body);
  owt_buf_free(&key);
  return rc;
}
