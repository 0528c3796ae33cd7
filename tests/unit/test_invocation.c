/* test_invocation.c - owt_invocation: PROTOCOL §2 fields from the query
 * string, a JSON body and a form body, decoded and checked in C.
 *
 * Requests are built by hand (an environment array and a body read through
 * an owt_io over memory) and go through owt_request_read_params/read_body
 * first, as in the server. */
#include "owt_invocation.h"
#include "unit.h"

/* 'def run():\n    return "hi"\n' */
#define CODE1 "def run():\n    return \"hi\"\n"
#define CODE1_B64 "ZGVmIHJ1bigpOgogICAgcmV0dXJuICJoaSIK"
/* base64 with '+' and '/' in it */
#define CODE2 "run = lambda: \"\xc3\xa9t\xc3\xa9 >>> ???\"\n"
#define CODE2_B64 "cnVuID0gbGFtYmRhOiAiw6l0w6kgPj4+ID8/PyIK"
/* base64 that needs padding */
#define CODE3 "x = \"?\?>\"\nrun = lambda: x\n"
#define CODE3_B64 "eCA9ICI/Pz4iCnJ1biA9IGxhbWJkYTogeAo="

typedef struct {
  owt_limits limits;
  owt_request req;
  owt_invocation inv;
  owt_io io;
  mem_io mem;
  owt_buf env[4];
  char *envp[5];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  f->limits = OWT_LIMITS_DEFAULT;
  owt_request_init(&f->req, &f->limits);
  owt_invocation_init(&f->inv, &f->limits);
  for (size_t i = 0; i < ARRAY_LEN(f->env); i++) owt_buf_init(&f->env[i], 1u << 24);
  mem_io_bind(&f->io, &f->mem, NULL, 0, NULL);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  owt_request_free(&f->req);
  owt_invocation_free(&f->inv);
  for (size_t i = 0; i < ARRAY_LEN(f->env); i++) owt_buf_free(&f->env[i]);
  mem_io_free(&f->mem);
  free(f);
  return 0;
}

/* New limits: the buffers' caps come from them. */
static void set_limits(fixture *f, owt_limits limits) {
  owt_request_free(&f->req);
  owt_invocation_free(&f->inv);
  f->limits = limits;
  owt_request_init(&f->req, &f->limits);
  owt_invocation_init(&f->inv, &f->limits);
}

static void add_env(fixture *f, size_t *n, const char *name, const char *value) {
  owt_buf *b = &f->env[*n];
  owt_buf_reset(b);
  assert_int_equal(owt_buf_printf(b, "%s=%s", name, value), OWT_OK);
  f->envp[(*n)++] = b->data;
}

/* Parse a request: query (NULL: no QUERY_STRING), then body[0..len) with
 * content_type (body NULL: a GET without one). */
static owt_err parse_n(fixture *f, const char *query, const char *content_type, const char *body,
                       size_t len) {
  size_t n = 0;
  char cl[32];
  owt_request_reset(&f->req);
  add_env(f, &n, "REQUEST_METHOD", body ? "POST" : "GET");
  if (query) add_env(f, &n, "QUERY_STRING", query);
  if (content_type) add_env(f, &n, "CONTENT_TYPE", content_type);
  if (body) {
    snprintf(cl, sizeof cl, "%zu", len);
    add_env(f, &n, "CONTENT_LENGTH", cl);
  }
  f->envp[n] = NULL;
  mem_io_free(&f->mem);
  mem_io_bind(&f->io, &f->mem, body, len, f->envp);
  f->mem.piece = 7; /* a body arrives in pieces */
  assert_int_equal(owt_request_read_params(&f->req, f->envp, &f->limits), OWT_OK);
  assert_int_equal(owt_request_read_body(&f->req, &f->io), OWT_OK);
  return owt_invocation_parse(&f->inv, &f->req, &f->limits);
}

static owt_err parse(fixture *f, const char *query, const char *content_type, const char *body) {
  return parse_n(f, query, content_type, body, body ? strlen(body) : 0);
}

#define JSON "application/json"
#define FORM "application/x-www-form-urlencoded"

