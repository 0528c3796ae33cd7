/* owt_kwargs.h - what kind of text the kwargs are, decided before Python.
 *
 * PROTOCOL §3 decodes kwargs as JSON first, then as a Python literal. Both
 * parses happen once, in the interpreter (json's own C scanner first); C only
 * tells blank text, which is {} without a call into Python's decoder, from
 * text to decode. A JSON check here would parse every request's kwargs twice. */
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

#endif
