/* test_request.c - owt_request: params indexing, the path, CONTENT_LENGTH, the body. */
#include "owt_request.h"
#include "unit.h"

static owt_limits limits(void) {
  owt_limits l = OWT_LIMITS_DEFAULT;
  return l;
}

/* ---- params --------------------------------------------------------------------- */

static void test_params_indexed(void **state) {
  (void)state;
  char *envp[] = {"GATEWAY_INTERFACE=CGI/1.1",
                  "REQUEST_METHOD=POST",
                  "QUERY_STRING=a=1&b=2",
                  "CONTENT_TYPE=application/json",
                  "CONTENT_LENGTH=17",
                  "PATH_INFO=/hello",
                  "REQUEST_URI=/hello?a=1&b=2",
                  "HTTP_AUTHORIZATION=Basic YTpi",
                  "REMOTE_ADDR=127.0.0.1",
                  "HTTP_HOST=example.org:8080",
                  "NO_EQUALS_SIGN",
                  "EMPTY=",
                  NULL};
  owt_limits l = limits();
  owt_request r;
  owt_request_init(&r, &l);
  assert_int_equal(owt_request_read_params(&r, envp, &l), OWT_OK);
  assert_ptr_equal(r.envp, envp);
  assert_int_equal(r.nparams, 12);
  assert_span_equal(r.method, "POST");
  assert_span_equal(r.query, "a=1&b=2");
  assert_span_equal(r.content_type, "application/json");
  assert_span_equal(r.content_length, "17");
  assert_span_equal(r.path_info, "/hello");
  assert_span_equal(r.request_uri, "/hello?a=1&b=2");
  assert_span_equal(r.authorization, "Basic YTpi");
  assert_span_equal(r.remote_addr, "127.0.0.1");
  assert_span_equal(owt_buf_str(&r.path), "/hello");

  assert_span_equal(owt_request_param(&r, "HTTP_HOST"), "example.org:8080");
  assert_span_equal(owt_request_param(&r, "GATEWAY_INTERFACE"), "CGI/1.1");
  assert_span_equal(owt_request_param(&r, "EMPTY"), "");
  assert_non_null(owt_request_param(&r, "EMPTY").p);
  assert_null(owt_request_param(&r, "HTTP_HOS").p); /* a prefix is not a name */
  assert_null(owt_request_param(&r, "HTTP_HOST_X").p);
  assert_null(owt_request_param(&r, "NO_EQUALS_SIGN").p);
  assert_null(owt_request_param(&r, "MISSING").p);
  owt_request_free(&r);
}

static void test_params_minimal(void **state) {
  (void)state;
  char *envp[] = {NULL};
  owt_limits l = limits();
  owt_request r;
  owt_request_init(&r, &l);
  assert_int_equal(owt_request_read_params(&r, envp, &l), OWT_OK);
  assert_int_equal(r.nparams, 0);
  /* no REQUEST_METHOD (a CGI run by hand): treated as GET */
  assert_span_equal(r.method, "GET");
  assert_int_equal(r.query.len, 0);
  assert_null(r.authorization.p);
  assert_span_equal(owt_buf_str(&r.path), "/");
  owt_request_free(&r);

  owt_request_init(&r, &l);
  assert_int_equal(owt_request_read_params(&r, NULL, &l), OWT_OK);
  assert_span_equal(owt_buf_str(&r.path), "/");
  owt_request_free(&r);
}

static void test_params_duplicates_last_wins(void **state) {
  (void)state;
  char *envp[] = {"QUERY_STRING=first", "QUERY_STRING=second", NULL};
  owt_limits l = limits();
  owt_request r;
  owt_request_init(&r, &l);
  assert_int_equal(owt_request_read_params(&r, envp, &l), OWT_OK);
  assert_span_equal(r.query, "second");
  owt_request_free(&r);
}

