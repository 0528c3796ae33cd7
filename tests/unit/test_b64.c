/* test_b64.c - owt_b64: every variant clients send, and what is refused. */
#include "owt_b64.h"
#include "unit.h"

typedef struct {
  const char *in;
  size_t in_len;
  const char *out;
  size_t out_len;
  owt_err err;
} b64_case;

#define DEC_OK(i, o) \
  { (i), sizeof(i) - 1, (o), sizeof(o) - 1, OWT_OK }
#define DEC_BAD(i) \
  { (i), sizeof(i) - 1, "", 0, OWT_E_BAD_REQUEST }

static const b64_case decode_cases[] = {
    /* RFC 4648 vectors, padded and not */
    DEC_OK("", ""),
    DEC_OK("Zg==", "f"),
    DEC_OK("Zg", "f"),
    DEC_OK("Zm8=", "fo"),
    DEC_OK("Zm8", "fo"),
    DEC_OK("Zm9v", "foo"),
    DEC_OK("Zm9vYg==", "foob"),
    DEC_OK("Zm9vYg", "foob"),
    DEC_OK("Zm9vYmE=", "fooba"),
    DEC_OK("Zm9vYmE", "fooba"),
    DEC_OK("Zm9vYmFy", "foobar"),
    /* standard, URL-safe, mixed, and '+' that arrived as ' ' */
    DEC_OK("+/+/", "\xfb\xff\xbf"),
    DEC_OK("-_-_", "\xfb\xff\xbf"),
    DEC_OK("+_-/", "\xfb\xff\xbf"),
    DEC_OK(" / /", "\xfb\xff\xbf"),
    DEC_OK(" _-/", "\xfb\xff\xbf"),
    DEC_OK("+/8=", "\xfb\xff"),
    DEC_OK("-_8", "\xfb\xff"),
    DEC_OK("AAAA", "\0\0\0"),
    /* CR, LF and TAB are skipped anywhere, padding included */
    DEC_OK("Zm9v\nYmFy", "foobar"),
    DEC_OK("Zm9v\r\nYmFy\r\n", "foobar"),
    DEC_OK("\tZm9vYmFy\t", "foobar"),
    DEC_OK("Zm9vYmFy\n", "foobar"),
    DEC_OK("Z\nm\r9\tv", "foo"),
    DEC_OK("Zm9vYg=\n=", "foob"),
    DEC_OK("Zm9vYg=\r\n=\r\n", "foob"),
    DEC_OK("\n", ""),
    DEC_OK("\r\n\t", ""),
    /* unused low bits are ignored, as Python's non-strict decoder does */
    DEC_OK("Zh==", "f"),
    DEC_OK("Zm9=", "fo"),
    /* bytes that are not base64 */
    DEC_BAD("Zm9v!"),
    DEC_BAD("Zm9v."),
    DEC_BAD("Zm9v$YmFy"),
    DEC_BAD("Zm9v\0YmFy"),
    DEC_BAD("\0"),
    DEC_BAD("Zm9v\xc3\xa9"),
    DEC_BAD("Zm9v\v"),
    DEC_BAD("Zm9v\f"),
    DEC_BAD("Zm9v%2B"),
    DEC_BAD("Zm9v\x80"),
    DEC_BAD("Zm9v\xff"),
    /* data after padding */
    DEC_BAD("Zg==Zg=="),
    DEC_BAD("Zg=a"),
    DEC_BAD("Zm8=Zm9v"),
    DEC_BAD("Zg==\nZg"),
    /* lengths base64 cannot have, and padding that does not fit */
    DEC_BAD("Z"),
    DEC_BAD("Zm9vY"),
    DEC_BAD("Zm9vY="),
    DEC_BAD("Zm9vY=="),
    DEC_BAD("="),
    DEC_BAD("=="),
    DEC_BAD("===="),
    DEC_BAD("Zg="),
    DEC_BAD("Zg==="),
    DEC_BAD("Zm8=="),
    DEC_BAD("Zm9v="),
    DEC_BAD("Zm9v===="),
};

static void test_decode_table(void **state) {
  (void)state;
  for (size_t i = 0; i < ARRAY_LEN(decode_cases); i++) {
    const b64_case *c = &decode_cases[i];
    owt_buf out = OWT_BUF_INIT(1024);
    owt_err err = owt_b64_decode(c->in, c->in_len, &out);
    if (err != c->err)
      fail_msg("case %zu \"%.*s\": err %d, want %d", i, (int)c->in_len, c->in, err, c->err);
    if (err == OWT_OK) {
      if (out.len != c->out_len || (c->out_len && memcmp(out.data, c->out, c->out_len) != 0))
        fail_msg("case %zu \"%.*s\": wrong bytes (%zu, want %zu)", i, (int)c->in_len, c->in,
                 out.len, c->out_len);
      assert_int_equal(out.data[out.len], '\0');
    } else {
      assert_int_equal(out.len, 0);
    }
    owt_buf_free(&out);
  }
}

