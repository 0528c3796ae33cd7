/* test_hygiene.c - owt_hygiene puts back what an adaptor changed: a signal
 * disposition, fds 0-2, the working directory, the umask, a resource limit,
 * a thread's signal mask; and reaps a zombie child only once it has been seen twice, so a
 * waiter that is about to wait for its own child still gets its status. */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "owt_hygiene.h"
#include "unit.h"

static void on_term(int sig) { (void)sig; }

static const int watched[] = {SIGTERM, SIGPIPE, SIGCHLD};

static void set_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_DFL);
}

static void same_file(int fd, const struct stat *want) {
  struct stat st;
  assert_int_equal(fstat(fd, &st), 0);
  assert_true(st.st_dev == want->st_dev && st.st_ino == want->st_ino);
}

static void test_nothing_changed_nothing_restored(void **state) {
  (void)state;
  owt_hygiene h;
  set_handlers();
  assert_int_equal(owt_hygiene_snapshot(&h, watched, ARRAY_LEN(watched)), OWT_OK);
  assert_int_equal(owt_hygiene_restore_process(&h), 0);
  assert_int_equal(owt_hygiene_restore_thread(&h, 1), 0);
  owt_hygiene_free(&h);
  /* a signal number that is not one cannot be recorded */
  static const int bogus[] = {SIGTERM, 0x7fff};
  struct stat in_before;
  assert_int_equal(fstat(0, &in_before), 0);
  assert_int_equal(owt_hygiene_snapshot(&h, bogus, 2), OWT_E_INTERNAL);
  owt_hygiene_free(&h); /* closes nothing it did not open: fd 0 is still ours */
  same_file(0, &in_before);
}

static void test_signal_dispositions_are_restored(void **state) {
  (void)state;
  owt_hygiene h;
  struct sigaction now;
  set_handlers();
  assert_int_equal(owt_hygiene_snapshot(&h, watched, ARRAY_LEN(watched)), OWT_OK);
  signal(SIGTERM, SIG_IGN);  /* an adaptor ignoring the stop signal */
  signal(SIGPIPE, SIG_DFL);  /* ... or making a gone client fatal */
  assert_int_equal(owt_hygiene_restore_process(&h), OWT_HYGIENE_SIGNAL);
  sigaction(SIGTERM, NULL, &now);
  assert_ptr_equal(now.sa_handler, on_term);
  assert_true(now.sa_flags & SA_RESTART);
  sigaction(SIGPIPE, NULL, &now);
  assert_ptr_equal(now.sa_handler, SIG_IGN);
  /* the same handler without SA_RESTART is a change too */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  assert_int_equal(owt_hygiene_restore_process(&h), OWT_HYGIENE_SIGNAL);
  sigaction(SIGTERM, NULL, &now);
  assert_true(now.sa_flags & SA_RESTART);
  assert_int_equal(owt_hygiene_restore_process(&h), 0);
  owt_hygiene_free(&h);
}

static void test_stdio_is_restored(void **state) {
  (void)state;
  owt_hygiene h;
  struct stat err_before, in_before;
  assert_int_equal(fstat(2, &err_before), 0);
  assert_int_equal(fstat(0, &in_before), 0);
  assert_int_equal(owt_hygiene_snapshot(&h, watched, ARRAY_LEN(watched)), OWT_OK);
  /* fd 2 dup2'd away to a file the adaptor opened, fd 0 closed */
  char path[] = "/tmp/owt-hygiene-XXXXXX";
  int other = mkstemp(path);
  assert_true(other >= 0);
  unlink(path);
  int saved_err = dup(2);
  assert_int_equal(dup2(other, 2), 2);
  close(0);
  assert_int_equal(owt_hygiene_restore_process(&h), OWT_HYGIENE_STDIO);
  same_file(2, &err_before);
  same_file(0, &in_before);
  assert_int_equal(fcntl(2, F_GETFD) & FD_CLOEXEC, 0); /* as it was: inherited by children */
  /* what is written to fd 2 now goes to the log again, not into the adaptor's file */
  static const char line[] = "test_hygiene: fd 2 is the log again\n";
  assert_int_equal(write(2, line, sizeof line - 1), (ssize_t)(sizeof line - 1));
  struct stat st;
  assert_int_equal(fstat(other, &st), 0);
  assert_int_equal(st.st_size, 0);
  assert_int_equal(owt_hygiene_restore_process(&h), 0);
  close(other);
  close(saved_err);
  owt_hygiene_free(&h);
}

