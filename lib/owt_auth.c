/* owt_auth.c - Basic auth: the table, the header, a constant-time lookup,
 * and the verified-credentials cache in front of the slow hashes. */
#include "owt_auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owt_b64.h"

#define AUTH_HEADER_MAX 4096

owt_err owt_auth_add(owt_auth *a, owt_str spec, const char **why) {
  owt_auth_entry entry;
  spec = owt_str_trim(spec);
  const char *colon = memchr(spec.p, ':', spec.len);
  if (!colon) return (*why = "an auth entry must be user:hash (see --hash-password)"), OWT_E_BAD_REQUEST;
  owt_str user = owt_str_trim((owt_str){spec.p, (size_t)(colon - spec.p)});
  owt_str stored = owt_str_trim((owt_str){colon + 1, (size_t)(spec.p + spec.len - colon - 1)});
  if (user.len == 0 || user.len > OWT_AUTH_USER_MAX)
    return (*why = "an auth user name must be 1 to 128 bytes"), OWT_E_BAD_REQUEST;
  memset(&entry, 0, sizeof entry);
  memcpy(entry.user, user.p, user.len);
  entry.user_len = user.len;
  owt_err err = owt_passwd_parse(stored, &entry.pw, why);
  if (err) return err;
  /* No randomness for its key: no cache, every request pays the hash. */
  if (entry.pw.kind == OWT_PASSWD_CRYPT && !a->cache && owt_auth_cache_new(&a->cache) == OWT_E_NOMEM)
    return OWT_E_NOMEM;
  owt_auth_entry *grown = realloc(a->entries, (a->n + 1) * sizeof *grown);
  if (!grown) {
    OPENSSL_cleanse(&entry, sizeof entry);
    return OWT_E_NOMEM;
  }
  a->entries = grown;
  a->entries[a->n] = entry;
  /* An unknown user is checked against the first slow entry: the same work a known one costs. */
  if (entry.pw.kind == OWT_PASSWD_CRYPT && a->entries[a->decoy].pw.kind != OWT_PASSWD_CRYPT) a->decoy = a->n;
  a->n++;
  OPENSSL_cleanse(&entry, sizeof entry);
  if (a->cache) owt_auth_cache_clear(a->cache); /* the table changed */
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
  if (buf) OPENSSL_cleanse(buf, cap);
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

int owt_auth_find(const owt_auth *a, owt_str user, size_t *index) {
  char padded[OWT_AUTH_USER_MAX + 1];
  size_t found = 0, at = a->decoy;
  /* The name, zero-padded to the width every entry has; a longer one can
   * match nothing, but is compared just the same. */
  memset(padded, 0, sizeof padded);
  memcpy(padded, user.p ? user.p : "", user.len < OWT_AUTH_USER_MAX ? user.len : OWT_AUTH_USER_MAX);
  for (size_t i = 0; i < a->n; i++) {
    const owt_auth_entry *e = &a->entries[i];
    size_t same = (size_t)(CRYPTO_memcmp(padded, e->user, sizeof padded) == 0) &
                  (size_t)(user.len == e->user_len);
    size_t take = (size_t)0 - (same & (found ^ 1)); /* all ones for the first match only */
    at = (at & ~take) | (i & take);
    found |= same;
  }
  OPENSSL_cleanse(padded, sizeof padded);
  *index = at;
  return (int)found;
}

/* Whether password is right for entry e (OWT_OK, OWT_E_UNAUTHORIZED, or
 * an error), through the cache when e's hash is a slow one; a verified
 * credential of a known user is remembered. */
static owt_err verify(const owt_auth *a, const owt_auth_entry *e, int known, owt_str token, owt_str password) {
  unsigned char tag[OWT_AUTH_CACHE_TAG];
  int tagged = 0;
  owt_err err;
  if (e->pw.kind == OWT_PASSWD_CRYPT && a->cache)
    tagged = owt_auth_cache_tag(a->cache, (owt_str){e->pw.hash, e->pw.hash_len}, token, tag) == OWT_OK;
  if (known && tagged && owt_auth_cache_has(a->cache, tag)) {
    err = OWT_OK;
  } else {
    err = owt_passwd_verify(&e->pw, password.p, password.len);
    if (!err && known && tagged) owt_auth_cache_put(a->cache, tag);
  }
  OPENSSL_cleanse(tag, sizeof tag);
  return err;
}

owt_err owt_auth_check(const owt_auth *a, owt_str header, owt_buf *user_out) {
  char decoded_mem[AUTH_HEADER_MAX];
  owt_buf decoded = OWT_BUF_FIXED(decoded_mem);
  owt_err result = OWT_E_UNAUTHORIZED;
  size_t at = 0;

  header = owt_str_trim(header);
  if (a->n == 0 || header.len < 6 || header.len > AUTH_HEADER_MAX) return OWT_E_UNAUTHORIZED;
  if (!owt_str_caseeq((owt_str){header.p, 6}, OWT_STR_LIT("Basic "))) return OWT_E_UNAUTHORIZED;
  owt_str token = owt_str_trim((owt_str){header.p + 6, header.len - 6});
  if (owt_b64_decode(token.p, token.len, &decoded) != OWT_OK) goto done;
  const char *colon = memchr(decoded.data ? decoded.data : "", ':', decoded.len);
  if (!colon) goto done;
  owt_str user = {decoded.data, (size_t)(colon - decoded.data)};
  owt_str password = {colon + 1, decoded.len - user.len - 1};
  int known = owt_auth_find(a, user, &at);
  /* Verified even for an unknown user (against the decoy): the time does not tell. */
  owt_err err = verify(a, &a->entries[at], known, token, password);
  if (err && err != OWT_E_UNAUTHORIZED) {
    result = err; /* no memory for the hash: a 500, not a wrong password */
  } else if (known && !err && password.len > 0) {
    result = OWT_OK;
    if (user_out && owt_buf_append(user_out, user.p, user.len) != OWT_OK) result = OWT_E_NOMEM;
  }
done:
  OPENSSL_cleanse(decoded_mem, sizeof decoded_mem);
  return result;
}

void owt_auth_free(owt_auth *a) {
  if (a->entries) OPENSSL_cleanse(a->entries, a->n * sizeof *a->entries);
  free(a->entries);
  owt_auth_cache_free(a->cache);
  a->entries = NULL;
  a->cache = NULL;
  a->n = 0;
  a->decoy = 0;
}