/* call returned want, and the message for the client mentions part. */
#define assert_parse_fails(f, call, want, part)                                                    \
  do {                                                                                             \
    owt_err got_ = (call);                                                                         \
    if (got_ != (want)) fail_msg("%s: err %d, want %d (%s)", #call, got_, (want), (f)->inv.error); \
    assert_non_null((f)->inv.error);                                                               \
    if (!strstr((f)->inv.error, (part)))                                                           \
      fail_msg("%s: message \"%s\" lacks \"%s\"", #call, (f)->inv.error, (part));                  \
  } while (0)

/* ---- where fields come from ----------------------------------------------------- */

static void test_code_b64_from_query(void **state) {
  fixture *f = *state;
  assert_int_equal(parse(f, "code_b64=" CODE1_B64, NULL, NULL), OWT_OK);
  assert_true(f->inv.has_code);
  assert_false(f->inv.has_adaptor);
  assert_span_equal(owt_buf_str(&f->inv.code), CODE1);
  assert_span_equal(owt_buf_str(&f->inv.fn_name), "run");
  assert_int_equal(f->inv.kwargs.len, 0);
  assert_int_equal(f->inv.kwargs_raw.len, 0);
  assert_int_equal(f->inv.kwargs_kind, OWT_KWARGS_EMPTY);
  assert_int_equal(f->inv.adaptor.len, 0);
  assert_false(f->inv.use_cache);
  assert_false(f->inv.cache_kwargs);
  assert_false(f->inv.has_cache_key);
  assert_null(f->inv.error);
}

/* Every way the seed's clients put base64 in a query string. */
static void test_code_b64_variants(void **state) {
  fixture *f = *state;
  static const struct {
    const char *query, *code;
  } v[] = {
      {"code_b64=" CODE2_B64, CODE2},                                   /* '+' arrives as ' ' */
      {"code_b64=cnVuID0gbGFtYmRhOiAiw6l0w6kgPj4%2BID8%2FPyIK", CODE2}, /* escaped properly */
      {"code_b64=cnVuID0gbGFtYmRhOiAiw6l0w6kgPj4-ID8_PyIK", CODE2},     /* URL-safe */
      {"code_b64=cnVuID0gbGFtYmRhOiAi%0Aw6l0w6kgPj4%2BID8%2FPyIK%0A", CODE2}, /* wrapped */
      {"code_b64=cnVuID0gbGFtYmRhOiAi%0D%0Aw6l0w6kgPj4-ID8_PyIK%0D%0A", CODE2},
      {"code_b64=" CODE3_B64, CODE3},
      {"code_b64=eCA9ICI/Pz4iCnJ1biA9IGxhbWJkYTogeAo%3D", CODE3},
      {"code_b64=eCA9ICI/Pz4iCnJ1biA9IGxhbWJkYTogeAo", CODE3}, /* padding dropped */
      {"code_b64=eCA9ICI_Pz4iCnJ1biA9IGxhbWJkYTogeAo", CODE3},
      {"%63ode%5Fb64=" CODE1_B64, CODE1}, /* an encoded field name */
      {"x=1&code_b64=" CODE1_B64 "&y=2", CODE1},
      {"code_b64=AAAA&code_b64=" CODE1_B64, CODE1}, /* the last one wins */
  };
  for (size_t i = 0; i < ARRAY_LEN(v); i++) {
    owt_err err = parse(f, v[i].query, NULL, NULL);
    if (err != OWT_OK) fail_msg("%s: err %d (%s)", v[i].query, err, f->inv.error);
    assert_span_equal(owt_buf_str(&f->inv.code), v[i].code);
  }
}

static void test_code_plain(void **state) {
  fixture *f = *state;
  assert_int_equal(parse(f, "code=pipe().path().last()", NULL, NULL), OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), "pipe().path().last()");
  assert_int_equal(parse(f, "code=kwarg(%22x%22)+%2B+1", NULL, NULL), OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), "kwarg(\"x\") + 1");
  /* code_b64 wins over code */
  assert_int_equal(parse(f, "code=nope&code_b64=" CODE1_B64, NULL, NULL), OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), CODE1);
}

static void test_fields_from_json_body(void **state) {
  fixture *f = *state;
  static const char body[] = "{\"code_b64\": \"" CODE1_B64
                             "\", \"fn_name\": \"main\", "
                             "\"kwargs_b64\": \"eyJhIjoxfQo=\", \"use_cache\": true, "
                             "\"cache_kwargs\": \"True\", \"cache_key_override\": \"/k\", "
                             "\"other\": [1, 2, {\"x\": null}]}";
  assert_int_equal(parse(f, NULL, JSON, body), OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), CODE1);
  assert_span_equal(owt_buf_str(&f->inv.fn_name), "main");
  assert_span_equal(owt_buf_str(&f->inv.kwargs), "{\"a\":1}");
  assert_span_equal(owt_buf_str(&f->inv.kwargs_raw), "eyJhIjoxfQo=");
  assert_int_equal(f->inv.kwargs_kind, OWT_KWARGS_TEXT);
  assert_true(f->inv.use_cache);
  assert_true(f->inv.cache_kwargs);
  assert_true(f->inv.has_cache_key);
  assert_span_equal(owt_buf_str(&f->inv.cache_key), "/k");

  /* the plain code field, with JSON escapes */
  assert_int_equal(parse(f, NULL, JSON, "{\"code\": \"def run():\\n    return \\\"hi\\\"\\n\"}"),
                   OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), CODE1);
  assert_int_equal(
      parse(f, NULL, JSON, "{\"code\": \"run = lambda: \\\"\\u00e9t\\u00e9 >>> ???\\\"\\n\"}"),
      OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), CODE2);
}

static void test_fields_from_form_body(void **state) {
  fixture *f = *state;
  assert_int_equal(
      parse(f, NULL, FORM,
            "code=x+%3D+1%0Arun+%3D+lambda%3A+x&fn_name=go&kwargs=%7B%22a%22%3A+1%7D&use_cache=on"),
      OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), "x = 1\nrun = lambda: x");
  assert_span_equal(owt_buf_str(&f->inv.fn_name), "go");
  assert_span_equal(owt_buf_str(&f->inv.kwargs), "{\"a\": 1}");
  assert_int_equal(f->inv.kwargs_kind, OWT_KWARGS_TEXT);
  assert_true(f->inv.use_cache);
  assert_int_equal(parse(f, NULL, FORM "; charset=UTF-8", "code_b64=" CODE2_B64), OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), CODE2);
}

