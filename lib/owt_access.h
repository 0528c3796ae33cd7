/* owt_access.h - can the user owt-fcgi now runs as read what its workers load?
 *
 * Started as root with --user, the master binds, drops privileges, then forks
 * workers that import the owt runtime (the shipped adaptors tree), --adaptors,
 * --python-path and --venv as that user. From a tree in a private home
 * (/root is mode 700) the import fails with "No module named 'owt'", which
 * says nothing about permissions. Checking first, in the master, names the
 * path, the user and the directory that keeps the user out. */
#ifndef OWT_ACCESS_H
#define OWT_ACCESS_H

#include <stddef.h>

#include "owt_config.h"

/* Can this process (its real uid and groups) reach and read path, and list
 * it when it is a directory? Relative paths are taken from the current
 * directory. Returns 0 when it can, or when path does not exist (a missing
 * path is someone else's error message); -1 with one sentence in why (NUL-
 * terminated, cut to len) naming the first directory or file that refuses,
 * its owner and its mode. */
int owt_access_explain(const char *path, char *why, size_t len);

/* Check what a worker will read: the owt runtime under adaptors (the
 * directory owt_paths_adaptors found), each --adaptors and --python-path
 * directory and the --venv, as the user this process runs as now (call it
 * after owt_master_drop_privileges). Does nothing unless cfg->user or
 * cfg->group is set. Returns 0, or -1 after logging one error line that names
 * the path and the user; the caller exits OWT_EXIT_CONFIG (78). */
int owt_access_check_runtime(const owt_config *cfg, const char *adaptors);

#endif
