/* owt_py_environ.c - request.environ as a lazy mapping over the FastCGI params.
 *
 * Most adaptors read a handful of params, or none; building a dict of every
 * param (30 or so str keys and values) for each request cost more than the
 * rest of the call. This mapping keeps the C params and decodes an entry
 * when it is read: lookups (`env[k]`, `env.get(k)`, `k in env`) scan the
 * params; anything that needs them all (iteration, len, items, ==) builds
 * the dict once and answers from it.
 *
 * The params belong to libfcgi (or the CGI environment) and are freed when
 * the request ends. At that point owt_py_environ_detach() copies them into
 * the dict if the mapping is still referenced from Python (an adaptor kept
 * `request` in a global), so it stays valid, then lets go of the params. */
#include "owt_py_environ.h"

#include <string.h>

typedef struct {
  PyObject_HEAD
  char **envp;    /* borrowed, valid until detach; NULL after */
  size_t n;
  PyObject *dict; /* new or NULL: every param, once something needed them all */
} Environ;

static PyObject *decode(const char *p, size_t len) {
  return PyUnicode_DecodeUTF8(p, (Py_ssize_t)len, "surrogateescape"); /* new */
}

/* The dict of every param (built on first use). Borrowed; NULL on error. */
static PyObject *all_params(Environ *e) {
  if (e->dict) return e->dict;
  PyObject *d = PyDict_New(); /* new */
  for (size_t i = 0; d && e->envp && i < e->n; i++) {
    const char *kv = e->envp[i];
    const char *eq = strchr(kv, '=');
    if (!eq) continue;
    PyObject *k = decode(kv, (size_t)(eq - kv));             /* new */
    PyObject *v = decode(eq + 1, strlen(eq + 1));            /* new */
    if (k) PyUnicode_InternInPlace(&k);
    if (!k || !v || PyDict_SetItem(d, k, v) < 0) Py_CLEAR(d);
    Py_XDECREF(k);
    Py_XDECREF(v);
  }
  e->dict = d;
  return d;
}

/* The value of param key: a new reference, NULL with no exception when it
 * is absent, NULL with an exception on error. */
static PyObject *lookup(Environ *e, PyObject *key) {
  if (e->dict || !PyUnicode_Check(key)) {
    PyObject *d = all_params(e);
    if (!d) return NULL;
    return Py_XNewRef(PyDict_GetItemWithError(d, key));
  }
  Py_ssize_t klen = 0;
  const char *k = PyUnicode_AsUTF8AndSize(key, &klen);
  if (!k) {
    PyErr_Clear(); /* a key that is not valid UTF-8 names no param */
    return NULL;
  }
  /* The last of a repeated name wins, as in a dict built in order. */
  for (size_t i = e->n; e->envp && i-- > 0;) {
    const char *kv = e->envp[i];
    if (strncmp(kv, k, (size_t)klen) == 0 && kv[klen] == '=') return decode(kv + klen + 1, strlen(kv + klen + 1));
  }
  return NULL;
}

static PyObject *environ_subscript(PyObject *self, PyObject *key) {
  PyObject *v = lookup((Environ *)self, key);
  if (!v && !PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, key);
  return v;
}

static int environ_contains(PyObject *self, PyObject *key) {
  PyObject *v = lookup((Environ *)self, key);
  if (v) {
    Py_DECREF(v);
    return 1;
  }
  return PyErr_Occurred() ? -1 : 0;
}

static PyObject *environ_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
  if (nargs < 1 || nargs > 2) {
    PyErr_SetString(PyExc_TypeError, "get(key, default=None)");
    return NULL;
  }
  PyObject *v = lookup((Environ *)self, args[0]);
  if (v || PyErr_Occurred()) return v;
  return Py_NewRef(nargs == 2 ? args[1] : Py_None);
}

static Py_ssize_t environ_len(PyObject *self) {
  PyObject *d = all_params((Environ *)self);
  return d ? PyDict_Size(d) : -1;
}

static PyObject *environ_iter(PyObject *self) {
  PyObject *d = all_params((Environ *)self);
  return d ? PyObject_GetIter(d) : NULL;
}

/* keys(), items(), values(), copy(): those of the dict. */
static PyObject *delegate(PyObject *self, const char *name) {
  PyObject *d = all_params((Environ *)self);
  return d ? PyObject_CallMethod(d, name, NULL) : NULL;
}

static PyObject *environ_keys(PyObject *self, PyObject *unused) {
  (void)unused;
  return delegate(self, "keys");
}

static PyObject *environ_items(PyObject *self, PyObject *unused) {
  (void)unused;
  return delegate(self, "items");
}

static PyObject *environ_values(PyObject *self, PyObject *unused) {
  (void)unused;
  return delegate(self, "values");
}

static PyObject *environ_copy(PyObject *self, PyObject *unused) {
  (void)unused;
  return delegate(self, "copy");
}

static PyObject *environ_richcompare(PyObject *self, PyObject *other, int op) {
  PyObject *d = all_params((Environ *)self);
  if (!d) return NULL;
  if (Py_TYPE(other) == Py_TYPE(self)) other = all_params((Environ *)other);
  if (!other) return NULL;
  return PyObject_RichCompare(d, other, op);
}

static PyObject *environ_repr(PyObject *self) {
  PyObject *d = all_params((Environ *)self);
  return d ? PyUnicode_FromFormat("environ(%R)", d) : NULL;
}

static void environ_dealloc(PyObject *self) {
  Environ *e = (Environ *)self;
  Py_XDECREF(e->dict);
  Py_TYPE(self)->tp_free(self);
}

static PyMethodDef environ_methods[] = {
    {"get", (PyCFunction)(void (*)(void))environ_get, METH_FASTCALL, "get(key, default=None)"},
    {"keys", environ_keys, METH_NOARGS, NULL},
    {"items", environ_items, METH_NOARGS, NULL},
    {"values", environ_values, METH_NOARGS, NULL},
    {"copy", environ_copy, METH_NOARGS, "a dict of every param"},
    {NULL, NULL, 0, NULL},
};

static PyMappingMethods environ_mapping = {environ_len, environ_subscript, NULL};
static PySequenceMethods environ_sequence = {.sq_contains = environ_contains};

static PyTypeObject environ_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_owt.Environ",
    .tp_basicsize = sizeof(Environ),
    .tp_dealloc = environ_dealloc,
    .tp_repr = environ_repr,
    .tp_as_mapping = &environ_mapping,
    .tp_as_sequence = &environ_sequence,
    .tp_iter = environ_iter,
    .tp_richcompare = environ_richcompare,
    .tp_hash = PyObject_HashNotImplemented,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_MAPPING,
    .tp_doc = "The request's CGI/FastCGI params, read-only, decoded when read.",
    .tp_methods = environ_methods,
};

int owt_py_environ_ready(PyObject *module) {
  if (PyType_Ready(&environ_type) < 0) return -1;
  return PyModule_AddObjectRef(module, "Environ", (PyObject *)&environ_type);
}

PyObject *owt_py_environ_new(char **envp, size_t n) {
  Environ *e = PyObject_New(Environ, &environ_type); /* new */
  if (!e) return NULL;
  e->envp = envp;
  e->n = n;
  e->dict = NULL;
  return (PyObject *)e;
}

void owt_py_environ_detach(PyObject *obj) {
  Environ *e = (Environ *)obj;
  if (!e || !e->envp) return;
  /* Still referenced by someone else: keep its contents valid. */
  if (Py_REFCNT(obj) > 1 && !all_params(e)) PyErr_Clear();
  e->envp = NULL;
  e->n = 0;
}
