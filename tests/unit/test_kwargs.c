/* test_kwargs.c - owt_kwargs: trimming and the classification table (PROTOCOL §3). */
#include "owt_kwargs.h"
#include "unit.h"

typedef struct {
  const char *text;
  size_t len;
  owt_kwargs_kind kind;
} kind_case;

#define K(t, k) \
  { (t), sizeof(t) - 1, (k) }

static const kind_case cases[] = {
    K("", OWT_KWARGS_EMPTY),
    K(" ", OWT_KWARGS_EMPTY),
    K(" \t\r\n\n", OWT_KWARGS_EMPTY),
    /* Anything but whitespace is text for the interpreter to decode: JSON, */
    K("{}", OWT_KWARGS_TEXT),
    K("{\"name\": \"owt\"}", OWT_KWARGS_TEXT),
    K("{\"a\": {\"b\": [1, 2.5, null, true, false]}}", OWT_KWARGS_TEXT),
    K("[1, 2, 3]", OWT_KWARGS_TEXT),
    K("[]", OWT_KWARGS_TEXT),
    K("\"just a string\"", OWT_KWARGS_TEXT),
    K("\"{\\\"double\\\": \\\"encoded\\\"}\"", OWT_KWARGS_TEXT),
    K("42", OWT_KWARGS_TEXT),
    K("-1.5e3", OWT_KWARGS_TEXT),
    K("true", OWT_KWARGS_TEXT),
    K("false", OWT_KWARGS_TEXT),
    K("null", OWT_KWARGS_TEXT),
    K("  {\"a\": 1}  ", OWT_KWARGS_TEXT),
    K("{\"a\": 1}\n", OWT_KWARGS_TEXT),
    K("{\"a\": 1}\r\n\r\n", OWT_KWARGS_TEXT),
    K("\n{\"a\": 1}", OWT_KWARGS_TEXT),
    K("{\"s\": \"caf\xc3\xa9\"}", OWT_KWARGS_TEXT),
    /* Python literals and everything else, */
    K("{'name': 'owt'}", OWT_KWARGS_TEXT),
    K("True", OWT_KWARGS_TEXT),
    K("False", OWT_KWARGS_TEXT),
    K("None", OWT_KWARGS_TEXT),
    K("(1, 2)", OWT_KWARGS_TEXT),
    K("{'a': (1, 2), 'b': None}", OWT_KWARGS_TEXT),
    K("{\"a\": True}", OWT_KWARGS_TEXT),
    K("hello", OWT_KWARGS_TEXT),
    K("'single'", OWT_KWARGS_TEXT),
    K("name=owt", OWT_KWARGS_TEXT),
    /* and JSON with trailing garbage, or cut short */
    K("{} x", OWT_KWARGS_TEXT),
    K("{}{}", OWT_KWARGS_TEXT),
    K("[1] [2]", OWT_KWARGS_TEXT),
    K("1 2", OWT_KWARGS_TEXT),
    K("{\"a\": 1},", OWT_KWARGS_TEXT),
    K("{", OWT_KWARGS_TEXT),
    K("{\"a\": ", OWT_KWARGS_TEXT),
    K("[1, 2", OWT_KWARGS_TEXT),
    K("\"unterminated", OWT_KWARGS_TEXT),
    K("{\"a\": 1}\0", OWT_KWARGS_TEXT),
};

static void test_classify_table(void **state) {
  (void)state;
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    owt_kwargs_kind got = owt_kwargs_classify((owt_str){cases[i].text, cases[i].len});
    if (got != cases[i].kind)
      fail_msg("case %zu \"%.*s\": kind %d, want %d", i, (int)cases[i].len, cases[i].text, got,
               cases[i].kind);
  }
}

