/* owt_response.c - response heads and small complete responses. */
#include "owt_response.h"

#include <string.h>

static int is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
  switch (c) { /* RFC 9110 tchar; a switch, not strchr: every header name of every response */
  case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
  case '-': case '.': case '^': case '_': case '`': case '|': case '~': return 1;
  default: return 0;
  }
}

static int valid_name(owt_str s) {
  if (s.len == 0) return 0;
  for (size_t i = 0; i < s.len; i++)
    if (!is_tchar((unsigned char)s.p[i])) return 0;
  return 1;
}

static int valid_value(owt_str s) {
  for (size_t i = 0; i < s.len; i++) {
    unsigned char c = (unsigned char)s.p[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
  }
  return 1;
}

/* Headers the web server owns, or that we compute ourselves. */
static int dropped_header(owt_str name) {
  static const owt_str names[] = {OWT_STR_LIT("Status"),     OWT_STR_LIT("Content-Length"),
                                  OWT_STR_LIT("Transfer-Encoding"), OWT_STR_LIT("Connection"),
                                  OWT_STR_LIT("Keep-Alive"), OWT_STR_LIT("Upgrade")};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (owt_str_caseeq(name, names[i])) return 1;
  return 0;
}

/* A decimal number, without printf: heads are built on every request. */
static owt_err append_decimal(owt_buf *out, unsigned long long v) {
  char digits[24];
  size_t i = sizeof digits;
  do {
    digits[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return owt_buf_append(out, digits + i, sizeof digits - i);
}

static owt_err add_header(owt_buf *out, owt_str name, owt_str value) {
  owt_err err;
  if ((err = owt_buf_append(out, name.p, name.len))) return err;
  if ((err = owt_buf_append(out, ": ", 2))) return err;
  if ((err = owt_buf_append(out, value.p, value.len))) return err;
  return owt_buf_append(out, "\r\n", 2);
}

owt_err owt_response_head(owt_buf *out, int status, const owt_header *headers, size_t nheaders,
                          long long content_length, int *event_stream) {
  int has_type = 0, has_nosniff = 0, has_cache_control = 0, has_accel = 0, sse = 0;
  owt_err err;
  if (status < 100 || status > 999) return OWT_E_ADAPTOR;
  if ((err = owt_buf_append(out, "Status: ", 8)) || (err = append_decimal(out, (unsigned)status)) ||
      (err = owt_buf_append_byte(out, ' ')) || (err = owt_buf_append_str(out, owt_err_reason(status))) ||
      (err = owt_buf_append(out, "\r\n", 2)))
    return err;
  for (size_t i = 0; i < nheaders; i++) {
    owt_str name = headers[i].name, value = headers[i].value;
    if (!valid_name(name) || !valid_value(value)) return OWT_E_ADAPTOR;
    if (dropped_header(name)) continue;
    if (owt_str_caseeq(name, OWT_STR_LIT("Content-Type"))) {
      has_type = 1;
      sse = owt_str_caseeq(owt_str_media_type(value), OWT_STR_LIT("text/event-stream"));
    }
    has_nosniff |= owt_str_caseeq(name, OWT_STR_LIT("X-Content-Type-Options"));
    has_cache_control |= owt_str_caseeq(name, OWT_STR_LIT("Cache-Control"));
    has_accel |= owt_str_caseeq(name, OWT_STR_LIT("X-Accel-Buffering"));
    if ((err = add_header(out, name, value))) return err;
  }
  if (!has_type && (err = owt_buf_append_str(out, "Content-Type: text/plain; charset=utf-8\r\n")))
    return err;
  if (!has_nosniff && (err = owt_buf_append_str(out, "X-Content-Type-Options: nosniff\r\n")))
    return err;
  if (sse && !has_cache_control && (err = owt_buf_append_str(out, "Cache-Control: no-cache\r\n")))
    return err;
  if (sse && !has_accel && (err = owt_buf_append_str(out, "X-Accel-Buffering: no\r\n"))) return err;
  if (content_length >= 0 &&
      ((err = owt_buf_append_str(out, "Content-Length: ")) ||
       (err = append_decimal(out, (unsigned long long)content_length)) ||
       (err = owt_buf_append(out, "\r\n", 2))))
    return err;
  if (event_stream) *event_stream = sse;
  return owt_buf_append(out, "\r\n", 2);
}

/* The head of a whole response with a fixed body: content_type, the extra
 * headers (at most 7), Content-Length. */
static owt_err whole_head(owt_buf *out, int status, owt_str content_type, size_t body_len,
                          const owt_header *extra, size_t nextra) {
  owt_header headers[8];
  size_t n = 0;
  headers[n++] = (owt_header){OWT_STR_LIT("Content-Type"), content_type};
  for (size_t i = 0; i < nextra && n < sizeof headers / sizeof headers[0]; i++) headers[n++] = extra[i];
  return owt_response_head(out, status, headers, n, (long long)body_len, NULL);
}

static owt_err send_whole(owt_io *io, int status, owt_str content_type, owt_str body,
                          const owt_header *extra, size_t nextra) {
  char small[1024];
  owt_buf head = OWT_BUF_FIXED(small);
  /* The stack buffer is big enough for these fixed heads; a failure here is
   * a programming error caught by the tests, answered with a bare 500. */
  if (whole_head(&head, status, content_type, body.len, extra, nextra) != OWT_OK) {
    owt_buf_reset(&head);
    if (owt_response_head(&head, owt_err_status(OWT_E_INTERNAL), NULL, 0, 0, NULL) != OWT_OK)
      return OWT_E_INTERNAL;
    return io->write(io->ctx, head.data, head.len) ? OWT_E_IO : OWT_OK;
  }
  if (io->write(io->ctx, head.data, head.len) || (body.len && io->write(io->ctx, body.p, body.len)))
    return OWT_E_IO;
  return OWT_OK;
}

owt_err owt_response_send(owt_io *io, owt_str content_type, owt_str body) {
  return send_whole(io, owt_err_status(OWT_OK), content_type, body, NULL, 0);
}

owt_err owt_response_send_with(owt_io *io, int status, owt_str content_type, owt_str body,
                               const owt_header *extra, size_t nextra) {
  return send_whole(io, status, content_type, body, extra, nextra);
}

owt_err owt_response_send_error(owt_io *io, owt_err err, owt_str message, const owt_header *extra,
                                size_t nextra) {
  owt_str type = err == OWT_E_UNKNOWN_CODE ? OWT_STR_LIT("application/json")
                                          : OWT_STR_LIT("text/plain; charset=utf-8");
  return send_whole(io, owt_err_status(err), type, message, extra, nextra);
}

owt_err owt_response_canned(owt_buf *out, owt_err err, owt_str message, const owt_header *extra,
                            size_t nextra) {
  owt_err e = whole_head(out, owt_err_status(err), OWT_STR_LIT("text/plain; charset=utf-8"), message.len,
                         extra, nextra);
  return e ? e : owt_buf_append(out, message.p, message.len);
}