static void test_content_types(void **state) {
  fixture *f = *state;
  static const char json[] = "{\"code\": \"1\"}";
  assert_int_equal(parse(f, NULL, "application/json; charset=utf-8", json), OWT_OK);
  assert_int_equal(parse(f, NULL, "Application/JSON", json), OWT_OK);
  assert_int_equal(parse(f, NULL, " application/json ;x=y", json), OWT_OK);
  assert_int_equal(parse(f, NULL, "APPLICATION/X-WWW-FORM-URLENCODED", "code=1"), OWT_OK);
  /* any other body is the adaptor's business, not a source of fields */
  assert_parse_fails(f, parse(f, NULL, "application/jsonx", json), OWT_E_BAD_REQUEST, "no code");
  assert_parse_fails(f, parse(f, NULL, "text/plain", "code=1"), OWT_E_BAD_REQUEST, "no code");
  assert_parse_fails(f, parse(f, NULL, NULL, "code=1"), OWT_E_BAD_REQUEST, "no code");
  assert_parse_fails(f, parse(f, NULL, "multipart/form-data; boundary=x", "code=1"),
                     OWT_E_BAD_REQUEST, "no code");
  /* ... but the query still is */
  assert_int_equal(parse(f, "code=2", "text/plain", "{not json"), OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), "2");
  /* an empty JSON body is no body: the query alone counts */
  assert_int_equal(parse(f, "code=3", JSON, ""), OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), "3");
}

static void test_body_wins_over_query(void **state) {
  fixture *f = *state;
  assert_int_equal(
      parse(f, "code=fromquery&fn_name=q&use_cache=1", FORM, "code=frombody&use_cache=0"), OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), "frombody");
  assert_span_equal(owt_buf_str(&f->inv.fn_name), "q");
  assert_false(f->inv.use_cache);

  assert_int_equal(parse(f, "code=fromquery&fn_name=q&kwargs=%7B%7D", JSON,
                         "{\"code\": \"frombody\", \"kwargs\": {\"from\": \"body\"}}"),
                   OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), "frombody");
  assert_span_equal(owt_buf_str(&f->inv.fn_name), "q");
  assert_span_equal(owt_buf_str(&f->inv.kwargs), "{\"from\":\"body\"}");
}

/* A JSON null is "not given": the query's value of the field stands. */
static void test_json_null_keeps_query_value(void **state) {
  fixture *f = *state;
  assert_int_equal(parse(f, "code=fromquery&fn_name=q&use_cache=1", JSON,
                         "{\"fn_name\": null, \"code\": null, \"use_cache\": null}"),
                   OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), "fromquery");
  assert_span_equal(owt_buf_str(&f->inv.fn_name), "q");
  assert_true(f->inv.use_cache);
}

/* ---- kwargs --------------------------------------------------------------------- */

static void test_kwargs_in_json_body(void **state) {
  fixture *f = *state;
  static const struct {
    const char *body, *kwargs;
    owt_kwargs_kind kind;
  } k[] = {
      {"{\"code\": \"1\", \"kwargs\": {\"name\": \"owt\", \"n\": [1, 2.5, null]}}",
       "{\"name\":\"owt\",\"n\":[1,2.5,null]}", OWT_KWARGS_TEXT},
      {"{\"code\": \"1\", \"kwargs\": {}}", "{}", OWT_KWARGS_TEXT},
      {"{\"code\": \"1\", \"kwargs\": [1, 2]}", "[1,2]", OWT_KWARGS_TEXT},
      {"{\"code\": \"1\", \"kwargs\": 5}", "5", OWT_KWARGS_TEXT},
      {"{\"code\": \"1\", \"kwargs\": true}", "true", OWT_KWARGS_TEXT},
      {"{\"code\": \"1\", \"kwargs\": \"{'name': 'owt'}\"}", "{'name': 'owt'}", OWT_KWARGS_TEXT},
      {"{\"code\": \"1\", \"kwargs\": \"{\\\"a\\\": 1}\"}", "{\"a\": 1}", OWT_KWARGS_TEXT},
      {"{\"code\": \"1\", \"kwargs\": \"\"}", "", OWT_KWARGS_EMPTY},
      {"{\"code\": \"1\", \"kwargs\": null}", "", OWT_KWARGS_EMPTY},
      {"{\"code\": \"1\", \"kwargs_b64\": \"eyduYW1lJzogJ293dCd9Cg==\"}", "{'name': 'owt'}",
       OWT_KWARGS_TEXT},
  };
  for (size_t i = 0; i < ARRAY_LEN(k); i++) {
    owt_err err = parse(f, NULL, JSON, k[i].body);
    if (err != OWT_OK) fail_msg("%s: err %d (%s)", k[i].body, err, f->inv.error);
    assert_span_equal(owt_buf_str(&f->inv.kwargs), k[i].kwargs);
    assert_int_equal(f->inv.kwargs_kind, k[i].kind);
  }
}

