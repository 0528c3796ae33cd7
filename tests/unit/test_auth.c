/* test_auth.c - owt_auth: the table (--auth, OWT_AUTH, --auth-file), the
 * Basic header check, the constant-time compare and password hashing;
 * owt_passwd: stored hashes (SHA-256, yescrypt, bcrypt) and --hash-password;
 * owt_auth_cache: the verified-credentials cache.
 *
 * Linked with --wrap=CRYPTO_memcmp,--wrap=crypt_rn: the wrappers count the
 * calls the library makes, so a test can see how much work a check did
 * (every entry compared, one slow hash or none) without timing anything. */
#include <pthread.h>
#include <unistd.h>

#include "owt_auth.h"
#include "owt_auth_cache.h"
#include "owt_b64.h"
#include "owt_passwd.h"
#include "unit.h"

/* ---- call counters ---------------------------------------------------------------- */

int __real_CRYPTO_memcmp(const void *a, const void *b, size_t n);
int __wrap_CRYPTO_memcmp(const void *a, const void *b, size_t n);
char *__real_crypt_rn(const char *phrase, const char *setting, void *data, int size);
char *__wrap_crypt_rn(const char *phrase, const char *setting, void *data, int size);

static _Atomic long memcmp_calls, crypt_calls;

int __wrap_CRYPTO_memcmp(const void *a, const void *b, size_t n) {
  memcmp_calls++;
  return __real_CRYPTO_memcmp(a, b, n);
}

char *__wrap_crypt_rn(const char *phrase, const char *setting, void *data, int size) {
  crypt_calls++;
  return __real_crypt_rn(phrase, setting, data, size);
}

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
  owt_auth a = {0};
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
  assert_int_equal(a.entries[0].pw.kind, OWT_PASSWD_SHA256);
  assert_int_equal(a.entries[0].pw.digest[0], 0x2b);
  assert_int_equal(a.entries[0].pw.digest[31], 0x5b);
  assert_memory_equal(a.entries[0].pw.digest, a.entries[2].pw.digest, 32);
  assert_null(a.cache); /* SHA-256 entries only: nothing slow to remember */
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
  owt_auth a = {0};
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
  owt_auth a = {0};
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
  owt_auth a = {0};
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
  owt_auth a = {0};
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
  owt_auth a = {0};
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
  owt_auth none = {0};
  assert_false(owt_auth_enabled(&none));
  assert_int_equal(check(&none, "Basic ", "alice:secret", NULL), OWT_E_UNAUTHORIZED);
  assert_int_equal(check(&none, "Basic ", ":", NULL), OWT_E_UNAUTHORIZED);
}

/* ---- stored hashes (owt_passwd) ------------------------------------------------------ */

/* crypt("pw") by libxcrypt, one per accepted method */
#define PW_YESCRYPT "$y$j9T$TEJDWwdJcV.w5VW/nhMM9.$gU3/EJLV6jBtqW3B0749wwjFHoYQLsXKGzQw8FFXUv4"
#define PW_BCRYPT "$2b$05$GjNAyPnir8Pbf0m8oGO7YOYfI2Ec9XnG7zIdfFmL4ncap2c7CJRz2"
#define PW_SHA512CRYPT \
  "$6$Tb9rk7xVOP639z4W$S4IfO.OmcoeoHasJ8.Mrea2Yr9uVpKv2/HIAUdBCnoiEEXSEfgFsC.MQV9zBCoU1yymiZBgBqrVN6o8zIBSm.1"
#define PW_SCRYPT "$7$CU..../....wHQVt1cKq/27lWsO1Lah91$k3D9ImIp8YLYuSaYnXl2Vag2I7jeE3kMmX15o4TA5O6"

