/* test_oom.c - allocation failure injection.
 *
 * Linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free, so
 * every allocation libowt.a makes goes through the counters below (the
 * compiler turns malloc + memset 0 into calloc) (cJSON's go
 * through its hooks). Each scenario runs once per allocation it makes, with
 * that allocation refused: it must fail with OWT_E_NOMEM, leave no block
 * behind, and the run after the last allocation point must succeed.
 * Under ASan (the CI sanitizer build) the same runs are also checked for
 * reads of half-built state. */
#include <cjson/cJSON.h>

#include "owt_auth.h"
#include "owt_b64.h"
#include "owt_buf.h"
#include "owt_form.h"
#include "owt_invocation.h"
#include "owt_request.h"
#include "owt_response.h"
#include "unit.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

static long fail_at = -1;    /* index of the allocation to refuse; -1: none */
static long calls;           /* allocations since the scenario started */
static int refused;          /* the armed allocation was refused */
static int refused_in_cjson; /* ... and it was one of cJSON's */
static long live;            /* blocks handed out and not yet freed */

static int refuse_this(void) {
  if (fail_at < 0 || calls++ != fail_at) return 0;
  refused = 1;
  return 1;
}

void *__wrap_malloc(size_t n) {
  if (refuse_this()) return NULL;
  void *p = __real_malloc(n);
  if (p) live++;
  return p;
}

void *__wrap_calloc(size_t n, size_t size) {
  if (refuse_this()) return NULL;
  void *p = __real_calloc(n, size);
  if (p) live++;
  return p;
}

void *__wrap_realloc(void *p, size_t n) {
  if (refuse_this()) return NULL;
  void *q = __real_realloc(p, n);
  if (q && !p) live++;
  return q;
}

void __wrap_free(void *p) {
  if (p) live--;
  __real_free(p);
}

static void *cjson_malloc(size_t n) {
  long before = calls;
  void *p = __wrap_malloc(n);
  if (!p && refused && calls == before + 1) refused_in_cjson = 1;
  return p;
}

static void cjson_free(void *p) { __wrap_free(p); }

typedef owt_err (*scenario_fn)(void);

/* Run fn with each of its allocations refused in turn. cJSON reports a
 * refused allocation as a parse failure, so there a 400 (or, for the kwargs
 * classification, a fallback to "not JSON") is accepted too; the leak check
 * is the same. */
static void run_oom(const char *name, scenario_fn fn) {
  long before = live;
  fail_at = -1;
  assert_int_equal(fn(), OWT_OK);
  assert_int_equal(live, before);
  long n;
  for (n = 0;; n++) {
    fail_at = n;
    calls = 0;
    refused = refused_in_cjson = 0;
    owt_err err = fn();
    fail_at = -1;
    if (live != before)
      fail_msg("%s: allocation %ld refused: %ld blocks leaked", name, n, live - before);
    if (!refused) {
      if (err != OWT_OK) fail_msg("%s: err %d with nothing refused", name, err);
      break;
    }
    if (refused_in_cjson && (err == OWT_OK || err == OWT_E_BAD_REQUEST || err == OWT_E_NOMEM))
      continue;
    if (err != OWT_E_NOMEM)
      fail_msg("%s: allocation %ld refused: err %d, want OWT_E_NOMEM", name, n, err);
  }
  assert_true(n > 0);
  print_message("%s: %ld allocation points\n", name, n);
}

/* ---- scenarios ------------------------------------------------------------------ */

static owt_err buf_scenario(void) {
  owt_buf b = OWT_BUF_INIT(1 << 20);
  char chunk[1000];
  owt_err err = OWT_OK;
  memset(chunk, 'c', sizeof chunk);
  for (int i = 0; i < 100 && !err; i++) {
    size_t len = b.len;
    err = owt_buf_append(&b, chunk, sizeof chunk);
    if (err) {
      /* a refused append leaves the buffer as it was */
      assert_int_equal(b.len, len);
      if (b.data) assert_int_equal(b.data[len], '\0');
    }
  }
  if (!err) err = owt_buf_printf(&b, "%0*d", 200000, 1);
  if (!err) err = owt_buf_reserve(&b, 500000);
  owt_buf_free(&b);
  return err;
}

static owt_err b64_scenario(void) {
  unsigned char bytes[3000];
  owt_buf enc = OWT_BUF_INIT(1 << 20), dec = OWT_BUF_INIT(1 << 20);
  unit_fill_bytes(bytes, sizeof bytes, 5);
  owt_err err = owt_b64_encode(bytes, sizeof bytes, &enc);
  if (!err) err = owt_b64_decode(enc.data, enc.len, &dec);
  if (!err) assert_buf_bytes(&dec, bytes, sizeof bytes);
  owt_buf_free(&enc);
  owt_buf_free(&dec);
  return err;
}

static owt_err form_scenario(void) {
  owt_buf out = OWT_BUF_INIT(1 << 20);
  owt_err err = owt_url_decode("a%20b+c%41", 10, &out);
  for (int i = 0; i < 50 && !err; i++) err = owt_url_decode("0123456789%2B%2F", 16, &out);
  owt_buf_free(&out);
  return err;
}

static char body_json[] =
    "{\"code_b64\": \"ZGVmIHJ1bigpOgogICAgcmV0dXJuICJoaSIK\", \"fn_name\": \"run\", "
    "\"kwargs\": {\"name\": \"owt\", \"list\": [1, 2, {\"deep\": true}]}, "
    "\"use_cache\": true, \"cache_key_override\": \"/k\"}";
static char body_form[] =
    "code=def+run%28%29%3A+return+1&kwargs_b64=eyJhIjoxfQo%3D&fn_name=run&cache_kwargs=1";

