/* owt_py_interp.c - the embedded CPython as an owt_interp table, so the
 * request pipeline (lib/owt_server.c, in the Python-free lib/libowt.a)
 * reaches owt_py_* through one pointer it is given. */
#include "owt_interp.h"

const owt_interp owt_py_interp = {
    .start = owt_py_start,
    .stop = owt_py_stop,
    .call = owt_py_call,
    .reply_next = owt_py_reply_next,
    .reply_close = owt_py_reply_close,
    .version = owt_py_version,
};
