/* owt_auth.h - HTTP Basic auth against a table of users and stored hashes.
 *
 * PROTOCOL §9. Credentials come from --auth user:HASH (repeatable),
 * --auth-file and OWT_AUTH; HASH is a crypt(3) string (yescrypt, bcrypt:
 * what --hash-password makes) or the seed's SHA-256 hex (lib/owt_passwd.h).
 * The check runs before anything in the request is decoded. Finding the
 * user compares every entry of the table in full, in constant time, so the
 * time does not depend on which user matched, or whether one did: an
 * unknown user's password is checked against a stand-in entry of the
 * table's own kind and cost. What it decoded is cleansed. A credential
 * checked against a crypt(3) hash is remembered (as a keyed tag, never the
 * password; lib/owt_auth_cache.h), so the slow hash runs once per
 * credential and worker process.
 *
 * Threads: owt_auth_check may run in several threads at once on one table;
 * building and freeing the table must not race with anything. */
#ifndef OWT_AUTH_H
#define OWT_AUTH_H

#include "owt_auth_cache.h"
#include "owt_buf.h"
#include "owt_passwd.h"

#define OWT_AUTH_USER_MAX 128

typedef struct {
  char user[OWT_AUTH_USER_MAX + 1]; /* zero-padded: compared whole */
  size_t user_len;
  owt_passwd pw;
} owt_auth_entry;

typedef struct {
  owt_auth_entry *entries; /* owned */
  size_t n;
  size_t decoy;          /* the entry an unknown user is checked against: the first crypt(3) one */
  owt_auth_cache *cache; /* verified credentials (owned); made with the first crypt(3) entry */
} owt_auth;

/* Add one "user:HASH" entry. OWT_E_BAD_REQUEST (with *why set to a
 * static message) when it is malformed. */
owt_err owt_auth_add(owt_auth *a, owt_str spec, const char **why);

/* Add comma-separated entries (the OWT_AUTH environment variable). */
owt_err owt_auth_add_list(owt_auth *a, owt_str list, const char **why);

/* Add the entries of a file: "user:HASH" lines, '#' comments, blank
 * lines. On failure *why is a static message and *line the line number. */
owt_err owt_auth_load_file(owt_auth *a, const char *path, const char **why, int *line);

static inline int owt_auth_enabled(const owt_auth *a) { return a->n > 0; }

/* Check an Authorization header value. OWT_OK and the user name appended
 * to user (if not NULL) when it is Basic credentials matching an entry;
 * OWT_E_UNAUTHORIZED for anything else (absent, other scheme, bad base64,
 * no colon, over 4 KiB, unknown user, wrong or empty password);
 * OWT_E_NOMEM or OWT_E_INTERNAL when the hash could not be computed. */
owt_err owt_auth_check(const owt_auth *a, owt_str authorization, owt_buf *user);

/* The entry for user, found in constant time: every entry is compared in
 * full whichever matches (the first one does, if several). 1 and *index,
 * or 0 (and *index the decoy) when none matches. */
int owt_auth_find(const owt_auth *a, owt_str user, size_t *index);

/* Constant-time equality of two SHA-256 digests. */
int owt_auth_digest_equal(const unsigned char a[32], const unsigned char b[32]);

/* hex_out gets the lower-case SHA-256 hex of the password and a NUL (the
 * seed's stored form; owt_passwd_make makes every form). */
void owt_auth_hash_password(const char *password, size_t len, char hex_out[65]);

/* Cleanse and free the table and its cache. */
void owt_auth_free(owt_auth *a);

#endif
