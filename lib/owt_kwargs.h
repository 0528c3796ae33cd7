/* owt_kwargs.h - what kind of text the kwargs are, decided before Python.
 *
 * PROTOCOL §3 decodes kwargs as JSON first, then as a Python literal. Each
 * request's kwargs are parsed once: the flat JSON objects almost every
 * client sends ({"name": "owt", "n": 3}) by C, which builds the kwargs dict
 * from owt_kwargs_flat()'s items (lib/owt_py.c); everything else by the
 * interpreter (json's own C scanner first). C's classification only tells
 * blank text, which is {}, from text to decode. */
#ifndef OWT_KWARGS_H
#define OWT_KWARGS_H

#include "owt_str.h"

typedef enum {
  OWT_KWARGS_EMPTY = 0, /* nothing but whitespace: {} */
  OWT_KWARGS_TEXT = 1,  /* anything else: JSON first, then a Python literal, else the text itself */
} owt_kwargs_kind;

/* text without the trailing newlines `echo ... | base64` adds (and CRs). */
owt_str owt_kwargs_trim(owt_str text);

/* Classify text (already trimmed or not: whitespace never matters). */
owt_kwargs_kind owt_kwargs_classify(owt_str text);

/* The kwargs almost every client sends: a JSON object of names to strings,
 * small integers, true, false and null. For those C builds the kwargs dict
 * itself (lib/owt_py.c); anything else is text for the interpreter. */
typedef enum { OWT_KWARG_STR, OWT_KWARG_INT, OWT_KWARG_TRUE, OWT_KWARG_FALSE, OWT_KWARG_NULL } owt_kwarg_type;

typedef struct {
  owt_str key;         /* the name's bytes, between its quotes */
  owt_kwarg_type type;
  owt_str text;        /* OWT_KWARG_STR: the string's bytes, between its quotes */
  long long value;     /* OWT_KWARG_INT */
} owt_kwarg;

#define OWT_KWARGS_FLAT_MAX 32 /* items; more goes the interpreter's way */

/* 1 when text is "flat": one JSON object, whitespace around it allowed,
 * whose keys are strings with no escapes and no control characters, and
 * whose values are such strings, integers of at most 18 digits (JSON's
 * grammar: no leading zeros, no fraction, no exponent), true, false or
 * null; at most max items. Then items[0..*n) are its items in order (a key
 * given twice is there twice: the last one wins, as in json.loads). 0 for
 * anything else, valid JSON or not. Bytes are not checked for UTF-8 here. */
int owt_kwargs_flat(owt_str text, owt_kwarg *items, size_t max, size_t *n);

#endif
