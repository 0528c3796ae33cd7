/* test_code.c - lib/owt_code: the decision for a parsed request. Code sent
 * (with and without code_sha256 and code_sig), code by digest, unknown
 * digests, --require-signed with signed, unsigned, tampered and wrong-key
 * requests, signatures kept with the stored code and re-verified on load,
 * --no-code, and a store that is off.
 *
 * Invocations are filled by hand (test_invocation covers parsing); the
 * store is a fresh directory and the keys PEM files written by the test. */
#include <fcntl.h>
#include <unistd.h>

#include "owt_code.h"
#include "sign_keys.h"
#include "unit.h"

typedef struct {
  char dir[256];
  char store[300];
  char trusted[300], other[300], trusted_pub[300], other_pub[300];
  owt_config cfg;
  owt_code code;
  owt_invocation inv;
  owt_buf message;
  owt_code_memo memo; /* a request thread's */
} fixture;

static void start(fixture *f, int require_signed, int with_store) {
  char why[512];
  owt_code_close(&f->code);
  owt_config_free(&f->cfg);
  memset(&f->cfg, 0, sizeof f->cfg);
  f->cfg.limits = OWT_LIMITS_DEFAULT;
  f->cfg.code_store = with_store ? f->store : NULL;
  f->cfg.code_store_max_bytes = 1u << 20;
  f->cfg.require_signed = require_signed;
  assert_int_equal(owt_sign_add_key_file(&f->cfg.trust_keys, f->trusted_pub, why, sizeof why), OWT_OK);
  assert_int_equal(owt_code_open(&f->code, &f->cfg), OWT_OK);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  unit_temp_dir(f->dir, sizeof f->dir, "code");
  snprintf(f->store, sizeof f->store, "%s/store", f->dir);
  assert_int_equal(unit_write_ed25519(f->dir, "trusted", NULL), 0);
  assert_int_equal(unit_write_ed25519(f->dir, "other", NULL), 0);
  snprintf(f->trusted, sizeof f->trusted, "%s/trusted.pem", f->dir);
  snprintf(f->trusted_pub, sizeof f->trusted_pub, "%s/trusted.pub", f->dir);
  snprintf(f->other, sizeof f->other, "%s/other.pem", f->dir);
  snprintf(f->other_pub, sizeof f->other_pub, "%s/other.pub", f->dir);
  f->cfg.limits = OWT_LIMITS_DEFAULT;
  owt_invocation_init(&f->inv, &f->cfg.limits);
  owt_buf_init(&f->message, 1u << 16);
  owt_code_memo_init(&f->memo);
  start(f, 0, 1);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  owt_code_close(&f->code);
  owt_config_free(&f->cfg);
  owt_invocation_free(&f->inv);
  owt_buf_free(&f->message);
  owt_code_memo_free(&f->memo);
  unit_remove_dir(f->dir);
  free(f);
  return 0;
}

enum { SIG_NONE, SIG_TRUSTED, SIG_OTHER, SIG_TAMPERED };

/* A request: code (NULL: none sent), digest of digest_of (NULL: none), a
 * signature of sig_of by which key. */
static void request(fixture *f, const char *code, const char *digest_of, int sig, const char *sig_of) {
  char why[512];
  owt_invocation_reset(&f->inv);
  owt_buf_reset(&f->message);
  if (code) {
    assert_int_equal(owt_buf_append_str(&f->inv.code, code), OWT_OK);
    f->inv.has_code = 1;
  }
  if (digest_of) {
    assert_int_equal(owt_codestore_hash(NULL, owt_str_of(digest_of), f->inv.code_sha256), OWT_OK);
    owt_codestore_name(f->inv.code_sha256, f->inv.code_sha256_hex);
    f->inv.has_code_sha256 = 1;
  }
  if (sig != SIG_NONE) {
    const char *key = sig == SIG_OTHER ? f->other : f->trusted;
    assert_int_equal(owt_sign_with_key_file(key, owt_str_of(sig_of), f->inv.code_sig, why, sizeof why),
                     OWT_OK);
    if (sig == SIG_TAMPERED) f->inv.code_sig[10] ^= 0x40;
    f->inv.has_code_sig = 1;
  }
}

static owt_err resolve(fixture *f) { return owt_code_resolve(&f->code, &f->memo, &f->inv, &f->message); }

#define CODE "def run():\n    return 'signed or not'\n"
#define OTHER_CODE "def run():\n    return 'something else'\n"

