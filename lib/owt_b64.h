/* owt_b64.h - base64 in every variant clients actually send.
 *
 * Clients encode code with `base64` (wrapped at 76 columns), `base64 -w 0`,
 * btoa, URL-safe encoders that drop padding, and sometimes paste a standard
 * string into a URL unescaped so '+' arrives as ' '. Decoding accepts all of
 * these; anything else is a 400. */
#ifndef OWT_B64_H
#define OWT_B64_H

#include <stddef.h>

#include "owt_buf.h"

/* Decode in[0..len) and append the bytes to out (bounded by out->max).
 * Accepts the standard and URL-safe alphabets (mixed), missing or present
 * '=' padding, CR/LF/TAB anywhere (skipped) and ' ' as '+'.
 * Returns OWT_E_BAD_REQUEST for any other byte, data after padding, or a
 * length that cannot be base64; OWT_E_TOO_LARGE past out->max. On failure
 * out->len is restored. */
owt_err owt_b64_decode(const char *in, size_t len, owt_buf *out);

/* Append the standard, padded base64 of in[0..len) to out. */
owt_err owt_b64_encode(const void *in, size_t len, owt_buf *out);

#endif