static void test_params_names_exact(void **state) {
  (void)state;
  char *envp[] = {"QUERY_STRINGX=no", "XQUERY_STRING=no", "query_string=no", "QUERY_STRIN=no",
                  "REMOTE_ADDRESS=no", "REQUEST_METHO=no", "REQUEST_URI_=no", "CONTENT_TYPES=no",
                  "CONTENT_LENGTH", "HTTP_AUTHORIZATIO=no", "PATH_INF=no", "", "R", "C=", NULL};
  owt_limits l = limits();
  owt_request r;
  owt_request_init(&r, &l);
  assert_int_equal(owt_request_read_params(&r, envp, &l), OWT_OK);
  assert_null(r.query.p);
  assert_null(r.remote_addr.p);
  assert_null(r.request_uri.p);
  assert_null(r.content_type.p);
  assert_null(r.content_length.p);
  assert_null(r.authorization.p);
  assert_null(r.path_info.p);
  assert_span_equal(r.method, "GET"); /* not given: the default */
  owt_request_free(&r);
}

static void test_params_max(void **state) {
  (void)state;
  char *envp[] = {"REQUEST_METHOD=GET", "A=1", NULL}; /* 18 + 3 bytes */
  owt_limits l = limits();
  owt_request r;
  l.max_params = 21;
  owt_request_init(&r, &l);
  assert_int_equal(owt_request_read_params(&r, envp, &l), OWT_OK);
  owt_request_reset(&r);
  l.max_params = 20;
  assert_int_equal(owt_request_read_params(&r, envp, &l), OWT_E_TOO_LARGE);
  owt_request_reset(&r);
  l.max_params = 18;
  assert_int_equal(owt_request_read_params(&r, envp, &l), OWT_E_TOO_LARGE);
  owt_request_reset(&r);
  l.max_params = 17;
  assert_int_equal(owt_request_read_params(&r, envp, &l), OWT_E_TOO_LARGE);
  owt_request_reset(&r);
  l.max_params = 0;
  assert_int_equal(owt_request_read_params(&r, envp, &l), OWT_E_TOO_LARGE);
  owt_request_free(&r);

  /* one huge param */
  size_t n = 300 << 10;
  char *big = malloc(n + 1);
  assert_non_null(big);
  memcpy(big, "HTTP_X=", 7);
  memset(big + 7, 'x', n - 7);
  big[n] = '\0';
  char *env2[] = {"REQUEST_METHOD=GET", big, NULL};
  l = limits();
  owt_request_init(&r, &l);
  assert_int_equal(owt_request_read_params(&r, env2, &l), OWT_E_TOO_LARGE);
  owt_request_free(&r);
  free(big);
}

/* The GET limit: a query string of max_query bytes passes, one byte more is
 * a 414 whose message says to POST and gives both numbers. */
static void test_query_limit(void **state) {
  (void)state;
  char at[64], over[64];
  snprintf(at, sizeof at, "QUERY_STRING=%s", "code=abcdefghij"); /* 15 bytes */
  snprintf(over, sizeof over, "QUERY_STRING=%s", "code=abcdefghijk");
  char *ok_env[] = {"REQUEST_METHOD=GET", at, NULL};
  char *bad_env[] = {"REQUEST_METHOD=GET", over, NULL};
  owt_limits l = limits();
  owt_request r;
  l.max_query = 15;
  owt_request_init(&r, &l);
  assert_int_equal(owt_request_read_params(&r, ok_env, &l), OWT_OK);
  assert_null(r.error);
  owt_request_reset(&r);
  assert_int_equal(owt_request_read_params(&r, bad_env, &l), OWT_E_URI_TOO_LONG);
  assert_int_equal(owt_err_status(OWT_E_URI_TOO_LONG), 414);
  assert_non_null(r.error);
  assert_non_null(strstr(r.error, "query string is 16 bytes"));
  assert_non_null(strstr(r.error, "GET limit of 15 bytes"));
  assert_non_null(strstr(r.error, "POST body"));
  owt_request_reset(&r);
  assert_null(r.error); /* a reset forgets it */
  assert_int_equal(owt_request_read_params(&r, ok_env, &l), OWT_OK);
  owt_request_free(&r);
  assert_int_equal(OWT_LIMITS_DEFAULT.max_query, 28u << 10);
}

/* ---- the path ------------------------------------------------------------------- */