static void test_cwd_and_umask_are_restored(void **state) {
  (void)state;
  owt_hygiene h;
  char before[PATH_MAX], now[PATH_MAX];
  assert_non_null(getcwd(before, sizeof before));
  mode_t mask = umask(022);
  assert_int_equal(owt_hygiene_snapshot(&h, watched, ARRAY_LEN(watched)), OWT_OK);
  assert_int_equal(chdir("/"), 0);
  umask(077);
  assert_int_equal(owt_hygiene_restore_process(&h), OWT_HYGIENE_CWD | OWT_HYGIENE_UMASK);
  assert_non_null(getcwd(now, sizeof now));
  assert_string_equal(now, before);
  assert_int_equal(umask(022), 022);
  assert_int_equal(owt_hygiene_restore_process(&h), 0);
  owt_hygiene_free(&h);
  umask(mask);
}

static void test_resource_limits_are_restored(void **state) {
  (void)state;
  owt_hygiene h;
  struct rlimit files, cpu, now;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &files), 0);
  assert_int_equal(getrlimit(RLIMIT_CPU, &cpu), 0);
  assert_true(files.rlim_cur > 16);
  assert_int_equal(owt_hygiene_snapshot(&h, watched, ARRAY_LEN(watched)), OWT_OK);
  /* an adaptor lowering its descriptors (the next request could not accept)
   * and setting a CPU limit (SIGXCPU would end the worker later) */
  struct rlimit few = {16, files.rlim_max}, hour = {3600, cpu.rlim_max};
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &few), 0);
  assert_int_equal(setrlimit(RLIMIT_CPU, &hour), 0);
  assert_int_equal(owt_hygiene_restore_process(&h), OWT_HYGIENE_RLIMIT);
  assert_int_equal(h.changed_limits, (1u << RLIMIT_NOFILE) | (1u << RLIMIT_CPU));
  assert_int_equal(h.kept_limits, 0);
  assert_int_equal(h.found[RLIMIT_NOFILE].rlim_cur, 16);
  assert_int_equal(h.found[RLIMIT_CPU].rlim_cur, 3600);
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &now), 0);
  assert_true(now.rlim_cur == files.rlim_cur && now.rlim_max == files.rlim_max);
  assert_int_equal(getrlimit(RLIMIT_CPU, &now), 0);
  assert_true(now.rlim_cur == cpu.rlim_cur && now.rlim_max == cpu.rlim_max);
  assert_int_equal(owt_hygiene_restore_process(&h), 0);
  assert_int_equal(h.changed_limits, 0);
  owt_hygiene_free(&h);
}

/* In a child without privilege (as root: become nobody), lower the hard
 * limit of descriptors. Exit 0 when the restore keeps the lower hard limit,
 * puts the soft one as high as that allows, says so once, and is quiet the
 * time after. */
static int lowered_hard_limit_is_kept(void) {
  owt_hygiene h;
  struct rlimit files, now;
  if (geteuid() == 0 && setuid(65534) != 0) return 10;
  if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur < 64) return 11;
  if (owt_hygiene_snapshot(&h, watched, ARRAY_LEN(watched)) != OWT_OK) return 12;
  struct rlimit lower = {32, 48};
  if (setrlimit(RLIMIT_NOFILE, &lower) != 0) return 13;
  if (owt_hygiene_restore_process(&h) != OWT_HYGIENE_RLIMIT) return 14;
  if (h.changed_limits != 1u << RLIMIT_NOFILE || h.kept_limits != 1u << RLIMIT_NOFILE) return 15;
  if (getrlimit(RLIMIT_NOFILE, &now) != 0 || now.rlim_cur != 48 || now.rlim_max != 48) return 16;
  if (h.limits[RLIMIT_NOFILE].rlim_cur != 48 || h.limits[RLIMIT_NOFILE].rlim_max != 48) return 17;
  if (owt_hygiene_restore_process(&h) != 0 || h.kept_limits != 0) return 18;
  owt_hygiene_free(&h);
  return 0;
}