static void test_kwargs_in_query(void **state) {
  fixture *f = *state;
  static const struct {
    const char *query, *kwargs, *raw;
    owt_kwargs_kind kind;
  } k[] = {
      {"code=1&kwargs_b64=eyJhIjoxfQo=", "{\"a\":1}", "eyJhIjoxfQo=", OWT_KWARGS_TEXT},
      {"code=1&kwargs_b64=eyJhIjoxfQo%3D", "{\"a\":1}", "eyJhIjoxfQo=", OWT_KWARGS_TEXT},
      {"code=1&kwargs_b64=eyduYW1lJzogJ293dCd9Cg==", "{'name': 'owt'}",
       "eyduYW1lJzogJ293dCd9Cg==", OWT_KWARGS_TEXT},
      {"code=1&kwargs_b64=VHJ1ZQ==", "True", "VHJ1ZQ==", OWT_KWARGS_TEXT},
      {"code=1&kwargs_b64=", "", "", OWT_KWARGS_EMPTY},
      {"code=1&kwargs=%7B%22a%22%3A1%7D%0A%0A", "{\"a\":1}", "{\"a\":1}\n\n", OWT_KWARGS_TEXT},
      {"code=1&kwargs=%7B%7D+x", "{} x", "{} x", OWT_KWARGS_TEXT},
      {"code=1&kwargs=", "", "", OWT_KWARGS_EMPTY},
      {"code=1&kwargs=+++", "   ", "   ", OWT_KWARGS_EMPTY},
      {"code=1&kwargs=hello", "hello", "hello", OWT_KWARGS_TEXT},
      /* kwargs_b64 wins over kwargs */
      {"code=1&kwargs=nope&kwargs_b64=eyJhIjoxfQo=", "{\"a\":1}", "eyJhIjoxfQo=", OWT_KWARGS_TEXT},
  };
  for (size_t i = 0; i < ARRAY_LEN(k); i++) {
    owt_err err = parse(f, k[i].query, NULL, NULL);
    if (err != OWT_OK) fail_msg("%s: err %d (%s)", k[i].query, err, f->inv.error);
    assert_span_equal(owt_buf_str(&f->inv.kwargs), k[i].kwargs);
    assert_span_equal(owt_buf_str(&f->inv.kwargs_raw), k[i].raw);
    assert_int_equal(f->inv.kwargs_kind, k[i].kind);
  }
}

static void test_kwargs_refused(void **state) {
  fixture *f = *state;
  assert_parse_fails(f, parse(f, "code=1&kwargs_b64=eyJhIjoxfQo!", NULL, NULL), OWT_E_BAD_REQUEST,
                     "kwargs_b64");
  assert_parse_fails(f, parse(f, "code=1&kwargs=%FF", NULL, NULL), OWT_E_BAD_REQUEST, "UTF-8");
  assert_parse_fails(f, parse(f, "code=1&kwargs=a%00b", NULL, NULL), OWT_E_BAD_REQUEST, "UTF-8");
  assert_parse_fails(f, parse(f, "code=1&kwargs_b64=/w==", NULL, NULL), OWT_E_BAD_REQUEST, "UTF-8");
}

/* ---- booleans ------------------------------------------------------------------- */

static void test_booleans(void **state) {
  fixture *f = *state;
  static const struct {
    const char *spelling;
    int value;
  } b[] = {{"true", 1}, {"True", 1},   {"TRUE", 1},  {"1", 1},     {"yes", 1},
           {"on", 1},   {"+true+", 1}, {"false", 0}, {"False", 0}, {"FALSE", 0},
           {"0", 0},    {"no", 0},     {"off", 0},   {"", 0},      {"+", 0}};
  for (size_t i = 0; i < ARRAY_LEN(b); i++) {
    char q[128];
    for (int field = 0; field < 2; field++) {
      snprintf(q, sizeof q, "code=1&%s=%s", field ? "cache_kwargs" : "use_cache", b[i].spelling);
      if (parse(f, q, NULL, NULL) != OWT_OK) fail_msg("%s: %s", q, f->inv.error);
      assert_int_equal(field ? f->inv.cache_kwargs : f->inv.use_cache, b[i].value);
      assert_int_equal(field ? f->inv.use_cache : f->inv.cache_kwargs, 0);
    }
  }
  /* a bare key is an empty value: false */
  assert_int_equal(parse(f, "code=1&use_cache", NULL, NULL), OWT_OK);
  assert_false(f->inv.use_cache);
}

static void test_booleans_json(void **state) {
  fixture *f = *state;
  static const struct {
    const char *value;
    int result;
  } b[] = {{"true", 1},     {"false", 0},   {"1", 1},   {"0", 0},
           {"\"True\"", 1}, {"\"off\"", 0}, {"null", 0}};
  for (size_t i = 0; i < ARRAY_LEN(b); i++) {
    char body[128];
    snprintf(body, sizeof body, "{\"code\": \"1\", \"use_cache\": %s, \"cache_kwargs\": %s}",
             b[i].value, b[i].value);
    if (parse(f, NULL, JSON, body) != OWT_OK) fail_msg("%s: %s", body, f->inv.error);
    assert_int_equal(f->inv.use_cache, b[i].result);
    assert_int_equal(f->inv.cache_kwargs, b[i].result);
  }
}

static void test_booleans_refused(void **state) {
  fixture *f = *state;
  static const char *const q[] = {"code=1&use_cache=maybe",   "code=1&use_cache=2",
                                  "code=1&use_cache=tru",     "code=1&use_cache=yes+please",
                                  "code=1&cache_kwargs=nope", "code=1&use_cache=-1",
                                  "code=1&use_cache=t"};
  for (size_t i = 0; i < ARRAY_LEN(q); i++)
    assert_parse_fails(f, parse(f, q[i], NULL, NULL), OWT_E_BAD_REQUEST, "true or false");
  assert_parse_fails(f, parse(f, NULL, JSON, "{\"code\": \"1\", \"use_cache\": 2}"),
                     OWT_E_BAD_REQUEST, "true or false");
  assert_parse_fails(f, parse(f, NULL, JSON, "{\"code\": \"1\", \"cache_kwargs\": 0.5}"),
                     OWT_E_BAD_REQUEST, "true or false");
  assert_parse_fails(f, parse(f, NULL, JSON, "{\"code\": \"1\", \"use_cache\": {}}"),
                     OWT_E_BAD_REQUEST, "wrong type");
  assert_parse_fails(f, parse(f, NULL, JSON, "{\"code\": \"1\", \"use_cache\": [true]}"),
                     OWT_E_BAD_REQUEST, "wrong type");
}

