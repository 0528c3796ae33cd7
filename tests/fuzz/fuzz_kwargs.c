/* fuzz_kwargs.c - kwargs text: trimming, classification (blank or not), and
 * the flat-object scanner C builds kwargs dicts from, checked against cJSON:
 * whatever it calls flat is one JSON object with exactly its items. */
#undef NDEBUG /* the asserts are the checks */
#include <assert.h>
#include <cjson/cJSON.h>
#include <string.h>

#include "owt_kwargs.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int span_is(owt_str s, const char *c) { return strlen(c) == s.len && memcmp(c, s.p, s.len) == 0; }

static void check_flat(owt_str text) {
  owt_kwarg items[OWT_KWARGS_FLAT_MAX];
  size_t n = 0;
  if (!owt_kwargs_flat(text, items, OWT_KWARGS_FLAT_MAX, &n)) return;
  assert(n <= OWT_KWARGS_FLAT_MAX);
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text.p, text.len, &end, 0);
  assert(root && cJSON_IsObject(root));
  size_t i = 0;
  for (const cJSON *item = root->child; item; item = item->next, i++) {
    assert(i < n);
    const owt_kwarg *it = &items[i];
    assert(it->key.p >= text.p && it->key.p + it->key.len <= text.p + text.len);
    assert(span_is(it->key, item->string));
    switch (it->type) {
    case OWT_KWARG_STR: assert(cJSON_IsString(item) && span_is(it->text, item->valuestring)); break;
    case OWT_KWARG_INT:
      assert(cJSON_IsNumber(item));
      assert(it->value > -1000000000000000000LL && it->value < 1000000000000000000LL);
      if (it->value > -(1LL << 53) && it->value < (1LL << 53)) assert(item->valuedouble == (double)it->value);
      break;
    case OWT_KWARG_TRUE: assert(cJSON_IsTrue(item)); break;
    case OWT_KWARG_FALSE: assert(cJSON_IsFalse(item)); break;
    case OWT_KWARG_NULL: assert(cJSON_IsNull(item)); break;
    }
  }
  assert(i == n);
  cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  owt_str text = {(const char *)data, size};
  owt_str trimmed = owt_kwargs_trim(text);
  assert(trimmed.p == text.p && trimmed.len <= text.len);
  owt_kwargs_kind kind = owt_kwargs_classify(text);
  assert(kind == OWT_KWARGS_EMPTY || kind == OWT_KWARGS_TEXT);
  assert(owt_kwargs_classify(trimmed) == kind); /* trailing newlines never matter */
  check_flat(text);
  return 0;
}