static void assert_message_has(fixture *f, const char *part) {
  if (!strstr(f->message.data ? f->message.data : "", part))
    fail_msg("message \"%s\" lacks \"%s\"", f->message.data ? f->message.data : "", part);
}

static void test_sent_then_by_digest(void **state) {
  fixture *f = *state;
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_E_UNKNOWN_CODE);
  /* The 404 body is JSON a client recognises, naming the digest. */
  assert_message_has(f, "{\"error\": \"unknown code_sha256\", \"code_sha256\": \"");
  assert_message_has(f, f->inv.code_sha256_hex);
  assert_false(f->inv.has_code);

  request(f, CODE, NULL, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  assert_true(f->inv.has_code);
  assert_span_equal(owt_buf_str(&f->inv.code), CODE);
  /* Code and its own digest together: fine. */
  request(f, CODE, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), CODE);
}

/* Whichever way the code came, the request leaves with its SHA-256 (the
 * server's warm-adaptor memo compares it instead of the code). */
static void test_code_sum_is_known_either_way(void **state) {
  fixture *f = *state;
  unsigned char want[32];
  assert_int_equal(owt_codestore_hash(NULL, owt_str_of(CODE), want), OWT_OK);
  request(f, CODE, NULL, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  assert_true(f->inv.has_code_sum);
  assert_memory_equal(f->inv.code_sum, want, 32);
  request(f, CODE, NULL, SIG_NONE, NULL); /* the memo's sum this time */
  assert_int_equal(resolve(f), OWT_OK);
  assert_memory_equal(f->inv.code_sum, want, 32);
  request(f, NULL, CODE, SIG_NONE, NULL); /* loaded from the store */
  assert_int_equal(resolve(f), OWT_OK);
  assert_true(f->inv.has_code_sum);
  assert_memory_equal(f->inv.code_sum, want, 32);
  request(f, NULL, OTHER_CODE, SIG_NONE, NULL); /* unknown: no code, no sum */
  assert_int_equal(resolve(f), OWT_E_UNKNOWN_CODE);
  assert_false(f->inv.has_code_sum);
  request(f, OTHER_CODE, CODE, SIG_NONE, NULL); /* refused: no sum either */
  assert_int_equal(resolve(f), OWT_E_BAD_REQUEST);
  assert_false(f->inv.has_code_sum);
}

/* The thread's memo spares the hash of code it checked last, and only that:
 * code_sha256 is still checked against the code actually sent. */
static void test_memo_remembers_only_the_last_code(void **state) {
  fixture *f = *state;
  unsigned char want[32];
  assert_int_equal(owt_codestore_hash(NULL, owt_str_of(CODE), want), OWT_OK);
  request(f, CODE, NULL, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  assert_span_equal(owt_buf_str(&f->memo.code), CODE);
  assert_memory_equal(f->memo.sum, want, 32);
  request(f, CODE, OTHER_CODE, SIG_NONE, NULL); /* the memo's code, another's digest */
  assert_int_equal(resolve(f), OWT_E_BAD_REQUEST);
  request(f, OTHER_CODE, CODE, SIG_NONE, NULL); /* the memo's digest, other code */
  assert_int_equal(resolve(f), OWT_E_BAD_REQUEST);
  assert_span_equal(owt_buf_str(&f->memo.code), OTHER_CODE);
  request(f, "def run():\n    return 'signed or not", CODE, SIG_NONE, NULL); /* a prefix */
  assert_int_equal(resolve(f), OWT_E_BAD_REQUEST);
  request(f, CODE, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  request(f, CODE, CODE, SIG_NONE, NULL); /* from the memo */
  assert_int_equal(resolve(f), OWT_OK);
  assert_memory_equal(f->memo.sum, want, 32);
  /* Code over the memo's bound is hashed every time, and still checked. */
  char *big = malloc(OWT_CODE_MEMO_MAX + 100);
  memset(big, '#', OWT_CODE_MEMO_MAX + 99);
  big[OWT_CODE_MEMO_MAX + 99] = '\0';
  request(f, big, big, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  assert_int_equal(f->memo.code.len, 0);
  big[5] = 'x';
  request(f, big, NULL, SIG_NONE, NULL);
  f->inv.has_code_sha256 = 1; /* the digest of the code before the change */
  assert_int_equal(owt_codestore_hash(NULL, owt_str_of(CODE), f->inv.code_sha256), OWT_OK);
  assert_int_equal(resolve(f), OWT_E_BAD_REQUEST);
  free(big);
}

static void test_mismatch_is_400(void **state) {
  fixture *f = *state;
  request(f, CODE, OTHER_CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_E_BAD_REQUEST);
  assert_message_has(f, "does not match");
  assert_message_has(f, f->inv.code_sha256_hex);
  /* Nothing was stored under either digest. */
  request(f, NULL, OTHER_CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_E_UNKNOWN_CODE);
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_E_UNKNOWN_CODE);
}

static void test_require_signed(void **state) {
  fixture *f = *state;
  start(f, 1, 1);
  static const struct {
    int sig;
    owt_err want;
    const char *says;
  } cases[] = {
      {SIG_NONE, OWT_E_FORBIDDEN, "--require-signed"},
      {SIG_OTHER, OWT_E_FORBIDDEN, "not a valid signature"},
      {SIG_TAMPERED, OWT_E_FORBIDDEN, "not a valid signature"},
  };
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    request(f, CODE, NULL, cases[i].sig, CODE);
    assert_int_equal(resolve(f), cases[i].want);
    assert_message_has(f, cases[i].says);
    request(f, NULL, CODE, SIG_NONE, NULL); /* refused code is not stored */
    assert_int_equal(resolve(f), OWT_E_UNKNOWN_CODE);
  }
  /* A signature of other code: tampered code, as far as the server can tell. */
  request(f, CODE, NULL, SIG_TRUSTED, OTHER_CODE);
  assert_int_equal(resolve(f), OWT_E_FORBIDDEN);

  request(f, CODE, NULL, SIG_TRUSTED, CODE);
  assert_int_equal(resolve(f), OWT_OK);
  /* Signed once: the digest alone runs, the stored signature verified again. */
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  assert_span_equal(owt_buf_str(&f->inv.code), CODE);
  /* A bad signature sent along is still refused. */
  request(f, NULL, CODE, SIG_OTHER, CODE);
  assert_int_equal(resolve(f), OWT_E_FORBIDDEN);
  assert_int_equal(f->inv.code.len, 0);
}

static void test_stored_unsigned_needs_a_signature(void **state) {
  fixture *f = *state;
  request(f, CODE, NULL, SIG_NONE, NULL); /* a server without --require-signed stores it */
  assert_int_equal(resolve(f), OWT_OK);
  start(f, 1, 1); /* the same directory, now requiring signatures */
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_E_FORBIDDEN);
  /* The digest with a good signature runs, and the store keeps the signature. */
  request(f, NULL, CODE, SIG_TRUSTED, CODE);
  assert_int_equal(resolve(f), OWT_OK);
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
}

static void test_stored_signature_is_reverified(void **state) {
  fixture *f = *state;
  char path[600], name[OWT_CODESTORE_NAME_LEN + 1];
  start(f, 1, 1);
  request(f, CODE, NULL, SIG_TRUSTED, CODE);
  assert_int_equal(resolve(f), OWT_OK);
  /* Someone with write access to the store flips a byte of the signature. */
  unsigned char d[32];
  assert_int_equal(owt_codestore_hash(NULL, OWT_STR_LIT(CODE), d), OWT_OK);
  owt_codestore_name(d, name);
  snprintf(path, sizeof path, "%s/%s", f->store, name);
  int fd = open(path, O_RDWR);
  assert_true(fd >= 0);
  unsigned char b;
  assert_int_equal(pread(fd, &b, 1, 30), 1);
  b ^= 1;
  assert_int_equal(pwrite(fd, &b, 1, 30), 1);
  close(fd);
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_E_FORBIDDEN);
  /* A server that trusts other keys: the stored signature counts for nothing. */
  request(f, CODE, NULL, SIG_TRUSTED, CODE);
  assert_int_equal(resolve(f), OWT_OK); /* rewritten with the good signature */
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  owt_config_free(&f->cfg);
  owt_code_close(&f->code);
  memset(&f->cfg, 0, sizeof f->cfg);
  f->cfg.limits = OWT_LIMITS_DEFAULT;
  f->cfg.code_store = f->store;
  f->cfg.code_store_max_bytes = 1u << 20;
  f->cfg.require_signed = 1;
  char why[512];
  assert_int_equal(owt_sign_add_key_file(&f->cfg.trust_keys, f->other_pub, why, sizeof why), OWT_OK);
  owt_code_open(&f->code, &f->cfg);
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_E_FORBIDDEN);
}

