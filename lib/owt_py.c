/* owt_py.c - the embedded CPython: start-up, one call per request, chunks.
 *
 * Ownership is marked where each PyObject* is assigned (new / borrowed);
 * every function releases what it took under one label. The GIL is taken on
 * entry to each exported function and given back before it returns. */
#include "owt_py.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "owt_deadline.h"
#include "owt_kwargs.h"
#include "owt_log.h"
#include "owt_py_environ.h"
#include "owt_py_module.h"

struct owt_py_thread {
  owt_py *py;
  PyObject *environ;     /* new or NULL: the request's lazy environ, detached when it ends */
  PyThreadState *ts;     /* this thread's state; current only while it holds the GIL */
  PyGILState_STATE gil;  /* how attach found the thread (released at detach) */
  unsigned long ident;   /* threading.get_ident() of this thread */
  owt_py_slot slot;      /* its interruptible request (owt_py_module.h) */
  PyObject *last_code;   /* new or NULL: the code str of the previous call, and its fn_name */
  PyObject *last_fn;     /* (a thread runs the same adaptor again and again) */
  PyObject *last_digest; /* new or NULL: their digest as bytes, its hash computed once */
  char *copy;            /* a whole reply's head and body, copied out of Python (copy_out) */
  size_t copy_cap;
  PyObject *context;     /* new or NULL: the empty contextvars.Context each request runs in */
};

/* A whole reply up to this many bytes (headers and body) is copied out of its
 * Python objects, which are let go at once. */
#define COPY_MAX (64 * 1024)

struct owt_py {
  owt_py_thread main;   /* the thread that started the interpreter */
  PyObject *handle;     /* new: owt._runtime.handle */
  PyObject *format_exception; /* new: traceback.format_exception */
  int debug;
  int threaded;
  double timeout;
};

static void py_enter(owt_py_thread *t) { PyEval_RestoreThread(t->ts); }

static void py_leave(owt_py_thread *t) { t->ts = PyEval_SaveThread(); }

const char *owt_py_version(void) { return Py_GetVersion(); }

owt_py_thread *owt_py_main_thread(owt_py *py) { return &py->main; }

void owt_py_protect_fd(int fd) { owt_py_module_protect_fd(fd); }

void owt_py_protect_listener(int fd) { owt_py_module_protect_listener(fd); }

owt_py_thread *owt_py_thread_attach(owt_py *py) {
  owt_py_thread *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  if (owt_py_slot_init(&t->slot) != 0) {
    free(t);
    return NULL;
  }
  t->py = py;
  /* Ensure makes a thread state for a thread Python has not seen. */
  t->gil = PyGILState_Ensure();
  t->ident = PyThread_get_thread_ident();
  owt_py_slot_set_current(&t->slot);
  py_leave(t);
  return t;
}

void owt_py_thread_detach(owt_py_thread *t) {
  if (!t) return;
  py_enter(t);
  owt_py_slot_end(&t->slot);
  owt_py_slot_set_current(NULL);
  Py_CLEAR(t->last_code);
  Py_CLEAR(t->last_fn);
  Py_CLEAR(t->last_digest);
  Py_CLEAR(t->context);
  PyGILState_Release(t->gil); /* deletes the thread state Ensure made */
  owt_py_slot_destroy(&t->slot);
  free(t->copy);
  free(t);
}

/* ---- errors: Python exception -> owt_err, in this one place ---------------- */

static void append_pystr(owt_buf *out, PyObject *o) {
  Py_ssize_t len = 0;
  PyObject *s = PyObject_Str(o); /* new */
  const char *p = s ? PyUnicode_AsUTF8AndSize(s, &len) : NULL;
  if (p) owt_buf_append(out, p, (size_t)len);
  else owt_buf_append_str(out, "<unprintable>");
  Py_XDECREF(s);
  PyErr_Clear();
}

static owt_err kind_of(PyObject *value) {
  owt_err err = OWT_E_ADAPTOR;
  PyObject *kind = PyObject_GetAttrString(value, "kind"); /* new */
  if (kind && PyUnicode_Check(kind)) {
    Py_ssize_t len = 0;
    const char *p = PyUnicode_AsUTF8AndSize(kind, &len);
    owt_err named = p ? owt_err_from_name(p, (size_t)len) : OWT_E__COUNT;
    if (named != OWT_E__COUNT && named != OWT_OK) err = named;
  }
  Py_XDECREF(kind);
  PyErr_Clear();
  return err;
}