/* Only text[0..len) counts, whatever follows it in memory. */
static void test_classify_respects_length(void **state) {
  (void)state;
  static const char mem[] = "{\"a\": 1}garbage";
  assert_int_equal(owt_kwargs_classify((owt_str){mem, 8}), OWT_KWARGS_TEXT);
  assert_int_equal(owt_kwargs_classify((owt_str){mem, 15}), OWT_KWARGS_TEXT);
  assert_int_equal(owt_kwargs_classify((owt_str){mem, 4}), OWT_KWARGS_TEXT);
  assert_int_equal(owt_kwargs_classify((owt_str){mem, 0}), OWT_KWARGS_EMPTY);
  static const char num[] = "12345";
  assert_int_equal(owt_kwargs_classify((owt_str){num, 2}), OWT_KWARGS_TEXT);
  assert_int_equal(owt_kwargs_classify(OWT_STR_NULL), OWT_KWARGS_EMPTY);
}

static void test_classify_deep_nesting(void **state) {
  (void)state;
  /* beyond cJSON's nesting limit: not an error, just not JSON to C */
  char deep[4001];
  for (int i = 0; i < 2000; i++) {
    deep[i] = '[';
    deep[2000 + i] = ']';
  }
  deep[4000] = '\0';
  assert_int_equal(owt_kwargs_classify((owt_str){deep, 4000}), OWT_KWARGS_TEXT);
  assert_int_equal(owt_kwargs_classify((owt_str){deep + 1990, 20}), OWT_KWARGS_TEXT);
}

static void test_trim(void **state) {
  (void)state;
  static const struct {
    const char *in, *out;
  } t[] = {
      {"", ""},           {"\n", ""},
      {"\r\n\r\n", ""},   {"abc", "abc"},
      {"abc\n", "abc"},   {"abc\n\n\n", "abc"},
      {"abc\r\n", "abc"}, {"abc\r", "abc"},
      {"a\nb\n", "a\nb"}, {"\nabc", "\nabc"}, /* only the end */
      {"abc \n", "abc "},                     /* only newlines and CRs */
      {"abc\t", "abc\t"}, {"{'a': 1}\n", "{'a': 1}"},
  };
  for (size_t i = 0; i < ARRAY_LEN(t); i++) {
    owt_str got = owt_kwargs_trim(owt_str_of(t[i].in));
    assert_ptr_equal(got.p, t[i].in);
    assert_span_equal(got, t[i].out);
  }
  assert_int_equal(owt_kwargs_trim(OWT_STR_NULL).len, 0);
}

/* ---- flat JSON objects: what C builds the kwargs dict of itself ---------- */

static void test_flat_items(void **state) {
  (void)state;
  owt_kwarg it[OWT_KWARGS_FLAT_MAX];
  size_t n = 99;
  static const char text[] = " {\"name\": \"owt\", \"n\" :-42,\"t\":true,\"f\": false,\"z\":null, \"big\": "
                             "999999999999999999, \"zero\": 0, \"e\": \"\"}\r\n";
  assert_int_equal(owt_kwargs_flat(owt_str_of(text), it, OWT_KWARGS_FLAT_MAX, &n), 1);
  assert_int_equal(n, 8);
  assert_span_equal(it[0].key, "name");
  assert_int_equal(it[0].type, OWT_KWARG_STR);
  assert_span_equal(it[0].text, "owt");
  assert_span_equal(it[1].key, "n");
  assert_int_equal(it[1].type, OWT_KWARG_INT);
  assert_true(it[1].value == -42);
  assert_int_equal(it[2].type, OWT_KWARG_TRUE);
  assert_int_equal(it[3].type, OWT_KWARG_FALSE);
  assert_int_equal(it[4].type, OWT_KWARG_NULL);
  assert_true(it[5].value == 999999999999999999LL);
  assert_int_equal(it[6].type, OWT_KWARG_INT);
  assert_true(it[6].value == 0);
  assert_int_equal(it[7].type, OWT_KWARG_STR);
  assert_int_equal(it[7].text.len, 0);
  assert_int_equal(owt_kwargs_flat(owt_str_of("{}"), it, OWT_KWARGS_FLAT_MAX, &n), 1);
  assert_int_equal(n, 0);
  assert_int_equal(owt_kwargs_flat(owt_str_of("{\"a\":1,\"a\":2}"), it, OWT_KWARGS_FLAT_MAX, &n), 1);
  assert_int_equal(n, 2); /* both: the builder's dict keeps the last, as json.loads does */
  assert_true(it[1].value == 2);
  static const char utf8[] = "{\"caf\xc3\xa9\": \"\xe2\x98\x83\"}";
  assert_int_equal(owt_kwargs_flat(owt_str_of(utf8), it, OWT_KWARGS_FLAT_MAX, &n), 1);
  assert_span_equal(it[0].key, "caf\xc3\xa9");
}

