/* owt_kwargs.c - kwargs text classification. */
#include "owt_kwargs.h"

owt_str owt_kwargs_trim(owt_str text) {
  while (text.len && (text.p[text.len - 1] == '\n' || text.p[text.len - 1] == '\r')) text.len--;
  return text;
}

owt_kwargs_kind owt_kwargs_classify(owt_str text) {
  return owt_str_trim(text).len == 0 ? OWT_KWARGS_EMPTY : OWT_KWARGS_TEXT;
}
