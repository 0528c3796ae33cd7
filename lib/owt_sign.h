/* owt_sign.h - Ed25519 signatures over adaptor sources: the trusted keys
 * (--trust-key), checking a request's code_sig, and making one (--sign).
 *
 * A signature is over the source's UTF-8 bytes exactly as run (after
 * base64 decoding), the same bytes `openssl pkeyutl -sign -rawin` signs.
 * Keys are PEM files the operator names on the command line; they are
 * loaded once at start and only read afterwards, so any number of threads
 * may verify at once. OpenSSL does the cryptography (EVP_DigestVerify with
 * no digest: Ed25519 hashes internally). The threat model is in
 * docs/security.md ("Signed code"). */
#ifndef OWT_SIGN_H
#define OWT_SIGN_H

#include <stdio.h>

#include "owt_buf.h"

#define OWT_SIGN_LEN 64      /* bytes of an Ed25519 signature */
#define OWT_SIGN_MAX_KEYS 32 /* --trust-key files */

typedef struct {
  void *keys[OWT_SIGN_MAX_KEYS];        /* EVP_PKEY*, Ed25519 public keys; owned */
  const char *files[OWT_SIGN_MAX_KEYS]; /* where each came from (borrowed, for logs) */
  size_t n;
} owt_sign_keys;

/* Load the PEM Ed25519 public key in path (borrowed: it must outlive k) and
 * trust it. OWT_E_BAD_REQUEST with a message for the operator in why when
 * the file cannot be read or holds anything else (a private key, another
 * algorithm); OWT_E_TOO_LARGE past OWT_SIGN_MAX_KEYS. */
owt_err owt_sign_add_key_file(owt_sign_keys *k, const char *path, char *why, size_t why_len);

/* Release every key; k is empty afterwards. */
void owt_sign_keys_free(owt_sign_keys *k);

/* The index of the first trusted key under which sig is a valid signature
 * of msg, or -1 when none is (or k has no keys). */
int owt_sign_verify(const owt_sign_keys *k, owt_str msg, const unsigned char sig[OWT_SIGN_LEN]);

/* Sign msg with the PEM Ed25519 private key in key_path into sig.
 * OWT_E_BAD_REQUEST with a message in why when the key cannot be read, is
 * encrypted, or is not Ed25519; OWT_E_INTERNAL when OpenSSL fails. */
owt_err owt_sign_with_key_file(const char *key_path, owt_str msg, unsigned char sig[OWT_SIGN_LEN], char *why,
                               size_t why_len);

/* Append the standard, padded base64 of a signature (88 characters). */
owt_err owt_sign_to_base64(const unsigned char sig[OWT_SIGN_LEN], owt_buf *out);

/* owt-fcgi --sign FILE --key PEM: print the base64 signature of FILE's bytes
 * (at most max_bytes) and a newline to out; errors go to err. Returns the
 * exit status: 0, 1 (the file or key is unusable) or 2 (no --key). */
int owt_sign_main(const char *file, const char *key_path, size_t max_bytes, FILE *out, FILE *err);

#endif
