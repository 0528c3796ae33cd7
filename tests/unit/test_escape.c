/* test_escape.c - owt_escape: what each level escapes, and output cut before
 * an escape sequence, never inside one. */
#include "owt_escape.h"
#include "unit.h"

static size_t esc(char *out, size_t cap, const char *in, size_t len, owt_escape_level level) {
  return owt_escape(out, cap, owt_str_make(in, len), level);
}

static void test_field_is_one_printable_word(void **state) {
  (void)state;
  char out[256];
  static const char in[] = "/a b\"c\\d\x01\n\r\t\x7f\xc3\xa9/%2F";
  size_t n = esc(out, sizeof out, in, sizeof in - 1, OWT_ESCAPE_FIELD);
  assert_string_equal(out, "/a\\x20b\\x22c\\x5cd\\x01\\x0a\\x0d\\x09\\x7f\\xc3\\xa9/%2F");
  assert_int_equal(n, strlen(out));
  for (size_t i = 0; i < n; i++) assert_true(out[i] > 0x20 && out[i] < 0x7f && out[i] != '"');
  /* a NUL byte inside the span is escaped too */
  esc(out, sizeof out, "a\0b", 3, OWT_ESCAPE_FIELD);
  assert_string_equal(out, "a\\x00b");
}

static void test_text_keeps_tabs_and_utf8(void **state) {
  (void)state;
  char out[256];
  static const char in[] = "Tab\there \"quoted\" \\ caf\xc3\xa9 \x1b[31mred\x7f\r\n";
  esc(out, sizeof out, in, sizeof in - 1, OWT_ESCAPE_TEXT);
  assert_string_equal(out, "Tab\there \"quoted\" \\ caf\xc3\xa9 \\x1b[31mred\\x7f\\x0d\\x0a");
}

static void test_every_byte_round_trips(void **state) {
  (void)state;
  /* A field's escaping is unambiguous (a backslash is escaped too): decoding
   * \xNN back gives every input byte. */
  unsigned char in[256];
  char out[1100], back[256];
  for (int i = 0; i < 256; i++) in[i] = (unsigned char)i;
  size_t n = esc(out, sizeof out, (const char *)in, sizeof in, OWT_ESCAPE_FIELD);
  size_t k = 0;
  for (size_t i = 0; i < n && k < sizeof back; k++) {
    if (out[i] == '\\') {
      assert_int_equal(out[i + 1], 'x');
      back[k] = (char)(owt_hex_digit(out[i + 2]) * 16 + owt_hex_digit(out[i + 3]));
      i += 4;
    } else {
      back[k] = out[i++];
    }
  }
  assert_int_equal(k, 256);
  assert_memory_equal(back, in, 256);
}

static void test_cut_before_an_escape_never_inside(void **state) {
  (void)state;
  char out[8];
  /* "ab" then \x0a needs 4 more: 2 + 4 = 6 chars + NUL fits in 7, not in 6 */
  assert_int_equal(owt_escape(out, 7, OWT_STR_LIT("ab\nc"), OWT_ESCAPE_FIELD), 6);
  assert_string_equal(out, "ab\\x0a");
  assert_int_equal(owt_escape(out, 6, OWT_STR_LIT("ab\nc"), OWT_ESCAPE_FIELD), 2);
  assert_string_equal(out, "ab");
  assert_int_equal(owt_escape(out, 3, OWT_STR_LIT("abc"), OWT_ESCAPE_FIELD), 2);
  assert_string_equal(out, "ab");
  assert_int_equal(owt_escape(out, 1, OWT_STR_LIT("abc"), OWT_ESCAPE_FIELD), 0);
  assert_string_equal(out, "");
  out[0] = 'x';
  assert_int_equal(owt_escape(out, 0, OWT_STR_LIT("abc"), OWT_ESCAPE_FIELD), 0);
  assert_int_equal(out[0], 'x'); /* cap 0: nothing written, not even a NUL */
  assert_int_equal(owt_escape(out, sizeof out, OWT_STR_NULL, OWT_ESCAPE_TEXT), 0);
  assert_string_equal(out, "");
}

static void test_field_helper(void **state) {
  (void)state;
  char out[16];
  assert_int_equal(owt_escape_field(out, sizeof out, OWT_STR_LIT("GET\n")), 7);
  assert_string_equal(out, "GET\\x0a");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_field_is_one_printable_word),
      cmocka_unit_test(test_text_keeps_tabs_and_utf8),
      cmocka_unit_test(test_every_byte_round_trips),
      cmocka_unit_test(test_cut_before_an_escape_never_inside),
      cmocka_unit_test(test_field_helper),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