static void test_path_derivation(void **state) {
  (void)state;
  static const struct {
    const char *path_info, *request_uri, *path;
  } p[] = {
      {"/hello", NULL, "/hello"},
      {"hello", NULL, "/hello"},
      {"/a%20b", NULL, "/a%20b"}, /* PATH_INFO was decoded by the web server */
      {"/a+b", NULL, "/a+b"},
      {"/b64/x/y", "/other?q", "/b64/x/y"}, /* PATH_INFO wins */
      {NULL, "/hello", "/hello"},
      {NULL, "/hello?a=1&b=2", "/hello"},
      {NULL, "/a%20b?x=%20", "/a b"},
      {NULL, "/a+b", "/a+b"}, /* '+' is a literal plus in a path */
      {NULL, "/a%2Bb", "/a+b"},
      {NULL, "/x+%41+", "/x+A+"},
      {NULL, "/++", "/++"},
      {NULL, "+", "/+"},
      {NULL, "/%zz", "/%zz"},
      {NULL, "/a%", "/a%"},
      {NULL, "/a%4", "/a%4"},
      {NULL, "/%+41", "/%+41"},
      {NULL, "/caf%C3%A9", "/caf\xc3\xa9"},
      {NULL, "/file.wav", "/file.wav"},
      {NULL, "?q=1", "/"},
      {NULL, "", "/"},
      {NULL, "abc", "/abc"},
      {"", "/from-uri", "/from-uri"},
      {NULL, NULL, "/"},
  };
  owt_limits l = limits();
  for (size_t i = 0; i < ARRAY_LEN(p); i++) {
    char pi[256], ru[256];
    char *envp[3] = {NULL, NULL, NULL};
    size_t n = 0;
    if (p[i].path_info) {
      snprintf(pi, sizeof pi, "PATH_INFO=%s", p[i].path_info);
      envp[n++] = pi;
    }
    if (p[i].request_uri) {
      snprintf(ru, sizeof ru, "REQUEST_URI=%s", p[i].request_uri);
      envp[n++] = ru;
    }
    owt_request r;
    owt_request_init(&r, &l);
    assert_int_equal(owt_request_read_params(&r, envp, &l), OWT_OK);
    if (!owt_str_eq(owt_buf_str(&r.path), owt_str_of(p[i].path)))
      fail_msg("case %zu: path \"%s\", want \"%s\"", i, r.path.data, p[i].path);
    owt_request_free(&r);
  }
}

static void test_path_reset_between_requests(void **state) {
  (void)state;
  char *one[] = {"PATH_INFO=/one", NULL};
  char *two[] = {"REQUEST_URI=/two?x", NULL};
  owt_limits l = limits();
  owt_request r;
  owt_request_init(&r, &l);
  assert_int_equal(owt_request_read_params(&r, one, &l), OWT_OK);
  assert_span_equal(owt_buf_str(&r.path), "/one");
  owt_request_reset(&r);
  assert_int_equal(owt_request_read_params(&r, two, &l), OWT_OK);
  assert_span_equal(owt_buf_str(&r.path), "/two");
  assert_null(r.path_info.p);
  owt_request_free(&r);
}

/* ---- CONTENT_LENGTH ------------------------------------------------------------- */