static void test_decode_null_empty(void **state) {
  (void)state;
  owt_buf out = OWT_BUF_INIT(16);
  assert_int_equal(owt_b64_decode(NULL, 0, &out), OWT_OK);
  assert_int_equal(out.len, 0);
  owt_buf_free(&out);
}

/* Insert sep every 76 characters and at the end, as `base64` does. */
static void wrap76(owt_str in, const char *sep, owt_buf *out) {
  for (size_t i = 0; i < in.len; i += 76) {
    size_t n = in.len - i < 76 ? in.len - i : 76;
    assert_int_equal(owt_buf_append(out, in.p + i, n), OWT_OK);
    assert_int_equal(owt_buf_append_str(out, sep), OWT_OK);
  }
}

static void test_decode_wrapped(void **state) {
  (void)state;
  static const char *const seps[] = {"\n", "\r\n"};
  unsigned char bytes[256];
  for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (unsigned char)i;
  owt_buf enc = OWT_BUF_INIT(4096);
  assert_int_equal(owt_b64_encode(bytes, sizeof bytes, &enc), OWT_OK);
  assert_int_equal(enc.len, 344);
  for (size_t s = 0; s < ARRAY_LEN(seps); s++) {
    owt_buf wrapped = OWT_BUF_INIT(4096), out = OWT_BUF_INIT(4096);
    wrap76(owt_buf_str(&enc), seps[s], &wrapped);
    assert_non_null(memchr(wrapped.data, '\n', wrapped.len));
    assert_int_equal(owt_b64_decode(wrapped.data, wrapped.len, &out), OWT_OK);
    assert_buf_bytes(&out, bytes, sizeof bytes);
    owt_buf_free(&wrapped);
    owt_buf_free(&out);
  }
  owt_buf_free(&enc);
}

/* The same bytes in URL-safe form without padding, wrapped: still decodes. */
static void test_decode_urlsafe_unpadded_wrapped(void **state) {
  (void)state;
  unsigned char bytes[200];
  unit_fill_bytes(bytes, sizeof bytes, 7);
  owt_buf enc = OWT_BUF_INIT(4096), url = OWT_BUF_INIT(4096), wrapped = OWT_BUF_INIT(4096),
          out = OWT_BUF_INIT(4096);
  assert_int_equal(owt_b64_encode(bytes, sizeof bytes, &enc), OWT_OK);
  for (size_t i = 0; i < enc.len; i++) {
    char c = enc.data[i] == '+' ? '-' : enc.data[i] == '/' ? '_' : enc.data[i];
    if (c != '=') assert_int_equal(owt_buf_append_byte(&url, c), OWT_OK);
  }
  assert_null(memchr(url.data, '=', url.len));
  wrap76(owt_buf_str(&url), "\r\n", &wrapped);
  assert_int_equal(owt_b64_decode(wrapped.data, wrapped.len, &out), OWT_OK);
  assert_buf_bytes(&out, bytes, sizeof bytes);
  owt_buf_free(&enc);
  owt_buf_free(&url);
  owt_buf_free(&wrapped);
  owt_buf_free(&out);
}

static void prefill(owt_buf *b, const char *s) {
  assert_int_equal(owt_buf_append_str(b, s), OWT_OK);
}

static void test_decode_appends(void **state) {
  (void)state;
  owt_buf out = OWT_BUF_INIT(64);
  prefill(&out, "x");
  assert_int_equal(owt_b64_decode("Zm9v", 4, &out), OWT_OK);
  assert_span_equal(owt_buf_str(&out), "xfoo");
  owt_buf_free(&out);
}

static void test_decode_cap(void **state) {
  (void)state;
  /* over the cap: OWT_E_TOO_LARGE, earlier contents intact */
  owt_buf out = OWT_BUF_INIT(5);
  prefill(&out, "abc");
  assert_int_equal(owt_b64_decode("Zm9v", 4, &out), OWT_E_TOO_LARGE);
  assert_span_equal(owt_buf_str(&out), "abc");
  assert_int_equal(out.data[3], '\0');
  owt_buf_free(&out);

  /* the cap is reached only after some output was appended */
  out = (owt_buf)OWT_BUF_INIT(3);
  assert_int_equal(owt_b64_decode("Zm9vYmFy", 8, &out), OWT_E_TOO_LARGE);
  assert_int_equal(out.len, 0);
  owt_buf_free(&out);

  /* exactly at the cap fits, although the up-front estimate does not */
  out = (owt_buf)OWT_BUF_INIT(6);
  prefill(&out, "abc");
  assert_int_equal(owt_b64_decode("Zm9v", 4, &out), OWT_OK);
  assert_span_equal(owt_buf_str(&out), "abcfoo");
  owt_buf_free(&out);

  out = (owt_buf)OWT_BUF_INIT(1);
  assert_int_equal(owt_b64_decode("Zg==", 4, &out), OWT_OK);
  assert_span_equal(owt_buf_str(&out), "f");
  assert_int_equal(owt_b64_decode("Zg==", 4, &out), OWT_E_TOO_LARGE);
  assert_span_equal(owt_buf_str(&out), "f");
  owt_buf_free(&out);
}

