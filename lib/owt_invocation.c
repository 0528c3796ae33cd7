/* owt_invocation.c - request fields -> code, kwargs, fn_name, cache flags. */
#include "owt_invocation.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>

#include "owt_b64.h"
#include "owt_form.h"
#include "owt_utf8.h"

enum field_id {
  F_CODE_B64,
  F_CODE,
  F_CODE_SHA256,
  F_CODE_SIG,
  F_KWARGS_B64,
  F_KWARGS,
  F_FN_NAME,
  F_ADAPTOR,
  F_USE_CACHE,
  F_CACHE_KWARGS,
  F_CACHE_KEY,
  F__COUNT
};

static const char *const field_names[F__COUNT] = {
    "code_b64", "code",      "code_sha256",  "code_sig",           "kwargs_b64", "kwargs",
    "fn_name",  "adaptor",   "use_cache",    "cache_kwargs",       "cache_key_override",
};

_Static_assert(F__COUNT == OWT_INVOCATION_FIELDS, "owt_invocation.raw has a buffer per field");

/* A raw field buffer that grew past this is released after its request. */
#define RAW_KEEP_BYTES (64u * 1024)

/* The raw field values as found, before base64 or boolean decoding. */
typedef struct {
  owt_buf *value; /* the invocation's raw[] */
  int set[F__COUNT];
  const char **error;
} field_set;

#define NAME_MAX_LEN 128

void owt_invocation_init(owt_invocation *inv, const owt_limits *limits) {
  memset(inv, 0, sizeof *inv);
  /* Raw code fields may be longer than the decoded code; saturate, as a huge
   * --max-code would otherwise wrap around to a tiny cap. */
  size_t code_raw_max =
      limits->max_code > (SIZE_MAX - 1024) / 2 ? SIZE_MAX : limits->max_code * 2 + 1024;
  for (int i = 0; i < F__COUNT; i++) {
    owt_buf_init(&inv->raw[i], i == F_CODE_B64 || i == F_CODE ? code_raw_max : limits->max_body);
  }
  owt_buf_init(&inv->code, limits->max_code);
  owt_buf_init(&inv->kwargs, limits->max_body);
  owt_buf_init(&inv->kwargs_raw, limits->max_body);
  owt_buf_init(&inv->fn_name, NAME_MAX_LEN);
  owt_buf_init(&inv->adaptor, NAME_MAX_LEN);
  owt_buf_init(&inv->cache_key, 4096);
}

static owt_buf *inv_bufs(owt_invocation *inv, size_t i) {
  owt_buf *bufs[] = {&inv->code,    &inv->kwargs,    &inv->kwargs_raw,
                     &inv->fn_name, &inv->adaptor, &inv->cache_key};
  return i < sizeof bufs / sizeof bufs[0] ? bufs[i] : NULL;
}

void owt_invocation_reset(owt_invocation *inv) {
  for (size_t i = 0; inv_bufs(inv, i); i++) owt_buf_reset(inv_bufs(inv, i));
  inv->has_code = inv->has_adaptor = inv->has_cache_key = 0;
  inv->has_code_sha256 = inv->has_code_sig = inv->has_code_sum = 0;
  inv->code_sha256_hex[0] = '\0';
  inv->use_cache = inv->cache_kwargs = inv->missing_code = 0;
  inv->kwargs_kind = OWT_KWARGS_EMPTY;
  inv->error = NULL;
}

void owt_invocation_free(owt_invocation *inv) {
  for (size_t i = 0; inv_bufs(inv, i); i++) owt_buf_free(inv_bufs(inv, i));
  for (int i = 0; i < F__COUNT; i++) owt_buf_free(&inv->raw[i]);
}

int owt_invocation_valid_name(owt_str s, int dotted) {
  if (s.len == 0 || s.len > NAME_MAX_LEN) return 0;
  int at_start = 1;
  for (size_t i = 0; i < s.len; i++) {
    char c = s.p[i];
    /* Bytes >= 0x80: Python identifiers may be non-ASCII ("grüß"); the
     * runtime checks str.isidentifier() on the decoded text. */
    int letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c & 0x80);
    int digit = c >= '0' && c <= '9';
    if (c == '.' && dotted && !at_start && i + 1 < s.len) {
      at_start = 1;
      continue;
    }
    if (!(letter || (digit && !at_start))) return 0;
    at_start = 0;
  }
  return 1;
}

