/* owt_form.h - application/x-www-form-urlencoded and query strings.
 *
 * The same grammar serves QUERY_STRING and form bodies. Parsing hands out
 * raw (still encoded) spans; only the fields a caller wants get decoded,
 * into buffers with their own caps. */
#ifndef OWT_FORM_H
#define OWT_FORM_H

#include "owt_buf.h"

/* Called once per "key=value" pair with the raw spans (value.p is NULL for a
 * bare "key"). Return OWT_OK to continue, anything else stops the walk and
 * is returned by owt_form_each(). */
typedef owt_err (*owt_form_fn)(void *ctx, owt_str raw_key, owt_str raw_value);

/* Walk the pairs of s[0..len) separated by '&' (and ';'), skipping empty ones.
 * More than max_pairs pairs is OWT_E_TOO_LARGE. */
owt_err owt_form_each(const char *s, size_t len, size_t max_pairs, owt_form_fn fn, void *ctx);

/* Percent-decode in[0..len) onto out; '+' becomes ' ' (form semantics).
 * A '%' not followed by two hex digits is kept literally, as browsers and
 * Python's urllib do. OWT_E_TOO_LARGE past out->max. */
owt_err owt_url_decode(const char *in, size_t len, owt_buf *out);

/* Whether raw_key percent-decodes to the NUL-terminated name; decodes while
 * comparing, so no buffer is needed and a long key stops at the first miss. */
int owt_form_key_is(owt_str raw_key, const char *name);

#endif
