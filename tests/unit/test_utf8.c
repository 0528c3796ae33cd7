/* test_utf8.c - owt_utf8_valid_text: RFC 3629 and no NUL bytes. */
#include "owt_utf8.h"
#include "unit.h"

typedef struct {
  const char *s;
  size_t len;
  int valid;
} utf8_case;

#define YES(s) \
  { (s), sizeof(s) - 1, 1 }
#define NO(s) \
  { (s), sizeof(s) - 1, 0 }

static const utf8_case cases[] = {
    YES(""),
    YES("abc"),
    YES("def run():\n\treturn 'hi'\r\n"),
    /* long ASCII runs, read eight bytes at a time, and what breaks them */
    YES("abcdefghijklmnopqrstuvwxyz0123456789"),
    YES("abcdefgh\xc3\xa9ijklmnopqrstuvw"),
    NO("abcdefghijklmno\x00p"),
    NO("abcdefgh\x00"),
    NO("abcdefghijklmnopq\xff"),
    NO("abcdefghijklmnop\xed\xa0\x80"),
    YES("\x7f"),
    YES("\xc2\x80"),         /* U+0080 */
    YES("\xc3\xa9"),         /* e acute */
    YES("\xdf\xbf"),         /* U+07FF */
    YES("\xe0\xa0\x80"),     /* U+0800 */
    YES("\xe2\x82\xac"),     /* euro sign */
    YES("\xed\x9f\xbf"),     /* U+D7FF, just below the surrogates */
    YES("\xee\x80\x80"),     /* U+E000, just above them */
    YES("\xef\xbf\xbf"),     /* U+FFFF */
    YES("\xf0\x90\x80\x80"), /* U+10000 */
    YES("\xf0\x9f\x98\x80"), /* an emoji */
    YES("\xf4\x8f\xbf\xbf"), /* U+10FFFF, the last code point */
    YES("a\xc3\xa9z\xe2\x82\xac"),
    NO("\0"),
    NO("abc\0"),
    NO("\0abc"),
    NO("\x80"), /* a lone continuation byte */
    NO("\xbf"),
    NO("a\x80z"),
    NO("\xc0\x80"),         /* overlong NUL */
    NO("\xc1\xbf"),         /* overlong */
    NO("\xe0\x80\x80"),     /* overlong */
    NO("\xe0\x9f\xbf"),     /* overlong */
    NO("\xf0\x80\x80\x80"), /* overlong */
    NO("\xf0\x8f\xbf\xbf"), /* overlong */
    NO("\xed\xa0\x80"),     /* U+D800, a surrogate */
    NO("\xed\xbf\xbf"),     /* U+DFFF */
    NO("\xf4\x90\x80\x80"), /* U+110000 */
    NO("\xf5\x80\x80\x80"),
    NO("\xf8\x88\x80\x80\x80"), /* 5-byte forms */
    NO("\xfe"),
    NO("\xff"),
    NO("\xc3"), /* truncated */
    NO("\xe2\x82"),
    NO("\xf0\x9f\x98"),
    NO("abc\xc3"),
    NO("\xc3\x28"), /* a continuation that is not one */
    NO("\xe2\x28\xa1"),
    NO("\xe2\x82\x28"),
    NO("\xf0\x90\x28\xbc"),
    NO("\xf0\x90\x80\x28"),
    NO("\xc3\xc3\xa9"),
};

static void test_table(void **state) {
  (void)state;
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    if (owt_utf8_valid_text(cases[i].s, cases[i].len) != cases[i].valid)
      fail_msg("case %zu (%zu bytes): want %s", i, cases[i].len,
               cases[i].valid ? "valid" : "invalid");
  }
}

/* The length is the end: a valid prefix of a longer buffer is valid, and a
 * sequence cut by the length is not. */
static void test_length_bounds(void **state) {
  (void)state;
  static const char s[] = "ab\xe2\x82\xac";
  assert_true(owt_utf8_valid_text(s, 5));
  assert_true(owt_utf8_valid_text(s, 2));
  assert_false(owt_utf8_valid_text(s, 3));
  assert_false(owt_utf8_valid_text(s, 4));
  assert_true(owt_utf8_valid_text(NULL, 0));
}

/* Every code point encodes to text the validator accepts; every surrogate does not. */
static void test_every_code_point(void **state) {
  (void)state;
  for (unsigned cp = 1; cp <= 0x10FFFF; cp++) {
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
      b[0] = (unsigned char)cp;
      n = 1;
    } else if (cp < 0x800) {
      b[0] = (unsigned char)(0xC0 | cp >> 6);
      b[1] = (unsigned char)(0x80 | (cp & 0x3F));
      n = 2;
    } else if (cp < 0x10000) {
      b[0] = (unsigned char)(0xE0 | cp >> 12);
      b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
      b[2] = (unsigned char)(0x80 | (cp & 0x3F));
      n = 3;
    } else {
      b[0] = (unsigned char)(0xF0 | cp >> 18);
      b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
      b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
      b[3] = (unsigned char)(0x80 | (cp & 0x3F));
      n = 4;
    }
    int want = !(cp >= 0xD800 && cp <= 0xDFFF);
    if (owt_utf8_valid_text((const char *)b, n) != want) fail_msg("U+%04X", cp);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_length_bounds),
      cmocka_unit_test(test_every_code_point),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
