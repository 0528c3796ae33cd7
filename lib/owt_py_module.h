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

/* fd (up to 8), and every socket of the listener on fd (found by local
 * address), are pointed at /dev/null in a child forked by adaptor code.
 * Call before request threads start. */
void owt_py_module_protect_fd(int fd);
void owt_py_module_protect_listener(int fd);

#endif
