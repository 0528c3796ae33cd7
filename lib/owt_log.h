/* owt_log.h - leveled logging to stderr (the web server's error log).
 *
 * stderr of a FastCGI worker is where lighttpd, Apache and spawn-fcgi put
 * the error log, so that is where every line goes. The level is set once at
 * start (-v/-vv/-vvv) and read everywhere. */
#ifndef OWT_LOG_H
#define OWT_LOG_H

#include <stddef.h>

typedef enum {
  OWT_LOG_OUTPUT = -1, /* what adaptors print(): always logged, whatever the level */
  OWT_LOG_ERROR = 0,
  OWT_LOG_WARNING = 1,
  OWT_LOG_INFO = 2,
  OWT_LOG_DEBUG = 3,
} owt_log_level;

void owt_log_set_level(owt_log_level level);

/* Write to fd instead of 2 (a private copy of the error log, so an adaptor
 * that closes or reopens fd 2 cannot redirect the server's log). */
void owt_log_set_fd(int fd);
owt_log_level owt_log_get_level(void);

static inline int owt_log_enabled(owt_log_level level) { return level <= owt_log_get_level(); }

/* One line: "owt-fcgi[pid] LEVEL message", control bytes escaped. A
 * trailing newline in fmt is not needed. Thread-safe: one write(2) a line. */
void owt_log(owt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write a message of known length (may contain newlines: each line gets the prefix). */
void owt_log_text(owt_log_level level, const char *text, size_t len);

#endif
