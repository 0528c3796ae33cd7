/* owt_auth.h - HTTP Basic auth against a table of SHA-256 password digests.
 *
 * PROTOCOL §9. Credentials come from --auth user:sha256hex (repeatable),
 * --auth-file and OWT_AUTH. The check runs before anything in the request is
 * decoded, compares digests in constant time and cleanses what it decoded. */
#ifndef OWT_AUTH_H
#define OWT_AUTH_H

#include "owt_buf.h"

#define OWT_AUTH_USER_MAX 128

typedef struct {
  char user[OWT_AUTH_USER_MAX + 1];
  unsigned char digest[32];
} owt_auth_entry;

typedef struct {
  owt_auth_entry *entries; /* owned */
  size_t n;
} owt_auth;

/* Add one "user:sha256hex" entry. OWT_E_BAD_REQUEST (with *why set to a
 * static message) when it is malformed. */
owt_err owt_auth_add(owt_auth *a, owt_str spec, const char **why);

/* Add comma-separated entries (the OWT_AUTH environment variable). */
owt_err owt_auth_add_list(owt_auth *a, owt_str list, const char **why);

/* Add the entries of a file: "user:sha256hex" lines, '#' comments, blank
 * lines. On failure *why is a static message and *line the line number. */
owt_err owt_auth_load_file(owt_auth *a, const char *path, const char **why, int *line);

static inline int owt_auth_enabled(const owt_auth *a) { return a->n > 0; }

/* Check an Authorization header value. OWT_OK and the user name appended
 * to user (if not NULL) when it is Basic credentials matching an entry;
 * OWT_E_UNAUTHORIZED for anything else (absent, other scheme, bad base64,
 * no colon, over 4 KiB, wrong password). */
owt_err owt_auth_check(const owt_auth *a, owt_str authorization, owt_buf *user);

/* Constant-time equality of two SHA-256 digests. */
int owt_auth_digest_equal(const unsigned char a[32], const unsigned char b[32]);

/* hex_out gets the lower-case SHA-256 hex of the password and a NUL. */
void owt_auth_hash_password(const char *password, size_t len, char hex_out[65]);

void owt_auth_free(owt_auth *a);

#endif
