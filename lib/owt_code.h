/* owt_code.h - what code a parsed request runs, and whether it may:
 * code_sha256, code_sig, --require-signed and the code store in one place.
 *
 * The request pipeline calls owt_code_resolve() once, after the invocation
 * is parsed and before anything runs. It decides:
 *
 *   code sent   -> its SHA-256 must equal code_sha256 when one is given (400);
 *                  a code_sig must verify with a --trust-key (403), and under
 *                  --require-signed one must (403); then it is stored.
 *   digest only -> the code is loaded from the store (unknown: 404 with a
 *                  JSON body a client recognises, so it resends the code);
 *                  under --require-signed it runs only when a signature
 *                  verifies: the code_sig sent, or the one stored with it.
 *
 * Signatures are verified again on every load: the store's copy is a hint,
 * so a file written into the store directory by anyone else cannot make
 * code count as signed. The warm-adaptor key is unchanged: the digest of
 * (fn_name, code) over the code that runs, however it arrived.
 *
 * One owt_code is shared by all threads of a worker; owt_code_resolve()
 * keeps nothing of a request in it. */
#ifndef OWT_CODE_H
#define OWT_CODE_H

#include "owt_codestore.h"
#include "owt_config.h"
#include "owt_invocation.h"
#include "owt_sign.h"

typedef struct {
  owt_codestore store;
  const owt_sign_keys *keys; /* borrowed from the config */
  int require_signed;
  int no_code;
} owt_code;

/* The code a thread hashed last, with its SHA-256: a worker thread mostly
 * runs the same adaptor again, and hashing it costs more than the rest of
 * the check. Per thread, so owt_code itself stays shared and unlocked. */
typedef struct {
  owt_buf code; /* up to OWT_CODE_MEMO_MAX bytes; longer code is hashed each time */
  unsigned char sum[32];
  /* When this thread last found that code in the store (CLOCK_MONOTONIC
   * seconds; 0: not since it was remembered) and the store's deletion count
   * then (owt_codestore_deletions): within the store's touch interval, and
   * with nothing deleted since, it is not looked for again. */
  double stored_at;
  uint64_t store_deletions;
} owt_code_memo;

#define OWT_CODE_MEMO_MAX (256 * 1024)

void owt_code_memo_init(owt_code_memo *m);
void owt_code_memo_free(owt_code_memo *m);

/* Set c up from cfg (borrowed: it must outlive c): the code store in
 * cfg->code_store, bounded by cfg->code_store_max_bytes and --max-code, and
 * the trusted keys. A store directory that cannot be used is logged and
 * left off (code_sha256 alone is then a 404, and clients send the code);
 * the return value is OWT_OK then too: the server still serves. */
owt_err owt_code_open(owt_code *c, const owt_config *cfg);

/* Release what open took; safe on a zeroed owt_code (a server whose start
 * failed before owt_code_open) and on one already closed. */
void owt_code_close(owt_code *c);

/* Decide the code inv runs (see the header comment). On OWT_OK inv->code
 * holds it and inv->has_code is set, and inv->code_sum its SHA-256
 * (has_code_sum); named adaptors pass through untouched. On failure message
 * gets the response body: text for 400 and 403, the JSON object for
 * OWT_E_UNKNOWN_CODE (404); OWT_E_TOO_LARGE when stored code is over
 * --max-code now. memo (NULL: none) is the calling
 * thread's: code sent in full is hashed only when it differs from the last. */
owt_err owt_code_resolve(owt_code *c, owt_code_memo *memo, owt_invocation *inv, owt_buf *message);

#endif