static void test_a_lowered_hard_limit_without_privilege_is_kept(void **state) {
  (void)state;
  int status = 0;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) _exit(lowered_hard_limit_is_kept());
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_limit_names(void **state) {
  (void)state;
  assert_string_equal(owt_hygiene_rlimit_name(RLIMIT_NOFILE), "RLIMIT_NOFILE");
  assert_string_equal(owt_hygiene_rlimit_name(RLIMIT_RTTIME), "RLIMIT_RTTIME");
  assert_string_equal(owt_hygiene_rlimit_name(-1), "RLIMIT_?");
  assert_string_equal(owt_hygiene_rlimit_name(99), "RLIMIT_?");
}

static void test_own_descriptors_closed_or_replaced_are_found(void **state) {
  (void)state;
  owt_hygiene h;
  int a[2], b[2];
  assert_int_equal(pipe(a), 0);
  assert_int_equal(pipe(b), 0);
  assert_int_equal(owt_hygiene_snapshot(&h, watched, ARRAY_LEN(watched)), OWT_OK);
  assert_int_equal(owt_hygiene_own_fd(&h, a[0], "pipe a"), OWT_OK);
  assert_int_equal(owt_hygiene_own_fd(&h, a[1], "pipe a, write end"), OWT_OK);
  assert_int_equal(owt_hygiene_own_fd(&h, 999, "not open"), OWT_E_INTERNAL);
  assert_null(owt_hygiene_check_own(&h));
  assert_true(owt_hygiene_fd_intact(&h, a[1]));
  assert_false(owt_hygiene_fd_intact(&h, b[0])); /* never remembered */
  /* replaced: the number names another file now */
  int saved = dup(a[1]);
  assert_int_equal(dup2(b[1], a[1]), a[1]);
  const owt_hygiene_fd *lost = owt_hygiene_check_own(&h);
  assert_non_null(lost);
  assert_string_equal(lost->what, "pipe a, write end");
  assert_false(owt_hygiene_fd_intact(&h, a[1]));
  assert_int_equal(dup2(saved, a[1]), a[1]);
  assert_null(owt_hygiene_check_own(&h));
  /* closed */
  close(a[0]);
  lost = owt_hygiene_check_own(&h);
  assert_non_null(lost);
  assert_int_equal(lost->fd, a[0]);
  /* the snapshot's own copies of fds 0-2 and of the working directory are watched too */
  assert_true(owt_hygiene_fd_intact(&h, h.cwd_fd));
  for (int fd = 0; fd < 3; fd++)
    if (h.std_copy[fd] >= 0) assert_true(owt_hygiene_fd_intact(&h, h.std_copy[fd]));
  owt_hygiene_free(&h);
  close(saved);
  close(a[1]);
  close(b[0]);
  close(b[1]);
}

typedef struct {
  pid_t tid;
  int go[2]; /* the thread waits for a byte before it ends */
  int ready[2];
} meddler;

/* A request thread whose adaptor lowered its priority and pinned it to one CPU. */
static void *meddling_thread(void *arg) {
  meddler *m = arg;
  m->tid = (pid_t)syscall(SYS_gettid);
  setpriority(PRIO_PROCESS, (id_t)m->tid, getpriority(PRIO_PROCESS, (id_t)m->tid) + 2);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
  sched_setaffinity(0, sizeof one, &one);
  char b = 1;
  assert_int_equal(write(m->ready[1], &b, 1), 1);
  assert_int_equal(read(m->go[0], &b, 1), 1);
  return NULL;
}