static void test_optional_signatures(void **state) {
  fixture *f = *state;
  /* Without --require-signed: unsigned code runs, a good signature is kept,
   * and a bad one is still refused (a presented credential that fails). */
  request(f, CODE, NULL, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  request(f, CODE, NULL, SIG_OTHER, CODE);
  assert_int_equal(resolve(f), OWT_E_FORBIDDEN);
  request(f, CODE, NULL, SIG_TRUSTED, CODE);
  assert_int_equal(resolve(f), OWT_OK);
  start(f, 1, 1);
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
}

static void test_no_code_and_adaptors(void **state) {
  fixture *f = *state;
  request(f, CODE, NULL, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  f->code.no_code = 1;
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_E_FORBIDDEN);
  assert_message_has(f, "--no-code");
  assert_false(f->inv.has_code);
  /* A named adaptor passes untouched. */
  request(f, NULL, NULL, SIG_NONE, NULL);
  f->inv.has_adaptor = 1;
  assert_int_equal(resolve(f), OWT_OK);
  assert_false(f->inv.has_code);
}

static void test_store_off(void **state) {
  fixture *f = *state;
  start(f, 0, 0);
  request(f, CODE, NULL, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK); /* runs, kept nowhere */
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_E_UNKNOWN_CODE);
}

static void test_stored_code_over_max_code(void **state) {
  fixture *f = *state;
  request(f, CODE, NULL, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  owt_invocation_free(&f->inv);
  owt_limits small = OWT_LIMITS_DEFAULT;
  small.max_code = 8;
  owt_invocation_init(&f->inv, &small);
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_E_TOO_LARGE);
}