static void test_passwd_parse(void **state) {
  (void)state;
  static const char *const good[] = {PW_YESCRYPT, PW_BCRYPT, PW_SHA512CRYPT, PW_SCRYPT, SECRET_HEX};
  static const char *const bad[] = {
      "$1$W2fQAmhY$m90uWRMx4qhHs9nTIX8H.1",                           /* md5crypt: legacy */
      "$5$7OUit6jdgWrD3Nzy$sNh8/DABfDqXxiQ03tloelEQ6FqgzLpk2nS1t2xZvx0", /* sha256crypt: legacy */
      "VSnyrIX6N9ySw",                                                /* DES */
      "_J9..EkOi0I6W72a7efU",                                         /* BSDi */
      "$2b$05$GjNAyPnir8Pbf0m8oGO7YO",                                /* a bcrypt salt, no hash */
      "$y$j9T$TEJDWwdJcV.w5VW/nhMM9.",                                /* a yescrypt salt, no hash */
      "$y$j9T$TEJDWwdJcV.w5VW/nhMM9.$",                               /* an empty hash */
      "$2a$05$GjNAyPnir8Pbf0m8oGO7YOYfI2Ec9XnG7zIdfFmL4ncap2c7CJRz2", /* $2a$: not accepted */
      "$y$j9T$TEJDWwdJcV.w5VW/nhMM9.$gU3/EJLV6jBtqW3B0749wwjFHoYQLsXKGzQw8FFXUv4x", /* one too many */
      "$y$j9T$TEJDWwdJcV.w5VW/nhMM9.$gU3/EJLV6jBtqW3B0749wwjFHoYQLsXKGzQw8FFXUv", /* one too few */
      "$y$j9T$TEJDWwdJcV.w5VW/nhM:9.$gU3/EJLV6jBtqW3B0749wwjFHoYQLsXKGzQw8FFXUv4", /* not crypt's alphabet */
      "$9$whatever$x",
      "$",
      "",
      "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25",
  };
  for (size_t i = 0; i < ARRAY_LEN(good); i++) {
    owt_passwd pw;
    const char *why = NULL;
    if (owt_passwd_parse(owt_str_of(good[i]), &pw, &why) != OWT_OK) fail_msg("refused %s: %s", good[i], why);
    assert_int_equal(pw.kind, good[i][0] == '$' ? OWT_PASSWD_CRYPT : OWT_PASSWD_SHA256);
    assert_int_equal(owt_passwd_verify(&pw, "pw", 2), good[i][0] == '$' ? OWT_OK : OWT_E_UNAUTHORIZED);
  }
  for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
    owt_passwd pw;
    const char *why = NULL;
    if (owt_passwd_parse(owt_str_of(bad[i]), &pw, &why) != OWT_E_BAD_REQUEST) fail_msg("accepted %s", bad[i]);
    assert_non_null(why);
  }
  char long_hash[400];
  memset(long_hash, 'a', sizeof long_hash - 1);
  memcpy(long_hash, "$y$", 3);
  long_hash[sizeof long_hash - 1] = '\0';
  owt_passwd pw;
  const char *why = NULL;
  assert_int_equal(owt_passwd_parse(owt_str_of(long_hash), &pw, &why), OWT_E_BAD_REQUEST);
}

static void test_passwd_verify(void **state) {
  (void)state;
  static const char *const hashes[] = {PW_YESCRYPT, PW_BCRYPT, PW_SHA512CRYPT, PW_SCRYPT};
  for (size_t i = 0; i < ARRAY_LEN(hashes); i++) {
    owt_passwd pw;
    const char *why = NULL;
    assert_int_equal(owt_passwd_parse(owt_str_of(hashes[i]), &pw, &why), OWT_OK);
    assert_int_equal(owt_passwd_verify(&pw, "pw", 2), OWT_OK);
    assert_int_equal(owt_passwd_verify(&pw, "pw and more", 2), OWT_OK); /* a span: the length decides */
    assert_int_equal(owt_passwd_verify(&pw, "pW", 2), OWT_E_UNAUTHORIZED);
    assert_int_equal(owt_passwd_verify(&pw, "p", 1), OWT_E_UNAUTHORIZED);
    assert_int_equal(owt_passwd_verify(&pw, "pw ", 3), OWT_E_UNAUTHORIZED);
    assert_int_equal(owt_passwd_verify(&pw, "", 0), OWT_E_UNAUTHORIZED);
    assert_int_equal(owt_passwd_verify(&pw, "pw\0x", 4), OWT_E_UNAUTHORIZED); /* crypt(3) would stop at the NUL */
    assert_int_equal(owt_passwd_verify(&pw, "pw\0", 3), OWT_E_UNAUTHORIZED);
  }
}