static void test_content_length(void **state) {
  (void)state;
  static const struct {
    const char *value; /* NULL: absent */
    owt_err err;
    size_t n;
  } c[] = {
      {NULL, OWT_OK, 0},
      {"", OWT_OK, 0},
      {"   ", OWT_OK, 0},
      {"0", OWT_OK, 0},
      {"17", OWT_OK, 17},
      {" 17 ", OWT_OK, 17},
      {"007", OWT_OK, 7},
      {"16777216", OWT_OK, 16777216},
      {"18446744073709551615", OWT_OK, SIZE_MAX},
      {"00000000000000000000005", OWT_OK, 5},
      {"12a", OWT_E_BAD_REQUEST, 0},
      {"a12", OWT_E_BAD_REQUEST, 0},
      {"-1", OWT_E_BAD_REQUEST, 0},
      {"+1", OWT_E_BAD_REQUEST, 0},
      {"0x10", OWT_E_BAD_REQUEST, 0},
      {"1.5", OWT_E_BAD_REQUEST, 0},
      {"1e3", OWT_E_BAD_REQUEST, 0},
      {"1 2", OWT_E_BAD_REQUEST, 0},
      {"twelve", OWT_E_BAD_REQUEST, 0},
      {"this is not a number at all, and it is long", OWT_E_BAD_REQUEST, 0},
      {"18446744073709551616", OWT_E_TOO_LARGE, 0},
      {"99999999999999999999", OWT_E_TOO_LARGE, 0},
      {"999999999999999999999999999999", OWT_E_TOO_LARGE, 0},
  };
  owt_limits l = limits();
  for (size_t i = 0; i < ARRAY_LEN(c); i++) {
    char cl[128];
    char *envp[] = {cl, NULL};
    if (c[i].value)
      snprintf(cl, sizeof cl, "CONTENT_LENGTH=%s", c[i].value);
    else
      snprintf(cl, sizeof cl, "SERVER_NAME=x");
    owt_request r;
    owt_request_init(&r, &l);
    assert_int_equal(owt_request_read_params(&r, envp, &l), OWT_OK);
    size_t n = 12345;
    owt_err err = owt_request_content_length(&r, &n);
    if (err != c[i].err) fail_msg("\"%s\": err %d, want %d", c[i].value, err, c[i].err);
    if (err == OWT_OK && n != c[i].n) fail_msg("\"%s\": %zu, want %zu", c[i].value, n, c[i].n);
    owt_request_free(&r);
  }
}

/* ---- the body ------------------------------------------------------------------- */

typedef struct {
  owt_limits limits;
  owt_request req;
  owt_io io;
  mem_io mem;
  char cl[64];
  char *envp[3];
} body_fixture;

/* Read body[0..len) with CONTENT_LENGTH cl (NULL: absent) in pieces of piece bytes. */
static owt_err read_body(body_fixture *f, const char *cl, const char *body, size_t len,
                         size_t piece, size_t max_body) {
  f->limits = limits();
  f->limits.max_body = max_body;
  size_t n = 0;
  f->envp[n++] = "REQUEST_METHOD=POST";
  if (cl) {
    snprintf(f->cl, sizeof f->cl, "CONTENT_LENGTH=%s", cl);
    f->envp[n++] = f->cl;
  }
  f->envp[n] = NULL;
  owt_request_init(&f->req, &f->limits);
  mem_io_bind(&f->io, &f->mem, body, len, f->envp);
  f->mem.piece = piece;
  owt_err err = owt_request_read_params(&f->req, f->envp, &f->limits);
  assert_int_equal(err, OWT_OK);
  return owt_request_read_body(&f->req, &f->io);
}

static void body_free(body_fixture *f) {
  owt_request_free(&f->req);
  mem_io_free(&f->mem);
}

static void test_body_exact(void **state) {
  (void)state;
  static const size_t pieces[] = {0, 1, 2, 3, 7, 64};
  for (size_t i = 0; i < ARRAY_LEN(pieces); i++) {
    body_fixture f;
    assert_int_equal(read_body(&f, "11", "hello world", 11, pieces[i], 1024), OWT_OK);
    assert_span_equal(owt_buf_str(&f.req.body), "hello world");
    assert_int_equal(f.req.body.data[11], '\0');
    assert_true(f.req.body_complete);
    body_free(&f);
  }
}

static void test_body_none(void **state) {
  (void)state;
  body_fixture f;
  assert_int_equal(read_body(&f, NULL, "", 0, 0, 1024), OWT_OK);
  assert_int_equal(f.req.body.len, 0);
  assert_true(f.req.body_complete);
  body_free(&f);
  assert_int_equal(read_body(&f, "0", "", 0, 0, 1024), OWT_OK);
  assert_int_equal(f.req.body.len, 0);
  body_free(&f);
}

/* The web server frames the body: without CONTENT_LENGTH, or with a smaller
 * one, everything up to the end of the stream is read (within the cap). */
