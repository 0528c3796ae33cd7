/* owt_encode.c - request encodings for --encode and --once. */
#include "owt_encode.h"

#include <string.h>

#include "owt_b64.h"

owt_err owt_encode_percent(owt_buf *out, owt_str s) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < s.len; i++) {
    unsigned char c = (unsigned char)s.p[i];
    int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '~';
    owt_err err = keep ? owt_buf_append_byte(out, (char)c)
                       : owt_buf_append(out, (char[]){'%', hex[c >> 4], hex[c & 15]}, 3);
    if (err) return err;
  }
  return OWT_OK;
}

/* Base64 has no characters JSON or a shell's single quotes need escaped. */
static owt_err json_body(owt_buf *out, owt_str code_b64, owt_str kwargs_b64) {
  owt_err err = owt_buf_append_str(out, "{\"code_b64\":\"");
  if (!err) err = owt_buf_append(out, code_b64.p, code_b64.len);
  if (!err && kwargs_b64.p) {
    err = owt_buf_append_str(out, "\",\"kwargs_b64\":\"");
    if (!err) err = owt_buf_append(out, kwargs_b64.p, kwargs_b64.len);
  }
  if (!err) err = owt_buf_append_str(out, "\"}");
  return err;
}

static owt_err query(owt_buf *out, owt_str code_b64, owt_str kwargs_b64) {
  owt_err err = owt_buf_append_str(out, "code_b64=");
  if (!err) err = owt_encode_percent(out, code_b64);
  if (!err && kwargs_b64.p) {
    err = owt_buf_append_str(out, "&kwargs_b64=");
    if (!err) err = owt_encode_percent(out, kwargs_b64);
  }
  return err;
}

/* A shell word in single quotes: ' becomes '\''. */
static owt_err shell_quote(owt_buf *out, const char *s) {
  owt_err err = owt_buf_append_byte(out, '\'');
  for (; !err && *s; s++)
    err = *s == '\'' ? owt_buf_append_str(out, "'\\''") : owt_buf_append_byte(out, *s);
  if (!err) err = owt_buf_append_byte(out, '\'');
  return err;
}

owt_err owt_encode_request(owt_buf *out, owt_str code, owt_str kwargs, owt_encode_format format,
                           const char *url) {
  owt_buf code_b64 = OWT_BUF_INIT(out->max), kwargs_b64 = OWT_BUF_INIT(out->max);
  owt_err err = owt_b64_encode(code.p, code.len, &code_b64);
  if (!err && kwargs.p) err = owt_b64_encode(kwargs.p, kwargs.len, &kwargs_b64);
  owt_str c = owt_buf_str(&code_b64);
  owt_str k = kwargs.p ? owt_buf_str(&kwargs_b64) : OWT_STR_NULL;
  if (err) goto done;
  switch (format) {
  case OWT_ENCODE_QUERY: err = query(out, c, k); break;
  case OWT_ENCODE_JSON: err = json_body(out, c, k); break;
  case OWT_ENCODE_CURL:
    err = owt_buf_append_str(out, "curl --json '");
    if (!err) err = json_body(out, c, k);
    if (!err) err = owt_buf_append_str(out, "' ");
    if (!err) err = shell_quote(out, url ? url : "http://127.0.0.1:9876/");
    break;
  }
done:
  owt_buf_free(&code_b64);
  owt_buf_free(&kwargs_b64);
  return err;
}