static void test_passwd_make(void **state) {
  (void)state;
  static const struct {
    owt_passwd_format format;
    unsigned long cost;
    const char *prefix;
  } rows[] = {
      {OWT_PASSWD_MAKE_YESCRYPT, 1, "$y$"},
      {OWT_PASSWD_MAKE_BCRYPT, 4, "$2b$04$"},
      {OWT_PASSWD_MAKE_SHA256, 0, ""},
  };
  for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
    char a[OWT_PASSWD_HASH_MAX + 1], b[OWT_PASSWD_HASH_MAX + 1];
    const char *why = NULL;
    owt_passwd pw;
    assert_int_equal(owt_passwd_make(rows[i].format, rows[i].cost, "s3cret pass", 11, a, sizeof a, &why), OWT_OK);
    assert_int_equal(owt_passwd_make(rows[i].format, rows[i].cost, "s3cret pass", 11, b, sizeof b, &why), OWT_OK);
    assert_int_equal(strncmp(a, rows[i].prefix, strlen(rows[i].prefix)), 0);
    if (rows[i].format == OWT_PASSWD_MAKE_SHA256) assert_string_equal(a, b);
    else assert_string_not_equal(a, b); /* a fresh salt each time */
    assert_int_equal(owt_passwd_parse(owt_str_of(a), &pw, &why), OWT_OK); /* what --auth takes */
    assert_int_equal(owt_passwd_verify(&pw, "s3cret pass", 11), OWT_OK);
    assert_int_equal(owt_passwd_verify(&pw, "s3cret pasS", 11), OWT_E_UNAUTHORIZED);
    assert_int_equal(owt_passwd_make(rows[i].format, rows[i].cost, "", 0, a, sizeof a, &why), OWT_E_BAD_REQUEST);
  }
  char out[OWT_PASSWD_HASH_MAX + 1], hex[65];
  const char *why = NULL;
  assert_int_equal(owt_passwd_make(OWT_PASSWD_MAKE_YESCRYPT, 1, "a\0b", 3, out, sizeof out, &why),
                   OWT_E_BAD_REQUEST);
  assert_int_equal(owt_passwd_make(OWT_PASSWD_MAKE_SHA256, 0, "secret", 6, out, sizeof out, &why), OWT_OK);
  owt_auth_hash_password("secret", 6, hex);
  assert_string_equal(out, hex);
  /* the strong default: bcrypt at cost 12 */
  assert_int_equal(owt_passwd_make(OWT_PASSWD_MAKE_BCRYPT, 0, "x", 1, out, sizeof out, &why), OWT_OK);
  assert_int_equal(strncmp(out, "$2b$12$", 7), 0);
  owt_passwd_format f = OWT_PASSWD_MAKE_SHA256;
  assert_int_equal(owt_passwd_format_of(NULL, &f), OWT_OK);
  assert_int_equal(f, OWT_PASSWD_MAKE_YESCRYPT);
  assert_int_equal(owt_passwd_format_of("bcrypt", &f), OWT_OK);
  assert_int_equal(f, OWT_PASSWD_MAKE_BCRYPT);
  assert_int_equal(owt_passwd_format_of("sha256", &f), OWT_OK);
  assert_int_equal(f, OWT_PASSWD_MAKE_SHA256);
  assert_int_equal(owt_passwd_format_of("md5", &f), OWT_E_BAD_REQUEST);
}

/* --hash-password[=FORMAT], with memory streams for stdin/stdout/stderr. */
static int passwd_main(const char *format, const char *input, char *out, size_t out_len) {
  char errbuf[512];
  FILE *in = fmemopen((void *)input, strlen(input), "r");
  FILE *o = fmemopen(out, out_len, "w"), *e = fmemopen(errbuf, sizeof errbuf, "w");
  memset(out, 0, out_len);
  int rc = owt_passwd_main(format, in, o, e);
  fclose(in);
  fclose(o);
  fclose(e);
  return rc;
}

static void test_hash_password_main(void **state) {
  (void)state;
  char out[512];
  owt_passwd pw;
  const char *why = NULL;
  assert_int_equal(passwd_main(NULL, "correct horse\n", out, sizeof out), 0);
  assert_int_equal(strncmp(out, "$y$", 3), 0); /* the strong form by default */
  out[strcspn(out, "\n")] = '\0';
  assert_int_equal(owt_passwd_parse(owt_str_of(out), &pw, &why), OWT_OK);
  assert_int_equal(owt_passwd_verify(&pw, "correct horse", 13), OWT_OK); /* the line end is not part of it */
  assert_int_equal(passwd_main("sha256", "secret\r\n", out, sizeof out), 0);
  assert_string_equal(out, SECRET_HEX "\n");
  assert_int_equal(passwd_main("md5", "secret\n", out, sizeof out), 2);
  assert_string_equal(out, "");
  assert_int_equal(passwd_main(NULL, "", out, sizeof out), 2);
  assert_int_equal(passwd_main(NULL, "\n", out, sizeof out), 2); /* empty: it would never pass */
}

