/* fuzz_b64.c - owt_b64_decode on anything; what decodes must re-encode and
 * decode to the same bytes, and a refusal must leave the buffer as it was. */
#undef NDEBUG /* the asserts are the checks */
#include <assert.h>
#include <string.h>

#include "owt_b64.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  owt_buf out = OWT_BUF_INIT(size % 7 == 0 ? 16 : 1 << 20), enc = OWT_BUF_INIT(1 << 22),
          again = OWT_BUF_INIT(1 << 20);
  owt_err err = owt_b64_decode((const char *)data, size, &out);
  assert(err == OWT_OK || err == OWT_E_BAD_REQUEST || err == OWT_E_TOO_LARGE);
  if (err) assert(out.len == 0);
  if (!err) {
    assert(owt_b64_encode(out.data, out.len, &enc) == OWT_OK);
    assert(owt_b64_decode(enc.data, enc.len, &again) == OWT_OK);
    assert(again.len == out.len && (out.len == 0 || memcmp(again.data, out.data, out.len) == 0));
  }
  owt_buf_free(&out);
  owt_buf_free(&enc);
  owt_buf_free(&again);
  return 0;
}