static void format_traceback(owt_py *py, PyObject *type, PyObject *value, PyObject *tb,
                             owt_buf *out) {
  PyObject *text = PyObject_GetAttrString(value, "traceback"); /* new */
  PyErr_Clear();
  if (text && PyUnicode_Check(text)) {
    append_pystr(out, text);
    Py_DECREF(text);
    return;
  }
  Py_XDECREF(text);
  PyObject *lines = PyObject_CallFunctionObjArgs(py->format_exception, type, value,
                                                 tb ? tb : Py_None, NULL); /* new */
  if (lines && PyList_Check(lines)) {
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines); i++)
      append_pystr(out, PyList_GET_ITEM(lines, i)); /* borrowed */
  }
  Py_XDECREF(lines);
  PyErr_Clear();
}

/* Consume the pending exception: its owt_err, the response body text in
 * message, the traceback in the log. */
static owt_err py_error(owt_py *py, owt_buf *message) {
  PyObject *type = NULL, *value = NULL, *tb = NULL; /* new, from PyErr_Fetch */
  owt_buf trace = OWT_BUF_INIT(64 * 1024);
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (!value) {
    owt_buf_append_str(message, "Error executing code: unknown error");
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return OWT_E_INTERNAL;
  }
  owt_err err = kind_of(value);
  PyObject *msg = PyObject_GetAttrString(value, "message"); /* new */
  PyErr_Clear();
  if (msg && PyUnicode_Check(msg)) {
    append_pystr(message, msg);
  } else if (err == OWT_E_TIMEOUT) {
    owt_buf_printf(message, "Error executing code: Timeout: the adaptor ran past its %gs timeout",
                   py->timeout);
  } else {
    owt_buf_append_str(message, "Error executing code: ");
    owt_buf_append_str(message, ((PyTypeObject *)type)->tp_name);
    owt_buf_append_str(message, ": ");
    append_pystr(message, value);
  }
  Py_XDECREF(msg);
  if (owt_err_status(err) >= 500) {
    format_traceback(py, type, value, tb, &trace);
    owt_log(OWT_LOG_ERROR, "%.*s", (int)message->len, message->data ? message->data : "");
    owt_log_text(OWT_LOG_ERROR, trace.data ? trace.data : "", trace.len);
    if (py->debug && trace.len) {
      owt_buf_append_str(message, "\n\n");
      owt_buf_append(message, trace.data, trace.len);
    }
  } else {
    owt_log(OWT_LOG_INFO, "%.*s", (int)message->len, message->data ? message->data : "");
  }
  owt_buf_free(&trace);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  return err;
}

/* ---- start-up ------------------------------------------------------------- */

/* The major.minor a venv was made with, from its pyvenv.cfg ("version = 3.11.2"
 * or "version_info = 3.11.2.final.0"). 0 when it cannot be read. */
static int venv_version(const char *venv, int *major, int *minor) {
  char path[4096], line[512];
  snprintf(path, sizeof path, "%s/pyvenv.cfg", venv);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    char *eq = strchr(line, '=');
    if (!eq) continue;
    owt_str key = owt_str_trim((owt_str){line, (size_t)(eq - line)});
    if (!owt_str_eq(key, OWT_STR_LIT("version")) && !owt_str_eq(key, OWT_STR_LIT("version_info")))
      continue;
    found = sscanf(eq + 1, " %d.%d", major, minor) == 2;
  }
  fclose(f);
  return found;
}