static void test_body_framed_by_stream(void **state) {
  (void)state;
  body_fixture f;
  assert_int_equal(read_body(&f, NULL, "abc", 3, 1, 1024), OWT_OK);
  assert_span_equal(owt_buf_str(&f.req.body), "abc");
  body_free(&f);
  assert_int_equal(read_body(&f, "2", "abcdef", 6, 0, 1024), OWT_OK);
  assert_span_equal(owt_buf_str(&f.req.body), "abcdef");
  body_free(&f);
}

static void test_body_binary(void **state) {
  (void)state;
  unsigned char bytes[5000];
  unit_fill_bytes(bytes, sizeof bytes, 3);
  body_fixture f;
  assert_int_equal(read_body(&f, "5000", (const char *)bytes, sizeof bytes, 333, 1 << 20), OWT_OK);
  assert_buf_bytes(&f.req.body, bytes, sizeof bytes);
  body_free(&f);
}

static void test_body_short(void **state) {
  (void)state;
  static const size_t pieces[] = {0, 1, 4};
  for (size_t i = 0; i < ARRAY_LEN(pieces); i++) {
    body_fixture f;
    assert_int_equal(read_body(&f, "20", "only ten b", 10, pieces[i], 1024), OWT_E_BAD_REQUEST);
    assert_int_equal(f.req.body.len, 10);
    body_free(&f);
  }
}

static void test_body_content_length_over_cap(void **state) {
  (void)state;
  body_fixture f;
  /* refused before a byte is read */
  assert_int_equal(read_body(&f, "11", "hello world", 11, 0, 10), OWT_E_TOO_LARGE);
  assert_int_equal(f.mem.in_pos, 0);
  assert_int_equal(f.mem.reads, 0);
  body_free(&f);
  assert_int_equal(read_body(&f, "18446744073709551615", "x", 1, 0, 10), OWT_E_TOO_LARGE);
  assert_int_equal(f.mem.reads, 0);
  body_free(&f);
  assert_int_equal(read_body(&f, "99999999999999999999999", "x", 1, 0, 10), OWT_E_TOO_LARGE);
  assert_int_equal(f.mem.reads, 0);
  body_free(&f);
}

static void test_body_over_cap_while_reading(void **state) {
  (void)state;
  static const size_t pieces[] = {0, 1, 3};
  for (size_t i = 0; i < ARRAY_LEN(pieces); i++) {
    body_fixture f;
    /* CONTENT_LENGTH lies (or is absent): the cap still holds */
    assert_int_equal(read_body(&f, "5", "hello world", 11, pieces[i], 10), OWT_E_TOO_LARGE);
    assert_true(f.req.body.len <= 10);
    body_free(&f);
    assert_int_equal(read_body(&f, NULL, "hello world", 11, pieces[i], 10), OWT_E_TOO_LARGE);
    body_free(&f);
  }
}

static void test_body_at_cap(void **state) {
  (void)state;
  body_fixture f;
  assert_int_equal(read_body(&f, "10", "0123456789", 10, 0, 10), OWT_OK);
  assert_span_equal(owt_buf_str(&f.req.body), "0123456789");
  body_free(&f);
  assert_int_equal(read_body(&f, NULL, "0123456789", 10, 3, 10), OWT_OK);
  assert_span_equal(owt_buf_str(&f.req.body), "0123456789");
  body_free(&f);
  assert_int_equal(read_body(&f, NULL, "", 0, 0, 0), OWT_OK);
  body_free(&f);
  assert_int_equal(read_body(&f, NULL, "x", 1, 0, 0), OWT_E_TOO_LARGE);
  body_free(&f);
}

