/* owt_interp.h - the interpreter as the request pipeline sees it: a table of
 * entry points.
 *
 * lib/owt_server.c starts, calls and stops its interpreter only through an
 * owt_interp, never through owt_py_* by name, so the pipeline is plain C and
 * links without Python: the server runs on owt_py_interp (the embedded
 * CPython, lib/owt_py_interp.c), the unit tests on a fake that answers from C
 * (tests/unit/test_server.c). Each entry has the contract of the owt_py.h
 * function it is named after. A request costs one indirect call per entry it
 * uses, nothing more. */
#ifndef OWT_INTERP_H
#define OWT_INTERP_H

#include "owt_py.h"

typedef struct owt_interp {
  /* owt_py_start: the interpreter for this process. */
  owt_err (*start)(owt_py **out, const owt_config *cfg, const char *shipped_adaptors, size_t threads,
                   char *why, size_t why_len);
  /* owt_py_stop: on the way out. */
  void (*stop)(owt_py *py);
  /* owt_py_call: run one invocation in thread t. */
  owt_err (*call)(owt_py_thread *t, const owt_py_call_in *in, owt_py_reply *reply, owt_buf *message);
  /* owt_py_reply_next: the next chunk of a streaming reply. */
  owt_err (*reply_next)(owt_py_thread *t, owt_py_reply *reply, owt_str *chunk, owt_buf *message);
  /* owt_py_reply_close: release a reply (called after every call). */
  void (*reply_close)(owt_py_thread *t, owt_py_reply *reply);
  /* owt_py_version: "3.11.2 (main, ...)". */
  const char *(*version)(void);
} owt_interp;

/* The embedded CPython (lib/libowtpy.a). */
extern const owt_interp owt_py_interp;

#endif
