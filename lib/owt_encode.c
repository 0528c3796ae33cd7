/* owt_encode.c - request encodings for --encode and --once. */
#include "owt_encode.h"

#include <string.h>

#include "owt_b64.h"
#include "owt_codestore.h"
#include "owt_sign.h"

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

/* The fields of a call, in order: name and value (NULL value: absent). */
typedef struct {
  const char *name;
  owt_str value;
} field;

/* Base64 and hex have no characters JSON or a shell's single quotes need escaped. */
static owt_err json_body(owt_buf *out, const field *f, size_t n) {
  owt_err err = owt_buf_append_byte(out, '{');
  for (size_t i = 0, k = 0; !err && i < n; i++) {
    if (!f[i].value.p) continue;
    err = owt_buf_printf(out, "%s\"%s\":\"", k++ ? "," : "", f[i].name);
    if (!err) err = owt_buf_append(out, f[i].value.p, f[i].value.len);
    if (!err) err = owt_buf_append_byte(out, '"');
  }
  if (!err) err = owt_buf_append_byte(out, '}');
  return err;
}

static owt_err query(owt_buf *out, const field *f, size_t n) {
  owt_err err = OWT_OK;
  for (size_t i = 0, k = 0; !err && i < n; i++) {
    if (!f[i].value.p) continue;
    err = owt_buf_printf(out, "%s%s=", k++ ? "&" : "", f[i].name);
    if (!err) err = owt_encode_percent(out, f[i].value);
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

owt_err owt_encode_call(owt_buf *out, owt_str code, owt_str kwargs, const owt_encode_opts *opts) {
  char hex[OWT_CODESTORE_NAME_LEN + 1];
  owt_buf code_b64 = OWT_BUF_INIT(out->max), kwargs_b64 = OWT_BUF_INIT(out->max), sig_b64 = OWT_BUF_INIT(128);
  owt_err err = OWT_OK;
  field f[4] = {{"code_b64", OWT_STR_NULL}, {"code_sha256", OWT_STR_NULL}, {"code_sig", OWT_STR_NULL},
                {"kwargs_b64", OWT_STR_NULL}};
  if (opts->code_sha256) {
    owt_codestore_name(opts->code_sha256, hex);
    f[1].value = (owt_str){hex, OWT_CODESTORE_NAME_LEN};
  } else if (!(err = owt_b64_encode(code.p, code.len, &code_b64))) {
    f[0].value = owt_buf_str(&code_b64);
  }
  if (!err && opts->code_sig && !(err = owt_sign_to_base64(opts->code_sig, &sig_b64)))
    f[2].value = owt_buf_str(&sig_b64);
  if (!err && kwargs.p && !(err = owt_b64_encode(kwargs.p, kwargs.len, &kwargs_b64)))
    f[3].value = owt_buf_str(&kwargs_b64);
  if (err) goto done;
  switch (opts->format) {
  case OWT_ENCODE_QUERY: err = query(out, f, 4); break;
  case OWT_ENCODE_JSON: err = json_body(out, f, 4); break;
  case OWT_ENCODE_CURL:
    err = owt_buf_append_str(out, "curl --json '");
    if (!err) err = json_body(out, f, 4);
    if (!err) err = owt_buf_append_str(out, "' ");
    if (!err) err = shell_quote(out, opts->url ? opts->url : "http://127.0.0.1:9876/");
    break;
  }
done:
  owt_buf_free(&code_b64);
  owt_buf_free(&kwargs_b64);
  owt_buf_free(&sig_b64);
  return err;
}

owt_err owt_encode_request(owt_buf *out, owt_str code, owt_str kwargs, owt_encode_format format,
                           const char *url) {
  owt_encode_opts opts = {format, url, NULL, NULL};
  return owt_encode_call(out, code, kwargs, &opts);
}

owt_err owt_encode_for_config(owt_buf *out, owt_str code, owt_str kwargs, const owt_config *cfg, FILE *err) {
  unsigned char digest[32], sig[OWT_SIGN_LEN];
  char why[512];
  owt_encode_opts opts = {(owt_encode_format)cfg->encode_format, cfg->curl_url, NULL, NULL};
  owt_err e = OWT_OK;
  if (cfg->encode_by_digest) {
    if ((e = owt_codestore_hash(NULL, code, digest))) return e;
    opts.code_sha256 = digest;
  }
  if (cfg->sign_key) {
    if ((e = owt_sign_with_key_file(cfg->sign_key, code, sig, why, sizeof why))) {
      fprintf(err, "owt-fcgi: %s\n", why);
      return e;
    }
    opts.code_sig = sig;
  }
  return owt_encode_call(out, code, kwargs, &opts);
}
