/* owt_py_environ.h - request.environ as a lazy, read-only mapping over the
 * params (see owt_py_environ.c). Internal to owt_py*.c. */
#ifndef OWT_PY_ENVIRON_H
#define OWT_PY_ENVIRON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>

/* Make the type ready and add it to module as Environ. 0 or -1. */
int owt_py_environ_ready(PyObject *module);

/* A mapping over envp[0..n) ("NAME=value" strings, borrowed until detach). New reference. */
PyObject *owt_py_environ_new(char **envp, size_t n);

/* The params are about to be freed: if obj is still referenced from Python,
 * copy them into it first. obj stays a valid mapping either way. */
void owt_py_environ_detach(PyObject *obj);

#endif
