/* fuzz_form.c - query strings and form bodies: the pair walk, percent-decoding
 * of every key and value, and key matching. */
#undef NDEBUG /* the asserts are the checks */
#include <assert.h>

#include "owt_form.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static owt_err each_pair(void *ctx, owt_str key, owt_str value) {
  owt_buf *out = ctx;
  owt_buf_reset(out);
  owt_err err = owt_url_decode(key.p, key.len, out);
  if (err) return err;
  assert(out->len <= key.len); /* decoding never grows the text */
  (void)owt_form_key_is(key, "code_b64");
  (void)owt_form_key_is(key, "");
  return value.p ? owt_url_decode(value.p, value.len, out) : OWT_OK;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  owt_buf out = OWT_BUF_INIT(size / 2 + 1);
  owt_err err = owt_form_each((const char *)data, size, 64, each_pair, &out);
  assert(err == OWT_OK || err == OWT_E_TOO_LARGE);
  owt_buf_free(&out);
  return 0;
}
