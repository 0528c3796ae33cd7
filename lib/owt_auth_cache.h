/* owt_auth_cache.h - Basic credentials this worker process has verified,
 * so a slow password hash is paid once per credential and worker, not on
 * every request.
 *
 * What is kept is a tag, never a password: HMAC-SHA256, under a key drawn
 * at random when the cache is made, of the stored hash the credentials
 * were checked against and the whole Authorization value. Another password
 * for the same user, or the same password once the user's stored hash has
 * changed, makes another tag and is checked in full. Bounded (the oldest
 * of OWT_AUTH_CACHE_SLOTS tags is replaced), safe for several threads (one
 * mutex), and cleansed: a replaced tag, the key and everything else are
 * wiped when replaced or freed. */
#ifndef OWT_AUTH_CACHE_H
#define OWT_AUTH_CACHE_H

#include "owt_err.h"
#include "owt_str.h"

#define OWT_AUTH_CACHE_SLOTS 64
#define OWT_AUTH_CACHE_TAG 32

typedef struct owt_auth_cache owt_auth_cache;

/* A new, empty cache with a fresh random key into *out (free it with
 * owt_auth_cache_free()). OWT_E_NOMEM; OWT_E_INTERNAL when no random key
 * can be drawn (the caller then verifies every request). */
owt_err owt_auth_cache_new(owt_auth_cache **out);

/* The tag of authorization checked against stored. OWT_OK; OWT_E_TOO_LARGE
 * for a stored hash or value too long to tag, OWT_E_INTERNAL when the MAC
 * cannot be computed (either way: neither look nor remember). */
owt_err owt_auth_cache_tag(const owt_auth_cache *c, owt_str stored, owt_str authorization,
                           unsigned char tag[OWT_AUTH_CACHE_TAG]);

/* Whether tag is in the cache. Every slot is compared, in constant time. */
int owt_auth_cache_has(owt_auth_cache *c, const unsigned char tag[OWT_AUTH_CACHE_TAG]);

/* Remember tag, in place of the oldest when the cache is full. */
void owt_auth_cache_put(owt_auth_cache *c, const unsigned char tag[OWT_AUTH_CACHE_TAG]);

/* Tags remembered now (for tests and the status page). */
size_t owt_auth_cache_count(owt_auth_cache *c);

/* Forget every tag (the table changed). */
void owt_auth_cache_clear(owt_auth_cache *c);

/* Cleanse and free c (NULL is fine). */
void owt_auth_cache_free(owt_auth_cache *c);

#endif
