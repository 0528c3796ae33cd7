/* owt_cfmt.h - vsnprintf in the "C" locale, whatever locale an adaptor set.
 *
 * Python's locale.setlocale() sets the locale of the whole process, and with
 * it the decimal point printf writes: after an adaptor's
 * setlocale(LC_ALL, "de_DE.UTF-8"), "%.3f" gives "0,250", which is not JSON
 * in /_owt/status, not a Prometheus sample, and not the log's format. Every
 * number owt writes goes through here. The adaptor's own Python keeps the
 * locale it set. */
#ifndef OWT_CFMT_H
#define OWT_CFMT_H

#include <stdarg.h>
#include <stddef.h>

/* vsnprintf(out, size, fmt, ap) with the calling thread in the C locale for
 * the call (uselocale: no system call, other threads untouched). */
int owt_cfmt_v(char *out, size_t size, const char *fmt, va_list ap);

#endif
