/* owt_kwargs.c - kwargs text classification. */
#include "owt_kwargs.h"

#include <cjson/cJSON.h>

owt_str owt_kwargs_trim(owt_str text) {
  while (text.len && (text.p[text.len - 1] == '\n' || text.p[text.len - 1] == '\r')) text.len--;
  return text;
}

owt_kwargs_kind owt_kwargs_classify(owt_str text) {
  owt_str t = owt_str_trim(text);
  if (t.len == 0) return OWT_KWARGS_EMPTY;
  /* cJSON bounds nesting itself (CJSON_NESTING_LIMIT); the text is bounded
   * by the request limits before it gets here. */
  const char *end = NULL;
  cJSON *json = cJSON_ParseWithLengthOpts(t.p, t.len, &end, 0);
  if (!json) return OWT_KWARGS_OTHER;
  int complete = end == t.p + t.len;
  cJSON_Delete(json);
  return complete ? OWT_KWARGS_JSON : OWT_KWARGS_OTHER;
}