/* ---- constant-time structure ----------------------------------------------------------- */

/* A table of n users "user000".."user<n-1>", all the same length. */
static void fill_table(owt_auth *a, size_t n, const char *stored) {
  char spec[400];
  const char *why = NULL;
  for (size_t i = 0; i < n; i++) {
    snprintf(spec, sizeof spec, "user%03zu:%s", i, stored);
    assert_int_equal(owt_auth_add(a, owt_str_of(spec), &why), OWT_OK);
  }
}

static void test_lookup_compares_every_entry(void **state) {
  (void)state;
  owt_auth a = {0};
  size_t at = 99;
  fill_table(&a, 50, SECRET_HEX);
  char long_name[300];
  memset(long_name, 'u', sizeof long_name);
  static const struct {
    const char *name;
    int found;
    size_t index;
  } rows[] = {{"user000", 1, 0}, {"user025", 1, 25}, {"user049", 1, 49}, {"user050", 0, 0},
              {"nobody", 0, 0},  {"user04", 0, 0},   {"user0499", 0, 0}, {"", 0, 0}};
  for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
    memcmp_calls = 0;
    int found = owt_auth_find(&a, owt_str_of(rows[i].name), &at);
    /* every entry compared in full, whoever matches: the work says nothing */
    if (memcmp_calls != 50) fail_msg("\"%s\": %ld compares, want 50", rows[i].name, (long)memcmp_calls);
    assert_int_equal(found, rows[i].found);
    assert_int_equal(at, rows[i].index); /* unknown: the decoy, entry 0 here */
  }
  memcmp_calls = 0;
  assert_int_equal(owt_auth_find(&a, (owt_str){long_name, sizeof long_name}, &at), 0);
  assert_int_equal(memcmp_calls, 50);
  /* A whole check costs the same compares for the first user, the last, and a stranger. */
  long calls[3];
  const char *creds[] = {"user000:secret", "user049:secret", "stranger:secret"};
  for (int i = 0; i < 3; i++) {
    memcmp_calls = 0;
    assert_int_equal(check(&a, "Basic ", creds[i], NULL), i < 2 ? OWT_OK : OWT_E_UNAUTHORIZED);
    calls[i] = memcmp_calls;
  }
  assert_int_equal(calls[0], calls[1]);
  assert_int_equal(calls[0], calls[2]);
  if (calls[0] < 50) fail_msg("a check made %ld constant-time compares for 50 users", calls[0]);
  /* duplicates: the first one counts */
  const char *why = NULL;
  assert_int_equal(owt_auth_add(&a, OWT_STR_LIT("user010:" HUNTER2_HEX), &why), OWT_OK);
  assert_int_equal(owt_auth_find(&a, OWT_STR_LIT("user010"), &at), 1);
  assert_int_equal(at, 10);
  owt_auth_free(&a);
}

/* An unknown user costs one slow hash, as a known one with a wrong password does. */
static void test_unknown_user_costs_the_same_hash(void **state) {
  (void)state;
  owt_auth a = {0};
  const char *why = NULL;
  assert_int_equal(owt_auth_add(&a, OWT_STR_LIT("old:" SECRET_HEX), &why), OWT_OK);
  fill_table(&a, 3, PW_BCRYPT);
  assert_int_equal(a.decoy, 1); /* the first slow entry stands in for strangers */
  const char *creds[] = {"user001:wrong", "stranger:pw", "user002:pw"};
  for (int i = 0; i < 3; i++) {
    crypt_calls = 0;
    assert_int_equal(check(&a, "Basic ", creds[i], NULL), i == 2 ? OWT_OK : OWT_E_UNAUTHORIZED);
    if (crypt_calls != 1) fail_msg("%s: %ld slow hashes, want 1", creds[i], (long)crypt_calls);
  }
  owt_auth_free(&a);
}

/* ---- the verified-credentials cache ---------------------------------------------------- */

