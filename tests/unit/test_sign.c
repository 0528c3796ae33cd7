/* test_sign.c - lib/owt_sign: key files, verification (good, tampered, wrong
 * key, several keys, several threads), signing against RFC 8032's vectors,
 * and owt-fcgi --sign's output. */
#include <pthread.h>
#include <unistd.h>

#include "owt_sign.h"
#include "sign_keys.h"
#include "unit.h"

typedef struct {
  char dir[256];
  char path[600];
  owt_sign_keys keys;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  unit_temp_dir(f->dir, sizeof f->dir, "sign");
  assert_int_equal(unit_write_ed25519(f->dir, "rfc1", rfc8032_seed1), 0);
  assert_int_equal(unit_write_ed25519(f->dir, "rfc2", rfc8032_seed2), 0);
  assert_int_equal(unit_write_ed25519(f->dir, "fresh", NULL), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  owt_sign_keys_free(&f->keys);
  unit_remove_dir(f->dir);
  free(f);
  return 0;
}

static const char *file(fixture *f, const char *name) {
  snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
  return f->path;
}

/* Paths must outlive the key table (it borrows them): keep a copy. */
static const char *kept(fixture *f, const char *name) {
  static char paths[8][600];
  static int next;
  char *p = paths[next++ % 8];
  snprintf(p, 600, "%s/%s", f->dir, name);
  return p;
}

static owt_err add(fixture *f, const char *name, char *why, size_t len) {
  return owt_sign_add_key_file(&f->keys, kept(f, name), why, len);
}

static void test_rfc8032_signatures(void **state) {
  fixture *f = *state;
  unsigned char sig[64];
  char why[512];
  assert_int_equal(owt_sign_with_key_file(file(f, "rfc1.pem"), OWT_STR_LIT(""), sig, why, sizeof why),
                   OWT_OK);
  assert_memory_equal(sig, rfc8032_sig1, 64);
  assert_int_equal(owt_sign_with_key_file(file(f, "rfc2.pem"), OWT_STR_LIT("\x72"), sig, why, sizeof why),
                   OWT_OK);
  assert_memory_equal(sig, rfc8032_sig2, 64);
  assert_int_equal(add(f, "rfc1.pub", why, sizeof why), OWT_OK);
  assert_int_equal(owt_sign_verify(&f->keys, OWT_STR_LIT(""), rfc8032_sig1), 0);
  assert_int_equal(owt_sign_verify(&f->keys, OWT_STR_LIT("\x72"), rfc8032_sig2), -1); /* key 2's */
}

static void test_verify(void **state) {
  fixture *f = *state;
  unsigned char sig[64], bad[64];
  char why[512];
  owt_str code = OWT_STR_LIT("def run():\n    return 'sign me'\n");
  assert_int_equal(owt_sign_verify(&f->keys, code, rfc8032_sig1), -1); /* no keys: nothing verifies */
  assert_int_equal(owt_sign_with_key_file(file(f, "fresh.pem"), code, sig, why, sizeof why), OWT_OK);
  assert_int_equal(add(f, "rfc1.pub", why, sizeof why), OWT_OK);
  assert_int_equal(owt_sign_verify(&f->keys, code, sig), -1); /* wrong key */
  assert_int_equal(add(f, "fresh.pub", why, sizeof why), OWT_OK);
  assert_int_equal(owt_sign_verify(&f->keys, code, sig), 1); /* the second key */
  /* Tampered code: one byte more, one byte changed, one byte fewer. */
  assert_int_equal(owt_sign_verify(&f->keys, OWT_STR_LIT("def run():\n    return 'sign me'\n\n"), sig), -1);
  assert_int_equal(owt_sign_verify(&f->keys, OWT_STR_LIT("def run():\n    return 'sign mE'\n"), sig), -1);
  assert_int_equal(owt_sign_verify(&f->keys, (owt_str){code.p, code.len - 1}, sig), -1);
  /* A tampered signature, bit by bit at a few places. */
  for (int i = 0; i < 64; i += 9) {
    memcpy(bad, sig, 64);
    bad[i] ^= 0x01;
    assert_int_equal(owt_sign_verify(&f->keys, code, bad), -1);
  }
  memset(bad, 0, 64);
  assert_int_equal(owt_sign_verify(&f->keys, code, bad), -1);
}

static void test_key_files_refused(void **state) {
  fixture *f = *state;
  char why[512];
  FILE *fp;
  /* A private key where a public one belongs. */
  assert_int_equal(add(f, "fresh.pem", why, sizeof why), OWT_E_BAD_REQUEST);
  assert_non_null(strstr(why, "openssl pkey"));
  /* Missing, empty, not PEM. */
  assert_int_equal(add(f, "nope.pub", why, sizeof why), OWT_E_BAD_REQUEST);
  assert_non_null(strstr(why, "cannot read"));
  fp = fopen(file(f, "empty.pub"), "w");
  fclose(fp);
  assert_int_equal(add(f, "empty.pub", why, sizeof why), OWT_E_BAD_REQUEST);
  fp = fopen(file(f, "junk.pub"), "w");
  fputs("-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n", fp);
  fclose(fp);
  assert_int_equal(add(f, "junk.pub", why, sizeof why), OWT_E_BAD_REQUEST);
  /* Another algorithm. */
  EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
  assert_non_null(x);
  fp = fopen(file(f, "x25519.pub"), "w");
  assert_true(PEM_write_PUBKEY(fp, x));
  fclose(fp);
  EVP_PKEY_free(x);
  assert_int_equal(add(f, "x25519.pub", why, sizeof why), OWT_E_BAD_REQUEST);
  assert_non_null(strstr(why, "not Ed25519"));
  assert_int_equal(f->keys.n, 0);
  /* Signing wants the private key, unencrypted. */
  unsigned char sig[64];
  assert_int_equal(owt_sign_with_key_file(file(f, "fresh.pub"), OWT_STR_LIT("x"), sig, why, sizeof why),
                   OWT_E_BAD_REQUEST);
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  fp = fopen(file(f, "locked.pem"), "w");
  assert_true(PEM_write_PrivateKey(fp, k, EVP_aes_128_cbc(), (unsigned char *)"pass", 4, NULL, NULL));
  fclose(fp);
  EVP_PKEY_free(k);
  assert_int_equal(owt_sign_with_key_file(file(f, "locked.pem"), OWT_STR_LIT("x"), sig, why, sizeof why),
                   OWT_E_BAD_REQUEST);
  assert_non_null(strstr(why, "unencrypted"));
}

static void test_key_limit(void **state) {
  fixture *f = *state;
  char why[512];
  for (int i = 0; i < OWT_SIGN_MAX_KEYS; i++) assert_int_equal(add(f, "rfc1.pub", why, sizeof why), OWT_OK);
  assert_int_equal(add(f, "rfc1.pub", why, sizeof why), OWT_E_TOO_LARGE);
  assert_int_equal(f->keys.n, OWT_SIGN_MAX_KEYS);
}

typedef struct {
  const owt_sign_keys *keys;
  const unsigned char *sig;
  int failures;
} verifier_arg;

static void *verifier(void *p) {
  verifier_arg *a = p;
  for (int i = 0; i < 300; i++) {
    if (owt_sign_verify(a->keys, OWT_STR_LIT(""), a->sig) != 0) a->failures++;
    if (owt_sign_verify(a->keys, OWT_STR_LIT("x"), a->sig) != -1) a->failures++;
  }
  return NULL;
}

/* The worker's threads verify with the same keys at once. */
static void test_verify_from_threads(void **state) {
  fixture *f = *state;
  char why[512];
  pthread_t t[4];
  verifier_arg a[4];
  assert_int_equal(add(f, "rfc1.pub", why, sizeof why), OWT_OK);
  for (int i = 0; i < 4; i++) {
    a[i] = (verifier_arg){&f->keys, rfc8032_sig1, 0};
    assert_int_equal(pthread_create(&t[i], NULL, verifier, &a[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(a[i].failures, 0);
  }
}

/* owt-fcgi --sign FILE --key PEM: base64 and a newline, the bytes openssl gives. */
static void test_sign_main(void **state) {
  fixture *f = *state;
  char out[256] = "", err[512] = "";
  FILE *o = tmpfile(), *e = tmpfile(), *code = fopen(file(f, "code.py"), "w");
  fputs("\x72", code);
  fclose(code);
  assert_int_equal(owt_sign_main(kept(f, "code.py"), kept(f, "rfc2.pem"), 1024, o, e), 0);
  rewind(o);
  assert_non_null(fgets(out, sizeof out, o));
  owt_buf want = OWT_BUF_INIT(256);
  assert_int_equal(owt_sign_to_base64(rfc8032_sig2, &want), OWT_OK);
  assert_int_equal(owt_buf_append_byte(&want, '\n'), OWT_OK);
  assert_string_equal(out, want.data);
  owt_buf_free(&want);
  /* No key: 2. A missing file, or one over the limit: 1, with a message. */
  assert_int_equal(owt_sign_main(kept(f, "code.py"), NULL, 1024, o, e), 2);
  assert_int_equal(owt_sign_main(kept(f, "missing.py"), kept(f, "rfc2.pem"), 1024, o, e), 1);
  code = fopen(file(f, "big.py"), "w");
  fputs("0123456789", code);
  fclose(code);
  assert_int_equal(owt_sign_main(kept(f, "big.py"), kept(f, "rfc2.pem"), 4, o, e), 1);
  rewind(e);
  assert_true(fread(err, 1, sizeof err - 1, e) > 0);
  assert_non_null(strstr(err, "--key"));
  assert_non_null(strstr(err, "over --max-code"));
  fclose(o);
  fclose(e);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_rfc8032_signatures), T(test_verify),      T(test_key_files_refused),
      T(test_key_limit),          T(test_verify_from_threads), T(test_sign_main),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
