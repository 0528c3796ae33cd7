/* owt_py_module.c - the _owt built-in module.
 *
 * _owt.log(level, message)   write through the C logger (one line per line)
 * _owt.OUTPUT/ERROR/WARNING/INFO/DEBUG  (OUTPUT: an adaptor's print(), always logged)
 * _owt.version               the owt-fcgi version
 * _owt.Timeout               BaseException raised when --timeout passes;
 *                            .kind == "timeout" (mapped to 504)
 * _owt.Terminated            BaseException raised in CGI mode when the web
 *                            server sends SIGTERM (its client went away)
 * _owt._alarm(signum, frame) the SIGALRM handler the interpreter runs
 * _owt._terminated(...)      the SIGTERM handler, CGI mode only
 * _owt._after_fork_child()   registered with os.register_at_fork
 * _owt._report_warm(adaptors, named, compiled)  the runtime's warm-adaptor
 *                            counts, into this worker's scoreboard slot
 * signal.pthread_sigmask     replaced in threaded workers by a wrapper that
 *                            tells the worker the thread's mask may have
 *                            changed (owt_py_module_wrap_sigmask) */
#include "owt_py_module.h"

#include "owt_py_environ.h"

#include <dirent.h>
#include <time.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "owt_hygiene.h"
#include "owt_log.h"
#include "owt_stats.h"

/* What a forked child must not keep: a few fds named once at start (CGI's
 * response fd), and every socket of the FastCGI listener (the listening
 * socket and each connection accepted from it, found by their local
 * address). Set before threads start; read without locks in the child. */
#define PROTECTED_MAX 8
static int protected_fds[PROTECTED_MAX];
static size_t n_protected;
static struct sockaddr_storage listener;
static socklen_t listener_len;

static PyObject *timeout_type;    /* strong reference, lives as long as the process */
static PyObject *terminated_type; /* likewise */

void owt_py_module_protect_fd(int fd) {
  if (fd >= 0 && n_protected < PROTECTED_MAX) protected_fds[n_protected++] = fd;
}

void owt_py_module_protect_listener(int fd) {
  listener_len = sizeof listener;
  if (getsockname(fd, (struct sockaddr *)&listener, &listener_len) != 0) listener_len = 0;
}

/* Whether addr is the listener's own address, or (TCP) a connection
 * accepted on its port. */
static int from_listener(const struct sockaddr_storage *a, socklen_t len) {
  if (!listener_len || a->ss_family != listener.ss_family) return 0;
  if (a->ss_family == AF_UNIX)
    return len == listener_len && memcmp(a, &listener, len) == 0;
  if (a->ss_family == AF_INET)
    return ((const struct sockaddr_in *)a)->sin_port == ((const struct sockaddr_in *)&listener)->sin_port;
  if (a->ss_family == AF_INET6)
    return ((const struct sockaddr_in6 *)a)->sin6_port == ((const struct sockaddr_in6 *)&listener)->sin6_port;
  return 0;
}

static void detach_listener_sockets(int devnull) {
  DIR *dir = listener_len ? opendir("/proc/self/fd") : NULL;
  struct dirent *d;
  if (!dir) return;
  while ((d = readdir(dir))) {
    char *end = NULL;
    long fd = strtol(d->d_name, &end, 10);
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    if (end == d->d_name || *end || fd < 0 || fd == dirfd(dir) || fd == devnull) continue;
    if (getsockname((int)fd, (struct sockaddr *)&a, &len) == 0 && from_listener(&a, len))
      dup2(devnull, (int)fd);
  }
  closedir(dir);
}

PyObject *owt_py_module_timeout_type(void) { return timeout_type; }

/* ---- request slots: what an interrupt reaches ---------------------------------- */

static __thread owt_py_slot *current_slot;

int owt_py_slot_init(owt_py_slot *s) {
  pthread_condattr_t attr;
  memset(s, 0, sizeof *s);
  if (pthread_mutex_init(&s->mu, NULL) != 0) return -1;
  if (pthread_condattr_init(&attr) != 0) return -1;
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(&s->cv, &attr);
  pthread_condattr_destroy(&attr);
  return rc == 0 ? 0 : -1;
}

void owt_py_slot_destroy(owt_py_slot *s) {
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
}

void owt_py_slot_set_current(owt_py_slot *s) { current_slot = s; }

void owt_py_slot_begin(owt_py_slot *s, uint64_t ticket) {
  s->ticket = ticket;
  s->reason = 0;
  if (s->woken) { /* only a previous request's interrupt sets it */
    pthread_mutex_lock(&s->mu);
    s->woken = 0;
    pthread_mutex_unlock(&s->mu);
  }
}

void owt_py_slot_end(owt_py_slot *s) {
  s->ticket = 0;
  s->reason = 0;
  Py_CLEAR(s->cancel); /* may run a destructor: nothing may be pending for this thread now */
}

