/* owt_b64.c - lenient base64 decoding, strict about what is not base64. */
#include "owt_b64.h"

#include <pthread.h>
#include <string.h>

enum { B64_SKIP = 64, B64_PAD = 65, B64_BAD = 66 };

/* The class of every byte, built once from the rules above: a table lookup
 * per input byte (code arrives base64 in every request). */
static unsigned char b64_class_of(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return (unsigned char)(c - 'A');
  if (c >= 'a' && c <= 'z') return (unsigned char)(c - 'a' + 26);
  if (c >= '0' && c <= '9') return (unsigned char)(c - '0' + 52);
  switch (c) {
  case '+':
  case '-':
  case ' ': /* a '+' that crossed a query string unescaped */
    return 62;
  case '/':
  case '_':
    return 63;
  case '=': return B64_PAD;
  case '\r':
  case '\n':
  case '\t': return B64_SKIP;
  default: return B64_BAD;
  }
}

static unsigned char b64_table[256];
static pthread_once_t b64_table_once = PTHREAD_ONCE_INIT;

static void b64_table_build(void) {
  for (int c = 0; c < 256; c++) b64_table[c] = b64_class_of((unsigned char)c);
}

owt_err owt_b64_decode(const char *in, size_t len, owt_buf *out) {
  size_t start = out->len;
  unsigned char quad[4];
  unsigned char bytes[3];
  size_t nq = 0, pads = 0;
  owt_err err = OWT_OK;

  /* Reserve the most this can produce once, so the loop only copies. */
  err = owt_buf_reserve(out, (len / 4) * 3 + 3);
  int reserved = err == OWT_OK;
  if (err == OWT_E_TOO_LARGE) err = OWT_OK; /* may still fit: checked per append */
  if (err) return err;

  pthread_once(&b64_table_once, b64_table_build);
  const unsigned char *u = (const unsigned char *)in;
  for (size_t i = 0; i < len; i++) {
    /* Four data characters at a time while there are (almost all of a
     * request's code); anything else goes the one-at-a-time way below. */
    while (reserved && nq == 0 && !pads && i + 4 <= len) {
      unsigned char a = b64_table[u[i]], b = b64_table[u[i + 1]], c = b64_table[u[i + 2]], d = b64_table[u[i + 3]];
      if ((a | b | c | d) & 0xC0) break; /* a class >= 64: not a data character */
      unsigned char *o = (unsigned char *)out->data + out->len;
      o[0] = (unsigned char)(a << 2 | b >> 4);
      o[1] = (unsigned char)(b << 4 | c >> 2);
      o[2] = (unsigned char)(c << 6 | d);
      out->len += 3;
      i += 4;
    }
    if (i >= len) break;
    unsigned char v = b64_table[u[i]];
    if (v == B64_SKIP) continue;
    if (v == B64_BAD) goto bad;
    if (v == B64_PAD) {
      pads++;
      continue;
    }
    if (pads) goto bad; /* data after padding */
    quad[nq++] = v;
    if (nq == 4) {
      bytes[0] = (unsigned char)(quad[0] << 2 | quad[1] >> 4);
      bytes[1] = (unsigned char)(quad[1] << 4 | quad[2] >> 2);
      bytes[2] = (unsigned char)(quad[2] << 6 | quad[3]);
      if (reserved) { /* room was made for all of it above */
        memcpy(out->data + out->len, bytes, 3);
        out->len += 3;
      } else if ((err = owt_buf_append(out, bytes, 3))) {
        goto fail;
      }
      nq = 0;
    }
  }
  if (pads > 2) goto bad;
  switch (nq) {
  case 0:
    if (pads) goto bad;
    break;
  case 1: goto bad; /* 6 bits cannot make a byte */
  case 2:
    if (pads && pads != 2) goto bad;
    bytes[0] = (unsigned char)(quad[0] << 2 | quad[1] >> 4);
    if ((err = owt_buf_append(out, bytes, 1))) goto fail;
    break;
  case 3:
    if (pads && pads != 1) goto bad;
    bytes[0] = (unsigned char)(quad[0] << 2 | quad[1] >> 4);
    bytes[1] = (unsigned char)(quad[1] << 4 | quad[2] >> 2);
    if ((err = owt_buf_append(out, bytes, 2))) goto fail;
    break;
  }
  if (out->data) out->data[out->len] = '\0';
  return OWT_OK;

bad:
  err = OWT_E_BAD_REQUEST;
fail:
  out->len = start;
  if (out->data) out->data[start] = '\0';
  return err;
}

owt_err owt_b64_encode(const void *in, size_t len, owt_buf *out) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *p = in;
  if (len > ((size_t)-1) / 4 * 3 - 3) return OWT_E_TOO_LARGE;
  owt_err err = owt_buf_reserve(out, (len + 2) / 3 * 4);
  if (err) return err;
  char *o = out->data + out->len;
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    *o++ = alphabet[p[i] >> 2];
    *o++ = alphabet[(p[i] & 3) << 4 | p[i + 1] >> 4];
    *o++ = alphabet[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
    *o++ = alphabet[p[i + 2] & 63];
  }
  if (len - i == 1) {
    *o++ = alphabet[p[i] >> 2];
    *o++ = alphabet[(p[i] & 3) << 4];
    *o++ = '=';
    *o++ = '=';
  } else if (len - i == 2) {
    *o++ = alphabet[p[i] >> 2];
    *o++ = alphabet[(p[i] & 3) << 4 | p[i + 1] >> 4];
    *o++ = alphabet[(p[i + 1] & 15) << 2];
    *o++ = '=';
  }
  out->len = (size_t)(o - out->data);
  out->data[out->len] = '\0';
  return OWT_OK;
}