/* Everything else is the interpreter's to decode: escapes, floats, big
 * integers, nesting, JSON's edge cases and anything that is not JSON. */
static void test_not_flat(void **state) {
  (void)state;
  static const char *const texts[] = {
      "", " ", "[]", "[1]", "\"s\"", "1", "true", "null",
      "{\"a\": \"\\n\"}", "{\"a\\u00e9\": 1}", "{\"a\": \"tab\there\"}",
      "{\"a\": 1.5}", "{\"a\": 1e3}", "{\"a\": 1E3}", "{\"a\": -0.0}", "{\"a\": 1000000000000000000}",
      "{\"a\": -1000000000000000000}", "{\"a\": 01}", "{\"a\": -}", "{\"a\": +1}", "{\"a\": --1}",
      "{\"a\": {}}", "{\"a\": []}", "{\"a\": NaN}", "{\"a\": Infinity}", "{\"a\": tru}", "{\"a\": nul}",
      "{\"a\": True}", "{'a': 1}", "{a: 1}", "{\"a\" 1}", "{\"a\": 1,}", "{,}", "{\"a\": 1 \"b\": 2}",
      "{\"a\": 1}}", "{\"a\": 1} x", "{\"a\": 1}{}", "{\"a\": 1", "{\"a\": \"x", "{\"a", "{", "}",
      "\v{\"a\": 1}", "{\"a\": 1}\f",
  };
  owt_kwarg it[OWT_KWARGS_FLAT_MAX];
  size_t n;
  for (size_t i = 0; i < ARRAY_LEN(texts); i++)
    if (owt_kwargs_flat(owt_str_of(texts[i]), it, OWT_KWARGS_FLAT_MAX, &n) != 0) fail_msg("flat: %s", texts[i]);
  /* A NUL inside a string is a control character; only text[0..len) counts. */
  static const char nul[] = "{\"a\": \"x\0y\"}";
  assert_int_equal(owt_kwargs_flat((owt_str){nul, sizeof nul - 1}, it, OWT_KWARGS_FLAT_MAX, &n), 0);
  static const char cut[] = "{\"a\": 1}garbage";
  assert_int_equal(owt_kwargs_flat((owt_str){cut, 8}, it, OWT_KWARGS_FLAT_MAX, &n), 1);
  assert_int_equal(owt_kwargs_flat((owt_str){cut, 9}, it, OWT_KWARGS_FLAT_MAX, &n), 0);
  assert_int_equal(owt_kwargs_flat(OWT_STR_NULL, it, OWT_KWARGS_FLAT_MAX, &n), 0);
}

static void test_flat_item_bound(void **state) {
  (void)state;
  char text[1024] = "{";
  owt_kwarg it[OWT_KWARGS_FLAT_MAX];
  size_t n;
  for (int i = 0; i < 3; i++) snprintf(text + strlen(text), sizeof text - strlen(text), "%s\"k%d\": %d", i ? ", " : "", i, i);
  strcat(text, "}");
  assert_int_equal(owt_kwargs_flat(owt_str_of(text), it, 3, &n), 1);
  assert_int_equal(n, 3);
  assert_int_equal(owt_kwargs_flat(owt_str_of(text), it, 2, &n), 0); /* over the bound: not flat */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_classify_table),
      cmocka_unit_test(test_classify_respects_length),
      cmocka_unit_test(test_classify_deep_nesting),
      cmocka_unit_test(test_trim),
      cmocka_unit_test(test_flat_items),
      cmocka_unit_test(test_not_flat),
      cmocka_unit_test(test_flat_item_bound),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
