/* owt_code.c - code_sha256 and code_sig: check, load, store (owt_code.h). */
#include "owt_code.h"

#include <string.h>
#include <time.h>

#include "owt_log.h"
#include "owt_utf8.h"

owt_err owt_code_open(owt_code *c, const owt_config *cfg) {
  char why[4096];
  memset(c, 0, sizeof *c);
  c->keys = &cfg->trust_keys;
  c->require_signed = cfg->require_signed;
  c->no_code = cfg->no_code;
  if (owt_codestore_open(&c->store, cfg->code_store, cfg->code_store_max_bytes, cfg->limits.max_code, why,
                         sizeof why) != OWT_OK)
    owt_log(OWT_LOG_ERROR, "%s; the code store is off: code_sha256 alone is answered 404", why);
  return OWT_OK;
}

void owt_code_close(owt_code *c) { owt_codestore_close(&c->store); }

void owt_code_memo_init(owt_code_memo *m) {
  memset(m, 0, sizeof *m);
  owt_buf_init(&m->code, OWT_CODE_MEMO_MAX);
}

void owt_code_memo_free(owt_code_memo *m) { owt_buf_free(&m->code); }

/* sum = SHA-256 of code, from memo when it is the code hashed last. */
static owt_err hash_code(owt_code *c, owt_code_memo *memo, owt_str code, unsigned char sum[32]) {
  if (memo && memo->code.len == code.len && code.len && memcmp(memo->code.data, code.p, code.len) == 0) {
    memcpy(sum, memo->sum, 32);
    return OWT_OK;
  }
  if (owt_codestore_hash(&c->store, code, sum) != OWT_OK) return OWT_E_INTERNAL;
  if (memo) {
    owt_buf_reset(&memo->code);
    if (owt_buf_append(&memo->code, code.p, code.len) == OWT_OK) memcpy(memo->sum, sum, 32);
    else owt_buf_reset(&memo->code); /* too long to remember */
    memo->stored_at = 0;
  }
  return OWT_OK;
}

static double monotonic_coarse(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether code (just hashed through memo) was found in the store by this
 * thread so lately that looking again would only cost a system call per
 * request: within the store's touch interval (which bounds how stale its
 * last-used time may get), and with no entry deleted since by a process
 * using the store. An entry deleted by hand meanwhile costs at most a 404
 * and a resend of the code, as the protocol allows, for that long. */
static int stored_lately(const owt_code *c, const owt_code_memo *memo, double now) {
  return memo->stored_at > 0 && now - memo->stored_at < c->store.touch_interval &&
         memo->store_deletions == owt_codestore_deletions(&c->store);
}

static owt_err say(owt_buf *message, owt_err err, const char *text) {
  owt_buf_reset(message);
  owt_buf_append_str(message, text);
  return err;
}

/* The 404 a client recognises (PROTOCOL §7): it then sends the code itself. */
static owt_err unknown(owt_buf *message, const owt_invocation *inv) {
  owt_buf_reset(message);
  owt_buf_printf(message,
                 "{\"error\": \"unknown code_sha256\", \"code_sha256\": \"%s\", \"message\": \"this server "
                 "does not have that code (never sent to it, or evicted): send it again with code_b64\"}",
                 inv->code_sha256_hex);
  return OWT_E_UNKNOWN_CODE;
}

/* Whether code may run as far as signatures go, and with which signature
 * (*sig: the one that verified, NULL: none). A code_sig sent is checked
 * whenever keys are trusted: a bad one is refused even when signatures are
 * optional. stored (NULL: none) is the signature the store kept; it counts
 * only after it verifies again. */
static owt_err check_signature(const owt_code *c, const owt_invocation *inv, owt_str code,
                               const unsigned char *stored, const unsigned char **sig, owt_buf *message) {
  *sig = NULL;
  if (inv->has_code_sig && c->keys->n) {
    if (owt_sign_verify(c->keys, code, inv->code_sig) < 0) {
      owt_log(OWT_LOG_WARNING, "code_sig for code %.16s... does not verify with any --trust-key: refused",
              inv->has_code_sha256 ? inv->code_sha256_hex : "sent in full");
      return say(message, OWT_E_FORBIDDEN,
                 "code_sig is not a valid signature of this code by any key this server trusts "
                 "(--trust-key)");
    }
    *sig = inv->code_sig;
    return OWT_OK;
  }
  if (c->require_signed && stored && owt_sign_verify(c->keys, code, stored) >= 0) {
    *sig = stored;
    return OWT_OK;
  }
  if (c->require_signed)
    return say(message, OWT_E_FORBIDDEN,
               "this server runs with --require-signed: send code_sig, the base64 Ed25519 signature of the "
               "code's UTF-8 bytes by a key it trusts (owt-fcgi --sign FILE --key PEM makes one)");
  return OWT_OK;
}

