/* owt_auth.c - Basic auth: parsing, SHA-256, constant-time compare. */
#include "owt_auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owt_b64.h"

#define AUTH_HEADER_MAX 4096

owt_err owt_auth_add(owt_auth *a, owt_str spec, const char **why) {
  spec = owt_str_trim(spec);
  const char *colon = memchr(spec.p, ':', spec.len);
  if (!colon) return (*why = "an auth entry must be user:sha256hex"), OWT_E_BAD_REQUEST;
  owt_str user = owt_str_trim((owt_str){spec.p, (size_t)(colon - spec.p)});
  owt_str hex = owt_str_trim((owt_str){colon + 1, (size_t)(spec.p + spec.len - colon - 1)});
  if (user.len == 0 || user.len > OWT_AUTH_USER_MAX)
    return (*why = "an auth user name must be 1 to 128 bytes"), OWT_E_BAD_REQUEST;
  if (hex.len != 64)
    return (*why = "an auth digest must be 64 hex digits (SHA-256; see --hash-password)"),
           OWT_E_BAD_REQUEST;
  owt_auth_entry entry;
  memset(&entry, 0, sizeof entry);
  memcpy(entry.user, user.p, user.len);
  for (size_t i = 0; i < 32; i++) {
    int hi = owt_hex_digit(hex.p[2 * i]), lo = owt_hex_digit(hex.p[2 * i + 1]);
    if (hi < 0 || lo < 0) return (*why = "an auth digest must be hex"), OWT_E_BAD_REQUEST;
    entry.digest[i] = (unsigned char)(hi << 4 | lo);
  }
  owt_auth_entry *grown = realloc(a->entries, (a->n + 1) * sizeof *grown);
  if (!grown) return OWT_E_NOMEM;
  a->entries = grown;
  a->entries[a->n++] = entry;
  return OWT_OK;
}

owt_err owt_auth_add_list(owt_auth *a, owt_str list, const char **why) {
  while (list.len) {
    const char *comma = memchr(list.p, ',', list.len);
    size_t len = comma ? (size_t)(comma - list.p) : list.len;
    owt_str item = owt_str_trim((owt_str){list.p, len});
    if (item.len) {
      owt_err err = owt_auth_add(a, item, why);
      if (err) return err;
    }
    if (!comma) break;
    list.p += len + 1;
    list.len -= len + 1;
  }
  return OWT_OK;
}

owt_err owt_auth_load_file(owt_auth *a, const char *path, const char **why, int *line) {
  char *buf = NULL; /* getline: a long comment line stays one line */
  size_t cap = 0;
  ssize_t n;
  owt_err err = OWT_OK;
  *line = 0;
  FILE *f = fopen(path, "r");
  if (!f) return (*why = "cannot open the auth file"), OWT_E_NOT_FOUND;
  while ((n = getline(&buf, &cap, f)) >= 0) {
    (*line)++;
    owt_str s = owt_str_trim((owt_str){buf, (size_t)n});
    if (s.len == 0 || s.p[0] == '#') continue;
    if ((err = owt_auth_add(a, s, why))) break;
  }
  free(buf);
  fclose(f);
  return err;
}

int owt_auth_digest_equal(const unsigned char a[32], const unsigned char b[32]) {
  return CRYPTO_memcmp(a, b, 32) == 0;
}

void owt_auth_hash_password(const char *password, size_t len, char hex_out[65]) {
  unsigned char d[32];
  SHA256((const unsigned char *)password, len, d);
  for (size_t i = 0; i < 32; i++) snprintf(hex_out + 2 * i, 3, "%02x", d[i]);
  OPENSSL_cleanse(d, sizeof d);
}

owt_err owt_auth_check(const owt_auth *a, owt_str header, owt_buf *user_out) {
  char decoded_mem[AUTH_HEADER_MAX];
  owt_buf decoded = OWT_BUF_FIXED(decoded_mem);
  unsigned char digest[32];
  static const unsigned char no_user[32]; /* compared against when the user is unknown */
  owt_err result = OWT_E_UNAUTHORIZED;

  header = owt_str_trim(header);
  if (header.len < 6 || header.len > AUTH_HEADER_MAX) return OWT_E_UNAUTHORIZED;
  if (!owt_str_caseeq((owt_str){header.p, 6}, OWT_STR_LIT("Basic "))) return OWT_E_UNAUTHORIZED;
  owt_str token = owt_str_trim((owt_str){header.p + 6, header.len - 6});
  if (owt_b64_decode(token.p, token.len, &decoded) != OWT_OK) goto done;
  const char *colon = memchr(decoded.data ? decoded.data : "", ':', decoded.len);
  if (!colon) goto done;
  owt_str user = {decoded.data, (size_t)(colon - decoded.data)};
  owt_str password = {colon + 1, decoded.len - user.len - 1};
  SHA256((const unsigned char *)password.p, password.len, digest);

  const owt_auth_entry *match = NULL;
  for (size_t i = 0; i < a->n; i++)
    if (!match && owt_str_eq(user, owt_str_of(a->entries[i].user))) match = &a->entries[i];
  /* Compare even for an unknown user, so timing does not tell users apart. */
  int equal = owt_auth_digest_equal(digest, match ? match->digest : no_user);
  if (match && equal && password.len > 0) {
    result = OWT_OK;
    if (user_out && owt_buf_append(user_out, user.p, user.len) != OWT_OK) result = OWT_E_NOMEM;
  }
done:
  OPENSSL_cleanse(decoded_mem, sizeof decoded_mem);
  OPENSSL_cleanse(digest, sizeof digest);
  return result;
}

void owt_auth_free(owt_auth *a) {
  if (a->entries) OPENSSL_cleanse(a->entries, a->n * sizeof *a->entries);
  free(a->entries);
  a->entries = NULL;
  a->n = 0;
}
