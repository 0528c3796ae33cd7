/* owt_auth_cache.c - verified credentials, as HMAC tags, under one mutex. */
#include "owt_auth_cache.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>

#define AUTH_VALUE_MAX 4096 /* what owt_auth_check accepts */
#define STORED_MAX 256

struct owt_auth_cache {
  pthread_mutex_t lock;
  unsigned char key[32];
  unsigned char tags[OWT_AUTH_CACHE_SLOTS][OWT_AUTH_CACHE_TAG];
  unsigned char used[OWT_AUTH_CACHE_SLOTS];
  size_t next; /* the slot the next tag goes to: the oldest once all are used */
};

owt_err owt_auth_cache_new(owt_auth_cache **out) {
  owt_auth_cache *c = malloc(sizeof *c);
  *out = NULL;
  if (!c) return OWT_E_NOMEM;
  memset(c, 0, sizeof *c);
  if (RAND_bytes(c->key, sizeof c->key) != 1 || pthread_mutex_init(&c->lock, NULL) != 0) {
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
    return OWT_E_INTERNAL;
  }
  *out = c;
  return OWT_OK;
}

owt_err owt_auth_cache_tag(const owt_auth_cache *c, owt_str stored, owt_str authorization,
                           unsigned char tag[OWT_AUTH_CACHE_TAG]) {
  unsigned char msg[4 + STORED_MAX + AUTH_VALUE_MAX];
  unsigned int len = 0;
  owt_err rc = OWT_E_INTERNAL;
  if (stored.len > STORED_MAX || authorization.len > AUTH_VALUE_MAX) return OWT_E_TOO_LARGE;
  /* The stored hash's length in front: no two (stored, value) pairs share a message. */
  msg[0] = (unsigned char)(stored.len >> 24);
  msg[1] = (unsigned char)(stored.len >> 16);
  msg[2] = (unsigned char)(stored.len >> 8);
  msg[3] = (unsigned char)stored.len;
  if (stored.len) memcpy(msg + 4, stored.p, stored.len);
  if (authorization.len) memcpy(msg + 4 + stored.len, authorization.p, authorization.len);
  if (HMAC(EVP_sha256(), c->key, (int)sizeof c->key, msg, 4 + stored.len + authorization.len, tag, &len) &&
      len == OWT_AUTH_CACHE_TAG)
    rc = OWT_OK;
  OPENSSL_cleanse(msg, 4 + stored.len + authorization.len); /* it held the credentials */
  return rc;
}

int owt_auth_cache_has(owt_auth_cache *c, const unsigned char tag[OWT_AUTH_CACHE_TAG]) {
  int found = 0;
  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; i < OWT_AUTH_CACHE_SLOTS; i++)
    found |= c->used[i] & (CRYPTO_memcmp(c->tags[i], tag, OWT_AUTH_CACHE_TAG) == 0);
  pthread_mutex_unlock(&c->lock);
  return found;
}

void owt_auth_cache_put(owt_auth_cache *c, const unsigned char tag[OWT_AUTH_CACHE_TAG]) {
  pthread_mutex_lock(&c->lock);
  size_t i = c->next;
  OPENSSL_cleanse(c->tags[i], OWT_AUTH_CACHE_TAG);
  memcpy(c->tags[i], tag, OWT_AUTH_CACHE_TAG);
  c->used[i] = 1;
  c->next = (i + 1) % OWT_AUTH_CACHE_SLOTS;
  pthread_mutex_unlock(&c->lock);
}

size_t owt_auth_cache_count(owt_auth_cache *c) {
  size_t n = 0;
  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; i < OWT_AUTH_CACHE_SLOTS; i++) n += c->used[i];
  pthread_mutex_unlock(&c->lock);
  return n;
}

void owt_auth_cache_clear(owt_auth_cache *c) {
  pthread_mutex_lock(&c->lock);
  OPENSSL_cleanse(c->tags, sizeof c->tags);
  memset(c->used, 0, sizeof c->used);
  c->next = 0;
  pthread_mutex_unlock(&c->lock);
}

void owt_auth_cache_free(owt_auth_cache *c) {
  if (!c) return;
  pthread_mutex_destroy(&c->lock);
  OPENSSL_cleanse(c, sizeof *c);
  free(c);
}
