/* owt_py_module.h - the built-in module _owt: what adaptors' Python needs
 * from C. Internal to owt_py*.c (includes Python.h). */
#ifndef OWT_PY_MODULE_H
#define OWT_PY_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>

/* The interruptible request of one request thread. ticket, reason and
 * cancel are read and written with the GIL held; woken (what a sleeping
 * request waits on, without the GIL) under mu. */
typedef struct {
  uint64_t ticket;  /* the request running in the thread; 0: none */
  int reason;       /* why it was interrupted (owt_py_reason); 0: it was not */
  PyObject *cancel; /* new reference or NULL: cancels the asyncio work the request waits on */
  int woken;        /* under mu: an interrupt came since the request began */
  pthread_mutex_t mu;
  pthread_cond_t cv;
} owt_py_slot;

/* Prepare s (a monotonic-clock condition variable). 0 or -1. */
int owt_py_slot_init(owt_py_slot *s);
void owt_py_slot_destroy(owt_py_slot *s);

/* The slot of the calling thread, for _owt.wait / set_cancel / interrupted. */
void owt_py_slot_set_current(owt_py_slot *s);

/* With the GIL: thread's request `ticket` begins / is over (cancel dropped). */
void owt_py_slot_begin(owt_py_slot *s, uint64_t ticket);
void owt_py_slot_end(owt_py_slot *s);

/* With the GIL, from another thread: request `ticket` must stop. Wakes its
 * wait, calls its cancel. Returns 1 when it was that request, 0 when the
 * ticket is stale. */
int owt_py_slot_interrupt(owt_py_slot *s, uint64_t ticket, int reason);

/* For PyImport_AppendInittab("_owt", ...) before the interpreter starts. */
PyObject *owt_py_module_init(void);

/* Replace signal.pthread_sigmask with a wrapper that calls it and then
 * owt_hygiene_mask_touched(), so a request thread puts its mask back after a
 * request that called it, and makes no system call for it otherwise. With
 * the GIL; 0, or -1 with a Python error set. */
int owt_py_module_wrap_sigmask(void);

/* Borrowed: _owt.Timeout, raised at the soft deadline (after import). */
PyObject *owt_py_module_timeout_type(void);

/* fd (up to 8), and every socket of the listener on fd (found by local
 * address), are pointed at /dev/null in a child forked by adaptor code.
 * Call before request threads start. */
void owt_py_module_protect_fd(int fd);
void owt_py_module_protect_listener(int fd);

#endif
