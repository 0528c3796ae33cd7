/* test_auth.c - owt_auth: the table (--auth, OWT_AUTH, --auth-file), the
 * Basic header check, the constant-time compare and password hashing. */
#include <unistd.h>

#include "owt_auth.h"
#include "owt_b64.h"
#include "unit.h"

#define SECRET_HEX "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
#define HUNTER2_HEX "f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7"
#define EMPTY_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define PASS_COLON_HEX "1507e7f82a2b0181d415933d5c8a9ea43972e705486fcbe936a742f6ab4e17fe"

/* ---- hashing -------------------------------------------------------------------- */

static void test_hash_password(void **state) {
  (void)state;
  char hex[65];
  memset(hex, 'x', sizeof hex);
  owt_auth_hash_password("secret", 6, hex);
  assert_string_equal(hex, SECRET_HEX);
  owt_auth_hash_password("", 0, hex);
  assert_string_equal(hex, EMPTY_HEX);
  owt_auth_hash_password("hunter2 and more", 7, hex); /* a span: the length decides */
  assert_string_equal(hex, HUNTER2_HEX);
  owt_auth_hash_password("\xc3\xa9t\xc3\xa9", 5, hex);
  assert_string_equal(hex, "bd010c64132bf5cae8aea89f6762515727dcf68a5dd1de813c87f50a16c4513c");
}

/* ---- the constant-time compare -------------------------------------------------- */

static void test_digest_equal(void **state) {
  (void)state;
  unsigned char a[32], b[32];
  unit_fill_bytes(a, sizeof a, 11);
  memcpy(b, a, sizeof b);
  assert_true(owt_auth_digest_equal(a, b));
  assert_true(owt_auth_digest_equal(a, a));
  for (size_t i = 0; i < 32; i++) {
    for (unsigned bit = 0; bit < 8; bit++) {
      memcpy(b, a, sizeof b);
      b[i] ^= (unsigned char)(1u << bit);
      if (owt_auth_digest_equal(a, b)) fail_msg("byte %zu bit %u", i, bit);
    }
  }
  /* a difference in the last byte only */
  memcpy(b, a, sizeof b);
  b[31] ^= 0xff;
  assert_false(owt_auth_digest_equal(a, b));
  assert_false(owt_auth_digest_equal(b, a));
  unsigned char zero[32] = {0}, one[32] = {0};
  one[31] = 1;
  assert_true(owt_auth_digest_equal(zero, zero));
  assert_false(owt_auth_digest_equal(zero, one));
}

/* ---- the table ------------------------------------------------------------------ */

static void test_add(void **state) {
  (void)state;
  owt_auth a = {NULL, 0};
  const char *why = NULL;
  assert_int_equal(owt_auth_add(&a, OWT_STR_LIT("alice:" SECRET_HEX), &why), OWT_OK);
  assert_int_equal(owt_auth_add(&a, OWT_STR_LIT("  bob:" HUNTER2_HEX "\n"), &why), OWT_OK);
  /* upper-case hex and spaces around the digest are fine */
  assert_int_equal(
      owt_auth_add(
          &a,
          OWT_STR_LIT("carol: 2BB80D537B1DA3E38BD30361AA855686BDE0EACD7162FEF6A25FE97BF527A25B "),
          &why),
      OWT_OK);
  assert_int_equal(a.n, 3);
  assert_string_equal(a.entries[0].user, "alice");
  assert_string_equal(a.entries[1].user, "bob");
  assert_string_equal(a.entries[2].user, "carol");
  assert_int_equal(a.entries[0].digest[0], 0x2b);
  assert_int_equal(a.entries[0].digest[31], 0x5b);
  assert_memory_equal(a.entries[0].digest, a.entries[2].digest, 32);
  owt_auth_free(&a);
  assert_null(a.entries);
  assert_int_equal(a.n, 0);
  owt_auth_free(&a);
}

static void test_add_errors(void **state) {
  (void)state;
  char long_user[200];
  memset(long_user, 'u', 129);
  snprintf(long_user + 129, sizeof long_user - 129, ":%s", SECRET_HEX);
  char max_user[200];
  memset(max_user, 'u', 128);
  snprintf(max_user + 128, sizeof max_user - 128, ":%s", SECRET_HEX);
  const char *bad[] = {
      "",
      "alice",
      SECRET_HEX,
      ":" SECRET_HEX,
      "alice:",
      "alice:secret",
      "alice:" EMPTY_HEX "0",
      "alice:" EMPTY_HEX "00",
      "alice:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25",
      "alice:gbb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
      "alice:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25g",
      "alice:2bb80d537b1da3e38bd30361aa855686 de0eacd7162fef6a25fe97bf527a25b",
      "alice:0x"
      "b80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
      long_user,
  };
  owt_auth a = {NULL, 0};
  for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
    const char *why = NULL;
    if (owt_auth_add(&a, owt_str_of(bad[i]), &why) != OWT_E_BAD_REQUEST)
      fail_msg("accepted \"%s\"", bad[i]);
    assert_non_null(why);
    assert_int_equal(a.n, 0);
  }
  const char *why = NULL;
  assert_int_equal(owt_auth_add(&a, owt_str_of(max_user), &why), OWT_OK);
  assert_int_equal(strlen(a.entries[0].user), 128);
  owt_auth_free(&a);
}

