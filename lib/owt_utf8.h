/* owt_utf8.h - UTF-8 validation for text handed to Python as str. */
#ifndef OWT_UTF8_H
#define OWT_UTF8_H

#include <stddef.h>

/* 1 when p[0..len) is well-formed UTF-8 (no overlongs, no surrogates, at most
 * U+10FFFF) and contains no NUL byte; 0 otherwise. */
int owt_utf8_valid_text(const char *p, size_t len);

#endif