owt_err owt_invocation_parse_bool(owt_str s, int *out) {
  static const char *const yes[] = {"true", "True", "TRUE", "1", "yes", "on"};
  static const char *const no[] = {"false", "False", "FALSE", "0", "no", "off", ""};
  s = owt_str_trim(s);
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (owt_str_eq(s, owt_str_of(yes[i]))) return (*out = 1), OWT_OK;
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    if (owt_str_eq(s, owt_str_of(no[i]))) return (*out = 0), OWT_OK;
  return OWT_E_BAD_REQUEST;
}

/* ---- collecting raw fields ------------------------------------------------ */

static owt_err form_field(void *ctx, owt_str key, owt_str value) {
  field_set *fs = ctx;
  for (int i = 0; i < F__COUNT; i++) {
    if (!owt_form_key_is(key, field_names[i])) continue;
    owt_buf_reset(&fs->value[i]);
    fs->set[i] = 1;
    return value.p ? owt_url_decode(value.p, value.len, &fs->value[i]) : OWT_OK;
  }
  return OWT_OK;
}

static owt_err json_field(field_set *fs, int i, const cJSON *item) {
  owt_buf *out = &fs->value[i];
  if (cJSON_IsNull(item)) return OWT_OK; /* null means "not given": a query value stands */
  owt_buf_reset(out);
  fs->set[i] = 1;
  if (cJSON_IsString(item)) return owt_buf_append_str(out, item->valuestring);
  if (cJSON_IsTrue(item)) return owt_buf_append_str(out, "true");
  if (cJSON_IsFalse(item)) return owt_buf_append_str(out, "false");
  if (i != F_KWARGS && !(cJSON_IsNumber(item) && (i == F_USE_CACHE || i == F_CACHE_KWARGS))) {
    *fs->error = "a JSON body field has the wrong type (code_b64, fn_name, ... are strings)";
    return OWT_E_BAD_REQUEST;
  }
  /* kwargs given as a JSON value: hand it on as JSON text. */
  char *text = cJSON_PrintUnformatted(item);
  if (!text) return OWT_E_NOMEM;
  owt_err err = owt_buf_append_str(out, text);
  cJSON_free(text);
  return err;
}

/* Whether the JSON text escapes a NUL (\u0000) in a string: cJSON would
 * cut the string there, so code after it would silently vanish. An escape
 * counts when an odd number of backslashes leads to the 'u'. */
static int json_has_nul_escape(owt_str body) {
  for (size_t i = 0; i + 6 <= body.len; i++) {
    if (body.p[i] != '\\' || body.p[i + 1] != 'u' || memcmp(body.p + i + 2, "0000", 4) != 0) continue;
    size_t slashes = 0;
    while (slashes < i + 1 && body.p[i - slashes] == '\\') slashes++;
    if (slashes % 2 == 1) return 1;
  }
  return 0;
}

static owt_err collect_json(field_set *fs, owt_str body) {
  const char *end = NULL;
  if (json_has_nul_escape(body)) {
    *fs->error = "the JSON body has a NUL (\\u0000) in a string";
    return OWT_E_BAD_REQUEST;
  }
  cJSON *root = cJSON_ParseWithLengthOpts(body.p, body.len, &end, 0);
  owt_err err = OWT_OK;
  if (!root) {
    *fs->error = "the JSON body does not parse";
    return OWT_E_BAD_REQUEST;
  }
  if (owt_str_trim((owt_str){end, (size_t)(body.p + body.len - end)}).len != 0) {
    *fs->error = "the JSON body has data after its end";
    err = OWT_E_BAD_REQUEST;
    goto done;
  }
  if (!cJSON_IsObject(root)) {
    *fs->error = "the JSON body must be one object";
    err = OWT_E_BAD_REQUEST;
    goto done;
  }
  for (int i = 0; i < F__COUNT; i++) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, field_names[i]);
    if (item && (err = json_field(fs, i, item))) goto done;
  }
done:
  cJSON_Delete(root);
  return err;
}

static owt_err collect_fields(field_set *fs, const owt_request *r, const owt_limits *limits) {
  owt_err err = OWT_OK;
  if (r->query.len &&
      (err = owt_form_each(r->query.p, r->query.len, limits->max_fields, form_field, fs))) {
    *fs->error = err == OWT_E_TOO_LARGE ? "the query string is over the size limits"
                                        : "the query string does not parse";
    return err;
  }
  if (r->body.len == 0) return OWT_OK;
  owt_str media = owt_str_media_type(r->content_type);
  if (owt_str_caseeq(media, OWT_STR_LIT("application/json"))) return collect_json(fs, owt_buf_str(&r->body));
  if (owt_str_caseeq(media, OWT_STR_LIT("application/x-www-form-urlencoded"))) {
    err = owt_form_each(r->body.data, r->body.len, limits->max_fields, form_field, fs);
    if (err) *fs->error = "the form body is over the size limits";
  }
  return err;
}