/* Code sent in full: check it against code_sha256 and its signature, keep it. */
static owt_err resolve_sent(owt_code *c, owt_code_memo *memo, owt_invocation *inv, owt_buf *message) {
  unsigned char sum[32];
  char hex[OWT_CODESTORE_NAME_LEN + 1];
  const unsigned char *sig = NULL;
  owt_str code = owt_buf_str(&inv->code);
  owt_err err;
  if (hash_code(c, memo, code, sum) != OWT_OK)
    return say(message, OWT_E_INTERNAL, "cannot compute the code's SHA-256");
  if (inv->has_code_sha256 && memcmp(sum, inv->code_sha256, sizeof sum) != 0) {
    owt_codestore_name(sum, hex);
    owt_buf_reset(message);
    owt_buf_printf(message, "code_sha256 does not match the code sent: the code's SHA-256 is %s, not %s", hex,
                   inv->code_sha256_hex);
    return OWT_E_BAD_REQUEST;
  }
  memcpy(inv->code_sum, sum, sizeof sum);
  inv->has_code_sum = 1;
  if ((err = check_signature(c, inv, code, NULL, &sig, message))) return err;
  /* hash_code left this code in the memo unless it was too long to keep; a
   * signature is checked against the entry each time. */
  int memoed = memo && !sig && code.len && memo->code.len == code.len;
  double now = memoed ? monotonic_coarse() : 0;
  if (memoed && stored_lately(c, memo, now)) return OWT_OK;
  uint64_t deletions = owt_codestore_deletions(&c->store);
  err = owt_codestore_put(&c->store, sum, code, sig);
  if (err == OWT_E_TOO_LARGE)
    owt_log(OWT_LOG_DEBUG, "code store: code of %zu bytes is over its bound", code.len);
  if (err == OWT_OK && memoed) {
    memo->stored_at = now;
    memo->store_deletions = deletions;
  }
  return OWT_OK; /* a store that failed only costs a later 404 and a resend */
}

/* code_sha256 alone: load the code; a signature sent along signs it too. */
static owt_err resolve_digest(owt_code *c, owt_invocation *inv, owt_buf *message) {
  unsigned char stored[OWT_CODESTORE_SIG_LEN];
  const unsigned char *sig = NULL;
  int has_stored = 0;
  owt_buf_reset(&inv->code);
  owt_err err = owt_codestore_get(&c->store, inv->code_sha256, &inv->code, stored, &has_stored);
  if (err == OWT_E_NOT_FOUND) return unknown(message, inv);
  if (err == OWT_E_TOO_LARGE) return say(message, err, "the stored code is over the --max-code limit");
  if (err) return say(message, err, "the code store failed (see the error log)");
  owt_str code = owt_buf_str(&inv->code);
  if (!owt_utf8_valid_text(code.p, code.len)) { /* never stored by owt: someone else's file */
    owt_buf_reset(&inv->code);
    return unknown(message, inv);
  }
  if ((err = check_signature(c, inv, code, has_stored ? stored : NULL, &sig, message))) {
    owt_buf_reset(&inv->code);
    return err;
  }
  if (sig == inv->code_sig && !has_stored) owt_codestore_put(&c->store, inv->code_sha256, code, sig);
  inv->has_code = 1;
  memcpy(inv->code_sum, inv->code_sha256, sizeof inv->code_sum); /* the store checked it */
  inv->has_code_sum = 1;
  return OWT_OK;
}

owt_err owt_code_resolve(owt_code *c, owt_code_memo *memo, owt_invocation *inv, owt_buf *message) {
  if (inv->has_adaptor) return OWT_OK;
  if (c->no_code && (inv->has_code || inv->has_code_sha256))
    return say(message, OWT_E_FORBIDDEN, "this server runs with --no-code: code in requests is refused; "
                                         "call a named adaptor with adaptor=NAME");
  if (inv->has_code) return resolve_sent(c, memo, inv, message);
  if (inv->has_code_sha256) return resolve_digest(c, inv, message);
  return OWT_OK;
}