int owt_py_slot_interrupt(owt_py_slot *s, uint64_t ticket, int reason) {
  if (!ticket || s->ticket != ticket || s->reason) return 0;
  s->reason = reason;
  pthread_mutex_lock(&s->mu);
  s->woken = 1;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  PyObject *cancel = s->cancel; /* borrowed; kept alive by the call below */
  if (cancel) {
    Py_INCREF(cancel);
    PyObject *res = PyObject_CallNoArgs(cancel); /* new */
    if (!res) PyErr_Clear();               /* the waiter learns from its own wait */
    Py_XDECREF(res);
    Py_DECREF(cancel);
  }
  return 1;
}

/* _owt.wait(seconds) -> bool: in a request thread, sleep until seconds pass
 * or the request is interrupted (True); False at once when the calling
 * thread runs no interruptible request (the caller sleeps as usual). */
static PyObject *owt_mod_wait(PyObject *self, PyObject *arg) {
  (void)self;
  owt_py_slot *s = current_slot;
  double seconds = PyFloat_AsDouble(arg);
  if (seconds == -1.0 && PyErr_Occurred()) return NULL;
  if (!s || !s->ticket) Py_RETURN_FALSE;
  if (s->reason || !(seconds > 0)) Py_RETURN_TRUE;
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  if (seconds > 86400.0 * 365) seconds = 86400.0 * 365;
  double whole = (double)(time_t)seconds;
  until.tv_sec += (time_t)seconds;
  until.tv_nsec += (long)((seconds - whole) * 1e9);
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  Py_BEGIN_ALLOW_THREADS
  pthread_mutex_lock(&s->mu);
  while (!s->woken && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0) {
  }
  pthread_mutex_unlock(&s->mu);
  Py_END_ALLOW_THREADS
  Py_RETURN_TRUE;
}

/* _owt.interrupted() -> int: why the calling thread's request was
 * interrupted (1 its timeout, 2 its client left), or 0. */
static PyObject *owt_mod_interrupted(PyObject *self, PyObject *args) {
  (void)self;
  (void)args;
  owt_py_slot *s = current_slot;
  return PyLong_FromLong(s && s->ticket ? s->reason : 0);
}

/* _owt.set_cancel(fn or None) -> bool: fn cancels the asyncio work the
 * calling thread's request now waits on (called at once if the request was
 * already interrupted). False when the thread runs no interruptible request. */
static PyObject *owt_mod_set_cancel(PyObject *self, PyObject *fn) {
  (void)self;
  owt_py_slot *s = current_slot;
  if (!s || !s->ticket) Py_RETURN_FALSE;
  PyObject *old = s->cancel;
  s->cancel = fn == Py_None ? NULL : Py_NewRef(fn);
  Py_XDECREF(old);
  if (s->reason && s->cancel) {
    PyObject *res = PyObject_CallNoArgs(s->cancel); /* new */
    if (!res) return NULL;
    Py_DECREF(res);
  }
  Py_RETURN_TRUE;
}

static PyObject *owt_mod_log(PyObject *self, PyObject *args) {
  int level;
  const char *text;
  Py_ssize_t len;
  (void)self;
  if (!PyArg_ParseTuple(args, "is#", &level, &text, &len)) return NULL;
  if (level < OWT_LOG_OUTPUT) level = OWT_LOG_OUTPUT;
  if (level > OWT_LOG_DEBUG) level = OWT_LOG_DEBUG;
  owt_log_text((owt_log_level)level, text, (size_t)len);
  Py_RETURN_NONE;
}

static PyObject *owt_mod_alarm(PyObject *self, PyObject *args) {
  (void)self;
  (void)args;
  PyErr_SetString(timeout_type, "the adaptor ran past its --timeout");
  return NULL;
}

static PyObject *owt_mod_terminated(PyObject *self, PyObject *args) {
  (void)self;
  (void)args;
  PyErr_SetString(terminated_type, "the web server ended this request (the client went away)");
  return NULL;
}

static PyObject *owt_mod_after_fork_child(PyObject *self, PyObject *args) {
  (void)self;
  (void)args;
  /* Point, don't close: the numbers stay taken, so nothing in the child
   * mistakes a later file for the web server's socket. */
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) Py_RETURN_NONE;
  for (size_t i = 0; i < n_protected; i++) dup2(devnull, protected_fds[i]);
  detach_listener_sockets(devnull);
  close(devnull);
  n_protected = 0;
  listener_len = 0;
  Py_RETURN_NONE;
}

static PyObject *owt_mod_report_warm(PyObject *self, PyObject *args) {
  unsigned long long warm, named, compiled;
  (void)self;
  if (!PyArg_ParseTuple(args, "KKK", &warm, &named, &compiled)) return NULL;
  owt_stats_report_warm(warm, named, compiled);
  Py_RETURN_NONE;
}

/* signal.pthread_sigmask as Python had it; its wrapper below calls it. */
static PyObject *sigmask_original;

static PyObject *owt_mod_pthread_sigmask(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  (void)self;
  PyObject *res = PyObject_Vectorcall(sigmask_original, args, (size_t)nargs, NULL);
  owt_hygiene_mask_touched(); /* changed or not (an error, a query): looked at after the request */
  return res;
}

