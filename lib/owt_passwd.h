/* owt_passwd.h - stored password hashes: reading them, checking a password
 * against one, making new ones (owt-fcgi --hash-password).
 *
 * Two kinds. The seed's unsalted SHA-256 hex (64 digits), kept so existing
 * auth files go on working; a stolen file gives such passwords away to a
 * dictionary at GPU speed. And crypt(3) strings from libxcrypt, salted and
 * slow on purpose: yescrypt ("$y$", the default), bcrypt ("$2b$", "$2y$"),
 * scrypt ("$7$") and sha512crypt ("$6$"), i.e. what libxcrypt's
 * crypt_checksalt() calls current; its legacy methods (DES, MD5, SHA-1,
 * sha256crypt, ...) are refused. Only this file includes crypt.h.
 *
 * Every function here is safe to call from several threads at once: the
 * crypt(3) state is per call (crypt_rn into a heap buffer, cleansed). */
#ifndef OWT_PASSWD_H
#define OWT_PASSWD_H

#include <stdio.h>

#include "owt_err.h"
#include "owt_str.h"

#define OWT_PASSWD_HASH_MAX 160 /* bytes of a stored crypt(3) string we accept */

typedef enum {
  OWT_PASSWD_SHA256 = 1, /* digest: SHA-256 of the password, unsalted (the seed's form) */
  OWT_PASSWD_CRYPT,      /* hash: a crypt(3) string, salt and cost inside */
} owt_passwd_kind;

typedef struct {
  owt_passwd_kind kind;
  unsigned char digest[32];            /* OWT_PASSWD_SHA256 */
  char hash[OWT_PASSWD_HASH_MAX + 1];  /* OWT_PASSWD_CRYPT, NUL-terminated */
  size_t hash_len;
} owt_passwd;

/* Read a stored hash: 64 hex digits (SHA-256) or a crypt(3) string of an
 * accepted method (see above), complete (a bare setting, the salt without
 * the hash, is refused). OWT_OK and *pw filled, or OWT_E_BAD_REQUEST with
 * *why a static message for the operator. */
owt_err owt_passwd_parse(owt_str stored, owt_passwd *pw, const char **why);

/* Whether password (any bytes, length len) is the one pw was made from:
 * OWT_OK, or OWT_E_UNAUTHORIZED. The final comparison is constant-time;
 * the work done depends only on pw (its kind and cost), never on how much
 * of the password is right. A crypt entry never matches a password holding
 * a NUL byte (crypt(3) would stop reading there). OWT_E_NOMEM when there is
 * no memory for the hash's state, OWT_E_INTERNAL when libxcrypt fails. */
owt_err owt_passwd_verify(const owt_passwd *pw, const char *password, size_t len);

/* Formats --hash-password makes. */
typedef enum {
  OWT_PASSWD_MAKE_YESCRYPT = 0, /* the default */
  OWT_PASSWD_MAKE_BCRYPT,
  OWT_PASSWD_MAKE_SHA256, /* the seed's unsalted form, for old set-ups only */
} owt_passwd_format;

/* The format named name ("yescrypt", "bcrypt", "sha256"; NULL or "" is
 * yescrypt). OWT_E_BAD_REQUEST for another name. */
owt_err owt_passwd_format_of(const char *name, owt_passwd_format *format);

/* The stored form of password[0..len) in format, NUL-terminated into out
 * (out_len >= OWT_PASSWD_HASH_MAX + 1), with a fresh random salt. The cost
 * is yescrypt's libxcrypt default or bcrypt cost 12; cost (when not 0)
 * overrides it (tests use the cheapest). OWT_E_BAD_REQUEST (*why set) for
 * an empty password, or a crypt format and a password holding a NUL byte;
 * OWT_E_INTERNAL when libxcrypt fails. */
owt_err owt_passwd_make(owt_passwd_format format, unsigned long cost, const char *password, size_t len,
                        char *out, size_t out_len, const char **why);

/* owt-fcgi --hash-password[=FORMAT]: one line from in (the password,
 * without its line end), its stored form and a newline to out; messages to
 * err. Returns the exit status: 0, or 2 for a bad format, no input, an
 * empty password. The line is cleansed from memory. */
int owt_passwd_main(const char *format, FILE *in, FILE *out, FILE *err);

#endif