static void test_parse_bool_directly(void **state) {
  (void)state;
  int v = -1;
  assert_int_equal(owt_invocation_parse_bool(OWT_STR_LIT(" True\n"), &v), OWT_OK);
  assert_int_equal(v, 1);
  assert_int_equal(owt_invocation_parse_bool(OWT_STR_NULL, &v), OWT_OK);
  assert_int_equal(v, 0);
  v = 7;
  assert_int_equal(owt_invocation_parse_bool(OWT_STR_LIT("tRUE"), &v), OWT_E_BAD_REQUEST);
  assert_int_equal(v, 7);
}

/* ---- names ---------------------------------------------------------------------- */

static void test_fn_name(void **state) {
  fixture *f = *state;
  char long_ok[160], too_long[160];
  memset(long_ok, 'f', 128);
  long_ok[128] = '\0';
  memset(too_long, 'f', 129);
  too_long[129] = '\0';
  /* non-ASCII letters are for the runtime to judge (str.isidentifier) */
  const char *good[] = {"run", "_x", "main2", "__call__", "A", long_ok, "gr\xc3\xbc\xc3\x9f"};
  const char *bad[] = {"1abc",  "a-b", "a.b", "a+b",   "a%00", "__import__('os')",
                       "run()", "a/b", "",    too_long};
  char q[300];
  for (size_t i = 0; i < ARRAY_LEN(good); i++) {
    snprintf(q, sizeof q, "code=1&fn_name=%s", good[i]);
    if (parse(f, q, NULL, NULL) != OWT_OK) fail_msg("%s refused: %s", q, f->inv.error);
    assert_span_equal(owt_buf_str(&f->inv.fn_name), good[i]);
  }
  for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
    snprintf(q, sizeof q, "code=1&fn_name=%s", bad[i]);
    assert_parse_fails(f, parse(f, q, NULL, NULL), OWT_E_BAD_REQUEST, "fn_name");
  }
  /* whitespace around the name is not part of it */
  assert_int_equal(parse(f, "code=1&fn_name=++go%0A", NULL, NULL), OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.fn_name), "go");
  assert_parse_fails(f, parse(f, NULL, JSON, "{\"code\": \"1\", \"fn_name\": 5}"),
                     OWT_E_BAD_REQUEST, "wrong type");
}

static void test_adaptor_names(void **state) {
  fixture *f = *state;
  const char *good[] = {"sota", "sota.hard_task", "a.b.c", "_m", "m2.f3", "caf\xc3\xa9.run"};
  const char *bad[] = {"os..system", ".os",   "os.",  "../etc/passwd", "a/b", "1mod",   "mod.1fn",
                       "a+b",        "a%20b", "a%00", "os.system()",   "",    "%2E%2E", "a.b-c"};
  char q[300];
  for (size_t i = 0; i < ARRAY_LEN(good); i++) {
    snprintf(q, sizeof q, "adaptor=%s", good[i]);
    if (parse(f, q, NULL, NULL) != OWT_OK) fail_msg("%s refused: %s", q, f->inv.error);
    assert_true(f->inv.has_adaptor);
    assert_false(f->inv.has_code);
    assert_int_equal(f->inv.code.len, 0);
    assert_span_equal(owt_buf_str(&f->inv.adaptor), good[i]);
  }
  for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
    snprintf(q, sizeof q, "adaptor=%s", bad[i]);
    assert_parse_fails(f, parse(f, q, NULL, NULL), OWT_E_BAD_REQUEST, "adaptor");
  }
  char long_name[200];
  memset(long_name, 'm', 129);
  long_name[129] = '\0';
  snprintf(q, sizeof q, "adaptor=%s", long_name);
  assert_parse_fails(f, parse(f, q, NULL, NULL), OWT_E_BAD_REQUEST, "adaptor");
}

static void test_valid_name_directly(void **state) {
  (void)state;
  assert_true(owt_invocation_valid_name(OWT_STR_LIT("a.b"), 1));
  assert_false(owt_invocation_valid_name(OWT_STR_LIT("a.b"), 0));
  assert_false(owt_invocation_valid_name(OWT_STR_NULL, 0));
  assert_false(owt_invocation_valid_name(OWT_STR_LIT("."), 1));
  assert_false(owt_invocation_valid_name((owt_str){"ab\0", 3}, 0));
  assert_true(owt_invocation_valid_name((owt_str){"abc.def", 3}, 0)); /* a span */
}

/* ---- refusals ------------------------------------------------------------------- */

