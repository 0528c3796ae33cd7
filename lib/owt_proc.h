/* owt_proc.h - small reads of /proc: a thread's status, a process's stat,
 * a thread's children. One open/read/close each, no stdio. */
#ifndef OWT_PROC_H
#define OWT_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* A small file of /proc, NUL-terminated in buf: 1, or 0 when it cannot be
 * read (its process or thread is gone) or is empty. */
int owt_proc_read(const char *path, char *buf, size_t size);

/* The fields of /proc/PID/stat after the command name (which may hold
 * spaces and ')'), the state letter first: a pointer into buf, or NULL
 * when pid is gone or the line is not as expected. */
char *owt_proc_stat_fields(pid_t pid, char *buf, size_t size);

#endif
