/* owt_passwd.c - stored password hashes: SHA-256 hex and crypt(3). */
#include "owt_passwd.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define BCRYPT_COST 12

/* The crypt(3) methods accepted, and how long a complete hash is: a bare
 * setting (salt without hash) passes crypt_checksalt but never matches,
 * which would lock the user out without a word. */
static const struct {
  const char *prefix;
  size_t whole;     /* length of the whole string; 0: see last */
  size_t last;      /* length of the part after the last '$' */
} methods[] = {
    {"$y$", 0, 43},  /* yescrypt */
    {"$7$", 0, 43},  /* scrypt */
    {"$2b$", 60, 0}, /* bcrypt */
    {"$2y$", 60, 0},
    {"$6$", 0, 86},  /* sha512crypt */
};

static int crypt_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '/' || c == '$';
}

static owt_err parse_crypt(owt_str s, owt_passwd *pw, const char **why) {
  size_t i = 0, last = 0;
  if (s.len > OWT_PASSWD_HASH_MAX) return (*why = "an auth hash is too long"), OWT_E_BAD_REQUEST;
  for (size_t k = 0; k < s.len; k++) {
    if (!crypt_char(s.p[k]))
      return (*why = "an auth hash has a character crypt(3) never writes"), OWT_E_BAD_REQUEST;
    if (s.p[k] == '$') last = k + 1;
  }
  for (; i < sizeof methods / sizeof methods[0]; i++) {
    size_t n = strlen(methods[i].prefix);
    if (s.len >= n && memcmp(s.p, methods[i].prefix, n) == 0) break;
  }
  if (i == sizeof methods / sizeof methods[0])
    return (*why = "an auth hash must be yescrypt ($y$), bcrypt ($2b$), scrypt ($7$), sha512crypt ($6$) "
                   "or 64 hex digits of SHA-256 (see --hash-password)"),
           OWT_E_BAD_REQUEST;
  if ((methods[i].whole && s.len != methods[i].whole) || (methods[i].last && s.len - last != methods[i].last))
    return (*why = "an auth hash is incomplete (a salt without its hash?)"), OWT_E_BAD_REQUEST;
  memset(pw, 0, sizeof *pw);
  pw->kind = OWT_PASSWD_CRYPT;
  memcpy(pw->hash, s.p, s.len);
  pw->hash_len = s.len;
  if (crypt_checksalt(pw->hash) != CRYPT_SALT_OK) {
    memset(pw, 0, sizeof *pw);
    return (*why = "an auth hash has parameters libxcrypt refuses"), OWT_E_BAD_REQUEST;
  }
  return OWT_OK;
}

owt_err owt_passwd_parse(owt_str s, owt_passwd *pw, const char **why) {
  if (s.len && s.p[0] == '$') return parse_crypt(s, pw, why);
  if (s.len != 64)
    return (*why = "an auth hash must be a crypt(3) string ($y$..., $2b$...) or 64 hex digits "
                   "(SHA-256; see --hash-password)"),
           OWT_E_BAD_REQUEST;
  memset(pw, 0, sizeof *pw);
  pw->kind = OWT_PASSWD_SHA256;
  for (size_t i = 0; i < 32; i++) {
    int hi = owt_hex_digit(s.p[2 * i]), lo = owt_hex_digit(s.p[2 * i + 1]);
    if (hi < 0 || lo < 0) return (*why = "an auth digest must be hex"), OWT_E_BAD_REQUEST;
    pw->digest[i] = (unsigned char)(hi << 4 | lo);
  }
  return OWT_OK;
}

/* crypt(3) of password (NUL-terminated) with setting, into out (out_len
 * bytes with its NUL). OWT_E_NOMEM or OWT_E_INTERNAL on failure. The 32 KiB
 * of crypt state is on the heap (request threads have small stacks) and
 * cleansed. */
static owt_err run_crypt(const char *password, const char *setting, char *out, size_t out_len) {
  struct crypt_data *data = malloc(sizeof *data);
  owt_err err = OWT_E_INTERNAL;
  if (!data) return OWT_E_NOMEM;
  memset(data, 0, sizeof *data); /* crypt_rn wants its state zeroed before the first call */
  const char *h = crypt_rn(password, setting, data, (int)sizeof *data);
  if (h && h[0] != '*') {
    size_t n = strlen(h);
    if (n < out_len) {
      memcpy(out, h, n + 1);
      err = OWT_OK;
    }
  }
  OPENSSL_cleanse(data, sizeof *data);
  free(data);
  return err;
}

