/* test_admin.c - the /_owt/ pages from a scoreboard the test fills: status is
 * valid JSON whatever bytes a path holds, totals add the retired workers,
 * metrics has a sample per live worker, both pages grow with the board (300
 * workers of 64 busy threads), and every other answer is the owt_err it
 * says. */
#define _GNU_SOURCE /* memmem */
#include <cjson/cJSON.h>

#include "owt_admin.h"
#include "unit.h"

static const char pyver[] = "3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]";

typedef struct {
  owt_io io;
  mem_io m;
} page;

static owt_err get(page *p, const char *method, const char *path, owt_scoreboard *b) {
  memset(p, 0, sizeof *p);
  mem_io_bind(&p->io, &p->m, NULL, 0, NULL);
  p->m.out.max = 64u << 20; /* the big boards' pages */
  return owt_admin_handle(&p->io, owt_str_of(method), owt_str_of(path), b, pyver);
}

static owt_str body_of(const page *p) {
  owt_str all = owt_buf_str(&p->m.out);
  const char *end = memmem(all.p, all.len, "\r\n\r\n", 4);
  assert_non_null(end);
  size_t head = (size_t)(end - all.p) + 4;
  return owt_str_make(all.p + head, all.len - head);
}

static int starts(const page *p, const char *prefix) {
  return p->m.out.len >= strlen(prefix) && memcmp(p->m.out.data, prefix, strlen(prefix)) == 0;
}

static cJSON *json_of(const page *p) {
  owt_str body = body_of(p);
  cJSON *doc = cJSON_ParseWithLength(body.p, body.len);
  if (!doc) fail_msg("not JSON: %.*s", (int)(body.len > 400 ? 400 : body.len), body.p);
  return doc;
}

static double num(const cJSON *obj, const char *name) {
  const cJSON *item = cJSON_GetObjectItem(obj, name);
  if (!cJSON_IsNumber(item)) fail_msg("no number %s", name);
  return item->valuedouble;
}

/* Slot i: a live worker with pid 1000 + i, requests 10 * (i + 1), and busy
 * threads 0..busy-1 on path. */
static void fill(owt_scoreboard *b, size_t i, size_t busy, const char *path, size_t path_len) {
  owt_slot *s = owt_scoreboard_slot(b, i);
  s->in_use = 1;
  s->worker.pid = (pid_t)(1000 + i);
  s->worker.threads = (uint32_t)b->threads;
  s->worker.started = owt_now() - 60;
  s->worker.requests = 10 * (i + 1);
  s->worker.errors_4xx = 1;
  s->worker.errors_5xx = 2;
  s->worker.bytes_out = 100;
  s->kills = i;
  for (size_t t = 0; t < busy; t++)
    owt_inflight_set_busy(&s->inflight[t], owt_now() - 1.0 - (double)t, 5, "GET", 3, path, path_len);
}

static void test_status_is_json_whatever_the_path(void **state) {
  (void)state;
  owt_scoreboard b;
  page p;
  static const char nasty[] = "/a\"b\\c\n\r\x01\x1f\x7f\xff\xc3\xa9 </script>";
  assert_int_equal(owt_scoreboard_create(&b, 4, 3), 0);
  fill(&b, 0, 2, nasty, sizeof nasty - 1);
  fill(&b, 2, 0, "/", 1);
  fill(&b, 3, 1, "/x", 2);
  owt_scoreboard_slot(&b, 3)->in_use = 0; /* an exited worker: not listed, but its kills count */
  b.retired->requests = 1000;
  b.retired->errors_5xx = 7;
  assert_int_equal(get(&p, "GET", "/_owt/status", &b), OWT_OK);
  assert_true(starts(&p, "Status: 200 OK\r\nContent-Type: application/json\r\n"));
  cJSON *doc = json_of(&p);
  assert_string_equal(cJSON_GetObjectItem(doc, "python")->valuestring, "3.11.2");
  cJSON *workers = cJSON_GetObjectItem(doc, "workers");
  assert_int_equal(cJSON_GetArraySize(workers), 2);
  cJSON *w0 = cJSON_GetArrayItem(workers, 0), *w2 = cJSON_GetArrayItem(workers, 1);
  assert_true(num(w0, "pid") == 1000);
  assert_string_equal(cJSON_GetObjectItem(w0, "state")->valuestring, "busy");
  assert_true(num(w0, "busy") == 2);
  assert_true(num(w0, "busy_for") >= 2.0); /* the oldest of its requests */
  const char *path = cJSON_GetObjectItem(w0, "path")->valuestring;
  /* escaped as one printable word: no control byte, no raw quote or newline */
  for (const char *c = path; *c; c++) assert_true(*c > 0x20 && *c < 0x7f && *c != '"');
  static const char want[] = "/a\\x22b\\x5cc\\x0a\\x0d\\x01\\x1f\\x7f\\xff\\xc3\\xa9\\x20</script>";
  assert_string_equal(path, want);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(w0, "inflight")), 2);
  assert_string_equal(cJSON_GetObjectItem(w2, "state")->valuestring, "idle");
  assert_string_equal(cJSON_GetObjectItem(w2, "path")->valuestring, "");
  cJSON *tot = cJSON_GetObjectItem(doc, "totals");
  assert_true(num(tot, "workers") == 2);
  assert_true(num(tot, "threads") == 6);
  assert_true(num(tot, "busy") == 2);
  assert_true(num(tot, "busy_workers") == 1);
  assert_true(num(tot, "requests") == 1000 + 10 + 30);
  assert_true(num(tot, "errors_5xx") == 7 + 2 + 2);
  assert_true(num(tot, "kills") == 0 + 2 + 3);
  cJSON_Delete(doc);
  mem_io_free(&p.m);
  /* a retiring worker says so */
  owt_scoreboard_slot(&b, 2)->worker.retiring = 1;
  assert_int_equal(get(&p, "GET", "/_owt/status", &b), OWT_OK);
  doc = json_of(&p);
  w2 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "workers"), 1);
  assert_string_equal(cJSON_GetObjectItem(w2, "state")->valuestring, "retiring");
  cJSON_Delete(doc);
  mem_io_free(&p.m);
  owt_scoreboard_destroy(&b);
}