/* ---- decoding ------------------------------------------------------------- */

static owt_err decode_code(owt_invocation *inv, field_set *fs) {
  owt_err err = OWT_OK;
  if (fs->set[F_CODE_B64]) {
    err = owt_b64_decode(fs->value[F_CODE_B64].data, fs->value[F_CODE_B64].len, &inv->code);
    if (err == OWT_E_BAD_REQUEST) inv->error = "code_b64 is not valid base64";
  } else if (fs->set[F_CODE]) {
    err = owt_buf_append(&inv->code, fs->value[F_CODE].data, fs->value[F_CODE].len);
  } else {
    return OWT_OK;
  }
  if (err == OWT_E_TOO_LARGE) inv->error = "the code is over the --max-code limit";
  if (err) return err;
  inv->has_code = 1;
  if (!owt_utf8_valid_text(inv->code.data, inv->code.len)) {
    inv->error = "the code is not UTF-8 text (or contains a NUL byte)";
    return OWT_E_BAD_REQUEST;
  }
  return OWT_OK;
}

/* code_sha256: 64 hex digits, either case, nothing else (surrounding
 * whitespace aside). code_sig: base64 (any variant owt_b64 takes) of
 * exactly 64 bytes. Both are short, so their raw text is bounded here. */
static owt_err decode_code_ref(owt_invocation *inv, field_set *fs) {
  static const char hex[] = "0123456789abcdef";
  if (fs->set[F_CODE_SHA256]) {
    owt_str h = owt_str_trim(owt_buf_str(&fs->value[F_CODE_SHA256]));
    int ok = h.len == 2 * OWT_INVOCATION_SHA256_LEN;
    for (size_t i = 0; ok && i < OWT_INVOCATION_SHA256_LEN; i++) {
      int hi = owt_hex_digit((unsigned char)h.p[2 * i]), lo = owt_hex_digit((unsigned char)h.p[2 * i + 1]);
      if (!(ok = hi >= 0 && lo >= 0)) break;
      inv->code_sha256[i] = (unsigned char)(hi << 4 | lo);
      inv->code_sha256_hex[2 * i] = hex[hi];
      inv->code_sha256_hex[2 * i + 1] = hex[lo];
    }
    inv->code_sha256_hex[ok ? 2 * OWT_INVOCATION_SHA256_LEN : 0] = '\0';
    if (!ok) {
      inv->error = "code_sha256 must be 64 hex digits: the SHA-256 of the code's UTF-8 bytes";
      return OWT_E_BAD_REQUEST;
    }
    inv->has_code_sha256 = 1;
  }
  if (fs->set[F_CODE_SIG]) {
    char raw[OWT_INVOCATION_SIG_LEN + 1];
    owt_buf sig = OWT_BUF_FIXED(raw);
    owt_str t = owt_str_trim(owt_buf_str(&fs->value[F_CODE_SIG]));
    if (t.len == 0 || t.len > 4 * OWT_INVOCATION_SIG_LEN || owt_b64_decode(t.p, t.len, &sig) != OWT_OK ||
        sig.len != OWT_INVOCATION_SIG_LEN) {
      inv->error = "code_sig must be the base64 of a 64-byte Ed25519 signature of the code";
      return OWT_E_BAD_REQUEST;
    }
    memcpy(inv->code_sig, raw, OWT_INVOCATION_SIG_LEN);
    inv->has_code_sig = 1;
  }
  return OWT_OK;
}

static owt_err decode_kwargs(owt_invocation *inv, field_set *fs) {
  owt_err err = OWT_OK;
  int which = fs->set[F_KWARGS_B64] ? F_KWARGS_B64 : fs->set[F_KWARGS] ? F_KWARGS : -1;
  if (which < 0) {
    inv->kwargs_kind = OWT_KWARGS_EMPTY;
    return OWT_OK;
  }
  owt_buf *raw = &fs->value[which];
  if ((err = owt_buf_append(&inv->kwargs_raw, raw->data, raw->len))) return err;
  if (which == F_KWARGS_B64) {
    err = owt_b64_decode(raw->data, raw->len, &inv->kwargs);
    if (err == OWT_E_BAD_REQUEST) inv->error = "kwargs_b64 is not valid base64";
  } else {
    err = owt_buf_append(&inv->kwargs, raw->data, raw->len);
  }
  if (err) return err;
  owt_str text = owt_kwargs_trim(owt_buf_str(&inv->kwargs));
  inv->kwargs.len = text.len;
  if (inv->kwargs.data) inv->kwargs.data[text.len] = '\0';
  if (!owt_utf8_valid_text(text.p, text.len)) {
    inv->error = "the kwargs are not UTF-8 text (or contain a NUL byte)";
    return OWT_E_BAD_REQUEST;
  }
  inv->kwargs_kind = owt_kwargs_classify(text);
  return OWT_OK;
}