/* A request through owt_request and owt_invocation, as the server runs it. */
static owt_err request_scenario(const char *query, const char *content_type, const char *body) {
  owt_limits limits = OWT_LIMITS_DEFAULT;
  owt_request r;
  owt_invocation inv;
  owt_io io;
  mem_io m;
  char qs[512], ct[128], cl[64];
  size_t len = body ? strlen(body) : 0;
  snprintf(qs, sizeof qs, "QUERY_STRING=%s", query);
  snprintf(ct, sizeof ct, "CONTENT_TYPE=%s", content_type);
  snprintf(cl, sizeof cl, "CONTENT_LENGTH=%zu", len);
  char *envp[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/b64/caf%C3%A9/x+y?q", qs, ct, cl, NULL};
  owt_request_init(&r, &limits);
  owt_invocation_init(&inv, &limits);
  mem_io_bind(&io, &m, body, len, envp);
  m.piece = 5;
  owt_err err = owt_request_read_params(&r, envp, &limits);
  if (!err) err = owt_request_read_body(&r, &io);
  if (!err) err = owt_invocation_parse(&inv, &r, &limits);
  if (!err) assert_true(inv.has_code);
  owt_invocation_free(&inv);
  owt_request_free(&r);
  mem_io_free(&m);
  return err;
}

static owt_err invocation_query_scenario(void) {
  return request_scenario(
      "code_b64=ZGVmIHJ1bigpOgogICAgcmV0dXJuICJoaSIK&kwargs_b64=eyduYW1lJzogJ293dCd9Cg%3D%3D"
      "&fn_name=run&use_cache=true&cache_key_override=%2Fk&x=1",
      "text/plain", NULL);
}

static owt_err invocation_json_scenario(void) {
  return request_scenario("fn_name=ignored", "application/json", body_json);
}

static owt_err invocation_form_scenario(void) {
  return request_scenario("kwargs=%7B%7D", "application/x-www-form-urlencoded", body_form);
}

static owt_err auth_scenario(void) {
  owt_auth a = {0};
  owt_buf user = OWT_BUF_INIT(OWT_AUTH_USER_MAX);
  const char *why = NULL;
  owt_err err = owt_auth_add_list(
      &a,
      OWT_STR_LIT("alice:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b,"
                  "bob:f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7,"
                  "carol:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b,"
                  "dan:$2b$05$GjNAyPnir8Pbf0m8oGO7YOYfI2Ec9XnG7zIdfFmL4ncap2c7CJRz2"), /* pw */
      &why);
  if (!err) err = owt_auth_check(&a, OWT_STR_LIT("Basic Ym9iOmh1bnRlcjI="), &user);
  if (!err) assert_span_equal(owt_buf_str(&user), "bob");
  owt_buf_reset(&user);
  if (!err) err = owt_auth_check(&a, OWT_STR_LIT("Basic ZGFuOnB3"), &user); /* dan:pw, a slow hash */
  if (!err) assert_span_equal(owt_buf_str(&user), "dan");
  owt_buf_free(&user);
  owt_auth_free(&a);
  return err;
}

static owt_err response_scenario(void) {
  owt_buf head = OWT_BUF_INIT(1 << 16);
  owt_header h[] = {
      {OWT_STR_LIT("Content-Type"), OWT_STR_LIT("text/event-stream")},
      {OWT_STR_LIT("X-Long"), OWT_STR_LIT("0123456789012345678901234567890123456789"
                                          "0123456789012345678901234567890123456789")}};
  owt_err err = owt_response_head(&head, 200, h, 2, 12345, NULL);
  owt_buf_free(&head);
  return err;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_buf(void **state) {
  (void)state;
  run_oom("owt_buf", buf_scenario);
}

static void test_b64(void **state) {
  (void)state;
  run_oom("owt_b64", b64_scenario);
}

static void test_form(void **state) {
  (void)state;
  run_oom("owt_url_decode", form_scenario);
}

static void test_invocation_query(void **state) {
  (void)state;
  run_oom("owt_invocation (query)", invocation_query_scenario);
}

static void test_invocation_json(void **state) {
  (void)state;
  run_oom("owt_invocation (JSON body)", invocation_json_scenario);
}

static void test_invocation_form(void **state) {
  (void)state;
  run_oom("owt_invocation (form body)", invocation_form_scenario);
}

static void test_auth(void **state) {
  (void)state;
  run_oom("owt_auth", auth_scenario);
}

static void test_response(void **state) {
  (void)state;
  run_oom("owt_response_head", response_scenario);
}

/* The wrapper itself: a refused allocation is reported and counted. */
static void test_wrapper(void **state) {
  (void)state;
  long before = live;
  fail_at = 0;
  calls = 0;
  refused = 0;
  void *p = malloc(16);
  /* the compiler may assume malloc() leaves our globals alone: keep the
   * disarming store after the call */
  __asm__ __volatile__("" : : "g"(p) : "memory");
  fail_at = -1;
  assert_null(p);
  assert_true(refused);
  p = malloc(16);
  assert_non_null(p);
  assert_int_equal(live, before + 1);
  p = realloc(p, 4096);
  assert_non_null(p);
  assert_int_equal(live, before + 1);
  free(p);
  assert_int_equal(live, before);
}

int main(void) {
  cJSON_Hooks hooks = {cjson_malloc, cjson_free};
  cJSON_InitHooks(&hooks);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wrapper),
      cmocka_unit_test(test_buf),
      cmocka_unit_test(test_b64),
      cmocka_unit_test(test_form),
      cmocka_unit_test(test_invocation_query),
      cmocka_unit_test(test_invocation_json),
      cmocka_unit_test(test_invocation_form),
      cmocka_unit_test(test_auth),
      cmocka_unit_test(test_response),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