static void test_add_list(void **state) {
  (void)state;
  owt_auth a = {NULL, 0};
  const char *why = NULL;
  assert_int_equal(owt_auth_add_list(&a, OWT_STR_LIT(""), &why), OWT_OK);
  assert_int_equal(a.n, 0);
  assert_int_equal(owt_auth_add_list(&a, OWT_STR_LIT(" , ,"), &why), OWT_OK);
  assert_int_equal(a.n, 0);
  assert_int_equal(
      owt_auth_add_list(&a, OWT_STR_LIT("alice:" SECRET_HEX ",bob:" HUNTER2_HEX), &why), OWT_OK);
  assert_int_equal(a.n, 2);
  assert_int_equal(
      owt_auth_add_list(&a, OWT_STR_LIT(" carol:" SECRET_HEX " , ,dave:" SECRET_HEX ","), &why),
      OWT_OK);
  assert_int_equal(a.n, 4);
  assert_string_equal(a.entries[3].user, "dave");
  /* a bad entry stops the list; the entries before it stay */
  why = NULL;
  assert_int_equal(
      owt_auth_add_list(&a, OWT_STR_LIT("erin:" SECRET_HEX ",frank:nothex,gina:" SECRET_HEX), &why),
      OWT_E_BAD_REQUEST);
  assert_non_null(why);
  assert_int_equal(a.n, 5);
  owt_auth_free(&a);
}