static owt_err decode_names(owt_invocation *inv, field_set *fs) {
  owt_err err;
  owt_str fn = fs->set[F_FN_NAME] ? owt_str_trim(owt_buf_str(&fs->value[F_FN_NAME])) : OWT_STR_LIT("run");
  if (!owt_invocation_valid_name(fn, 0)) {
    inv->error = "fn_name must be a Python identifier";
    return OWT_E_BAD_REQUEST;
  }
  if ((err = owt_buf_append(&inv->fn_name, fn.p, fn.len))) return err;
  if (fs->set[F_ADAPTOR]) {
    owt_str name = owt_str_trim(owt_buf_str(&fs->value[F_ADAPTOR]));
    if (!owt_invocation_valid_name(name, 1)) {
      inv->error = "adaptor must be module or module.function (Python identifiers)";
      return OWT_E_BAD_REQUEST;
    }
    if ((err = owt_buf_append(&inv->adaptor, name.p, name.len))) return err;
    inv->has_adaptor = 1;
  }
  if (fs->set[F_CACHE_KEY]) {
    owt_buf *key = &fs->value[F_CACHE_KEY];
    if ((err = owt_buf_append(&inv->cache_key, key->data, key->len))) {
      if (err == OWT_E_TOO_LARGE) inv->error = "cache_key_override is over 4096 bytes";
      return err;
    }
    inv->has_cache_key = 1;
  }
  return OWT_OK;
}

static owt_err decode_flags(owt_invocation *inv, field_set *fs) {
  if (fs->set[F_USE_CACHE] &&
      owt_invocation_parse_bool(owt_buf_str(&fs->value[F_USE_CACHE]), &inv->use_cache)) {
    inv->error = "use_cache must be true or false";
    return OWT_E_BAD_REQUEST;
  }
  if (fs->set[F_CACHE_KWARGS] &&
      owt_invocation_parse_bool(owt_buf_str(&fs->value[F_CACHE_KWARGS]), &inv->cache_kwargs)) {
    inv->error = "cache_kwargs must be true or false";
    return OWT_E_BAD_REQUEST;
  }
  return OWT_OK;
}

owt_err owt_invocation_parse(owt_invocation *inv, const owt_request *r, const owt_limits *limits) {
  field_set fs;
  owt_err err;
  owt_invocation_reset(inv);
  memset(&fs, 0, sizeof fs);
  fs.error = &inv->error;
  fs.value = inv->raw;
  for (int i = 0; i < F__COUNT; i++) owt_buf_reset(&inv->raw[i]);
  if ((err = collect_fields(&fs, r, limits))) goto done;
  if ((err = decode_code(inv, &fs))) goto done;
  if ((err = decode_code_ref(inv, &fs))) goto done;
  if ((err = decode_kwargs(inv, &fs))) goto done;
  if ((err = decode_names(inv, &fs))) goto done;
  if ((err = decode_flags(inv, &fs))) goto done;
  if ((inv->has_code || inv->has_code_sha256 || inv->has_code_sig) && inv->has_adaptor) {
    inv->error = "send either code (code_b64, code, code_sha256, code_sig) or adaptor, not both";
    err = OWT_E_BAD_REQUEST;
  } else if (!inv->has_code && !inv->has_code_sha256 && !inv->has_adaptor) {
    inv->error = "no code: send code_b64 (the adaptor's Python source in base64), code, code_sha256 "
                 "(code this server has seen), or adaptor";
    inv->missing_code = 1;
    err = OWT_E_BAD_REQUEST;
  }
done:
  if (err == OWT_E_TOO_LARGE && !inv->error) inv->error = "a request field is over the size limits";
  if (err == OWT_E_BAD_REQUEST && !inv->error) inv->error = "malformed request";
  for (int i = 0; i < F__COUNT; i++)
    if (inv->raw[i].cap > RAW_KEEP_BYTES) owt_buf_free(&inv->raw[i]);
  return err;
}