static PyMethodDef sigmask_def = {
    "pthread_sigmask", (PyCFunction)(void (*)(void))owt_mod_pthread_sigmask, METH_FASTCALL,
    "pthread_sigmask(how, mask, /)\n--\n\nFetch and/or change the signal mask of the calling thread. "
    "In an owt-fcgi worker, a request thread's mask is put back when its request ends."};

int owt_py_module_wrap_sigmask(void) {
  if (sigmask_original) return 0;
  PyObject *signal_mod = PyImport_ImportModule("signal"); /* new */
  PyObject *name = NULL, *wrapper = NULL;
  int rc = -1;
  if (!signal_mod || !(sigmask_original = PyObject_GetAttrString(signal_mod, "pthread_sigmask"))) goto done;
  if (!(name = PyUnicode_FromString("signal"))) goto done;                          /* new: __module__ */
  if (!(wrapper = PyCFunction_NewEx(&sigmask_def, NULL, name))) goto done;          /* new */
  rc = PyObject_SetAttrString(signal_mod, "pthread_sigmask", wrapper);
done:
  Py_XDECREF(wrapper);
  Py_XDECREF(name);
  Py_XDECREF(signal_mod);
  return rc;
}

static PyMethodDef owt_methods[] = {
    {"_report_warm", owt_mod_report_warm, METH_VARARGS,
     "_report_warm(adaptors, named, compiled): the warm-adaptor counts for /_owt/status."},
    {"log", owt_mod_log, METH_VARARGS, "log(level, message): write to the owt-fcgi error log."},
    {"wait", owt_mod_wait, METH_O,
     "wait(seconds) -> bool: sleep until seconds pass or this request is interrupted; False at once "
     "outside an interruptible request."},
    {"interrupted", owt_mod_interrupted, METH_NOARGS,
     "interrupted() -> int: 1 when this thread's request ran past its timeout, 2 when its client left, else 0."},
    {"set_cancel", owt_mod_set_cancel, METH_O,
     "set_cancel(fn or None) -> bool: fn cancels what this thread's request waits on when it is interrupted."},
    {"_alarm", owt_mod_alarm, METH_VARARGS, "SIGALRM handler: raise Timeout."},
    {"_terminated", owt_mod_terminated, METH_VARARGS, "SIGTERM handler in CGI mode: raise Terminated."},
    {"_after_fork_child", owt_mod_after_fork_child, METH_NOARGS,
     "Detach a forked child from the web server's sockets."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef owt_module = {
    PyModuleDef_HEAD_INIT, "_owt", "What owt adaptors need from the owt-fcgi binary.", -1,
    owt_methods, NULL, NULL, NULL, NULL,
};

PyObject *owt_py_module_init(void) {
  PyObject *m = PyModule_Create(&owt_module); /* new */
  if (!m) return NULL;
  if (!timeout_type) {
    timeout_type = PyErr_NewExceptionWithDoc(
        "_owt.Timeout", "The adaptor ran past --timeout. Derives from BaseException so "
        "`except Exception` in an adaptor does not swallow it.", PyExc_BaseException, NULL);
    if (!timeout_type) goto fail;
    PyObject *kind = PyUnicode_FromString("timeout"); /* new */
    int rc = kind ? PyObject_SetAttrString(timeout_type, "kind", kind) : -1;
    Py_XDECREF(kind);
    if (rc < 0) goto fail;
  }
  if (!terminated_type) {
    terminated_type = PyErr_NewExceptionWithDoc(
        "_owt.Terminated", "The web server ended a CGI request (its client went away). "
        "A BaseException, so the adaptor's finally blocks run and nothing swallows it.",
        PyExc_BaseException, NULL);
    if (!terminated_type) goto fail;
    PyObject *kind = PyUnicode_FromString("client_gone"); /* new */
    int rc = kind ? PyObject_SetAttrString(terminated_type, "kind", kind) : -1;
    Py_XDECREF(kind);
    if (rc < 0) goto fail;
  }
  /* PyModule_AddObjectRef does not steal: the module and we both own one. */
  if (owt_py_environ_ready(m) < 0) goto fail;
  if (PyModule_AddObjectRef(m, "Timeout", timeout_type) < 0) goto fail;
  if (PyModule_AddObjectRef(m, "Terminated", terminated_type) < 0) goto fail;
  if (PyModule_AddIntConstant(m, "OUTPUT", OWT_LOG_OUTPUT) < 0 ||
      PyModule_AddIntConstant(m, "ERROR", OWT_LOG_ERROR) < 0 ||
      PyModule_AddIntConstant(m, "WARNING", OWT_LOG_WARNING) < 0 ||
      PyModule_AddIntConstant(m, "INFO", OWT_LOG_INFO) < 0 ||
      PyModule_AddIntConstant(m, "DEBUG", OWT_LOG_DEBUG) < 0 ||
      PyModule_AddStringConstant(m, "version", PACKAGE_VERSION) < 0)
    goto fail;
  return m;
fail:
  Py_DECREF(m);
  return NULL;
}
