/* owt_paths.c - locate the shipped adaptors directory. */
#include "owt_paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static int has_owt_package(const char *dir) {
  char probe[PATH_MAX];
  if (snprintf(probe, sizeof probe, "%s/owt/__init__.py", dir) >= (int)sizeof probe) return 0;
  return access(probe, R_OK) == 0;
}

static int pick(char *out, size_t len, const char *dir) {
  if (!has_owt_package(dir)) return 0;
  return snprintf(out, len, "%s", dir) < (int)len;
}

owt_err owt_paths_adaptors(char *out, size_t len) {
  char exe[PATH_MAX], dir[PATH_MAX];
  const char *env = getenv("OWT_ADAPTORS_HOME");
  if (env && *env && pick(out, len, env)) return OWT_OK;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    /* Installed binaries use the installed tree, even next to a source tree. */
    if (strcmp(exe, OWT_BINDIR) == 0 && pick(out, len, OWT_PKGDATADIR "/adaptors")) return OWT_OK;
    if (snprintf(dir, sizeof dir, "%.4000s/adaptors", exe) < (int)sizeof dir && pick(out, len, dir))
      return OWT_OK;
  }
  if (pick(out, len, OWT_SRCDIR "/adaptors")) return OWT_OK;
  if (pick(out, len, OWT_PKGDATADIR "/adaptors")) return OWT_OK;
  return OWT_E_NOT_FOUND;
}