static void entry_path(fixture *f, const char *code, char *path, size_t len) {
  unsigned char sum[32];
  char name[OWT_CODESTORE_NAME_LEN + 1];
  assert_int_equal(owt_codestore_hash(NULL, owt_str_of(code), sum), OWT_OK);
  owt_codestore_name(sum, name);
  snprintf(path, len, "%s/%s", f->store, name);
}

/* Code this thread found in the store is not looked for on every request
 * (a system call each): not again within the store's touch interval, unless
 * this process deleted an entry since. A digest request in between finds
 * what is really there. */
static void test_code_found_lately_is_not_looked_for_again(void **state) {
  fixture *f = *state;
  char entry[700], other[700];
  entry_path(f, CODE, entry, sizeof entry);
  entry_path(f, OTHER_CODE, other, sizeof other);
  request(f, CODE, NULL, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  assert_int_equal(access(entry, F_OK), 0);
  assert_true(f->memo.stored_at > 0);

  assert_int_equal(unlink(entry), 0); /* by hand, or another process's eviction */
  request(f, CODE, NULL, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  assert_int_equal(access(entry, F_OK), -1); /* not looked for */
  request(f, NULL, CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_E_UNKNOWN_CODE); /* the client resends the code */

  f->memo.stored_at -= f->code.store.touch_interval; /* the interval has passed */
  request(f, CODE, NULL, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  assert_int_equal(access(entry, F_OK), 0); /* stored again */

  /* This process deletes an entry (a damaged one, here): looked for at once. */
  assert_int_equal(unlink(entry), 0);
  int fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "damaged", 7), 7);
  close(fd);
  request(f, NULL, OTHER_CODE, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_E_UNKNOWN_CODE);
  assert_int_equal(access(other, F_OK), -1);
  request(f, CODE, NULL, SIG_NONE, NULL);
  assert_int_equal(resolve(f), OWT_OK);
  assert_int_equal(access(entry, F_OK), 0);

  /* Signed code is checked against its entry every time. */
  assert_int_equal(unlink(entry), 0);
  request(f, CODE, NULL, SIG_TRUSTED, CODE);
  assert_int_equal(resolve(f), OWT_OK);
  assert_int_equal(access(entry, F_OK), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_sent_then_by_digest),
      T(test_code_sum_is_known_either_way),
      T(test_memo_remembers_only_the_last_code),
      T(test_code_found_lately_is_not_looked_for_again),
      T(test_mismatch_is_400),
      T(test_require_signed),
      T(test_stored_unsigned_needs_a_signature),
      T(test_stored_signature_is_reverified),
      T(test_optional_signatures),
      T(test_no_code_and_adaptors),
      T(test_store_off),
      T(test_stored_code_over_max_code),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
