/* owt_str.h - a pointer and a length: how text travels through lib/.
 *
 * Request data is never NUL-terminated for us, so nothing in lib/ calls
 * strlen/strchr on it; spans carry their own length. */
#ifndef OWT_STR_H
#define OWT_STR_H

#include <stddef.h>
#include <string.h>

typedef struct {
  const char *p;
  size_t len;
} owt_str;

#define OWT_STR_LIT(s) ((owt_str){(s), sizeof(s) - 1})
#define OWT_STR_NULL ((owt_str){NULL, 0})

static inline owt_str owt_str_make(const char *p, size_t len) { return (owt_str){p, len}; }

static inline owt_str owt_str_of(const char *s) {
  return s ? (owt_str){s, strlen(s)} : OWT_STR_NULL;
}

static inline int owt_str_eq(owt_str a, owt_str b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline int owt_ascii_lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

/* Case-insensitive ASCII equality (header names, media types). */
static inline int owt_str_caseeq(owt_str a, owt_str b) {
  if (a.len != b.len) return 0;
  for (size_t i = 0; i < a.len; i++)
    if (owt_ascii_lower((unsigned char)a.p[i]) != owt_ascii_lower((unsigned char)b.p[i])) return 0;
  return 1;
}

/* The value of a hex digit, or -1. */
static inline int owt_hex_digit(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* a without leading and trailing ASCII whitespace. */
static inline owt_str owt_str_trim(owt_str a) {
  while (a.len && (a.p[0] == ' ' || a.p[0] == '\t' || a.p[0] == '\r' || a.p[0] == '\n')) {
    a.p++;
    a.len--;
  }
  while (a.len && (a.p[a.len - 1] == ' ' || a.p[a.len - 1] == '\t' || a.p[a.len - 1] == '\r' ||
                   a.p[a.len - 1] == '\n'))
    a.len--;
  return a;
}

/* The media type of a Content-Type value: before ';', trimmed. */
static inline owt_str owt_str_media_type(owt_str ct) {
  const char *semi = ct.p ? memchr(ct.p, ';', ct.len) : NULL;
  if (semi) ct.len = (size_t)(semi - ct.p);
  return owt_str_trim(ct);
}

#endif