static void test_thread_nice_and_affinity_are_restored(void **state) {
  (void)state;
  owt_hygiene_task want, before;
  cpu_set_t all;
  assert_int_equal(sched_getaffinity(0, sizeof all, &all), 0);
  unsigned pinned = CPU_COUNT(&all) > 1 ? OWT_HYGIENE_CPUS : 0; /* one CPU: pinning changes nothing */
  owt_hygiene_task_snapshot(&want);
  before = want;
  meddler m;
  assert_int_equal(pipe(m.go), 0);
  assert_int_equal(pipe(m.ready), 0);
  pthread_t tid;
  assert_int_equal(pthread_create(&tid, NULL, meddling_thread, &m), 0);
  char b;
  assert_int_equal(read(m.ready[0], &b, 1), 1);
  assert_int_equal(owt_hygiene_task_changed(&want, m.tid), OWT_HYGIENE_NICE | pinned);
  assert_int_equal(owt_hygiene_task_changed(&want, (pid_t)syscall(SYS_gettid)), 0); /* this thread: as it was */
  unsigned kept = 99;
  assert_int_equal(owt_hygiene_task_restore(&want, m.tid, &kept), OWT_HYGIENE_NICE | pinned);
  if (geteuid() == 0) {
    assert_int_equal(kept, 0);
    assert_int_equal(owt_hygiene_task_changed(&want, m.tid), 0);
    assert_int_equal(want.nice, before.nice);
  } else { /* raising a priority back needs CAP_SYS_NICE: kept, and taken as the thread's */
    assert_int_equal(kept, OWT_HYGIENE_NICE);
    assert_int_equal(want.nice, before.nice + 2);
    assert_int_equal(owt_hygiene_task_changed(&want, m.tid), 0);
  }
  assert_int_equal(write(m.go[1], &b, 1), 1);
  pthread_join(tid, NULL);
  assert_int_equal(owt_hygiene_task_changed(&want, m.tid), 0); /* gone: nothing to say */
  close(m.go[0]);
  close(m.go[1]);
  close(m.ready[0]);
  close(m.ready[1]);
}

typedef struct {
  const owt_hygiene *h;
  unsigned untold, first, second;
  int usr2_blocked_untold, usr2_blocked_after, seen_from_outside, seen_after;
  pid_t tid;
  pthread_barrier_t *changed, *looked;
} thread_arg;

static void *request_thread(void *arg) {
  thread_arg *a = arg;
  sigset_t set, now;
  a->tid = (pid_t)syscall(SYS_gettid);
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2); /* an adaptor blocking a signal in its request's thread */
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  /* Not told (native code, not the wrapped signal.pthread_sigmask): no look, no system call. */
  a->untold = owt_hygiene_restore_thread(a->h, 0);
  pthread_sigmask(SIG_SETMASK, NULL, &now);
  a->usr2_blocked_untold = sigismember(&now, SIGUSR2);
  pthread_barrier_wait(a->changed); /* the sweep looks from outside now */
  pthread_barrier_wait(a->looked);
  owt_hygiene_mask_touched();
  a->first = owt_hygiene_restore_thread(a->h, 0);
  pthread_sigmask(SIG_SETMASK, NULL, &now);
  a->usr2_blocked_after = sigismember(&now, SIGUSR2);
  a->second = owt_hygiene_restore_thread(a->h, 1);
  pthread_barrier_wait(a->changed);
  pthread_barrier_wait(a->looked);
  return NULL;
}

