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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_classify_table),
      cmocka_unit_test(test_classify_respects_length),
      cmocka_unit_test(test_classify_deep_nesting),
      cmocka_unit_test(test_trim),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