static void test_cache_skips_the_slow_hash(void **state) {
  (void)state;
  owt_auth a = {0};
  const char *why = NULL;
  assert_int_equal(owt_auth_add(&a, OWT_STR_LIT("alice:" PW_YESCRYPT), &why), OWT_OK);
  assert_int_equal(owt_auth_add(&a, OWT_STR_LIT("bob:" PW_BCRYPT), &why), OWT_OK);
  assert_non_null(a.cache);
  owt_buf user = OWT_BUF_INIT(OWT_AUTH_USER_MAX);
  crypt_calls = 0;
  assert_int_equal(check(&a, "Basic ", "alice:pw", &user), OWT_OK);
  assert_int_equal(crypt_calls, 1);
  for (int i = 0; i < 5; i++) {
    owt_buf_reset(&user);
    assert_int_equal(check(&a, "Basic ", "alice:pw", &user), OWT_OK);
    assert_span_equal(owt_buf_str(&user), "alice");
  }
  assert_int_equal(crypt_calls, 1); /* remembered */
  /* another password for the same user is checked in full, and never remembered */
  for (int i = 0; i < 3; i++) assert_int_equal(check(&a, "Basic ", "alice:pw2", NULL), OWT_E_UNAUTHORIZED);
  assert_int_equal(crypt_calls, 4);
  /* alice's password is not bob's */
  assert_int_equal(check(&a, "Basic ", "bob:pw", NULL), OWT_OK);
  assert_int_equal(crypt_calls, 5);
  assert_int_equal(owt_auth_cache_count(a.cache), 2);
  /* failures are not remembered: a stranger, a wrong password */
  assert_int_equal(check(&a, "Basic ", "carol:pw", NULL), OWT_E_UNAUTHORIZED);
  assert_int_equal(owt_auth_cache_count(a.cache), 2);
  /* alice's stored hash changes (a new password): the old one no longer passes */
  char fresh[OWT_PASSWD_HASH_MAX + 1];
  assert_int_equal(owt_passwd_make(OWT_PASSWD_MAKE_YESCRYPT, 1, "new pw", 6, fresh, sizeof fresh, &why), OWT_OK);
  assert_int_equal(owt_passwd_parse(owt_str_of(fresh), &a.entries[0].pw, &why), OWT_OK);
  assert_int_equal(check(&a, "Basic ", "alice:pw", NULL), OWT_E_UNAUTHORIZED);
  assert_int_equal(check(&a, "Basic ", "alice:new pw", NULL), OWT_OK);
  owt_buf_free(&user);
  owt_auth_free(&a);
  assert_null(a.cache);
}

static void test_cache_is_bounded(void **state) {
  (void)state;
  owt_auth a = {0};
  char creds[64];
  fill_table(&a, OWT_AUTH_CACHE_SLOTS + 6, PW_BCRYPT);
  crypt_calls = 0;
  for (int i = 0; i < OWT_AUTH_CACHE_SLOTS + 6; i++) {
    snprintf(creds, sizeof creds, "user%03d:pw", i);
    assert_int_equal(check(&a, "Basic ", creds, NULL), OWT_OK);
  }
  assert_int_equal(owt_auth_cache_count(a.cache), OWT_AUTH_CACHE_SLOTS);
  crypt_calls = 0;
  assert_int_equal(check(&a, "Basic ", "user000:pw", NULL), OWT_OK); /* the oldest went */
  assert_int_equal(crypt_calls, 1);
  crypt_calls = 0;
  snprintf(creds, sizeof creds, "user%03d:pw", OWT_AUTH_CACHE_SLOTS + 5); /* the newest stayed */
  assert_int_equal(check(&a, "Basic ", creds, NULL), OWT_OK);
  assert_int_equal(crypt_calls, 0);
  owt_auth_free(&a);
}