static void test_metrics(void **state) {
  (void)state;
  owt_scoreboard b;
  page p;
  assert_int_equal(owt_scoreboard_create(&b, 3, 2), 0);
  fill(&b, 0, 1, "/m", 2);
  fill(&b, 1, 0, "/", 1);
  owt_scoreboard_slot(&b, 2)->kills = 4; /* an empty slot whose worker was killed */
  assert_int_equal(get(&p, "GET", "/_owt/metrics", &b), OWT_OK);
  assert_true(starts(&p, "Status: 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  owt_str body = body_of(&p);
  static const char *const want[] = {
      "# TYPE owt_requests_total counter\n",
      "owt_requests_total{pid=\"1000\"} 10\n",
      "owt_requests_total{pid=\"1001\"} 20\n",
      "owt_errors_5xx_total{pid=\"1001\"} 2\n",
      "owt_response_bytes_total{pid=\"1000\"} 100\n",
      "owt_requests_in_flight{pid=\"1000\"} 1\n",
      "owt_requests_in_flight{pid=\"1001\"} 0\n",
      "owt_worker_threads{pid=\"1001\"} 2\n",
      "owt_worker_kills_total 5\n",
  };
  for (size_t i = 0; i < ARRAY_LEN(want); i++)
    if (!memmem(body.p, body.len, want[i], strlen(want[i]))) fail_msg("no line %s", want[i]);
  assert_null(memmem(body.p, body.len, "pid=\"1002\"", 10)); /* slot 2 is not live */
  mem_io_free(&p.m);
  owt_scoreboard_destroy(&b);
}

/* /_owt/status and /_owt/metrics size themselves to the board: 300 workers
 * of 64 threads, every thread busy on a path as long as a record holds. */
static void test_pages_scale_with_the_board(void **state) {
  (void)state;
  enum { WORKERS = 300, THREADS = 64 };
  owt_scoreboard b;
  page p;
  char path[400];
  memset(path, '\x01', sizeof path); /* the longest escaped form */
  path[0] = '/';
  assert_int_equal(owt_scoreboard_create(&b, WORKERS, THREADS), 0);
  for (size_t i = 0; i < WORKERS; i++) fill(&b, i, THREADS, path, sizeof path);
  assert_int_equal(get(&p, "GET", "/_owt/status", &b), OWT_OK);
  cJSON *doc = json_of(&p);
  cJSON *workers = cJSON_GetObjectItem(doc, "workers");
  assert_int_equal(cJSON_GetArraySize(workers), WORKERS);
  cJSON *last = cJSON_GetArrayItem(workers, WORKERS - 1);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(last, "inflight")), THREADS);
  assert_true(num(cJSON_GetObjectItem(doc, "totals"), "busy") == WORKERS * THREADS);
  cJSON_Delete(doc);
  mem_io_free(&p.m);
  assert_int_equal(get(&p, "GET", "/_owt/metrics", &b), OWT_OK);
  owt_str body = body_of(&p);
  assert_non_null(memmem(body.p, body.len, "owt_requests_in_flight{pid=\"1299\"} 64\n", 38));
  assert_non_null(memmem(body.p, body.len, "owt_worker_kills_total", 22));
  mem_io_free(&p.m);
  owt_scoreboard_destroy(&b);
}