static void test_no_code(void **state) {
  fixture *f = *state;
  static const char *const queries[] = {
      NULL, "", "x=1", "kwargs_b64=e30=", "fn_name=run&use_cache=1", "code_b64x=" CODE1_B64};
  for (size_t i = 0; i < ARRAY_LEN(queries); i++) {
    assert_parse_fails(f, parse(f, queries[i], NULL, NULL), OWT_E_BAD_REQUEST, "no code");
    assert_non_null(strstr(f->inv.error, "code_b64"));
  }
  assert_parse_fails(f, parse(f, NULL, JSON, "{}"), OWT_E_BAD_REQUEST, "no code");
  assert_parse_fails(f, parse(f, NULL, JSON, "{\"code\": null}"), OWT_E_BAD_REQUEST, "no code");
  assert_parse_fails(f, parse(f, NULL, FORM, "kwargs=x"), OWT_E_BAD_REQUEST, "no code");
}

static void test_code_not_utf8(void **state) {
  fixture *f = *state;
  static const char *const queries[] = {
      "code_b64=//4=",         /* ff fe */
      "code_b64=AA==",         /* a NUL byte */
      "code_b64=ZGVmAHJ1bg==", /* "def\0run" */
      "code=%C3%28",
      "code=%ED%A0%80", /* a surrogate */
      "code=a%00b",
      "code=%C0%80",
  };
  for (size_t i = 0; i < ARRAY_LEN(queries); i++)
    assert_parse_fails(f, parse(f, queries[i], NULL, NULL), OWT_E_BAD_REQUEST, "UTF-8");
}

static void test_bad_base64(void **state) {
  fixture *f = *state;
  static const char *const queries[] = {"code_b64=ZGVm!", "code_b64=Z",
                                        "code_b64=Zg==Zg==", "code_b64=%FF%FE", "code_b64=Zm9v%00"};
  for (size_t i = 0; i < ARRAY_LEN(queries); i++)
    assert_parse_fails(f, parse(f, queries[i], NULL, NULL), OWT_E_BAD_REQUEST,
                       "code_b64 is not valid base64");
}

static void test_max_code(void **state) {
  fixture *f = *state;
  owt_limits l = OWT_LIMITS_DEFAULT;
  l.max_code = 16;
  set_limits(f, l);
  /* 16 bytes fit, by either field */
  assert_int_equal(parse(f, "code_b64=eHh4eHh4eHh4eHh4eHh4eA==", NULL, NULL), OWT_OK);
  assert_int_equal(f->inv.code.len, 16);
  assert_int_equal(parse(f, "code=xxxxxxxxxxxxxxxx", NULL, NULL), OWT_OK);
  /* 17 do not */
  assert_parse_fails(f, parse(f, "code_b64=eHh4eHh4eHh4eHh4eHh4eHg=", NULL, NULL), OWT_E_TOO_LARGE,
                     "--max-code");
  assert_parse_fails(f, parse(f, "code=xxxxxxxxxxxxxxxxx", NULL, NULL), OWT_E_TOO_LARGE,
                     "--max-code");
  assert_parse_fails(f, parse(f, NULL, JSON, "{\"code\": \"xxxxxxxxxxxxxxxxx\"}"), OWT_E_TOO_LARGE,
                     "--max-code");
  /* far over: the raw field's own cap answers first, still 413 */
  char q[2000];
  memcpy(q, "code=", 5);
  memset(q + 5, 'x', sizeof q - 6);
  q[sizeof q - 1] = '\0';
  assert_int_equal(parse(f, q, NULL, NULL), OWT_E_TOO_LARGE);
  assert_non_null(f->inv.error);
}

/* A --max-code near SIZE_MAX means "no practical limit", not a wrapped-around tiny one. */
static void test_max_code_huge(void **state) {
  fixture *f = *state;
  owt_limits l = OWT_LIMITS_DEFAULT;
  l.max_code = SIZE_MAX;
  set_limits(f, l);
  char q[3000];
  memcpy(q, "code=", 5);
  memset(q + 5, 'x', sizeof q - 6);
  q[sizeof q - 1] = '\0';
  assert_int_equal(parse(f, q, NULL, NULL), OWT_OK);
  assert_int_equal(f->inv.code.len, sizeof q - 6);
}

static void test_code_and_adaptor(void **state) {
  fixture *f = *state;
  assert_parse_fails(f, parse(f, "code=1&adaptor=sota", NULL, NULL), OWT_E_BAD_REQUEST, "either");
  assert_parse_fails(f, parse(f, "code_b64=" CODE1_B64 "&adaptor=sota.hard_task", NULL, NULL),
                     OWT_E_BAD_REQUEST, "either");
  assert_parse_fails(f, parse(f, "adaptor=sota", JSON, "{\"code\": \"1\"}"), OWT_E_BAD_REQUEST,
                     "either");
}

static void test_bad_json_bodies(void **state) {
  fixture *f = *state;
  static const struct {
    const char *body, *part;
  } b[] = {
      {"{", "does not parse"},
      {"{\"code\": }", "does not parse"},
      {"code=1", "does not parse"},
      {"{\"code\": \"1\"} x", "data after"},
      {"{\"code\": \"1\"}{}", "data after"},
      {"[{\"code\": \"1\"}]", "one object"},
      {"\"code\"", "one object"},
      {"42", "one object"},
      {"{\"code_b64\": 5}", "wrong type"},
      {"{\"code\": [\"1\"]}", "wrong type"},
      {"{\"adaptor\": {\"name\": \"x\"}}", "wrong type"},
      {"{\"cache_key_override\": 1}", "wrong type"},
      {"{\"code\": \"print(1)\\u0000junk\"}", "NUL"},
      {"{\"code\": \"1\", \"kwargs\": {\"a\": \"\\\\\\u0000\"}}", "NUL"},
  };
  for (size_t i = 0; i < ARRAY_LEN(b); i++)
    assert_parse_fails(f, parse(f, NULL, JSON, b[i].body), OWT_E_BAD_REQUEST, b[i].part);
  /* an escaped backslash before u0000 is text, not a NUL */
  assert_int_equal(parse(f, NULL, JSON, "{\"code\": \"x = '\\\\u0000'\"}"), OWT_OK);
  /* whitespace after the object is fine */
  assert_int_equal(parse(f, NULL, JSON, "{\"code\": \"1\"}\r\n \t"), OWT_OK);
  /* a body cut at its length: the bytes after it are never seen */
  assert_int_equal(parse_n(f, NULL, JSON, "{\"code\": \"1\"}garbage", 13), OWT_OK);
}

