/* test_form.c - owt_form: pair walking, percent-decoding, key matching. */
#include "owt_form.h"
#include "unit.h"

/* ---- owt_form_each -------------------------------------------------------------- */

/* The pairs seen, written as "key=value" or "key" (bare), joined by '|'. */
typedef struct {
  owt_buf seen;
  int calls;
  int stop_at; /* return OWT_E_FORBIDDEN on this call (1-based); 0: never */
} walk;

static owt_err record(void *ctx, owt_str key, owt_str value) {
  walk *w = ctx;
  w->calls++;
  if (w->stop_at && w->calls == w->stop_at) return OWT_E_FORBIDDEN;
  if (w->seen.len) assert_int_equal(owt_buf_append_byte(&w->seen, '|'), OWT_OK);
  assert_int_equal(owt_buf_append(&w->seen, key.p, key.len), OWT_OK);
  if (value.p) {
    assert_int_equal(owt_buf_append_byte(&w->seen, '='), OWT_OK);
    assert_int_equal(owt_buf_append(&w->seen, value.p, value.len), OWT_OK);
  } else {
    assert_int_equal(value.len, 0);
  }
  return OWT_OK;
}

static const struct {
  const char *in;
  const char *pairs;
} walk_cases[] = {
    {"", ""},
    {"a=1", "a=1"},
    {"a=1&b=2", "a=1|b=2"},
    {"a=1;b=2", "a=1|b=2"},
    {"a=1;b=2&c=3", "a=1|b=2|c=3"},
    {"&", ""},
    {";;&&", ""},
    {"&&a=1&&", "a=1"},
    {"a=1&&&b=2", "a=1|b=2"},
    {"a", "a"},
    {"a&b=", "a|b="},
    {"a=", "a="},
    {"=1", "=1"},
    {"=", "="},
    {"a=1=2", "a=1=2"},
    {"a==", "a=="},
    {"code_b64=ZGVm+IHJ1bg==&fn_name=run", "code_b64=ZGVm+IHJ1bg==|fn_name=run"},
    {"k%3Dx=v%26w", "k%3Dx=v%26w"}, /* spans stay encoded */
    {"a=1&a=2", "a=1|a=2"},
};

static void test_walk_table(void **state) {
  (void)state;
  for (size_t i = 0; i < ARRAY_LEN(walk_cases); i++) {
    walk w = {OWT_BUF_INIT(1024), 0, 0};
    assert_int_equal(owt_form_each(walk_cases[i].in, strlen(walk_cases[i].in), 100, record, &w),
                     OWT_OK);
    assert_span_equal(owt_buf_str(&w.seen), walk_cases[i].pairs);
    owt_buf_free(&w.seen);
  }
}

static void test_walk_respects_length(void **state) {
  (void)state;
  static const char s[] = "a=1&b=2&c=3";
  walk w = {OWT_BUF_INIT(1024), 0, 0};
  assert_int_equal(owt_form_each(s, 6, 100, record, &w), OWT_OK);
  assert_span_equal(owt_buf_str(&w.seen), "a=1|b=");
  owt_buf_free(&w.seen);
}

static void test_walk_max_pairs(void **state) {
  (void)state;
  walk w = {OWT_BUF_INIT(1024), 0, 0};
  assert_int_equal(owt_form_each("a&b&c", 5, 3, record, &w), OWT_OK);
  assert_int_equal(w.calls, 3);
  owt_buf_reset(&w.seen);
  w.calls = 0;
  assert_int_equal(owt_form_each("a&b&c", 5, 2, record, &w), OWT_E_TOO_LARGE);
  assert_int_equal(w.calls, 2);
  /* empty pairs do not count */
  owt_buf_reset(&w.seen);
  w.calls = 0;
  assert_int_equal(owt_form_each("a&&&;;b&", 8, 2, record, &w), OWT_OK);
  assert_span_equal(owt_buf_str(&w.seen), "a|b");
  w.calls = 0;
  assert_int_equal(owt_form_each("a", 1, 0, record, &w), OWT_E_TOO_LARGE);
  assert_int_equal(w.calls, 0);
  assert_int_equal(owt_form_each("&&", 2, 0, record, &w), OWT_OK);
  owt_buf_free(&w.seen);
}

static void test_walk_stops_on_error(void **state) {
  (void)state;
  walk w = {OWT_BUF_INIT(1024), 0, 2};
  assert_int_equal(owt_form_each("a=1&b=2&c=3", 11, 100, record, &w), OWT_E_FORBIDDEN);
  assert_int_equal(w.calls, 2);
  assert_span_equal(owt_buf_str(&w.seen), "a=1");
  owt_buf_free(&w.seen);
}

/* ---- owt_url_decode ------------------------------------------------------------- */

#define DEC(i, o) \
  { (i), sizeof(i) - 1, (o), sizeof(o) - 1 }
static const struct {
  const char *in;
  size_t in_len;
  const char *out;
  size_t out_len;
} decode_cases[] = {
    DEC("", ""),
    DEC("abc", "abc"),
    DEC("a+b", "a b"),
    DEC("+++", "   "),
    DEC("%41%42", "AB"),
    DEC("%2B", "+"),
    DEC("%2b", "+"),
    DEC("%3d%3D", "=="),
    DEC("%c3%A9", "\xc3\xa9"),
    DEC("%00", "\0"),
    DEC("a%00b", "a\0b"),
    DEC("%ff", "\xff"),
    DEC("x%41", "xA"),
    DEC("%2541", "%41"), /* decoded once only */
    /* a '%' without two hex digits stays as it is */
    DEC("%", "%"),
    DEC("%%", "%%"),
    DEC("%%41", "%A"),
    DEC("%4", "%4"),
    DEC("a%4", "a%4"),
    DEC("%zz", "%zz"),
    DEC("%4g", "%4g"),
    DEC("%g4", "%g4"),
    DEC("100%", "100%"),
    DEC("100% sure", "100% sure"),
    DEC("%+41", "% 41"),
    DEC("%-1", "%-1"),
    DEC("%\xc3\xa9", "%\xc3\xa9"),
    /* raw bytes pass through */
    DEC("\xc3\xa9", "\xc3\xa9"),
    DEC("a\0b", "a\0b"),
};