static void test_decode_bad_restores(void **state) {
  (void)state;
  owt_buf out = OWT_BUF_INIT(100);
  prefill(&out, "abc");
  assert_int_equal(owt_b64_decode("Zm9vYmFy!", 9, &out), OWT_E_BAD_REQUEST);
  assert_span_equal(owt_buf_str(&out), "abc");
  assert_int_equal(out.data[3], '\0');
  assert_int_equal(owt_b64_decode("Zm9vYmFyZ", 9, &out), OWT_E_BAD_REQUEST);
  assert_span_equal(owt_buf_str(&out), "abc");
  owt_buf_free(&out);
}

static void test_decode_fixed_buffer(void **state) {
  (void)state;
  char mem[4];
  owt_buf out = OWT_BUF_FIXED(mem);
  assert_int_equal(owt_b64_decode("Zm9v", 4, &out), OWT_OK);
  assert_ptr_equal(out.data, mem);
  assert_string_equal(mem, "foo");
  owt_buf_reset(&out);
  assert_int_equal(owt_b64_decode("Zm9vYg==", 8, &out), OWT_E_TOO_LARGE);
  assert_ptr_equal(out.data, mem);
  assert_int_equal(out.len, 0);
}

/* ---- encoding ----------------------------------------------------------------- */

static void test_encode_vectors(void **state) {
  (void)state;
  static const struct {
    const char *in, *out;
  } v[] = {{"", ""},
           {"f", "Zg=="},
           {"fo", "Zm8="},
           {"foo", "Zm9v"},
           {"foob", "Zm9vYg=="},
           {"fooba", "Zm9vYmE="},
           {"foobar", "Zm9vYmFy"},
           {"\xfb\xff\xbf", "+/+/"}};
  for (size_t i = 0; i < ARRAY_LEN(v); i++) {
    owt_buf out = OWT_BUF_INIT(64);
    assert_int_equal(owt_b64_encode(v[i].in, strlen(v[i].in), &out), OWT_OK);
    assert_span_equal(owt_buf_str(&out), v[i].out);
    assert_non_null(out.data);
    assert_int_equal(out.data[out.len], '\0');
    owt_buf_free(&out);
  }
}

static void test_encode_round_trips(void **state) {
  (void)state;
  unsigned char bytes[300];
  for (size_t n = 0; n <= sizeof bytes; n++) {
    unit_fill_bytes(bytes, n, (uint32_t)n + 1);
    owt_buf enc = OWT_BUF_INIT(1024), dec = OWT_BUF_INIT(1024);
    assert_int_equal(owt_b64_encode(bytes, n, &enc), OWT_OK);
    assert_int_equal(enc.len, (n + 2) / 3 * 4);
    assert_int_equal(owt_b64_decode(enc.data, enc.len, &dec), OWT_OK);
    assert_buf_bytes(&dec, bytes, n);
    owt_buf_free(&enc);
    owt_buf_free(&dec);
  }
}

static void test_encode_appends_and_cap(void **state) {
  (void)state;
  owt_buf out = OWT_BUF_INIT(9);
  prefill(&out, "ab");
  assert_int_equal(owt_b64_encode("foo", 3, &out), OWT_OK);
  assert_span_equal(owt_buf_str(&out), "abZm9v");
  assert_int_equal(owt_b64_encode("foo", 3, &out), OWT_E_TOO_LARGE);
  assert_span_equal(owt_buf_str(&out), "abZm9v");
  owt_buf_free(&out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decode_table),
      cmocka_unit_test(test_decode_null_empty),
      cmocka_unit_test(test_decode_wrapped),
      cmocka_unit_test(test_decode_urlsafe_unpadded_wrapped),
      cmocka_unit_test(test_decode_appends),
      cmocka_unit_test(test_decode_cap),
      cmocka_unit_test(test_decode_bad_restores),
      cmocka_unit_test(test_decode_fixed_buffer),
      cmocka_unit_test(test_encode_vectors),
      cmocka_unit_test(test_encode_round_trips),
      cmocka_unit_test(test_encode_appends_and_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