static void test_cache_tags(void **state) {
  (void)state;
  owt_auth_cache *c = NULL, *d = NULL;
  unsigned char t1[32], t2[32], t3[32], t4[32];
  assert_int_equal(owt_auth_cache_new(&c), OWT_OK);
  assert_int_equal(owt_auth_cache_new(&d), OWT_OK);
  assert_int_equal(owt_auth_cache_tag(c, OWT_STR_LIT("$y$a"), OWT_STR_LIT("YTpi"), t1), OWT_OK);
  assert_int_equal(owt_auth_cache_tag(c, OWT_STR_LIT("$y$a"), OWT_STR_LIT("YTpj"), t2), OWT_OK);
  assert_int_equal(owt_auth_cache_tag(c, OWT_STR_LIT("$y$b"), OWT_STR_LIT("YTpi"), t3), OWT_OK);
  assert_int_equal(owt_auth_cache_tag(d, OWT_STR_LIT("$y$a"), OWT_STR_LIT("YTpi"), t4), OWT_OK);
  assert_memory_not_equal(t1, t2, 32); /* the value */
  assert_memory_not_equal(t1, t3, 32); /* the stored hash */
  assert_memory_not_equal(t1, t4, 32); /* each cache its own key */
  /* the parts are length-prefixed: moving a byte between them changes the tag */
  assert_int_equal(owt_auth_cache_tag(c, OWT_STR_LIT("$y$aY"), OWT_STR_LIT("Tpi"), t2), OWT_OK);
  assert_memory_not_equal(t1, t2, 32);
  assert_false(owt_auth_cache_has(c, t1));
  owt_auth_cache_put(c, t1);
  assert_true(owt_auth_cache_has(c, t1));
  assert_false(owt_auth_cache_has(c, t3));
  owt_auth_cache_clear(c);
  assert_false(owt_auth_cache_has(c, t1));
  assert_int_equal(owt_auth_cache_count(c), 0);
  owt_auth_cache_free(c);
  owt_auth_cache_free(d);
  owt_auth_cache_free(NULL);
}

typedef struct {
  const owt_auth *a;
  int id, wrong;
} auth_job;

static void *auth_thread(void *arg) {
  auth_job *job = arg;
  static const struct {
    const char *creds;
    owt_err want;
    const char *user;
  } rows[] = {
      {"alice:pw", OWT_OK, "alice"}, {"bob:pw", OWT_OK, "bob"},         {"alice:px", OWT_E_UNAUTHORIZED, ""},
      {"carol:pw", OWT_OK, "carol"}, {"eve:pw", OWT_E_UNAUTHORIZED, ""}, {"bob:", OWT_E_UNAUTHORIZED, ""},
  };
  for (int i = 0; i < 60; i++) {
    size_t r = (size_t)(i + job->id) % ARRAY_LEN(rows);
    char mem[OWT_AUTH_USER_MAX + 1];
    owt_buf user = OWT_BUF_FIXED(mem);
    owt_buf h = OWT_BUF_INIT(256);
    basic(&h, "Basic ", rows[r].creds, strlen(rows[r].creds));
    owt_err err = owt_auth_check(job->a, owt_buf_str(&h), &user);
    job->wrong += err != rows[r].want || !owt_str_eq(owt_buf_str(&user), owt_str_of(rows[r].user));
    owt_buf_free(&h);
  }
  return NULL;
}

/* Request threads check at once: every answer right, the cache intact. */
static void test_check_from_several_threads(void **state) {
  (void)state;
  owt_auth a = {0};
  const char *why = NULL;
  assert_int_equal(owt_auth_add_list(&a, OWT_STR_LIT("alice:" PW_BCRYPT ",bob:" PW_YESCRYPT ",carol:" PW_SCRYPT),
                                     &why),
                   OWT_OK);
  pthread_t t[8];
  auth_job jobs[8];
  for (int i = 0; i < 8; i++) {
    jobs[i] = (auth_job){&a, i, 0};
    assert_int_equal(pthread_create(&t[i], NULL, auth_thread, &jobs[i]), 0);
  }
  for (int i = 0; i < 8; i++) {
    assert_int_equal(pthread_join(t[i], NULL), 0);
    if (jobs[i].wrong) fail_msg("thread %d: %d wrong answers", i, jobs[i].wrong);
  }
  assert_true(owt_auth_cache_count(a.cache) >= 3);
  owt_auth_free(&a);
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
      cmocka_unit_test(test_passwd_parse),
      cmocka_unit_test(test_passwd_verify),
      cmocka_unit_test(test_passwd_make),
      cmocka_unit_test(test_hash_password_main),
      cmocka_unit_test(test_lookup_compares_every_entry),
      cmocka_unit_test(test_unknown_user_costs_the_same_hash),
      cmocka_unit_test(test_cache_skips_the_slow_hash),
      cmocka_unit_test(test_cache_is_bounded),
      cmocka_unit_test(test_cache_tags),
      cmocka_unit_test(test_check_from_several_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