static owt_err pick_executable(const owt_config *cfg, char *exe, size_t len, char *why,
                               size_t why_len) {
  if (!cfg->venv) {
    snprintf(exe, len, "%s", OWT_PYTHON_EXECUTABLE);
    return OWT_OK;
  }
  int major = 0, minor = 0;
  if (!venv_version(cfg->venv, &major, &minor)) {
    snprintf(why, why_len, "--venv %s: no pyvenv.cfg with a version: not a virtualenv made by "
             "python3 -m venv", cfg->venv);
    return OWT_E_INTERNAL;
  }
  if (major != PY_MAJOR_VERSION || minor != PY_MINOR_VERSION) {
    snprintf(why, why_len, "--venv %s was made with Python %d.%d, but owt-fcgi embeds Python "
             "%d.%d: make the venv with python%d.%d -m venv, or build owt-fcgi --with-python "
             "for %d.%d", cfg->venv, major, minor, PY_MAJOR_VERSION, PY_MINOR_VERSION,
             PY_MAJOR_VERSION, PY_MINOR_VERSION, major, minor);
    return OWT_E_INTERNAL;
  }
  snprintf(exe, len, "%s/bin/python%d.%d", cfg->venv, major, minor);
  if (access(exe, X_OK) != 0) snprintf(exe, len, "%s/bin/python3", cfg->venv);
  if (access(exe, X_OK) != 0) {
    snprintf(why, why_len, "--venv %s: no bin/python3 in it", cfg->venv);
    return OWT_E_INTERNAL;
  }
  return OWT_OK;
}

static owt_err init_interpreter(const char *exe, char *why, size_t why_len) {
  PyConfig config;
  PyStatus status;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0; /* SIGTERM/SIGINT/SIGPIPE/SIGALRM are the server's */
  config.parse_argv = 0;
  /* The real interpreter's path: getpath finds the stdlib, site-packages
   * and a venv's pyvenv.cfg from it, and sys.executable is a Python. */
  status = PyConfig_SetBytesString(&config, &config.program_name, exe);
  if (!PyStatus_Exception(status))
    status = PyConfig_SetBytesString(&config, &config.executable, exe);
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    snprintf(why, why_len, "Python failed to start: %s", status.err_msg ? status.err_msg : "?");
    return OWT_E_INTERNAL;
  }
  return OWT_OK;
}

/* Run a few lines of start-up Python with `args` bound as a dict. */
static int run_setup(const char *source, PyObject *args) {
  PyObject *globals = PyDict_New(); /* new */
  PyObject *result = NULL;          /* new */
  int ok = 0;
  if (!globals) goto done;
  if (PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0) goto done;
  if (PyDict_SetItemString(globals, "args", args) < 0) goto done;
  result = PyRun_String(source, Py_file_input, globals, globals);
  ok = result != NULL;
done:
  Py_XDECREF(result);
  Py_XDECREF(globals);
  return ok;
}

static PyObject *str_list(const char *const *items, size_t n) {
  PyObject *list = PyList_New(0); /* new */
  for (size_t i = 0; list && i < n; i++) {
    PyObject *s = PyUnicode_DecodeFSDefault(items[i]); /* new */
    if (!s || PyList_Append(list, s) < 0) Py_CLEAR(list);
    Py_XDECREF(s);
  }
  return list;
}

/* sys.path, sys.executable, the venv's view of the system site-packages,
 * print() to the log, fork hygiene. Python text: it is start-up only. */
static const char setup_source[] =
    "import os, sys, site\n"
    "import _owt\n"
    "front = args['adaptor_dirs'] + args['python_paths']\n"
    "sys.path[:0] = [p for p in front if p not in sys.path]\n"
    "if args['venv']:\n"
    "    for p in site.getsitepackages([sys.base_prefix]):\n"
    "        if os.path.isdir(p) and p not in sys.path:\n"
    "            site.addsitedir(p)\n"
    "sys.executable = args['executable']\n"
    "os.register_at_fork(after_in_child=_owt._after_fork_child)\n";