static void test_max_fields(void **state) {
  fixture *f = *state;
  owt_limits l = OWT_LIMITS_DEFAULT;
  l.max_fields = 3;
  set_limits(f, l);
  assert_int_equal(parse(f, "a=1&b=2&code=x", NULL, NULL), OWT_OK);
  assert_parse_fails(f, parse(f, "a=1&b=2&c=3&code=x", NULL, NULL), OWT_E_TOO_LARGE,
                     "query string");
  assert_int_equal(parse(f, NULL, FORM, "a=1&b=2&code=x"), OWT_OK);
  assert_parse_fails(f, parse(f, NULL, FORM, "a=1&b=2&c=3&code=x"), OWT_E_TOO_LARGE, "form body");
}

static void test_cache_key(void **state) {
  fixture *f = *state;
  assert_int_equal(parse(f, "code=1&cache_key_override=%2Ffavicon.ico", NULL, NULL), OWT_OK);
  assert_true(f->inv.has_cache_key);
  assert_span_equal(owt_buf_str(&f->inv.cache_key), "/favicon.ico");
  assert_int_equal(parse(f, "code=1&cache_key_override=", NULL, NULL), OWT_OK);
  assert_true(f->inv.has_cache_key);
  assert_int_equal(f->inv.cache_key.len, 0);

  char q[5000];
  int n = snprintf(q, sizeof q, "code=1&cache_key_override=");
  memset(q + n, 'k', 4096);
  q[n + 4096] = '\0';
  assert_int_equal(parse(f, q, NULL, NULL), OWT_OK);
  assert_int_equal(f->inv.cache_key.len, 4096);
  q[n + 4096] = 'k';
  q[n + 4097] = '\0';
  assert_parse_fails(f, parse(f, q, NULL, NULL), OWT_E_TOO_LARGE, "cache_key_override");
}

/* A parse starts from nothing: no field of the previous request survives. */
static void test_reuse(void **state) {
  fixture *f = *state;
  assert_int_equal(
      parse(f, "code=1&fn_name=go&kwargs=%7B%7D&use_cache=1&cache_kwargs=1&cache_key_override=k",
            NULL, NULL),
      OWT_OK);
  assert_int_equal(parse(f, "adaptor=sota", NULL, NULL), OWT_OK);
  assert_false(f->inv.has_code);
  assert_int_equal(f->inv.code.len, 0);
  assert_span_equal(owt_buf_str(&f->inv.fn_name), "run");
  assert_int_equal(f->inv.kwargs.len, 0);
  assert_int_equal(f->inv.kwargs_raw.len, 0);
  assert_int_equal(f->inv.kwargs_kind, OWT_KWARGS_EMPTY);
  assert_false(f->inv.use_cache);
  assert_false(f->inv.cache_kwargs);
  assert_false(f->inv.has_cache_key);
  assert_null(f->inv.error);
  /* and after a failure too */
  assert_int_equal(parse(f, "code=1&use_cache=bogus", NULL, NULL), OWT_E_BAD_REQUEST);
  assert_int_equal(parse(f, "code=2", NULL, NULL), OWT_OK);
  assert_null(f->inv.error);
  assert_span_equal(owt_buf_str(&f->inv.code), "2");
}

/* ---- code_sha256 and code_sig ----------------------------------------------------- */

/* SHA-256 of CODE1, and a 64-byte "signature" (the bytes 0..63) in base64. */
#define CODE1_SHA256 "9ae38ab323104be182ac1755a519ff71d70902dddd040f3c30032ad4bca69139"
#define SIG64_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="

static void assert_sig_is_0_to_63(const owt_invocation *inv) {
  assert_true(inv->has_code_sig);
  for (int i = 0; i < 64; i++) assert_int_equal(inv->code_sig[i], i);
}

