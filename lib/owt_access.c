/* owt_access.c - say which directory keeps the dropped-privilege user out.
 *
 * access(2) answers for the real uid and groups, which after setuid/setgid/
 * initgroups are the user the workers will run as: no guessing from mode bits. */
#include "owt_access.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "owt_log.h"

/* The name of the user this process runs as, or its number. */
static void user_name(char *out, size_t len) {
  struct passwd *pw = getpwuid(getuid());
  if (pw) snprintf(out, len, "%s", pw->pw_name);
  else snprintf(out, len, "uid %ld", (long)getuid());
}

/* "USER may not VERB PATH (owner O, group G, mode 0700)". */
static void refusal(char *why, size_t len, const char *verb, const char *path) {
  char user[64], owner[64], group[64];
  struct stat st;
  user_name(user, sizeof user);
  if (stat(path, &st) != 0) {
    snprintf(why, len, "%s may not %s %s (%s)", user, verb, path, strerror(errno));
    return;
  }
  struct passwd *pw = getpwuid(st.st_uid);
  struct group *gr = getgrgid(st.st_gid);
  if (pw) snprintf(owner, sizeof owner, "%s", pw->pw_name);
  else snprintf(owner, sizeof owner, "%ld", (long)st.st_uid);
  if (gr) snprintf(group, sizeof group, "%s", gr->gr_name);
  else snprintf(group, sizeof group, "%ld", (long)st.st_gid);
  snprintf(why, len, "%s may not %s %s (owner %s, group %s, mode %04o)", user, verb, path, owner,
           group, (unsigned)(st.st_mode & 07777));
}

static int refused(int err) { return err == EACCES || err == EPERM; }

int owt_access_explain(const char *path, char *why, size_t len) {
  char full[PATH_MAX], cwd[PATH_MAX];
  int n;
  if (len) why[0] = '\0';
  if (!path || !*path) return 0;
  if (path[0] == '/') {
    n = snprintf(full, sizeof full, "%s", path);
  } else {
    if (!getcwd(cwd, sizeof cwd)) return 0; /* nothing better to say than the loader will */
    n = snprintf(full, sizeof full, "%s/%s", cwd, path);
  }
  if (n < 0 || (size_t)n >= sizeof full) return 0;
  /* Every directory on the way must let us through (search permission). */
  for (char *slash = strchr(full + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    int ok = access(full, X_OK) == 0, err = errno;
    if (!ok && refused(err)) {
      refusal(why, len, "enter", full);
      return -1;
    }
    *slash = '/';
    if (!ok) return 0; /* missing: not a permission problem */
  }
  struct stat st;
  if (stat(full, &st) != 0) return 0;
  int dir = S_ISDIR(st.st_mode);
  if (access(full, dir ? R_OK | X_OK : R_OK) != 0 && refused(errno)) {
    refusal(why, len, dir ? "list" : "read", full);
    return -1;
  }
  return 0;
}

/* One path: 0, or -1 after the log line. what names it the way the operator set it. */
static int check_one(const owt_config *cfg, const char *what, const char *path) {
  char why[1024], user[64];
  if (owt_access_explain(path, why, sizeof why) == 0) return 0;
  user_name(user, sizeof user);
  owt_log(OWT_LOG_ERROR,
          "%s %s cannot read %s at %s: %s. Make it readable by %s, or install owt-fcgi "
          "(make install, or the Debian package) and run that",
          cfg->user ? "--user" : "--group", cfg->user ? cfg->user : cfg->group, what, path, why,
          user);
  return -1;
}

int owt_access_check_runtime(const owt_config *cfg, const char *adaptors) {
  static const char *const runtime[] = {"owt/__init__.py", "owt/_runtime.py"};
  char path[PATH_MAX];
  if (!cfg->user && !cfg->group) return 0;
  for (size_t i = 0; i < sizeof runtime / sizeof runtime[0]; i++) {
    int n = snprintf(path, sizeof path, "%s/%s", adaptors, runtime[i]);
    if (n < 0 || (size_t)n >= sizeof path) continue;
    if (check_one(cfg, "the owt runtime", path) != 0) return -1;
  }
  for (size_t i = 0; i < cfg->n_adaptor_dirs; i++)
    if (check_one(cfg, "--adaptors", cfg->adaptor_dirs[i]) != 0) return -1;
  for (size_t i = 0; i < cfg->n_python_paths; i++)
    if (check_one(cfg, "--python-path", cfg->python_paths[i]) != 0) return -1;
  if (cfg->venv) {
    int n = snprintf(path, sizeof path, "%s/pyvenv.cfg", cfg->venv);
    if (check_one(cfg, "--venv", cfg->venv) != 0) return -1;
    if (n > 0 && (size_t)n < sizeof path && check_one(cfg, "--venv", path) != 0) return -1;
  }
  return 0;
}