static owt_err configure_runtime(owt_py *py, const owt_config *cfg, const char *shipped,
                                 const char *exe, size_t threads) {
  const char *dirs[OWT_CONFIG_MAX_DIRS + 1];
  size_t n = 0;
  for (size_t i = 0; i < cfg->n_adaptor_dirs; i++) dirs[n++] = cfg->adaptor_dirs[i];
  dirs[n++] = shipped;
  owt_err err = OWT_E_INTERNAL;
  PyObject *runtime = NULL, *configure = NULL, *res = NULL, *tbmod = NULL, *signal_mod = NULL;
  PyObject *alarm = NULL, *args = Py_BuildValue(
      "{s:N,s:N,s:O,s:s,s:n,s:O,s:O,s:O,s:d,s:n}", /* N steals the lists */
      "adaptor_dirs", str_list(dirs, n), "python_paths",
      str_list(cfg->python_paths, cfg->n_python_paths), "venv", cfg->venv ? Py_True : Py_False,
      "executable", exe, "max_adaptors", (Py_ssize_t)cfg->max_adaptors, "debug",
      cfg->debug ? Py_True : Py_False, "no_code", cfg->no_code ? Py_True : Py_False,
      "allow_shell", cfg->allow_shell ? Py_True : Py_False, "timeout", cfg->timeout, "threads",
      (Py_ssize_t)threads); /* new */
  if (!args || !run_setup(setup_source, args)) goto done;
  if (PyDict_SetItemString(args, "python_executable", PyDict_GetItemString(args, "executable")) < 0)
    goto done;
  /* hook: installing() (adaptors/owt/summat/install.py) reads allow_install */
  if (PyDict_SetItemString(args, "allow_install", cfg->allow_install ? Py_True : Py_False) < 0)
    goto done;
  if (!(runtime = PyImport_ImportModule("owt._runtime"))) goto done;           /* new */
  if (!(configure = PyObject_GetAttrString(runtime, "configure"))) goto done;  /* new */
  if (!(res = PyObject_CallOneArg(configure, args))) goto done;                /* new */
  if (!(py->handle = PyObject_GetAttrString(runtime, "handle"))) goto done;    /* new, kept */
  if (!(tbmod = PyImport_ImportModule("traceback"))) goto done;                /* new */
  if (!(py->format_exception = PyObject_GetAttrString(tbmod, "format_exception"))) goto done;
  if (threads && owt_py_module_wrap_sigmask() < 0) goto done;
  if (!threads) {
    /* CGI: the interpreter's SIGALRM handler raises _owt.Timeout; the
     * OS-level handler (owt_deadline) is installed over it afterwards and
     * trips it. Threaded workers interrupt by ticket instead. */
    if (!(signal_mod = PyImport_ImportModule("signal"))) goto done;            /* new */
    if (!(alarm = PyObject_GetAttrString(PyImport_AddModule("_owt"), "_alarm"))) goto done;
    Py_XDECREF(res);
    if (!(res = PyObject_CallMethod(signal_mod, "signal", "iO", SIGALRM, alarm))) goto done;
  }
  err = OWT_OK;
done:
  Py_XDECREF(alarm);
  Py_XDECREF(signal_mod);
  Py_XDECREF(tbmod);
  Py_XDECREF(res);
  Py_XDECREF(configure);
  Py_XDECREF(runtime);
  Py_XDECREF(args);
  return err;
}

static void on_soft_deadline(void) {
  /* Async-signal-safe by its documentation: runs the Python-level SIGALRM
   * handler (_owt._alarm) at the next bytecode. */
  PyErr_SetInterruptEx(SIGALRM);
}

owt_err owt_py_start(owt_py **out, const owt_config *cfg, const char *shipped, size_t threads,
                     char *why, size_t why_len) {
  char exe[4096];
  owt_err err;
  owt_py *py = calloc(1, sizeof *py);
  if (!py) return OWT_E_NOMEM;
  py->debug = cfg->debug;
  py->timeout = cfg->timeout;
  py->threaded = threads > 0;
  py->main.py = py;
  if ((err = pick_executable(cfg, exe, sizeof exe, why, why_len))) goto fail;
  if (PyImport_AppendInittab("_owt", owt_py_module_init) < 0) {
    snprintf(why, why_len, "cannot register the _owt module");
    err = OWT_E_INTERNAL;
    goto fail;
  }
  if ((err = init_interpreter(exe, why, why_len))) goto fail;
  if ((err = configure_runtime(py, cfg, shipped, exe, threads))) {
    owt_buf msg = OWT_BUF_INIT(64 * 1024);
    py->debug = 1;
    py_error(py, &msg);
    snprintf(why, why_len, "the owt runtime failed to start (adaptors at %s): %.*s", shipped,
             (int)msg.len, msg.data ? msg.data : "");
    owt_buf_free(&msg);
    goto fail;
  }
  if (!threads) owt_deadline_install(on_soft_deadline);
  owt_log(OWT_LOG_INFO, "Python %s (%s), adaptors at %s", Py_GetVersion(), exe, shipped);
  py->main.ident = PyThread_get_thread_ident();
  if (owt_py_slot_init(&py->main.slot) == 0) owt_py_slot_set_current(&py->main.slot);
  py_leave(&py->main);
  *out = py;
  return OWT_OK;
fail:
  free(py); /* the interpreter, if it started, stays: this process is exiting */
  return err;
}

