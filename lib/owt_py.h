/* owt_py.h - the embedded interpreter, as plain C sees it.
 *
 * Only owt_py*.c include Python.h. The rest of lib/ hands a decoded
 * invocation in and gets a status, headers and a body or a chunk source
 * out, with C pointers that stay valid until owt_py_reply_close(). The GIL
 * is held only inside these calls, never across FastCGI I/O.
 *
 * Every C thread that calls in holds an owt_py_thread (its own Python
 * thread state). A request started with a ticket can be interrupted from
 * another thread (owt_py_interrupt): a timeout raises in that request's
 * thread only; a client that left cancels its asyncio task. */
#ifndef OWT_PY_H
#define OWT_PY_H

#include <stdint.h>

#include "owt_buf.h"
#include "owt_config.h"
#include "owt_response.h"

typedef struct owt_py owt_py;
typedef struct owt_py_thread owt_py_thread;

/* Why a request is interrupted (owt_py_interrupt). */
typedef enum {
  OWT_PY_TIMEOUT = 1,     /* past --timeout: raise _owt.Timeout in its thread, cancel its task */
  OWT_PY_CLIENT_GONE = 2, /* the client left: cancel its asyncio task, wake its sleeps */
} owt_py_reason;

/* Everything Python needs to know about one request. */
typedef struct {
  owt_str code;         /* empty when adaptor is set */
  owt_str adaptor;      /* empty when code is set */
  owt_str fn_name;
  owt_str kwargs;
  int kwargs_kind;      /* owt_kwargs_kind */
  unsigned char digest[32];
  int same_code;        /* code and fn_name are those of this thread's previous call */
  char **envp;
  size_t nparams;
  owt_str body;
  owt_str path;
  uint64_t ticket;      /* nonzero: the request can be interrupted by this number */
} owt_py_call_in;

#define OWT_PY_MAX_HEADERS 64

/* The adaptor's answer. Pointers are borrowed from Python objects the reply
 * holds, or, for a whole reply of up to 64 KiB, from a copy the calling
 * thread keeps (result is NULL then: the request is over for Python); valid
 * until owt_py_reply_close() or the thread's next call. */
typedef struct {
  int status;
  owt_header headers[OWT_PY_MAX_HEADERS];
  size_t nheaders;
  int streaming;  /* 1: pull chunks with owt_py_reply_next(); 0: body below */
  owt_str body;
  void *result;   /* PyObject*: the (status, headers, body, chunks) tuple, or NULL once copied */
  void *chunks;   /* PyObject*: the chunk iterator, or NULL */
  void *chunk;    /* PyObject*: the bytes of the current chunk, or NULL */
  int finished;   /* the chunk iterator is exhausted */
} owt_py_reply;

/* Start the interpreter for this process (after any fork): paths, venv,
 * the _owt module, owt._runtime.configure(). shipped_adaptors is the
 * directory holding the owt package. threads > 0: requests run in that many
 * other threads (FastCGI), with per-request interrupts; 0: in this thread
 * (CGI), with SIGALRM for the deadline. The calling thread gives up the GIL
 * before this returns; it may use owt_py_main_thread(). On failure returns
 * an error and writes a message for the operator into why. */
owt_err owt_py_start(owt_py **out, const owt_config *cfg, const char *shipped_adaptors,
                     size_t threads, char *why, size_t why_len);

/* The thread state of the thread that called owt_py_start. */
owt_py_thread *owt_py_main_thread(owt_py *py);

/* Give the calling C thread a Python thread state of its own. NULL on
 * failure. Release it with owt_py_thread_detach before the thread ends. */
owt_py_thread *owt_py_thread_attach(owt_py *py);
void owt_py_thread_detach(owt_py_thread *t);

/* Run one invocation in the calling thread t. On success fills reply
 * (release it with owt_py_reply_close). On failure returns the error
 * (400/403/404/500/504) and appends the response body text to message;
 * nothing to close. A ticket in `in` stays interruptible until the reply is
 * closed (or, on failure, until this returns). */
owt_err owt_py_call(owt_py_thread *t, const owt_py_call_in *in, owt_py_reply *reply, owt_buf *message);

/* The next chunk of a streaming reply into *chunk. OWT_OK with chunk->p NULL
 * at the end. On an exception: its error, with message filled. */
owt_err owt_py_reply_next(owt_py_thread *t, owt_py_reply *reply, owt_str *chunk, owt_buf *message);

/* Release reply and end its request's ticket. When the stream did not
 * finish (client gone, error), the adaptor's generator is closed so its
 * finally blocks run. */
void owt_py_reply_close(owt_py_thread *t, owt_py_reply *reply);

/* From thread self: interrupt the request `ticket` running in thread
 * target, if it is still that request (a stale ticket does nothing).
 * Returns 1 when it was. */
int owt_py_interrupt(owt_py_thread *self, owt_py_thread *target, uint64_t ticket, owt_py_reason why);

/* CGI mode: make SIGTERM (how lighttpd and Apache end a CGI whose client has
 * gone) raise _owt.Terminated in the running adaptor, so a streaming
 * generator's finally blocks run before the process exits. 0 or -1. */
int owt_py_interrupt_on_sigterm(owt_py *py);

/* CGI mode: call after a request whose deadline fired: clears a Timeout
 * that was scheduled but never raised. */
void owt_py_after_timeout(owt_py *py);

/* What a child forked by adaptor code must not keep: at fork it is pointed
 * at /dev/null in the child. protect_fd names one fd (CGI's response fd, at
 * most 8); protect_listener the FastCGI listening socket on fd and every
 * connection accepted from it (recognised in the child by their local
 * address, so no per-connection bookkeeping is needed). Call before any
 * request thread starts. */
void owt_py_protect_fd(int fd);
void owt_py_protect_listener(int fd);

/* "3.11.2 (main, ...)" */
const char *owt_py_version(void);

/* Release py and the references it holds. The interpreter is not finalised
 * (numpy and friends do not survive it): call only on the way out. */
void owt_py_stop(owt_py *py);

#endif