static void test_other_answers(void **state) {
  (void)state;
  owt_scoreboard b;
  page p;
  assert_int_equal(owt_scoreboard_create(&b, 1, 1), 0);
  fill(&b, 0, 0, "/", 1);
  assert_int_equal(get(&p, "GET", "/_owt/health", &b), OWT_OK);
  assert_span_equal(owt_buf_str(&p.m.out), "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                           "X-Content-Type-Options: nosniff\r\nContent-Length: 2\r\n\r\nok");
  mem_io_free(&p.m);
  assert_int_equal(get(&p, "HEAD", "/_owt/health", &b), OWT_OK);
  mem_io_free(&p.m);
  assert_int_equal(get(&p, "GET", "/_owt/nope", &b), OWT_E_NOT_FOUND);
  assert_true(starts(&p, "Status: 404 Not Found\r\n"));
  assert_span_equal(body_of(&p), "no such page: /_owt/ has the dashboard (/_owt/), health, status, "
                                 "metrics, history and cache");
  mem_io_free(&p.m);
  assert_int_equal(get(&p, "POST", "/_owt/status", &b), OWT_E_METHOD);
  assert_true(starts(&p, "Status: 405 Method Not Allowed\r\n"));
  mem_io_free(&p.m);
  assert_int_equal(get(&p, "DELETE", "/_owt/nope", &b), OWT_E_METHOD);
  mem_io_free(&p.m);
  /* the client went away */
  memset(&p, 0, sizeof p);
  mem_io_bind(&p.io, &p.m, NULL, 0, NULL);
  p.m.write_fails = 1;
  assert_int_equal(owt_admin_handle(&p.io, OWT_STR_LIT("GET"), OWT_STR_LIT("/_owt/status"), &b, pyver), OWT_E_IO);
  assert_int_equal(owt_admin_handle(&p.io, OWT_STR_LIT("GET"), OWT_STR_LIT("/_owt/nope"), &b, pyver), OWT_E_IO);
  mem_io_free(&p.m);
  owt_scoreboard_destroy(&b);
}

static void test_cache_page_with_the_cache_off(void **state) {
  (void)state;
  owt_scoreboard b;
  owt_cache cache;
  char why[256];
  page p;
  assert_int_equal(owt_scoreboard_create(&b, 2, 1), 0);
  fill(&b, 0, 0, "/", 1);
  owt_scoreboard_slot(&b, 0)->worker.cache_hits = 3;
  b.retired->cache_hits = 4;
  b.retired->cache_misses = 5;
  assert_int_equal(owt_cache_open(&cache, NULL, 1 << 20, 0, why, sizeof why), OWT_OK);
  memset(&p, 0, sizeof p);
  mem_io_bind(&p.io, &p.m, NULL, 0, NULL);
  assert_int_equal(owt_admin_cache(&p.io, OWT_STR_LIT("GET"), OWT_STR_NULL, &cache, &b), OWT_OK);
  cJSON *doc = json_of(&p);
  assert_true(cJSON_IsFalse(cJSON_GetObjectItem(doc, "enabled")));
  assert_true(num(doc, "hits") == 7);
  assert_true(num(doc, "misses") == 5);
  cJSON_Delete(doc);
  mem_io_free(&p.m);
  mem_io_bind(&p.io, &p.m, NULL, 0, NULL);
  assert_int_equal(owt_admin_cache(&p.io, OWT_STR_LIT("DELETE"), OWT_STR_NULL, &cache, &b), OWT_E_CONFLICT);
  assert_true(starts(&p, "Status: 409 Conflict\r\n"));
  mem_io_free(&p.m);
  mem_io_bind(&p.io, &p.m, NULL, 0, NULL);
  assert_int_equal(owt_admin_cache(&p.io, OWT_STR_LIT("PUT"), OWT_STR_NULL, &cache, &b), OWT_E_METHOD);
  mem_io_free(&p.m);
  owt_cache_close(&cache);
  owt_scoreboard_destroy(&b);
}

static void test_reserved_paths(void **state) {
  (void)state;
  assert_true(owt_admin_is_reserved(OWT_STR_LIT("/_owt")));
  assert_true(owt_admin_is_reserved(OWT_STR_LIT("/_owt/")));
  assert_true(owt_admin_is_reserved(OWT_STR_LIT("/_owt/status")));
  assert_false(owt_admin_is_reserved(OWT_STR_LIT("/_owtx")));
  assert_false(owt_admin_is_reserved(OWT_STR_LIT("/_ow")));
  assert_false(owt_admin_is_reserved(OWT_STR_LIT("/x/_owt/status")));
  assert_true(owt_admin_is_public(OWT_STR_LIT("/_owt/health")));
  assert_false(owt_admin_is_public(OWT_STR_LIT("/_owt/health/")));
  assert_false(owt_admin_is_public(OWT_STR_LIT("/_owt/status")));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_is_json_whatever_the_path),
      cmocka_unit_test(test_metrics),
      cmocka_unit_test(test_pages_scale_with_the_board),
      cmocka_unit_test(test_other_answers),
      cmocka_unit_test(test_cache_page_with_the_cache_off),
      cmocka_unit_test(test_reserved_paths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
