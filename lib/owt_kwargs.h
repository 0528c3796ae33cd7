/* owt_kwargs.h - what kind of text the kwargs are, decided before Python.
 *
 * PROTOCOL §3 decodes kwargs as JSON first, then as a Python literal. C
 * classifies the text once (cJSON, bounded) so the interpreter does at most
 * one parse on the hot path; the actual Python values are built there. */
#ifndef OWT_KWARGS_H
#define OWT_KWARGS_H

#include "owt_str.h"

typedef enum {
  OWT_KWARGS_EMPTY = 0, /* nothing but whitespace: {} */
  OWT_KWARGS_JSON = 1,  /* one complete JSON value */
  OWT_KWARGS_OTHER = 2, /* not JSON: try a Python literal, else the text itself */
} owt_kwargs_kind;

/* text without the trailing newlines `echo ... | base64` adds (and CRs). */
owt_str owt_kwargs_trim(owt_str text);

/* Classify text (already trimmed or not: whitespace never matters). */
owt_kwargs_kind owt_kwargs_classify(owt_str text);

#endif