static void test_code_sha256_alone(void **state) {
  fixture *f = *state;
  /* Query, form and JSON; either case; the hex is kept lower-case. */
  assert_int_equal(parse(f, "code_sha256=" CODE1_SHA256, NULL, NULL), OWT_OK);
  assert_true(f->inv.has_code_sha256);
  assert_false(f->inv.has_code); /* the code comes from the store, later */
  assert_false(f->inv.missing_code);
  assert_string_equal(f->inv.code_sha256_hex, CODE1_SHA256);
  assert_int_equal(f->inv.code_sha256[0], 0x9a);
  assert_int_equal(f->inv.code_sha256[31], 0x39);
  assert_int_equal(parse(f, NULL, FORM, "code_sha256=%20" CODE1_SHA256 "%0A"), OWT_OK);
  assert_string_equal(f->inv.code_sha256_hex, CODE1_SHA256);
  assert_int_equal(parse(f, NULL, JSON, "{\"code_sha256\": \"9AE38AB323104BE182AC1755A519FF71D70902DDDD040F3C30032AD4BCA69139\"}"), OWT_OK);
  assert_string_equal(f->inv.code_sha256_hex, CODE1_SHA256);
  /* With the code itself: both kept (owt_code checks they match). */
  assert_int_equal(parse(f, "code_b64=" CODE1_B64 "&code_sha256=" CODE1_SHA256, NULL, NULL), OWT_OK);
  assert_true(f->inv.has_code);
  assert_true(f->inv.has_code_sha256);
  /* A parse starts from nothing. */
  assert_int_equal(parse(f, "code_b64=" CODE1_B64, NULL, NULL), OWT_OK);
  assert_false(f->inv.has_code_sha256);
  assert_false(f->inv.has_code_sig);
  assert_string_equal(f->inv.code_sha256_hex, "");
}

static void test_code_sha256_refused(void **state) {
  fixture *f = *state;
  static const char *const bad[] = {
      "code_sha256=",
      "code_sha256=" CODE1_SHA256 "0",                                             /* 65 digits */
      "code_sha256=9ae38ab323104be182ac1755a519ff71d70902dddd040f3c30032ad4bca6913",  /* 63 */
      "code_sha256=9ae38ab323104be182ac1755a519ff71d70902dddd040f3c30032ad4bca6913g", /* not hex */
      "code_sha256=9ae38ab323104be182ac1755a519ff71%20d70902dddd040f3c30032ad4bca69139",
      "code_sha256=0xe38ab323104be182ac1755a519ff71d70902dddd040f3c30032ad4bca69139",
      "code_sha256=muOKsyMQS+GCrBdVpRn/cdcJAt3dBA88MAMq1LymkTk=", /* the digest in base64 */
  };
  for (size_t i = 0; i < ARRAY_LEN(bad); i++)
    assert_parse_fails(f, parse(f, bad[i], NULL, NULL), OWT_E_BAD_REQUEST, "code_sha256 must be 64 hex digits");
  assert_parse_fails(f, parse(f, NULL, JSON, "{\"code_sha256\": 5}"), OWT_E_BAD_REQUEST, "wrong type");
  /* Not with a named adaptor. */
  assert_parse_fails(f, parse(f, "adaptor=sota&code_sha256=" CODE1_SHA256, NULL, NULL), OWT_E_BAD_REQUEST,
                     "either code");
}

static void test_code_sig_field(void **state) {
  fixture *f = *state;
  assert_int_equal(parse(f, "code_b64=" CODE1_B64 "&code_sig=" SIG64_B64, NULL, NULL), OWT_OK);
  assert_sig_is_0_to_63(&f->inv);
  /* URL-safe, unpadded, wrapped: as code_b64 takes them. */
  assert_int_equal(parse(f, NULL, JSON,
                         "{\"code_sha256\": \"" CODE1_SHA256 "\", \"code_sig\": "
                         "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\\nMDEyMzQ1Njc4OTo7PD0-Pw\"}"),
                   OWT_OK);
  assert_sig_is_0_to_63(&f->inv);
  static const char *const bad[] = {
      "code_b64=" CODE1_B64 "&code_sig=",
      "code_b64=" CODE1_B64 "&code_sig=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0%2B", /* 63 bytes */
      "code_b64=" CODE1_B64 "&code_sig=" SIG64_B64 "AAAA", /* 67 bytes */
      "code_b64=" CODE1_B64 "&code_sig=%21%21%21%21",      /* not base64 */
  };
  for (size_t i = 0; i < ARRAY_LEN(bad); i++)
    assert_parse_fails(f, parse(f, bad[i], NULL, NULL), OWT_E_BAD_REQUEST, "code_sig must be the base64");
  /* A signature alone is no code; with an adaptor it makes no sense. */
  assert_parse_fails(f, parse(f, "code_sig=" SIG64_B64, NULL, NULL), OWT_E_BAD_REQUEST, "no code");
  assert_true(f->inv.missing_code);
  assert_parse_fails(f, parse(f, "adaptor=sota&code_sig=" SIG64_B64, NULL, NULL), OWT_E_BAD_REQUEST,
                     "either code");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_code_b64_from_query),
      T(test_code_b64_variants),
      T(test_code_plain),
      T(test_fields_from_json_body),
      T(test_fields_from_form_body),
      T(test_content_types),
      T(test_body_wins_over_query),
      T(test_json_null_keeps_query_value),
      T(test_kwargs_in_json_body),
      T(test_kwargs_in_query),
      T(test_kwargs_refused),
      T(test_booleans),
      T(test_booleans_json),
      T(test_booleans_refused),
      cmocka_unit_test(test_parse_bool_directly),
      T(test_fn_name),
      T(test_adaptor_names),
      cmocka_unit_test(test_valid_name_directly),
      T(test_no_code),
      T(test_code_not_utf8),
      T(test_bad_base64),
      T(test_max_code),
      T(test_max_code_huge),
      T(test_code_and_adaptor),
      T(test_code_sha256_alone),
      T(test_code_sha256_refused),
      T(test_code_sig_field),
      T(test_bad_json_bodies),
      T(test_max_fields),
      T(test_cache_key),
      T(test_reuse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