/* ---- one request ----------------------------------------------------------- */

static PyObject *str_or_none(owt_str s, int none_when_empty) {
  if (none_when_empty && s.len == 0) Py_RETURN_NONE;
  return PyUnicode_DecodeUTF8(s.p ? s.p : "", (Py_ssize_t)s.len, "surrogateescape"); /* new */
}

/* owt._kwargs.DICT: the kwargs_text argument is the kwargs dict itself. */
#define KWARGS_DICT 3

/* The kwargs dict of a flat JSON object (owt_kwargs_flat), built here: a new
 * reference, or NULL, with no error set, for kwargs the interpreter decodes. */
static PyObject *flat_kwargs(owt_str text) {
  owt_kwarg items[OWT_KWARGS_FLAT_MAX];
  size_t n = 0;
  if (!owt_kwargs_flat(text, items, OWT_KWARGS_FLAT_MAX, &n)) return NULL;
  PyObject *kwargs = PyDict_New(); /* new */
  for (size_t i = 0; kwargs && i < n; i++) {
    const owt_kwarg *it = &items[i];
    PyObject *key = PyUnicode_DecodeUTF8(it->key.p, (Py_ssize_t)it->key.len, NULL); /* new */
    PyObject *value = NULL;                                                          /* new */
    switch (it->type) {
    case OWT_KWARG_STR: value = PyUnicode_DecodeUTF8(it->text.p, (Py_ssize_t)it->text.len, NULL); break;
    case OWT_KWARG_INT: value = PyLong_FromLongLong(it->value); break;
    case OWT_KWARG_TRUE: value = Py_NewRef(Py_True); break;
    case OWT_KWARG_FALSE: value = Py_NewRef(Py_False); break;
    case OWT_KWARG_NULL: value = Py_NewRef(Py_None); break;
    }
    if (!key || !value || PyDict_SetItem(kwargs, key, value) < 0) Py_CLEAR(kwargs);
    Py_XDECREF(key);
    Py_XDECREF(value);
  }
  if (!kwargs) PyErr_Clear(); /* not UTF-8, out of memory: the interpreter's decoder says */
  return kwargs;
}

static PyObject *call_handle(owt_py_thread *t, const owt_py_call_in *in) {
  owt_py *py = t->py;
  PyObject *args[10] = {NULL}; /* all new */
  PyObject *result = NULL;
  if (in->same_code && t->last_code && t->last_fn && t->last_digest) {
    args[0] = Py_NewRef(t->last_code);
    args[2] = Py_NewRef(t->last_fn);
    args[5] = Py_NewRef(t->last_digest);
  } else {
    args[0] = str_or_none(in->code, 1);
    args[2] = str_or_none(in->fn_name, 0);
    args[5] = PyBytes_FromStringAndSize((const char *)in->digest, sizeof in->digest);
    Py_XSETREF(t->last_code, Py_XNewRef(args[0]));
    Py_XSETREF(t->last_fn, Py_XNewRef(args[2]));
    Py_XSETREF(t->last_digest, Py_XNewRef(args[5]));
  }
  args[1] = str_or_none(in->adaptor, 1);
  args[3] = in->kwargs_kind == OWT_KWARGS_TEXT ? flat_kwargs(in->kwargs) : NULL;
  if (args[3]) {
    args[4] = PyLong_FromLong(KWARGS_DICT);
  } else {
    args[3] = str_or_none(in->kwargs, 0);
    args[4] = PyLong_FromLong(in->kwargs_kind);
  }
  args[6] = owt_py_environ_new(in->envp, in->nparams);
  t->environ = Py_XNewRef(args[6]);
  args[7] = PyBytes_FromStringAndSize(in->body.p ? in->body.p : "", (Py_ssize_t)in->body.len);
  args[8] = str_or_none(in->path, 0);
  args[9] = PyLong_FromUnsignedLongLong(in->ticket);
  for (size_t i = 0; i < 10; i++)
    if (!args[i]) goto done;
  result = PyObject_Vectorcall(py->handle, args, 10, NULL); /* new */
done:
  for (size_t i = 0; i < 10; i++) Py_XDECREF(args[i]);
  return result;
}

