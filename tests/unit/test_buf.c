/* test_buf.c - owt_buf: the cap, growth, the terminator, fixed buffers. */
#include "owt_buf.h"
#include "unit.h"

static void test_init_is_empty(void **state) {
  (void)state;
  owt_buf b;
  owt_buf_init(&b, 10);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
  assert_int_equal(b.max, 10);
  /* an empty buffer still reads as an empty string */
  assert_non_null(owt_buf_str(&b).p);
  assert_int_equal(owt_buf_str(&b).len, 0);
  owt_buf_free(&b);
}

static void test_append_terminates(void **state) {
  (void)state;
  owt_buf b = OWT_BUF_INIT(100);
  assert_int_equal(owt_buf_append(&b, "abc", 3), OWT_OK);
  assert_int_equal(owt_buf_append_str(&b, "de"), OWT_OK);
  assert_int_equal(owt_buf_append_byte(&b, 'f'), OWT_OK);
  assert_int_equal(owt_buf_append(&b, NULL, 0), OWT_OK);
  assert_string_equal(b.data, "abcdef");
  assert_int_equal(b.len, 6);
  assert_true(b.cap > b.len);
  owt_buf_free(&b);

  /* even an empty append or reserve leaves a terminated string */
  owt_buf e = OWT_BUF_INIT(100);
  assert_int_equal(owt_buf_append(&e, "", 0), OWT_OK);
  assert_string_equal(e.data, "");
  owt_buf_free(&e);
  owt_buf r = OWT_BUF_INIT(100);
  assert_int_equal(owt_buf_reserve(&r, 50), OWT_OK);
  assert_non_null(r.data);
  assert_string_equal(r.data, "");
  assert_true(r.cap >= 51);
  owt_buf_free(&r);
}

static void test_binary_bytes(void **state) {
  (void)state;
  owt_buf b = OWT_BUF_INIT(100);
  assert_int_equal(owt_buf_append(&b, "a\0b", 3), OWT_OK);
  assert_int_equal(b.len, 3);
  assert_memory_equal(b.data, "a\0b\0", 4);
  owt_buf_free(&b);
}

static void test_cap(void **state) {
  (void)state;
  owt_buf b = OWT_BUF_INIT(4);
  assert_int_equal(owt_buf_append(&b, "abcd", 4), OWT_OK);
  assert_int_equal(owt_buf_append_byte(&b, 'e'), OWT_E_TOO_LARGE);
  assert_string_equal(b.data, "abcd");
  assert_int_equal(b.len, 4);
  assert_int_equal(owt_buf_append(&b, "", 0), OWT_OK);
  assert_int_equal(owt_buf_reserve(&b, 0), OWT_OK);
  assert_int_equal(owt_buf_reserve(&b, 1), OWT_E_TOO_LARGE);
  owt_buf_free(&b);

  owt_buf c = OWT_BUF_INIT(4);
  assert_int_equal(owt_buf_append(&c, "abcde", 5), OWT_E_TOO_LARGE);
  assert_int_equal(c.len, 0);
  assert_int_equal(owt_buf_reserve(&c, 5), OWT_E_TOO_LARGE);
  assert_int_equal(owt_buf_reserve(&c, 4), OWT_OK);
  owt_buf_free(&c);

  owt_buf zero = OWT_BUF_INIT(0);
  assert_int_equal(owt_buf_append_byte(&zero, 'x'), OWT_E_TOO_LARGE);
  assert_int_equal(owt_buf_append(&zero, "", 0), OWT_OK);
  assert_string_equal(zero.data, "");
  owt_buf_free(&zero);
}

static void test_reserve_overflow(void **state) {
  (void)state;
  owt_buf b = OWT_BUF_INIT(SIZE_MAX);
  assert_int_equal(owt_buf_append(&b, "0123456789", 10), OWT_OK);
  /* len + n would wrap around: refused, nothing allocated */
  assert_int_equal(owt_buf_reserve(&b, SIZE_MAX - 5), OWT_E_TOO_LARGE);
  assert_int_equal(owt_buf_reserve(&b, SIZE_MAX), OWT_E_TOO_LARGE);
  assert_string_equal(b.data, "0123456789");
  owt_buf_free(&b);
}

static void test_reserve_keeps_len(void **state) {
  (void)state;
  owt_buf b = OWT_BUF_INIT(1 << 20);
  assert_int_equal(owt_buf_append_str(&b, "hi"), OWT_OK);
  assert_int_equal(owt_buf_reserve(&b, 10001), OWT_OK);
  assert_int_equal(b.len, 2);
  assert_true(b.cap >= 10004);
  assert_string_equal(b.data, "hi");
  /* reserved room can be written directly */
  char *p = b.data;
  memset(b.data + b.len, 'x', 10000);
  b.len += 10000;
  b.data[b.len] = '\0';
  assert_int_equal(owt_buf_append_byte(&b, '!'), OWT_OK);
  assert_ptr_equal(b.data, p); /* reserved: the last byte needed no move */
  assert_int_equal(b.len, 10003);
  owt_buf_free(&b);
}

static void test_growth(void **state) {
  (void)state;
  owt_buf b = OWT_BUF_INIT(100000);
  for (int i = 0; i < 100000; i++)
    assert_int_equal(owt_buf_append_byte(&b, (char)('a' + i % 26)), OWT_OK);
  assert_int_equal(b.len, 100000);
  assert_int_equal(owt_buf_append_byte(&b, 'x'), OWT_E_TOO_LARGE);
  for (int i = 0; i < 100000; i++)
    if (b.data[i] != (char)('a' + i % 26)) fail_msg("byte %d", i);
  assert_int_equal(b.data[100000], '\0');
  owt_buf_free(&b);
}

