/* owt_sign.c - Ed25519 keys, verification and signing with OpenSSL. */
#include "owt_sign.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#include "owt_b64.h"

/* A PEM passphrase callback that has none: an encrypted key fails to load
 * instead of prompting on a terminal a worker does not have. */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
  (void)buf, (void)size, (void)rwflag, (void)u;
  return -1;
}

/* The first OpenSSL error as text (or fallback), and the queue cleared. */
static const char *openssl_reason(const char *fallback) {
  unsigned long e = ERR_get_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  ERR_clear_error();
  return r ? r : fallback;
}

owt_err owt_sign_add_key_file(owt_sign_keys *k, const char *path, char *why, size_t why_len) {
  EVP_PKEY *pkey = NULL;
  BIO *bio = NULL;
  owt_err err = OWT_E_BAD_REQUEST;
  if (k->n >= OWT_SIGN_MAX_KEYS) {
    snprintf(why, why_len, "too many keys (at most %d)", OWT_SIGN_MAX_KEYS);
    return OWT_E_TOO_LARGE;
  }
  if (!(bio = BIO_new_file(path, "r"))) {
    snprintf(why, why_len, "cannot read it: %s", strerror(errno ? errno : ENOENT));
    goto done;
  }
  if (!(pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL))) {
    snprintf(why, why_len, "not a PEM public key (a private key? make the public one with "
             "`openssl pkey -in key.pem -pubout -out key.pub`)");
    goto done;
  }
  if (!EVP_PKEY_is_a(pkey, "ED25519")) {
    snprintf(why, why_len, "a %s key, not Ed25519 (`openssl genpkey -algorithm ed25519`)",
             EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "non-Ed25519");
    goto done;
  }
  k->keys[k->n] = pkey;
  k->files[k->n] = path;
  k->n++;
  pkey = NULL;
  err = OWT_OK;
done:
  EVP_PKEY_free(pkey);
  BIO_free(bio);
  ERR_clear_error();
  return err;
}

void owt_sign_keys_free(owt_sign_keys *k) {
  for (size_t i = 0; i < k->n; i++) EVP_PKEY_free(k->keys[i]);
  memset(k, 0, sizeof *k);
}

int owt_sign_verify(const owt_sign_keys *k, owt_str msg, const unsigned char sig[OWT_SIGN_LEN]) {
  int found = -1;
  EVP_MD_CTX *ctx = k->n ? EVP_MD_CTX_new() : NULL;
  if (!ctx) return -1;
  for (size_t i = 0; i < k->n && found < 0; i++) {
    /* NULL digest: Ed25519 is a one-shot scheme that hashes the message itself. */
    if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->keys[i]) == 1 &&
        EVP_DigestVerify(ctx, sig, OWT_SIGN_LEN, (const unsigned char *)(msg.len ? msg.p : ""), msg.len) == 1)
      found = (int)i;
    EVP_MD_CTX_reset(ctx);
  }
  EVP_MD_CTX_free(ctx);
  ERR_clear_error(); /* a failed verification leaves an error queued; it must not leak into the next */
  return found;
}

owt_err owt_sign_with_key_file(const char *key_path, owt_str msg, unsigned char sig[OWT_SIGN_LEN], char *why,
                               size_t why_len) {
  EVP_PKEY *pkey = NULL;
  EVP_MD_CTX *ctx = NULL;
  BIO *bio = NULL;
  size_t len = OWT_SIGN_LEN;
  owt_err err = OWT_E_BAD_REQUEST;
  if (!(bio = BIO_new_file(key_path, "r"))) {
    snprintf(why, why_len, "--key %s: cannot read it: %s", key_path, strerror(errno ? errno : ENOENT));
    goto done;
  }
  if (!(pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL))) {
    snprintf(why, why_len, "--key %s: not an unencrypted PEM private key (%s)", key_path,
             openssl_reason("no PRIVATE KEY block"));
    goto done;
  }
  if (!EVP_PKEY_is_a(pkey, "ED25519")) {
    snprintf(why, why_len, "--key %s: not an Ed25519 key (`openssl genpkey -algorithm ed25519 -out %s`)",
             key_path, key_path);
    goto done;
  }
  err = OWT_E_INTERNAL;
  if (!(ctx = EVP_MD_CTX_new()) || EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
      EVP_DigestSign(ctx, sig, &len, (const unsigned char *)(msg.len ? msg.p : ""), msg.len) != 1 ||
      len != OWT_SIGN_LEN) {
    snprintf(why, why_len, "--key %s: signing failed: %s", key_path, openssl_reason("unknown error"));
    goto done;
  }
  err = OWT_OK;
done:
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  BIO_free(bio);
  ERR_clear_error();
  return err;
}

owt_err owt_sign_to_base64(const unsigned char sig[OWT_SIGN_LEN], owt_buf *out) {
  return owt_b64_encode(sig, OWT_SIGN_LEN, out);
}

/* FILE's bytes into out, at most out->max. 0, or -1 after a message. */
static int read_file(const char *path, owt_buf *out, FILE *err) {
  char chunk[65536];
  size_t n;
  owt_err e = OWT_OK;
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(err, "owt-fcgi: --sign %s: %s\n", path, strerror(errno));
    return -1;
  }
  while (!e && (n = fread(chunk, 1, sizeof chunk, f)) > 0) e = owt_buf_append(out, chunk, n);
  int failed = ferror(f);
  fclose(f);
  if (e || failed) {
    fprintf(err, "owt-fcgi: --sign %s: %s\n", path,
            e == OWT_E_TOO_LARGE ? "over --max-code" : "cannot read it");
    return -1;
  }
  return 0;
}

int owt_sign_main(const char *file, const char *key_path, size_t max_bytes, FILE *out, FILE *err) {
  unsigned char sig[OWT_SIGN_LEN];
  char why[512];
  owt_buf code = OWT_BUF_INIT(max_bytes), text = OWT_BUF_INIT(128);
  int rc = 1;
  if (!key_path) {
    fputs("owt-fcgi: --sign FILE needs --key PEM (an Ed25519 private key)\n", err);
    rc = 2;
    goto done;
  }
  if (read_file(file, &code, err) != 0) goto done;
  if (owt_sign_with_key_file(key_path, owt_buf_str(&code), sig, why, sizeof why) != OWT_OK) {
    fprintf(err, "owt-fcgi: %s\n", why);
    goto done;
  }
  if (owt_sign_to_base64(sig, &text) != OWT_OK) goto done;
  rc = fprintf(out, "%s\n", text.data) < 0 || fflush(out) != 0;
done:
  owt_buf_free(&code);
  owt_buf_free(&text);
  return rc;
}