/* Write text to a fresh temporary file; path receives its name. */
static void write_temp(char path[64], const char *text) {
  snprintf(path, 64, "/tmp/owt-auth-test-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  size_t len = strlen(text);
  assert_int_equal(write(fd, text, len), (ssize_t)len);
  close(fd);
}

static void test_load_file(void **state) {
  (void)state;
  char path[64];
  write_temp(path,
             "# owt users\n"
             "\n"
             "alice:" SECRET_HEX
             "\n"
             "   # indented comment\n"
             "bob:" HUNTER2_HEX
             "\r\n"
             "\t\r\n"
             "carol:" SECRET_HEX); /* no final newline */
  owt_auth a = {NULL, 0};
  const char *why = NULL;
  int line = -1;
  assert_int_equal(owt_auth_load_file(&a, path, &why, &line), OWT_OK);
  assert_int_equal(a.n, 3);
  assert_string_equal(a.entries[1].user, "bob");
  assert_string_equal(a.entries[2].user, "carol");
  owt_auth_free(&a);
  unlink(path);
}

static void test_load_file_long_comment_and_spaced_user(void **state) {
  (void)state;
  char path[64];
  static char text[4096];
  size_t n = (size_t)snprintf(text, sizeof text, "# ");
  memset(text + n, 'x', 2000); /* longer than any fixed line buffer */
  n += 2000;
  snprintf(text + n, sizeof text - n, "\n alice :" SECRET_HEX "\n");
  write_temp(path, text);
  owt_auth a = {NULL, 0};
  const char *why = NULL;
  int line = -1;
  assert_int_equal(owt_auth_load_file(&a, path, &why, &line), OWT_OK);
  assert_int_equal(a.n, 1);
  assert_string_equal(a.entries[0].user, "alice"); /* "alice " would never match */
  owt_auth_free(&a);
  unlink(path);
}

static void test_load_file_errors(void **state) {
  (void)state;
  char path[64];
  write_temp(path, "# users\nalice:" SECRET_HEX "\nbob:not-a-digest\ncarol:" SECRET_HEX "\n");
  owt_auth a = {NULL, 0};
  const char *why = NULL;
  int line = -1;
  assert_int_equal(owt_auth_load_file(&a, path, &why, &line), OWT_E_BAD_REQUEST);
  assert_int_equal(line, 3);
  assert_non_null(why);
  owt_auth_free(&a);
  unlink(path);

  why = NULL;
  assert_int_equal(owt_auth_load_file(&a, "/nonexistent/owt/auth", &why, &line), OWT_E_NOT_FOUND);
  assert_non_null(why);
  assert_int_equal(a.n, 0);

  write_temp(path, "");
  assert_int_equal(owt_auth_load_file(&a, path, &why, &line), OWT_OK);
  assert_int_equal(a.n, 0);
  unlink(path);
}

/* ---- the check ------------------------------------------------------------------ */

static int setup_table(void **state) {
  owt_auth *a = calloc(1, sizeof *a);
  const char *why = NULL;
  if (!a) return -1;
  if (owt_auth_add_list(a,
                        OWT_STR_LIT("alice:" SECRET_HEX ",bob:" HUNTER2_HEX ",carol:" EMPTY_HEX
                                    ",dan:" PASS_COLON_HEX),
                        &why) != OWT_OK)
    return -1;
  *state = a;
  return 0;
}

static int teardown_table(void **state) {
  owt_auth_free(*state);
  free(*state);
  return 0;
}

/* "Basic " + base64(credentials) into out. */
static void basic(owt_buf *out, const char *scheme, const char *credentials, size_t len) {
  owt_buf_reset(out);
  assert_int_equal(owt_buf_append_str(out, scheme), OWT_OK);
  assert_int_equal(owt_b64_encode(credentials, len, out), OWT_OK);
}

static owt_err check(const owt_auth *a, const char *scheme, const char *credentials,
                     owt_buf *user) {
  owt_buf h = OWT_BUF_INIT(1 << 20);
  basic(&h, scheme, credentials, strlen(credentials));
  owt_err err = owt_auth_check(a, owt_buf_str(&h), user);
  owt_buf_free(&h);
  return err;
}

static void test_check_right_credentials(void **state) {
  const owt_auth *a = *state;
  owt_buf user = OWT_BUF_INIT(OWT_AUTH_USER_MAX);
  assert_int_equal(check(a, "Basic ", "alice:secret", &user), OWT_OK);
  assert_span_equal(owt_buf_str(&user), "alice");
  owt_buf_reset(&user);
  assert_int_equal(check(a, "Basic ", "bob:hunter2", &user), OWT_OK);
  assert_span_equal(owt_buf_str(&user), "bob");
  owt_buf_reset(&user);
  /* the password is everything after the first colon */
  assert_int_equal(check(a, "Basic ", "dan:pa:ss", &user), OWT_OK);
  assert_span_equal(owt_buf_str(&user), "dan");
  owt_buf_reset(&user);
  /* the scheme is case-insensitive; whitespace around the value is not a problem */
  assert_int_equal(check(a, "basic ", "alice:secret", &user), OWT_OK);
  assert_int_equal(check(a, "BASIC  ", "alice:secret", NULL), OWT_OK);
  assert_int_equal(owt_auth_check(a, OWT_STR_LIT("  Basic YWxpY2U6c2VjcmV0 \r\n"), NULL), OWT_OK);
  /* unpadded and URL-safe base64 are still base64 */
  assert_int_equal(owt_auth_check(a, OWT_STR_LIT("Basic Ym9iOmh1bnRlcjI"), NULL), OWT_OK);
  owt_buf_free(&user);
}

static void test_check_refused(void **state) {
  const owt_auth *a = *state;
  static const char *const headers[] = {
      "",
      "   ",
      "Basic",
      "Basic ",
      "Basic    ",
      "Bearer YWxpY2U6c2VjcmV0",
      "Digest YWxpY2U6c2VjcmV0",
      "BasicYWxpY2U6c2VjcmV0",
      "Basic: YWxpY2U6c2VjcmV0",
      "Basic YWxpY2U6c2VjcmV0!", /* bad base64 */
      "Basic YWxpY2U6c2VjcmV0=", /* impossible padding */
      "Basic %%%%",
      "Basic YWxpY2U6c2VjcmV0 YWxp", /* " " is '+' to the decoder: wrong bytes */
      "Basic YWxpY2VzZWNyZXQ=",      /* "alicesecret": no colon */
      "Basic YWxpY2U6",              /* "alice:": empty password */
      "Basic OnNlY3JldA==",          /* ":secret": empty user */
      "Basic YWxpY2U6d3Jvbmc=",      /* "alice:wrong" */
      "Basic YWxpY2U6U2VjcmV0",      /* "alice:Secret" */
      "Basic YWxpY2U6c2VjcmV0IA==",  /* "alice:secret " */
      "Basic bWFsbG9yeTpzZWNyZXQ=",  /* "mallory:secret": unknown user */
      "Basic QWxpY2U6c2VjcmV0",      /* "Alice:secret": names are exact */
      "Basic YWxpYzpzZWNyZXQ=",      /* "alic:secret" */
      "Basic Ym9iOnNlY3JldA==",      /* "bob:secret": alice's password */
  };
  for (size_t i = 0; i < ARRAY_LEN(headers); i++) {
    owt_buf user = OWT_BUF_INIT(OWT_AUTH_USER_MAX);
    if (owt_auth_check(a, owt_str_of(headers[i]), &user) != OWT_E_UNAUTHORIZED)
      fail_msg("accepted \"%s\"", headers[i]);
    assert_int_equal(user.len, 0);
    owt_buf_free(&user);
  }
  assert_int_equal(owt_auth_check(a, OWT_STR_NULL, NULL), OWT_E_UNAUTHORIZED);
}

/* An empty password never passes, even when the table holds sha256(""). */
static void test_check_empty_password(void **state) {
  const owt_auth *a = *state;
  assert_int_equal(check(a, "Basic ", "carol:", NULL), OWT_E_UNAUTHORIZED);
  assert_int_equal(check(a, "Basic ", "carol", NULL), OWT_E_UNAUTHORIZED);
}

static void test_check_binary_credentials(void **state) {
  const owt_auth *a = *state;
  owt_buf h = OWT_BUF_INIT(1024);
  /* a NUL inside the user name does not shorten it to a known one */
  basic(&h, "Basic ", "alice\0x:secret", 14);
  assert_int_equal(owt_auth_check(a, owt_buf_str(&h), NULL), OWT_E_UNAUTHORIZED);
  basic(&h, "Basic ", "alice:secret\0", 13);
  assert_int_equal(owt_auth_check(a, owt_buf_str(&h), NULL), OWT_E_UNAUTHORIZED);
  owt_buf_free(&h);
}

static void test_check_oversized(void **state) {
  const owt_auth *a = *state;
  /* a 64 KiB header of valid base64 */
  size_t n = 64 << 10;
  owt_buf h = OWT_BUF_INIT(n + 16);
  assert_int_equal(owt_buf_append_str(&h, "Basic "), OWT_OK);
  while (h.len < n) assert_int_equal(owt_buf_append_str(&h, "YWxp"), OWT_OK);
  assert_int_equal(owt_auth_check(a, owt_buf_str(&h), NULL), OWT_E_UNAUTHORIZED);

  /* right credentials followed by 64 KiB of padding-free noise */
  basic(&h, "Basic ", "alice:secret", 12);
  while (h.len < n) assert_int_equal(owt_buf_append_byte(&h, 'A'), OWT_OK);
  assert_int_equal(owt_auth_check(a, owt_buf_str(&h), NULL), OWT_E_UNAUTHORIZED);

  /* a long password that fits is checked normally */
  char pw[3000];
  memcpy(pw, "alice:", 6);
  memset(pw + 6, 'p', sizeof pw - 7);
  pw[sizeof pw - 1] = '\0';
  assert_int_equal(check(a, "Basic ", pw, NULL), OWT_E_UNAUTHORIZED);
  owt_buf_free(&h);
}

static void test_check_user_buffer_full(void **state) {
  const owt_auth *a = *state;
  char mem[4];
  owt_buf user = OWT_BUF_FIXED(mem);
  /* right credentials, but the name does not fit the caller's buffer */
  assert_int_not_equal(check(a, "Basic ", "alice:secret", &user), OWT_OK);
  assert_int_equal(check(a, "Basic ", "bob:hunter2", &user), OWT_OK);
  assert_string_equal(mem, "bob");
}

static void test_check_empty_table(void **state) {
  (void)state;
  owt_auth none = {NULL, 0};
  assert_false(owt_auth_enabled(&none));
  assert_int_equal(check(&none, "Basic ", "alice:secret", NULL), OWT_E_UNAUTHORIZED);
  assert_int_equal(check(&none, "Basic ", ":", NULL), OWT_E_UNAUTHORIZED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_password),
      cmocka_unit_test(test_digest_equal),
      cmocka_unit_test(test_add),
      cmocka_unit_test(test_add_errors),
      cmocka_unit_test(test_add_list),
      cmocka_unit_test(test_load_file),
      cmocka_unit_test(test_load_file_long_comment_and_spaced_user),
      cmocka_unit_test(test_load_file_errors),
      cmocka_unit_test_setup_teardown(test_check_right_credentials, setup_table, teardown_table),
      cmocka_unit_test_setup_teardown(test_check_refused, setup_table, teardown_table),
      cmocka_unit_test_setup_teardown(test_check_empty_password, setup_table, teardown_table),
      cmocka_unit_test_setup_teardown(test_check_binary_credentials, setup_table, teardown_table),
      cmocka_unit_test_setup_teardown(test_check_oversized, setup_table, teardown_table),
      cmocka_unit_test_setup_teardown(test_check_user_buffer_full, setup_table, teardown_table),
      cmocka_unit_test(test_check_empty_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