static void test_printf(void **state) {
  (void)state;
  owt_buf b = OWT_BUF_INIT(32);
  assert_int_equal(owt_buf_printf(&b, "%s=%d", "n", 42), OWT_OK);
  assert_int_equal(owt_buf_printf(&b, ";%.*s", 3, "abcdef"), OWT_OK);
  assert_string_equal(b.data, "n=42;abc");
  assert_int_equal(b.len, 8);
  assert_int_equal(owt_buf_printf(&b, "%s", ""), OWT_OK);
  assert_int_equal(b.len, 8);
  /* over the cap: refused whole, nothing half-written */
  assert_int_equal(owt_buf_printf(&b, "%030d", 1), OWT_E_TOO_LARGE);
  assert_string_equal(b.data, "n=42;abc");
  assert_int_equal(b.len, 8);
  /* exactly to the cap */
  assert_int_equal(owt_buf_printf(&b, "%024d", 7), OWT_OK);
  assert_int_equal(b.len, 32);
  assert_int_equal(b.data[32], '\0');
  owt_buf_free(&b);

  owt_buf e = OWT_BUF_INIT(8);
  assert_int_equal(owt_buf_printf(&e, "%s", ""), OWT_OK);
  assert_non_null(e.data);
  assert_string_equal(e.data, "");
  owt_buf_free(&e);
}

static void test_printf_long(void **state) {
  (void)state;
  owt_buf b = OWT_BUF_INIT(1 << 16);
  char big[5000];
  memset(big, 'q', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_int_equal(owt_buf_append_str(&b, "<"), OWT_OK);
  assert_int_equal(owt_buf_printf(&b, "%s>", big), OWT_OK);
  assert_int_equal(b.len, 5001);
  assert_int_equal(b.data[0], '<');
  assert_int_equal(b.data[4999], 'q');
  assert_int_equal(b.data[5000], '>');
  assert_int_equal(b.data[5001], '\0');
  owt_buf_free(&b);
}

static void test_reset_keeps_memory(void **state) {
  (void)state;
  owt_buf b = OWT_BUF_INIT(1000);
  assert_int_equal(owt_buf_append_str(&b, "hello world"), OWT_OK);
  char *p = b.data;
  size_t cap = b.cap;
  owt_buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_ptr_equal(b.data, p);
  assert_int_equal(b.cap, cap);
  assert_int_equal(b.max, 1000);
  assert_string_equal(b.data, "");
  assert_int_equal(owt_buf_append_str(&b, "again"), OWT_OK);
  assert_ptr_equal(b.data, p);
  assert_string_equal(b.data, "again");
  owt_buf_free(&b);

  owt_buf never = OWT_BUF_INIT(10);
  owt_buf_reset(&never); /* nothing allocated yet: fine */
  assert_null(never.data);
}

static void test_free_then_reuse(void **state) {
  (void)state;
  owt_buf b = OWT_BUF_INIT(1000);
  assert_int_equal(owt_buf_append_str(&b, "hello"), OWT_OK);
  owt_buf_free(&b);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
  assert_int_equal(b.max, 1000);
  owt_buf_free(&b); /* twice is harmless */
  assert_int_equal(owt_buf_append_str(&b, "again"), OWT_OK);
  assert_string_equal(b.data, "again");
  owt_buf_free(&b);
}

static void test_fixed_never_reallocates(void **state) {
  (void)state;
  char mem[8];
  owt_buf b = OWT_BUF_FIXED(mem);
  assert_ptr_equal(b.data, mem);
  assert_int_equal(b.cap, 8);
  assert_int_equal(b.max, 7);
  assert_int_equal(owt_buf_append_str(&b, "abc"), OWT_OK);
  assert_int_equal(owt_buf_printf(&b, "%d", 1234), OWT_OK);
  assert_ptr_equal(b.data, mem);
  assert_string_equal(mem, "abc1234");
  assert_int_equal(owt_buf_append_byte(&b, 'x'), OWT_E_TOO_LARGE);
  assert_int_equal(owt_buf_printf(&b, "%s", "y"), OWT_E_TOO_LARGE);
  assert_int_equal(owt_buf_reserve(&b, 1), OWT_E_TOO_LARGE);
  assert_ptr_equal(b.data, mem);
  assert_string_equal(mem, "abc1234");
  owt_buf_reset(&b);
  assert_ptr_equal(b.data, mem);
  assert_int_equal(owt_buf_append(&b, "1234567", 7), OWT_OK);
  assert_ptr_equal(b.data, mem);
  assert_int_equal(owt_buf_append(&b, "", 0), OWT_OK);
  assert_ptr_equal(b.data, mem);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_init_is_empty),    cmocka_unit_test(test_append_terminates),
      cmocka_unit_test(test_binary_bytes),     cmocka_unit_test(test_cap),
      cmocka_unit_test(test_reserve_overflow), cmocka_unit_test(test_reserve_keeps_len),
      cmocka_unit_test(test_growth),           cmocka_unit_test(test_printf),
      cmocka_unit_test(test_printf_long),      cmocka_unit_test(test_reset_keeps_memory),
      cmocka_unit_test(test_free_then_reuse),  cmocka_unit_test(test_fixed_never_reallocates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
