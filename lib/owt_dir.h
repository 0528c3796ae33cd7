/* owt_dir.h - state directories from the command line (--cache-dir,
 * --code-store): made on first use, checked at start.
 *
 * Both stores make their directory only when they first write to it, so a
 * server that never caches leaves nothing behind; a directory that could
 * never be made must still stop the server at start. These two checks are
 * shared so both stores judge a path the same way. Paths here come from
 * the operator, never from a request. */
#ifndef OWT_DIR_H
#define OWT_DIR_H

/* mkdir -p dir, each missing component mode 0700. 0, or -1 with errno
 * (ENAMETOOLONG past 4095 bytes). */
int owt_dir_make(const char *dir);

/* Whether dir exists as a directory or could be made: its nearest existing
 * ancestor is a directory this user may write and search. 1 or 0 (errno
 * set). */
int owt_dir_creatable(const char *dir);

#endif
