/* owt_py.h - the embedded interpreter, as plain C sees it.
 *
 * Only owt_py*.c include Python.h. The rest of lib/ hands a decoded
 * invocation in and gets a status, headers and a body or a chunk source
 * out, with C pointers that stay valid until owt_py_reply_close(). The GIL
 * is held only inside these calls, never across FastCGI I/O. */
#ifndef OWT_PY_H
#define OWT_PY_H

#include "owt_buf.h"
#include "owt_config.h"
#include "owt_response.h"

typedef struct owt_py owt_py;

/* Everything Python needs to know about one request. */
typedef struct {
  owt_str code;         /* empty when adaptor is set */
  owt_str adaptor;      /* empty when code is set */
  owt_str fn_name;
  owt_str kwargs;
  int kwargs_kind;      /* owt_kwargs_kind */
  unsigned char digest[32];
  char **envp;
  size_t nparams;
  owt_str body;
  owt_str path;
} owt_py_call_in;

#define OWT_PY_MAX_HEADERS 64

/* The adaptor's answer. Pointers are borrowed from Python objects the reply
 * holds; valid until owt_py_reply_close(). */
typedef struct {
  int status;
  owt_header headers[OWT_PY_MAX_HEADERS];
  size_t nheaders;
  int streaming;  /* 1: pull chunks with owt_py_reply_next(); 0: body below */
  owt_str body;
  void *result;   /* PyObject*: the (status, headers, body, chunks) tuple */
  void *chunks;   /* PyObject*: the chunk iterator, or NULL */
  void *chunk;    /* PyObject*: the bytes of the current chunk, or NULL */
  int finished;   /* the chunk iterator is exhausted */
} owt_py_reply;

/* Start the interpreter for this process (after any fork): paths, venv,
 * the _owt module, owt._runtime.configure(). shipped_adaptors is the
 * directory holding the owt package. On failure returns an error and writes
 * a message for the operator into why. */
owt_err owt_py_start(owt_py **out, const owt_config *cfg, const char *shipped_adaptors, char *why,
                     size_t why_len);

/* Run one invocation. On success fills reply (release it with
 * owt_py_reply_close). On failure returns the error (400/403/404/500/504)
 * and appends the response body text to message; nothing to close. */
owt_err owt_py_call(owt_py *py, const owt_py_call_in *in, owt_py_reply *reply, owt_buf *message);

/* The next chunk of a streaming reply into *chunk. OWT_OK with chunk->p NULL
 * at the end. On an exception: its error, with message filled. */
owt_err owt_py_reply_next(owt_py *py, owt_py_reply *reply, owt_str *chunk, owt_buf *message);

/* Release reply. When the stream did not finish (client gone, error), the
 * adaptor's generator is closed so its finally blocks run. */
void owt_py_reply_close(owt_py *py, owt_py_reply *reply);

/* CGI mode: make SIGTERM (how lighttpd and Apache end a CGI whose client has
 * gone) raise _owt.Terminated in the running adaptor, so a streaming
 * generator's finally blocks run before the process exits. 0 or -1. */
int owt_py_interrupt_on_sigterm(owt_py *py);

/* Call after a request whose deadline fired: clears a Timeout that was
 * scheduled but never raised. */
void owt_py_after_timeout(owt_py *py);

/* fds a child forked by adaptor code must not keep (the FastCGI listening
 * socket and connection, CGI's response fd): at fork they are pointed at
 * /dev/null in the child. Up to 8; -1 entries are ignored. */
void owt_py_protect_fds(const int *fds, size_t n);

/* "3.11.2 (main, ...)" */
const char *owt_py_version(void);

/* Release py and the references it holds. The interpreter is not finalised
 * (numpy and friends do not survive it): call only on the way out. */
void owt_py_stop(owt_py *py);

#endif