static void test_thread_mask_is_restored(void **state) {
  (void)state;
  owt_hygiene h;
  pthread_t tid;
  pthread_barrier_t changed, looked;
  pthread_barrier_init(&changed, NULL, 2);
  pthread_barrier_init(&looked, NULL, 2);
  assert_int_equal(owt_hygiene_snapshot(&h, watched, ARRAY_LEN(watched)), OWT_OK);
  thread_arg a = {&h, 99, 99, 99, 99, 99, 99, 99, 0, &changed, &looked};
  assert_int_equal(pthread_create(&tid, NULL, request_thread, &a), 0);
  pthread_barrier_wait(&changed);
  a.seen_from_outside = owt_hygiene_mask_changed(&h, a.tid);
  pthread_barrier_wait(&looked);
  pthread_barrier_wait(&changed);
  a.seen_after = owt_hygiene_mask_changed(&h, a.tid);
  pthread_barrier_wait(&looked);
  pthread_join(tid, NULL);
  assert_int_equal(a.untold, 0);
  assert_int_equal(a.usr2_blocked_untold, 1);
  assert_int_equal(a.seen_from_outside, 1);
  assert_int_equal(a.first, OWT_HYGIENE_MASK);
  assert_int_equal(a.usr2_blocked_after, 0);
  assert_int_equal(a.second, 0);
  assert_int_equal(a.seen_after, 0);
  assert_int_equal(owt_hygiene_mask_changed(&h, (pid_t)syscall(SYS_gettid)), 0); /* the snapshot's own */
  assert_int_equal(owt_hygiene_mask_changed(&h, a.tid), 0);                     /* a thread gone */
  pthread_barrier_destroy(&changed);
  pthread_barrier_destroy(&looked);
  owt_hygiene_free(&h);
}

/* Wait until pid is a zombie (bounded). */
static void wait_zombie(pid_t pid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  for (int i = 0; i < 500; i++) {
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    assert_true(n > 0);
    buf[n] = '\0';
    char *paren = strrchr(buf, ')');
    if (paren && paren[2] == 'Z') return;
    usleep(10000);
  }
  fail_msg("child %ld never became a zombie", (long)pid);
}

static void test_zombies_are_reaped_when_seen_twice(void **state) {
  (void)state;
  owt_hygiene h;
  assert_int_equal(owt_hygiene_snapshot(&h, watched, ARRAY_LEN(watched)), OWT_OK);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) _exit(3);
  wait_zombie(pid);
  assert_int_equal(owt_hygiene_reap(&h), 0); /* seen once: maybe its waiter is about to wait */
  assert_int_equal(owt_hygiene_reap(&h), 1); /* seen twice: nobody will */
  assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
  assert_int_equal(owt_hygiene_reap(&h), 0);
  owt_hygiene_free(&h);
}

static void test_a_waiter_keeps_its_child(void **state) {
  (void)state;
  owt_hygiene h;
  int go[2];
  assert_int_equal(owt_hygiene_snapshot(&h, watched, ARRAY_LEN(watched)), OWT_OK);
  assert_int_equal(pipe(go), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char b;
    close(go[1]);
    ssize_t ignored = read(go[0], &b, 1);
    (void)ignored;
    _exit(7);
  }
  close(go[0]);
  assert_int_equal(owt_hygiene_reap(&h), 0); /* running: not a zombie, not touched */
  close(go[1]);                              /* now it exits */
  wait_zombie(pid);
  assert_int_equal(owt_hygiene_reap(&h), 0); /* first sighting */
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid); /* its waiter gets it, status intact */
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 7);
  assert_int_equal(owt_hygiene_reap(&h), 0);
  owt_hygiene_free(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nothing_changed_nothing_restored),
      cmocka_unit_test(test_signal_dispositions_are_restored),
      cmocka_unit_test(test_stdio_is_restored),
      cmocka_unit_test(test_cwd_and_umask_are_restored),
      cmocka_unit_test(test_resource_limits_are_restored),
      cmocka_unit_test(test_a_lowered_hard_limit_without_privilege_is_kept),
      cmocka_unit_test(test_limit_names),
      cmocka_unit_test(test_own_descriptors_closed_or_replaced_are_found),
      cmocka_unit_test(test_thread_mask_is_restored),
      cmocka_unit_test(test_thread_nice_and_affinity_are_restored),
      cmocka_unit_test(test_zombies_are_reaped_when_seen_twice),
      cmocka_unit_test(test_a_waiter_keeps_its_child),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
