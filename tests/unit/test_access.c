/* test_access.c - owt_access_explain: the directory or file that keeps a user
 * out is named with its owner and mode; readable and missing paths pass.
 *
 * The checks run in a child process as another user: as root the child drops
 * to nobody (root reads everything), otherwise the test's own files are made
 * unreadable with mode 0. The child reports each answer through a pipe. */
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "owt_access.h"
#include "unit.h"

#define NOBODY 65534

typedef struct {
  int rc;
  char why[1024];
} answer;

static char base[64];

static void make_file(const char *path, mode_t mode) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("x = 1\n", f);
  fclose(f);
  assert_int_equal(chmod(path, mode), 0);
}

static void make_dir(const char *path, mode_t mode) {
  assert_int_equal(mkdir(path, 0755), 0);
  assert_int_equal(chmod(path, mode), 0);
}

/* A mode that keeps the other user out: 0700 does when the other is nobody and
 * we are root; as a plain user only 0 keeps ourselves out. */
static mode_t closed_dir(void) { return geteuid() == 0 ? 0700 : 0; }
static mode_t closed_file(void) { return geteuid() == 0 ? 0600 : 0; }

/* Ask owt_access_explain about each path as the other user (cwd: base). */
static void explain_as_other(const char *const *paths, size_t n, answer *out) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
      _exit(3);
    if (chdir(base) != 0) _exit(4);
    for (size_t i = 0; i < n; i++) {
      answer a;
      memset(&a, 0, sizeof a);
      a.rc = owt_access_explain(paths[i], a.why, sizeof a.why);
      if (write(fds[1], &a, sizeof a) != (ssize_t)sizeof a) _exit(5);
    }
    _exit(0);
  }
  close(fds[1]);
  for (size_t i = 0; i < n; i++) assert_int_equal(read(fds[0], &out[i], sizeof out[i]), sizeof out[i]);
  close(fds[0]);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int setup(void **state) {
  (void)state;
  snprintf(base, sizeof base, "/tmp/owt-access-XXXXXX");
  assert_non_null(mkdtemp(base));
  assert_int_equal(chmod(base, 0755), 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[256];
  snprintf(cmd, sizeof cmd, "chmod -R u+rwx %s && rm -rf %s", base, base);
  return system(cmd) == 0 ? 0 : -1;
}

static void test_a_closed_directory_on_the_way_is_named(void **state) {
  (void)state;
  char home[512], deep[512], file[512], sub[512];
  snprintf(home, sizeof home, "%s/home", base);
  snprintf(sub, sizeof sub, "%s/home/tree", base);
  snprintf(deep, sizeof deep, "%s/home/tree/owt", base);
  snprintf(file, sizeof file, "%s/home/tree/owt/__init__.py", base);
  make_dir(home, 0755);
  make_dir(sub, 0755);
  make_dir(deep, 0755);
  make_file(file, 0644);
  assert_int_equal(chmod(home, closed_dir()), 0);
  const char *paths[] = {file, deep, "home/tree/owt/__init__.py"};
  answer a[3];
  explain_as_other(paths, 3, a);
  char want[640];
  snprintf(want, sizeof want, "may not enter %s (owner ", home);
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(a[i].rc, -1);
    if (!strstr(a[i].why, want)) fail_msg("%s: %s lacks %s", paths[i], a[i].why, want);
  }
  char mode[32];
  snprintf(mode, sizeof mode, "mode %04o)", (unsigned)closed_dir());
  assert_non_null(strstr(a[0].why, mode));
  assert_int_equal(chmod(home, 0755), 0);
}

static void test_an_unreadable_file_and_an_unlistable_directory(void **state) {
  (void)state;
  char file[512], dir[512];
  snprintf(file, sizeof file, "%s/secret.py", base);
  snprintf(dir, sizeof dir, "%s/dark", base);
  make_file(file, closed_file());
  make_dir(dir, geteuid() == 0 ? 0711 : 0111);
  const char *paths[] = {file, dir};
  answer a[2];
  explain_as_other(paths, 2, a);
  assert_int_equal(a[0].rc, -1);
  assert_non_null(strstr(a[0].why, "may not read "));
  assert_non_null(strstr(a[0].why, file));
  assert_int_equal(a[1].rc, -1);
  assert_non_null(strstr(a[1].why, "may not list "));
  assert_non_null(strstr(a[1].why, dir));
  assert_int_equal(chmod(dir, 0755), 0);
}

static void test_readable_and_missing_paths_pass(void **state) {
  (void)state;
  char open_dir[512], open_file[512], missing[512];
  snprintf(open_dir, sizeof open_dir, "%s/open", base);
  snprintf(open_file, sizeof open_file, "%s/open/a.py", base);
  snprintf(missing, sizeof missing, "%s/no/such/file.py", base);
  make_dir(open_dir, 0755);
  make_file(open_file, 0644);
  const char *paths[] = {open_dir, open_file, missing, "open/a.py", "", "/"};
  answer a[6];
  explain_as_other(paths, 6, a);
  for (size_t i = 0; i < 6; i++) {
    if (a[i].rc != 0 || a[i].why[0]) fail_msg("%s: %d %s", paths[i], a[i].rc, a[i].why);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_a_closed_directory_on_the_way_is_named, setup, teardown),
      cmocka_unit_test_setup_teardown(test_an_unreadable_file_and_an_unlistable_directory, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_readable_and_missing_paths_pass, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