static int utf8_of(PyObject *s, owt_str *out) {
  Py_ssize_t len = 0;
  const char *p = PyUnicode_Check(s) ? PyUnicode_AsUTF8AndSize(s, &len) : NULL;
  if (!p) return -1;
  *out = (owt_str){p, (size_t)len};
  return 0;
}

/* Fill reply from the runtime's (status, headers, body, chunks) tuple. The
 * pointers borrow from objects the tuple keeps alive. */
static int unpack_result(PyObject *result, owt_py_reply *reply) {
  if (!PyTuple_Check(result) || PyTuple_GET_SIZE(result) != 4) return -1;
  PyObject *status = PyTuple_GET_ITEM(result, 0);  /* borrowed */
  PyObject *headers = PyTuple_GET_ITEM(result, 1); /* borrowed */
  PyObject *body = PyTuple_GET_ITEM(result, 2);    /* borrowed */
  PyObject *chunks = PyTuple_GET_ITEM(result, 3);  /* borrowed */
  long code = PyLong_Check(status) ? PyLong_AsLong(status) : -1;
  if (code < 100 || code > 999) return -1;
  reply->status = (int)code;
  /* A list, or a tuple (the runtime's shared, immutable plain-text heads). */
  if (!PyList_Check(headers) && !PyTuple_Check(headers)) return -1;
  if (PySequence_Fast_GET_SIZE(headers) > OWT_PY_MAX_HEADERS) return -1;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(headers); i++) {
    PyObject *pair = PySequence_Fast_GET_ITEM(headers, i); /* borrowed */
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) return -1;
    owt_header *h = &reply->headers[reply->nheaders++];
    if (utf8_of(PyTuple_GET_ITEM(pair, 0), &h->name) || utf8_of(PyTuple_GET_ITEM(pair, 1), &h->value))
      return -1;
  }
  if (chunks != Py_None) {
    reply->streaming = 1;
    Py_INCREF(chunks);
    reply->chunks = chunks;
    return 0;
  }
  char *p = NULL;
  Py_ssize_t len = 0;
  if (body == Py_None) return 0;
  if (!PyBytes_Check(body) || PyBytes_AsStringAndSize(body, &p, &len) < 0) return -1;
  reply->body = (owt_str){p, (size_t)len};
  return 0;
}

/* A request thread serves request after request, where the original owt's
 * threaded Flask began each in a new thread: what Python keeps per thread
 * must not carry one request's values into the next on that thread. Each
 * request runs in an empty contextvars.Context (ContextVar values, the
 * decimal context, a tracing library's current span), made anew only when a
 * request left something in it; a trace or profile function a request set
 * (sys.settrace, sys.setprofile) is removed when it ends. */
static void begin_context(owt_py_thread *t) {
  if (!t->context && !(t->context = PyContext_New())) {
    PyErr_Clear();
    return;
  }
  if (PyContext_Enter(t->context) != 0) { /* entered already: a pairing bug, not the adaptor's */
    PyErr_Clear();
    owt_log(OWT_LOG_ERROR, "a request's contextvars context was still entered");
  }
}

static void end_context(owt_py_thread *t) {
  PyThreadState *ts = PyThreadState_Get();
  if (ts->c_tracefunc || ts->c_profilefunc) {
    owt_log(OWT_LOG_WARNING, "an adaptor left a %s function on its thread (sys.%s): removed",
            ts->c_tracefunc ? "trace" : "profile", ts->c_tracefunc ? "settrace" : "setprofile");
    PyEval_SetTrace(NULL, NULL);
    PyEval_SetProfile(NULL, NULL);
  }
  if (!t->context) return;
  if (PyContext_Exit(t->context) != 0) PyErr_Clear(); /* not entered: begin_context said why */
  Py_ssize_t left = PyObject_Length(t->context);
  if (left != 0) { /* values were set (or it cannot say): the next request gets a new one */
    if (left < 0) PyErr_Clear();
    Py_CLEAR(t->context);
  }
}

