/* fuzz_kwargs.c - kwargs text classification (blank or not) and trimming. */
#undef NDEBUG /* the asserts are the checks */
#include <assert.h>

#include "owt_kwargs.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  owt_str text = {(const char *)data, size};
  owt_str trimmed = owt_kwargs_trim(text);
  assert(trimmed.p == text.p && trimmed.len <= text.len);
  owt_kwargs_kind kind = owt_kwargs_classify(text);
  assert(kind == OWT_KWARGS_EMPTY || kind == OWT_KWARGS_TEXT);
  assert(owt_kwargs_classify(trimmed) == kind); /* trailing newlines never matter */
  return 0;
}