owt_err owt_passwd_verify(const owt_passwd *pw, const char *password, size_t len) {
  unsigned char d[32];
  char got[OWT_PASSWD_HASH_MAX + 1], *phrase = NULL;
  int same = 0;
  if (pw->kind == OWT_PASSWD_SHA256) {
    SHA256((const unsigned char *)password, len, d);
    same = CRYPTO_memcmp(d, pw->digest, 32) == 0;
    OPENSSL_cleanse(d, sizeof d);
    return same ? OWT_OK : OWT_E_UNAUTHORIZED;
  }
  if (pw->kind != OWT_PASSWD_CRYPT) return OWT_E_UNAUTHORIZED;
  if (!(phrase = malloc(len + 1))) return OWT_E_NOMEM;
  memcpy(phrase, password, len);
  phrase[len] = '\0';
  memset(got, 0, sizeof got);
  /* A NUL inside would be where crypt(3) stops reading: "pw\0junk" must
   * not pass as "pw". Hash anyway, so the time does not say so. */
  int has_nul = memchr(password, '\0', len) != NULL;
  owt_err err = run_crypt(phrase, pw->hash, got, sizeof got);
  if (!err) same = CRYPTO_memcmp(got, pw->hash, sizeof got) == 0 && !has_nul;
  OPENSSL_cleanse(phrase, len + 1);
  OPENSSL_cleanse(got, sizeof got);
  free(phrase);
  if (err) return err;
  return same ? OWT_OK : OWT_E_UNAUTHORIZED;
}

owt_err owt_passwd_format_of(const char *name, owt_passwd_format *format) {
  if (!name || !name[0] || strcmp(name, "yescrypt") == 0) *format = OWT_PASSWD_MAKE_YESCRYPT;
  else if (strcmp(name, "bcrypt") == 0) *format = OWT_PASSWD_MAKE_BCRYPT;
  else if (strcmp(name, "sha256") == 0) *format = OWT_PASSWD_MAKE_SHA256;
  else return OWT_E_BAD_REQUEST;
  return OWT_OK;
}

owt_err owt_passwd_make(owt_passwd_format format, unsigned long cost, const char *password, size_t len,
                        char *out, size_t out_len, const char **why) {
  static const char hex[] = "0123456789abcdef";
  char setting[CRYPT_GENSALT_OUTPUT_SIZE], *phrase = NULL;
  owt_err err = OWT_E_INTERNAL;
  if (out_len < OWT_PASSWD_HASH_MAX + 1) return OWT_E_INTERNAL;
  out[0] = '\0';
  if (len == 0) return (*why = "an empty password never passes"), OWT_E_BAD_REQUEST;
  if (format == OWT_PASSWD_MAKE_SHA256) {
    unsigned char d[32];
    SHA256((const unsigned char *)password, len, d);
    for (size_t i = 0; i < 32; i++) {
      out[2 * i] = hex[d[i] >> 4];
      out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
    OPENSSL_cleanse(d, sizeof d);
    return OWT_OK;
  }
  if (memchr(password, '\0', len))
    return (*why = "crypt(3) cannot hash a password holding a NUL byte"), OWT_E_BAD_REQUEST;
  const char *prefix = format == OWT_PASSWD_MAKE_BCRYPT ? "$2b$" : "$y$";
  if (!cost && format == OWT_PASSWD_MAKE_BCRYPT) cost = BCRYPT_COST;
  /* NULL random bytes: libxcrypt takes the salt from the kernel (getrandom). */
  if (!crypt_gensalt_rn(prefix, cost, NULL, 0, setting, (int)sizeof setting)) {
    *why = "libxcrypt cannot make a salt";
    return OWT_E_INTERNAL;
  }
  if (!(phrase = malloc(len + 1))) return OWT_E_NOMEM;
  memcpy(phrase, password, len);
  phrase[len] = '\0';
  if ((err = run_crypt(phrase, setting, out, out_len))) *why = "libxcrypt cannot hash the password";
  OPENSSL_cleanse(phrase, len + 1);
  free(phrase);
  return err;
}

int owt_passwd_main(const char *name, FILE *in, FILE *out, FILE *err) {
  char line[4096], hash[OWT_PASSWD_HASH_MAX + 1];
  owt_passwd_format format;
  const char *why = "cannot hash the password";
  int rc = 2;
  if (owt_passwd_format_of(name, &format) != OWT_OK) {
    fprintf(err, "owt-fcgi: --hash-password=%s: the format is yescrypt (the default), bcrypt or sha256\n",
            name);
    return 2;
  }
  if (!fgets(line, sizeof line, in)) {
    fputs("owt-fcgi: --hash-password reads the password from stdin\n", err);
    return 2;
  }
  size_t len = strcspn(line, "\r\n");
  if (owt_passwd_make(format, 0, line, len, hash, sizeof hash, &why) != OWT_OK) {
    fprintf(err, "owt-fcgi: --hash-password: %s\n", why);
  } else {
    fprintf(out, "%s\n", hash);
    rc = 0;
  }
  OPENSSL_cleanse(line, sizeof line);
  return rc;
}
