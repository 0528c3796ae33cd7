/* owt_kwargs.c - kwargs text classification. */
#include "owt_kwargs.h"

#include <string.h>

owt_str owt_kwargs_trim(owt_str text) {
  while (text.len && (text.p[text.len - 1] == '\n' || text.p[text.len - 1] == '\r')) text.len--;
  return text;
}

owt_kwargs_kind owt_kwargs_classify(owt_str text) {
  return owt_str_trim(text).len == 0 ? OWT_KWARGS_EMPTY : OWT_KWARGS_TEXT;
}

/* ---- flat JSON objects ----------------------------------------------------- */

typedef struct {
  const char *p, *end;
} cursor;

static void skip_ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int take(cursor *c, char ch) {
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return 1;
  }
  return 0;
}

/* A string with no escapes and no control characters; *out its bytes. */
static int plain_string(cursor *c, owt_str *out) {
  if (!take(c, '"')) return 0;
  const char *start = c->p;
  while (c->p < c->end && *c->p != '"') {
    unsigned char b = (unsigned char)*c->p;
    if (b == '\\' || b < 0x20) return 0; /* escapes: the interpreter's json decodes them */
    c->p++;
  }
  if (c->p == c->end) return 0;
  *out = (owt_str){start, (size_t)(c->p - start)};
  c->p++;
  return 1;
}

static int literal(cursor *c, const char *word, size_t len) {
  if ((size_t)(c->end - c->p) < len || memcmp(c->p, word, len) != 0) return 0;
  c->p += len;
  return 1;
}

/* -?(0|[1-9][0-9]*), at most 18 digits, not followed by a fraction or exponent. */
static int small_int(cursor *c, long long *out) {
  int neg = take(c, '-');
  const char *start = c->p;
  long long v = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    if (c->p - start == 18) return 0;
    v = v * 10 + (*c->p - '0');
    c->p++;
  }
  size_t digits = (size_t)(c->p - start);
  if (digits == 0 || (digits > 1 && *start == '0')) return 0;
  if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E')) return 0;
  *out = neg ? -v : v;
  return 1;
}

static int flat_value(cursor *c, owt_kwarg *item) {
  if (c->p == c->end) return 0;
  switch (*c->p) {
  case '"': item->type = OWT_KWARG_STR; return plain_string(c, &item->text);
  case 't': item->type = OWT_KWARG_TRUE; return literal(c, "true", 4);
  case 'f': item->type = OWT_KWARG_FALSE; return literal(c, "false", 5);
  case 'n': item->type = OWT_KWARG_NULL; return literal(c, "null", 4);
  default: item->type = OWT_KWARG_INT; return small_int(c, &item->value);
  }
}

int owt_kwargs_flat(owt_str text, owt_kwarg *items, size_t max, size_t *n) {
  cursor c = {text.p, text.p + text.len};
  *n = 0;
  if (!text.p) return 0;
  skip_ws(&c);
  if (!take(&c, '{')) return 0;
  skip_ws(&c);
  if (!take(&c, '}')) {
    for (;;) {
      if (*n == max) return 0;
      owt_kwarg *item = &items[*n];
      memset(item, 0, sizeof *item);
      if (!plain_string(&c, &item->key)) return 0;
      skip_ws(&c);
      if (!take(&c, ':')) return 0;
      skip_ws(&c);
      if (!flat_value(&c, item)) return 0;
      (*n)++;
      skip_ws(&c);
      if (take(&c, '}')) break;
      if (!take(&c, ',')) return 0;
      skip_ws(&c);
    }
  }
  skip_ws(&c);
  return c.p == c.end;
}
