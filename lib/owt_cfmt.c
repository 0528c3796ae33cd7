/* owt_cfmt.c - printf in the C locale (see owt_cfmt.h). */
#define _GNU_SOURCE 1
#include "owt_cfmt.h"

#include <locale.h>
#include <pthread.h>
#include <stdio.h>

static locale_t c_locale; /* made once, kept for the life of the process */
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

int owt_cfmt_v(char *out, size_t size, const char *fmt, va_list ap) {
  pthread_once(&c_locale_once, make_c_locale);
  locale_t was = c_locale ? uselocale(c_locale) : (locale_t)0;
  int n = vsnprintf(out, size, fmt, ap);
  if (was) uselocale(was);
  return n;
}
