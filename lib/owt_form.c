/* owt_form.c - urlencoded pair walking and percent-decoding. */
#include "owt_form.h"

#include <string.h>

owt_err owt_form_each(const char *s, size_t len, size_t max_pairs, owt_form_fn fn, void *ctx) {
  size_t pairs = 0;
  size_t i = 0;
  while (i < len) {
    /* The next '&' or ';', whichever comes first (memchr: fields are long base64). */
    const char *amp = memchr(s + i, '&', len - i);
    size_t end = amp ? (size_t)(amp - s) : len;
    const char *semi = memchr(s + i, ';', end - i);
    if (semi) end = (size_t)(semi - s);
    if (end > i) {
      if (++pairs > max_pairs) return OWT_E_TOO_LARGE;
      const char *eq = memchr(s + i, '=', end - i);
      owt_str key, value;
      if (eq) {
        key = (owt_str){s + i, (size_t)(eq - (s + i))};
        value = (owt_str){eq + 1, (size_t)(s + end - (eq + 1))};
      } else {
        key = (owt_str){s + i, end - i};
        value = OWT_STR_NULL;
      }
      owt_err err = fn(ctx, key, value);
      if (err) return err;
    }
    i = end + 1;
  }
  return OWT_OK;
}

/* The byte at in[*i] decoded ('+' as ' ', %XX as its byte); advances *i
 * past what it consumed. */
static char decode_at(const char *in, size_t len, size_t *i) {
  char c = in[*i];
  if (c == '+') {
    c = ' ';
  } else if (c == '%' && *i + 2 < len) {
    int hi = owt_hex_digit((unsigned char)in[*i + 1]);
    int lo = owt_hex_digit((unsigned char)in[*i + 2]);
    if (hi >= 0 && lo >= 0) {
      c = (char)(hi << 4 | lo);
      *i += 2;
    }
  }
  (*i)++;
  return c;
}

owt_err owt_url_decode(const char *in, size_t len, owt_buf *out) {
  /* Decoding never grows the text, so one reservation covers it: then
   * write straight into the buffer (this runs over every query string). */
  owt_err err = owt_buf_reserve(out, len);
  if (err == OWT_OK) {
    char *o = out->data + out->len;
    for (size_t i = 0; i < len;) {
      char c = in[i];
      if (c != '%' && c != '+') { /* most bytes: base64 and JSON text */
        *o++ = c;
        i++;
      } else {
        *o++ = decode_at(in, len, &i);
      }
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return OWT_OK;
  }
  if (err != OWT_E_TOO_LARGE) return err;
  /* The decoded form may still fit under the cap: checked appends. */
  size_t start = out->len;
  for (size_t i = 0; i < len;) {
    if ((err = owt_buf_append_byte(out, decode_at(in, len, &i)))) {
      out->len = start;
      if (out->data) out->data[start] = '\0';
      return err;
    }
  }
  return OWT_OK;
}

int owt_form_key_is(owt_str raw_key, const char *name) {
  /* Decode and compare in one pass: no buffer, no allocation. A key has
   * nothing to decode as a rule (all of them, from our clients): its plain
   * bytes are compared as they are. */
  size_t n = 0;
  for (size_t i = 0; i < raw_key.len; n++) {
    char c = raw_key.p[i];
    if (c == '%' || c == '+') c = decode_at(raw_key.p, raw_key.len, &i);
    else i++;
    if (name[n] == '\0' || name[n] != c) return 0;
  }
  return name[n] == '\0';
}