static void test_decode_table(void **state) {
  (void)state;
  for (size_t i = 0; i < ARRAY_LEN(decode_cases); i++) {
    owt_buf out = OWT_BUF_INIT(1024);
    assert_int_equal(owt_url_decode(decode_cases[i].in, decode_cases[i].in_len, &out), OWT_OK);
    if (out.len != decode_cases[i].out_len ||
        (out.len && memcmp(out.data, decode_cases[i].out, out.len) != 0))
      fail_msg("case %zu \"%s\": got \"%.*s\"", i, decode_cases[i].in, (int)out.len, out.data);
    assert_int_equal(out.data[out.len], '\0');
    owt_buf_free(&out);
  }
}

static void test_decode_respects_length(void **state) {
  (void)state;
  static const char s[] = "ab%41";
  owt_buf out = OWT_BUF_INIT(16);
  /* "%4" at the end of the span: the '1' beyond it is not read */
  assert_int_equal(owt_url_decode(s, 4, &out), OWT_OK);
  assert_span_equal(owt_buf_str(&out), "ab%4");
  owt_buf_free(&out);
}

static void test_decode_cap(void **state) {
  (void)state;
  owt_buf out = OWT_BUF_INIT(2);
  assert_int_equal(owt_url_decode("abc", 3, &out), OWT_E_TOO_LARGE);
  assert_int_equal(out.len, 0);
  /* the encoded text is longer than the cap, the decoded text is not */
  assert_int_equal(owt_url_decode("%41%42", 6, &out), OWT_OK);
  assert_span_equal(owt_buf_str(&out), "AB");
  assert_int_equal(owt_url_decode("%43", 3, &out), OWT_E_TOO_LARGE);
  assert_span_equal(owt_buf_str(&out), "AB");
  assert_int_equal(out.data[2], '\0');
  owt_buf_free(&out);

  out = (owt_buf)OWT_BUF_INIT(5);
  assert_int_equal(owt_buf_append_str(&out, "xyz"), OWT_OK);
  assert_int_equal(owt_url_decode("a+b", 3, &out), OWT_E_TOO_LARGE);
  assert_span_equal(owt_buf_str(&out), "xyz");
  assert_int_equal(out.data[3], '\0');
  assert_int_equal(owt_url_decode("a+", 2, &out), OWT_OK);
  assert_span_equal(owt_buf_str(&out), "xyza ");
  owt_buf_free(&out);
}

/* ---- owt_form_key_is ------------------------------------------------------------ */

static void test_key_is(void **state) {
  (void)state;
  static const struct {
    const char *raw, *name;
    int match;
  } k[] = {
      {"code", "code", 1},
      {"code_b64", "code_b64", 1},
      {"co%64e", "code", 1},
      {"%63%6F%64%65", "code", 1},
      {"%63%6f%64%65", "code", 1},
      {"fn+name", "fn name", 1},
      {"fn%20name", "fn name", 1},
      {"fn%5Fname", "fn_name", 1},
      {"", "", 1},
      {"%", "%", 1},
      {"%4", "%4", 1},
      {"%zz", "%zz", 1},
      {"cod", "code", 0},
      {"codex", "code", 0},
      {"code_b6", "code_b64", 0},
      {"Code", "code", 0},
      {"code%", "code", 0},
      {"code%00", "code", 0},
      {"", "code", 0},
      {"code", "", 0},
      {"fn+name", "fn+name", 0},
      {"%2B", "+", 1},
      {"%25", "%", 1},
      {"%2541", "%41", 1},
  };
  for (size_t i = 0; i < ARRAY_LEN(k); i++)
    if (owt_form_key_is(owt_str_of(k[i].raw), k[i].name) != k[i].match)
      fail_msg("\"%s\" vs \"%s\": want %d", k[i].raw, k[i].name, k[i].match);
}

static void test_key_is_respects_length(void **state) {
  (void)state;
  static const char s[] = "code_b64";
  assert_true(owt_form_key_is((owt_str){s, 4}, "code"));
  assert_false(owt_form_key_is((owt_str){s, 4}, "code_b64"));
  assert_true(owt_form_key_is((owt_str){"co%64e", 6}, "code"));
  assert_false(owt_form_key_is((owt_str){"co%64e", 5}, "code"));
}

/* A very long key is refused at its first mismatch, without a buffer. */
static void test_key_is_long(void **state) {
  (void)state;
  size_t n = 1 << 20;
  char *key = malloc(n);
  assert_non_null(key);
  memset(key, 'c', n);
  assert_false(owt_form_key_is((owt_str){key, n}, "code"));
  memcpy(key, "code", 4);
  assert_false(owt_form_key_is((owt_str){key, n}, "code"));
  free(key);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_walk_table),
      cmocka_unit_test(test_walk_respects_length),
      cmocka_unit_test(test_walk_max_pairs),
      cmocka_unit_test(test_walk_stops_on_error),
      cmocka_unit_test(test_decode_table),
      cmocka_unit_test(test_decode_respects_length),
      cmocka_unit_test(test_decode_cap),
      cmocka_unit_test(test_key_is),
      cmocka_unit_test(test_key_is_respects_length),
      cmocka_unit_test(test_key_is_long),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
