/* owt_log.c - one formatted write(2) per log line, so lines from several
 * worker processes sharing one error log do not interleave mid-line. */
#include "owt_log.h"

#include "owt_cfmt.h"
#include "owt_escape.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static owt_log_level log_level = OWT_LOG_ERROR;
static int log_fd = 2;

void owt_log_set_fd(int fd) { log_fd = fd; }

void owt_log_set_level(owt_log_level level) { log_level = level; }
owt_log_level owt_log_get_level(void) { return log_level; }

static const char *level_name(owt_log_level level) {
  switch (level) {
  case OWT_LOG_OUTPUT: return "output";
  case OWT_LOG_ERROR: return "error";
  case OWT_LOG_WARNING: return "warning";
  case OWT_LOG_INFO: return "info";
  default: return "debug";
  }
}

static size_t log_prefix(char *buf, size_t size, owt_log_level level) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ owt-fcgi[%ld] %s: ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   ts.tv_nsec / 1000000, (long)getpid(), level_name(level));
  return n < 0 ? 0 : ((size_t)n < size ? (size_t)n : size - 1);
}

static void write_all(const char *p, size_t n) {
  while (n) {
    ssize_t w = write(log_fd, p, n);
    if (w <= 0) return; /* nothing sensible to do when the log itself fails */
    p += w;
    n -= (size_t)w;
  }
}

/* One line, control bytes escaped so nothing a request or an adaptor says
 * can forge another line. A log line is bounded; the rest is dropped. */
static void log_line(owt_log_level level, const char *text, size_t len) {
  char line[4096];
  size_t n = log_prefix(line, sizeof line, level);
  n += owt_escape(line + n, sizeof line - n - 1, owt_str_make(text, len), OWT_ESCAPE_TEXT);
  line[n++] = '\n';
  write_all(line, n);
}

void owt_log(owt_log_level level, const char *fmt, ...) {
  if (!owt_log_enabled(level)) return;
  char msg[3800];
  va_list ap;
  va_start(ap, fmt);
  int n = owt_cfmt_v(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  size_t len = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
  log_line(level, msg, len);
}

void owt_log_text(owt_log_level level, const char *text, size_t len) {
  if (!owt_log_enabled(level)) return;
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r')) len--;
  while (len) {
    const char *nl = memchr(text, '\n', len);
    size_t line = nl ? (size_t)(nl - text) : len;
    log_line(level, text, line);
    if (!nl) break;
    text += line + 1;
    len -= line + 1;
  }
}
