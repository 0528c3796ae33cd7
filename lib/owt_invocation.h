/* owt_invocation.h - what the request asks owt to run (PROTOCOL §2).
 *
 * The fields come from the query string and from a JSON or urlencoded body
 * (body fields win). Decoding happens here, in C and bounded: base64, UTF-8
 * checks, the fn_name and adaptor name grammar, booleans. */
#ifndef OWT_INVOCATION_H
#define OWT_INVOCATION_H

#include "owt_buf.h"
#include "owt_kwargs.h"
#include "owt_limits.h"
#include "owt_request.h"

#define OWT_INVOCATION_SHA256_LEN 32 /* code_sha256, decoded */
#define OWT_INVOCATION_SIG_LEN 64    /* code_sig, decoded: an Ed25519 signature */
#define OWT_INVOCATION_FIELDS 11     /* the request fields of PROTOCOL §2 (owt_invocation.c) */

typedef struct {
  owt_buf code;       /* decoded UTF-8 source; empty when adaptor is used */
  owt_buf kwargs;     /* kwargs text, decoded, trailing newlines stripped */
  owt_buf kwargs_raw; /* kwargs_b64 or kwargs exactly as sent (a cache-key part) */
  owt_buf fn_name;    /* "run" unless given */
  owt_buf adaptor;    /* "module" or "module.function"; empty when code is used */
  owt_buf cache_key;  /* cache_key_override, empty when not given */
  int has_code;
  int has_adaptor;
  int has_code_sha256; /* code_sha256 given: the code, or what to load when none was sent */
  int has_code_sig;    /* code_sig given */
  int has_code_sum;    /* set by owt_code_resolve(): code_sum is the SHA-256 of code */
  unsigned char code_sum[OWT_INVOCATION_SHA256_LEN];
  unsigned char code_sha256[OWT_INVOCATION_SHA256_LEN];
  char code_sha256_hex[2 * OWT_INVOCATION_SHA256_LEN + 1]; /* lower-case, NUL-terminated */
  unsigned char code_sig[OWT_INVOCATION_SIG_LEN];
  int has_cache_key;
  int use_cache;
  int cache_kwargs;
  int missing_code;   /* the only fault: no code, code_sha256 or adaptor (a cache hit can still answer) */
  owt_kwargs_kind kwargs_kind;
  const char *error; /* a static message for the 4xx body when parsing fails */
  owt_buf raw[OWT_INVOCATION_FIELDS]; /* each field's text as found, before base64 and the
                                         rest: kept from request to request, so parsing
                                         allocates nothing once warm (big ones are let go) */
} owt_invocation;

void owt_invocation_init(owt_invocation *inv, const owt_limits *limits);

/* Fill inv from r's query string and body. On failure the return value says
 * the status and inv->error the message (a static string).
 * code_sha256 (64 hex digits, either case) and code_sig (base64 of 64
 * bytes) are checked for form only: whether they match the code is
 * lib/owt_code.c's question. A request with code_sha256 and no code parses
 * with has_code 0: owt_code_resolve() loads the code. */
owt_err owt_invocation_parse(owt_invocation *inv, const owt_request *r, const owt_limits *limits);

void owt_invocation_reset(owt_invocation *inv);
void owt_invocation_free(owt_invocation *inv);

/* Whether s looks like a Python identifier (dotted: a.b.c) of at most 128
 * bytes: letters, digits, '_' and non-ASCII bytes, not starting with a digit.
 * The runtime has the last word (str.isidentifier). */
int owt_invocation_valid_name(owt_str s, int dotted);

/* Parse a boolean field: true/false, True/False, 1/0, yes/no, on/off, ''. */
owt_err owt_invocation_parse_bool(owt_str s, int *out);

#endif
