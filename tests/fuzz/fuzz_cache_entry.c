/* fuzz_cache_entry.c - the cache entry parser (owt_cache_entry_parse), which
 * reads files any process sharing the cache directory could have written.
 *
 * The first byte picks the mode. Odd: the rest is a whole entry file, as is
 * (almost always refused by its checksum). Even: the rest is an entry
 * without its key digest and checksum, which the target fills in the way a
 * store would, so the fuzzer reaches the headers, chunks and counts behind
 * them. A sound entry must stay inside the bytes it was read from, and its
 * chunks must add up to the counts it claims. */
#undef NDEBUG /* the asserts are the checks */
#include <assert.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "owt_cache.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define DIGEST_AT 32

static int inside(const unsigned char *m, size_t size, const void *p, size_t n) {
  const unsigned char *q = p;
  return n == 0 || (q >= m && n <= size && (size_t)(q - m) <= size - n);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  static owt_cache_key key;
  owt_cache_hit hit;
  owt_str chunk;
  uint64_t created = 0, body = 0;
  uint32_t chunks = 0;
  if (!key.name[0]) assert(owt_cache_key_make(&key, OWT_STR_LIT("/fuzz"), NULL, NULL) == OWT_OK);
  if (size == 0) return 0;
  int raw = data[0] & 1;
  data++, size--;
  size_t len = raw ? size : size + 32;
  unsigned char *m = malloc(len ? len : 1);
  assert(m);
  if (len) memcpy(m, data, size);
  if (!raw) {
    unsigned int n = 32;
    if (size >= DIGEST_AT + 32) memcpy(m + DIGEST_AT, key.digest, 32);
    assert(EVP_Digest(m, size, m + size, &n, EVP_sha256(), NULL) && n == 32);
  }
  owt_err err = owt_cache_entry_parse(m, len, key.digest, &hit, &created);
  assert(err == OWT_OK || err == OWT_E_NOT_FOUND);
  if (err == OWT_OK) {
    assert(hit.map == m && hit.map_len == len && !hit.mapped && !hit.owned);
    assert(hit.status >= 100 && hit.status <= 999 && hit.nheaders <= OWT_CACHE_MAX_HEADERS);
    assert(inside(m, len, hit.key.p, hit.key.len));
    for (size_t i = 0; i < hit.nheaders; i++) {
      assert(inside(m, len, hit.headers[i].name.p, hit.headers[i].name.len));
      assert(inside(m, len, hit.headers[i].value.p, hit.headers[i].value.len));
    }
    while (owt_cache_hit_next(&hit, &chunk)) {
      assert(chunk.len > 0 && inside(m, len, chunk.p, chunk.len));
      body += chunk.len;
      chunks++;
    }
    assert(chunk.p == NULL && body == hit.body_len && chunks == hit.nchunks);
    owt_cache_hit_release(&hit); /* owns nothing: frees nothing */
  }
  free(m);
  return 0;
}
