/* owt_py_module.h - the built-in module _owt: what adaptors' Python needs
 * from C. Internal to owt_py*.c (includes Python.h). */
#ifndef OWT_PY_MODULE_H
#define OWT_PY_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* For PyImport_AppendInittab("_owt", ...) before the interpreter starts. */
PyObject *owt_py_module_init(void);

/* Borrowed: _owt.Timeout, raised at the soft deadline (after import). */
PyObject *owt_py_module_timeout_type(void);

/* Replace the fds a forked child must not keep. */
void owt_py_module_set_protected_fds(const int *fds, size_t n);

#endif