/* With the GIL: the request in t is over. Clears a Timeout the interrupter
 * scheduled but that never landed before anything else runs (forgetting the
 * ticket may run a destructor), so nothing can slip into the thread's next
 * request. The interrupter raises only while the ticket is current and sets
 * slot.reason in the same hold of the GIL: reason 0 here means nothing was
 * scheduled, and once owt_py_slot_end forgets the ticket (before any
 * bytecode runs) nothing can be; the clears (a walk of all thread states
 * under the runtime's lock) are for interrupted requests only. */
static void end_ticket(owt_py_thread *t) {
  if (t->environ) { /* the params are freed after this request */
    owt_py_environ_detach(t->environ);
    Py_CLEAR(t->environ);
  }
  end_context(t);
  if (!t->slot.ticket) return;
  int interrupted = t->slot.reason != 0;
  if (interrupted) PyThreadState_SetAsyncExc(t->ident, NULL);
  owt_py_slot_end(&t->slot);
  if (interrupted) PyThreadState_SetAsyncExc(t->ident, NULL); /* the destructor's bytecode let one in */
}

static void copy_str(char **o, owt_str *s) {
  if (s->len) memcpy(*o, s->p, s->len);
  s->p = *o;
  *o += s->len;
}

/* With the GIL: a whole reply small enough is copied into t's buffer and its
 * Python objects are let go now, so the request takes the GIL once: writing
 * the reply and closing it need it no more (fewer hand-offs between threads). */
static void copy_out(owt_py_thread *t, owt_py_reply *reply) {
  if (reply->streaming) return;
  size_t need = reply->body.len;
  for (size_t i = 0; i < reply->nheaders; i++) need += reply->headers[i].name.len + reply->headers[i].value.len;
  if (need > COPY_MAX) return; /* big bodies are written from the bytes object itself */
  if (need > t->copy_cap) {
    char *p = realloc(t->copy, need);
    if (!p) return;
    t->copy = p;
    t->copy_cap = need;
  }
  char *o = t->copy;
  for (size_t i = 0; i < reply->nheaders; i++) {
    copy_str(&o, &reply->headers[i].name);
    copy_str(&o, &reply->headers[i].value);
  }
  copy_str(&o, &reply->body);
  Py_CLEAR(reply->result);
}

owt_err owt_py_call(owt_py_thread *t, const owt_py_call_in *in, owt_py_reply *reply, owt_buf *message) {
  owt_py *py = t->py;
  owt_err err = OWT_OK;
  memset(reply, 0, sizeof *reply);
  py_enter(t);
  begin_context(t);
  owt_py_slot_begin(&t->slot, in->ticket);
  Py_CLEAR(t->environ);
  PyObject *result = call_handle(t, in); /* new; owned by reply on success */
  if (!result) {
    err = py_error(py, message);
    goto done;
  }
  reply->result = result;
  if (unpack_result(result, reply) < 0) {
    PyErr_Clear();
    owt_buf_append_str(message, "Error executing code: the owt runtime returned a malformed result");
    owt_log(OWT_LOG_ERROR, "owt._runtime.handle returned a malformed result");
    Py_CLEAR(reply->chunks);
    Py_CLEAR(result);
    memset(reply, 0, sizeof *reply);
    err = OWT_E_INTERNAL;
  } else {
    copy_out(t, reply);
  }
done:
  if (!reply->result) end_ticket(t); /* no reply to close: the request is over */
  py_leave(t);
  return err;
}

owt_err owt_py_reply_next(owt_py_thread *t, owt_py_reply *reply, owt_str *chunk, owt_buf *message) {
  owt_err err = OWT_OK;
  *chunk = OWT_STR_NULL;
  if (!reply->chunks || reply->finished) return OWT_OK;
  py_enter(t);
  Py_CLEAR(reply->chunk);
  PyObject *item = PyIter_Next((PyObject *)reply->chunks); /* new */
  if (!item) {
    reply->finished = 1;
    if (PyErr_Occurred()) err = py_error(t->py, message);
    goto done;
  }
  if (!PyBytes_Check(item)) {
    Py_DECREF(item);
    reply->finished = 1;
    owt_buf_append_str(message, "Error executing code: the owt runtime yielded a non-bytes chunk");
    err = OWT_E_INTERNAL;
    goto done;
  }
  reply->chunk = item; /* owned by reply until the next call or close */
  *chunk = (owt_str){PyBytes_AS_STRING(item), (size_t)PyBytes_GET_SIZE(item)};
done:
  py_leave(t);
  return err;
}

