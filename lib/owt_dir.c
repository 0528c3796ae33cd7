/* owt_dir.c - mkdir -p and "could it be made" for state directories. */
#include "owt_dir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int owt_dir_make(const char *dir) {
  char path[4096];
  int n = snprintf(path, sizeof path, "%s", dir);
  if (n < 0 || (size_t)n >= sizeof path) return (errno = ENAMETOOLONG), -1;
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(path, 0700) != 0 && errno != EEXIST) return -1;
  return 0;
}

int owt_dir_creatable(const char *dir) {
  char path[4096];
  struct stat st;
  int n = snprintf(path, sizeof path, "%s", dir);
  if (n < 0 || (size_t)n >= sizeof path) return (errno = ENAMETOOLONG), 0;
  while (stat(path, &st) != 0) {
    if (errno != ENOENT) return 0;
    char *slash = strrchr(path, '/');
    if (!slash) return access(".", W_OK | X_OK) == 0;
    if (slash == path) slash[1] = '\0';
    else *slash = '\0';
  }
  if (!S_ISDIR(st.st_mode)) return (errno = ENOTDIR), 0;
  return access(path, W_OK | X_OK) == 0;
}