static void test_body_bad_content_length(void **state) {
  (void)state;
  body_fixture f;
  static const char *const malformed[] = {"ten", "-5", "12abc", "0x10", "1e3", "+5", "1 2", "\xc2\xb9"};
  for (size_t i = 0; i < ARRAY_LEN(malformed); i++) {
    assert_int_equal(read_body(&f, malformed[i], "0123456789", 10, 0, 100), OWT_E_BAD_REQUEST);
    assert_int_equal(f.mem.reads, 0);
    /* the client is told what was wrong: the header, not the body */
    assert_non_null(f.req.error);
    if (!strstr(f.req.error, "CONTENT_LENGTH is not a decimal number"))
      fail_msg("\"%s\": %s", malformed[i], f.req.error);
    body_free(&f);
  }
  assert_int_equal(read_body(&f, "99999999999999999999999", "0123456789", 10, 0, 100), OWT_E_TOO_LARGE);
  assert_non_null(strstr(f.req.error, "CONTENT_LENGTH is over the --max-body limit"));
  body_free(&f);
  assert_int_equal(read_body(&f, "200", "0123456789", 10, 0, 100), OWT_E_TOO_LARGE);
  assert_string_equal(f.req.error, "the body is over the --max-body limit");
  body_free(&f);
  assert_int_equal(read_body(&f, "11", "0123456789", 10, 0, 100), OWT_E_BAD_REQUEST);
  assert_string_equal(f.req.error, "the body is shorter than CONTENT_LENGTH");
  body_free(&f);
  assert_int_equal(read_body(&f, "10", "0123456789", 10, 0, 100), OWT_OK);
  assert_null(f.req.error);
  body_free(&f);
}

static void test_body_read_error(void **state) {
  (void)state;
  static const size_t fail_at[] = {0, 4, 8};
  for (size_t i = 0; i < ARRAY_LEN(fail_at); i++) {
    owt_limits l = limits();
    owt_request r;
    owt_io io;
    mem_io m;
    char *envp[] = {"CONTENT_LENGTH=10", NULL};
    owt_request_init(&r, &l);
    mem_io_bind(&io, &m, "0123456789", 10, envp);
    m.piece = 4;
    m.fail_at = fail_at[i];
    assert_int_equal(owt_request_read_params(&r, envp, &l), OWT_OK);
    assert_int_equal(owt_request_read_body(&r, &io), OWT_E_IO);
    assert_false(r.body_complete);
    owt_request_free(&r);
    mem_io_free(&m);
  }
}

static void test_reset_keeps_small_bodies(void **state) {
  (void)state;
  body_fixture f;
  assert_int_equal(read_body(&f, "5", "hello", 5, 0, 1 << 22), OWT_OK);
  char *p = f.req.body.data;
  size_t max = f.req.body.max;
  owt_request_reset(&f.req);
  assert_int_equal(f.req.body.len, 0);
  assert_ptr_equal(f.req.body.data, p);
  assert_int_equal(f.req.body.max, max);
  assert_int_equal(f.req.nparams, 0);
  assert_null(f.req.method.p);
  assert_false(f.req.body_complete);
  body_free(&f);

  /* a body over 1 MiB is released after its request */
  size_t n = (1 << 20) + 100;
  char *big = calloc(1, n);
  assert_non_null(big);
  char cl[32];
  snprintf(cl, sizeof cl, "%zu", n);
  assert_int_equal(read_body(&f, cl, big, n, 0, 1 << 22), OWT_OK);
  assert_int_equal(f.req.body.len, n);
  owt_request_reset(&f.req);
  assert_null(f.req.body.data);
  assert_int_equal(f.req.body.max, 1 << 22);
  body_free(&f);
  free(big);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_params_indexed),
      cmocka_unit_test(test_params_minimal),
      cmocka_unit_test(test_params_duplicates_last_wins),
      cmocka_unit_test(test_params_names_exact),
      cmocka_unit_test(test_params_max),
      cmocka_unit_test(test_query_limit),
      cmocka_unit_test(test_path_derivation),
      cmocka_unit_test(test_path_reset_between_requests),
      cmocka_unit_test(test_content_length),
      cmocka_unit_test(test_body_exact),
      cmocka_unit_test(test_body_none),
      cmocka_unit_test(test_body_framed_by_stream),
      cmocka_unit_test(test_body_binary),
      cmocka_unit_test(test_body_short),
      cmocka_unit_test(test_body_content_length_over_cap),
      cmocka_unit_test(test_body_over_cap_while_reading),
      cmocka_unit_test(test_body_at_cap),
      cmocka_unit_test(test_body_bad_content_length),
      cmocka_unit_test(test_body_read_error),
      cmocka_unit_test(test_reset_keeps_small_bodies),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