void owt_py_reply_close(owt_py_thread *t, owt_py_reply *reply) {
  if (!reply->result && !reply->chunks && !reply->chunk) return;
  py_enter(t);
  if (reply->chunks && !reply->finished) {
    /* The client went away or the stream failed: close the generator so
     * its finally blocks run now, not at some later garbage collection. */
    PyObject *res = PyObject_CallMethod((PyObject *)reply->chunks, "close", NULL); /* new */
    if (!res) {
      owt_buf msg = OWT_BUF_INIT(4096);
      py_error(t->py, &msg);
      owt_buf_free(&msg);
    }
    Py_XDECREF(res);
  }
  Py_CLEAR(reply->chunk);
  Py_CLEAR(reply->chunks);
  Py_CLEAR(reply->result);
  end_ticket(t); /* after the reply's objects, so the request (and its environ) is gone */
  py_leave(t);
  memset(reply, 0, sizeof *reply);
}

int owt_py_interrupt(owt_py_thread *self, owt_py_thread *target, uint64_t ticket, owt_py_reason why) {
  int hit = 0;
  py_enter(self);
  /* Checked and raised with no bytecode in between: the target cannot end
   * this request (end_ticket needs the GIL we hold) until both are done.
   * Then its wait is woken and its asyncio work cancelled. */
  if (ticket && target->slot.ticket == ticket && !target->slot.reason) {
    if (why == OWT_PY_TIMEOUT) PyThreadState_SetAsyncExc(target->ident, owt_py_module_timeout_type());
    hit = owt_py_slot_interrupt(&target->slot, ticket, (int)why);
  }
  py_leave(self);
  return hit;
}

static void on_sigterm(int signo) {
  (void)signo;
  PyErr_SetInterruptEx(SIGTERM); /* async-signal-safe: runs _owt._terminated */
}

int owt_py_interrupt_on_sigterm(owt_py *py) {
  int rc = -1;
  py_enter(&py->main);
  PyObject *signal_mod = PyImport_ImportModule("signal");                          /* new */
  PyObject *handler = signal_mod ? PyObject_GetAttrString(PyImport_AddModule("_owt"), "_terminated")
                                 : NULL;                                          /* new */
  PyObject *res = handler ? PyObject_CallMethod(signal_mod, "signal", "iO", SIGTERM, handler)
                          : NULL;                                                 /* new */
  if (res) {
    /* Over the interpreter's own OS-level handler, as for SIGALRM. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigterm;
    sigemptyset(&sa.sa_mask);
    rc = sigaction(SIGTERM, &sa, NULL);
  } else {
    PyErr_Clear();
  }
  Py_XDECREF(res);
  Py_XDECREF(handler);
  Py_XDECREF(signal_mod);
  py_leave(&py->main);
  return rc;
}

void owt_py_after_timeout(owt_py *py) {
  /* The soft deadline tripped the interpreter's SIGALRM handler; if the
   * request ended before it ran, run it now and drop its Timeout, so the
   * next request does not inherit it. */
  py_enter(&py->main);
  if (PyErr_CheckSignals() < 0) PyErr_Clear();
  py_leave(&py->main);
}

void owt_py_stop(owt_py *py) {
  if (!py) return;
  owt_log(OWT_LOG_DEBUG, "worker stopping");
  /* Drop what we hold and the struct; the interpreter itself stays until
   * the process exits (see owt_py.h). The GIL is kept: no more Python. */
  py_enter(&py->main);
  Py_CLEAR(py->handle);
  Py_CLEAR(py->format_exception);
  Py_CLEAR(py->main.last_code);
  Py_CLEAR(py->main.last_fn);
  Py_CLEAR(py->main.last_digest);
  Py_CLEAR(py->main.context);
  free(py->main.copy);
  free(py);
}
