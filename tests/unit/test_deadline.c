/* test_deadline.c - owt_deadline, CGI's SIGALRM time limit: the soft stage
 * runs its callback and interrupts a blocking call; a disarmed deadline
 * never fires; the hard stage writes its fallback response (only when no
 * byte of the response went out) and ends the process with 70. Each case
 * runs in a child of its own: SIGALRM and _exit belong to a whole process. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "owt_deadline.h"
#include "owt_stats.h"
#include "unit.h"

static volatile sig_atomic_t soft_calls;

static void on_soft(void) { soft_calls++; }

/* In a child, fn returns 0 when every check held, else the number of the
 * first that did not; the parent sees it as the exit code. */
static int in_child(int (*fn)(void)) {
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) _exit(fn());
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static int soft_stage(void) {
  int p[2];
  char b;
  if (pipe(p) != 0) return 1;
  owt_deadline_install(on_soft);
  owt_deadline_arm(0.05, 5);
  if (owt_deadline_fired()) return 2;
  /* a blocking read is interrupted (no SA_RESTART) so the adaptor can notice */
  ssize_t n = read(p[0], &b, 1);
  if (n != -1 || errno != EINTR) return 3;
  if (soft_calls != 1) return 4;
  if (!owt_deadline_fired()) return 5;
  if (owt_deadline_disarm() != 1) return 6;
  /* disarmed: the hard stage never comes */
  struct itimerval it;
  getitimer(ITIMER_REAL, &it);
  if (it.it_value.tv_sec || it.it_value.tv_usec) return 7;
  /* the next request starts with a clean slate */
  owt_deadline_arm(30, 5);
  if (owt_deadline_fired()) return 8;
  if (owt_deadline_disarm() != 0) return 9;
  return 0;
}

static void test_soft_stage(void **state) {
  (void)state;
  assert_int_equal(in_child(soft_stage), 0);
}

static int disarmed_in_time(void) {
  owt_deadline_install(on_soft);
  owt_deadline_arm(0.1, 0.1);
  if (owt_deadline_disarm() != 0) return 1;
  struct pollfd none;
  poll(&none, 0, 400); /* past both stages */
  if (soft_calls != 0 || owt_deadline_fired()) return 2;
  /* no limit at all */
  owt_deadline_arm(0, 0.1);
  struct itimerval it;
  getitimer(ITIMER_REAL, &it);
  if (it.it_value.tv_sec || it.it_value.tv_usec) return 3;
  poll(&none, 0, 200);
  if (soft_calls != 0 || owt_deadline_disarm() != 0) return 4;
  return 0;
}

static void test_disarmed_or_unlimited_never_fires(void **state) {
  (void)state;
  assert_int_equal(in_child(disarmed_in_time), 0);
}

static const char fallback[] = "Status: 504 Gateway Timeout\r\n\r\nstuck";
static int out_pipe[2], err_pipe[2];
static volatile sig_atomic_t started;

/* Stuck "in C": never returns to anything that would notice the soft stage. */
static int stuck(void) {
  dup2(err_pipe[1], 2);
  owt_deadline_set_fallback(out_pipe[1], fallback, sizeof fallback - 1, &started);
  owt_deadline_install(on_soft);
  owt_deadline_arm(0.05, 0.05);
  for (int i = 0; i < 200; i++) pause(); /* the soft stage wakes it; the hard one ends it */
  return 99;
}

/* Run stuck() with started as given; the exit code, what it wrote as the
 * response, and what it said on stderr. */
static int run_stuck(int already_started, char *out, size_t out_len, char *err, size_t err_len) {
  assert_int_equal(pipe(out_pipe), 0);
  assert_int_equal(pipe(err_pipe), 0);
  started = already_started;
  int code = in_child(stuck);
  close(out_pipe[1]);
  close(err_pipe[1]);
  ssize_t n = read(out_pipe[0], out, out_len - 1);
  out[n > 0 ? n : 0] = '\0';
  n = read(err_pipe[0], err, err_len - 1);
  err[n > 0 ? n : 0] = '\0';
  close(out_pipe[0]);
  close(err_pipe[0]);
  return code;
}

static void test_hard_stage_answers_and_exits(void **state) {
  (void)state;
  char out[256], err[512];
  double t0 = owt_monotonic();
  assert_int_equal(run_stuck(0, out, sizeof out, err, sizeof err), 70);
  double took = owt_monotonic() - t0;
  assert_true(took >= 0.09 && took < 10); /* soft, then the grace */
  assert_string_equal(out, fallback);
  assert_non_null(strstr(err, "did not stop after its timeout"));
}

static void test_hard_stage_after_output_only_exits(void **state) {
  (void)state;
  char out[256], err[512];
  /* a byte of the response went out: a second head would corrupt it */
  assert_int_equal(run_stuck(1, out, sizeof out, err, sizeof err), 70);
  assert_string_equal(out, "");
  assert_non_null(strstr(err, "did not stop after its timeout"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_soft_stage),
      cmocka_unit_test(test_disarmed_or_unlimited_never_fires),
      cmocka_unit_test(test_hard_stage_answers_and_exits),
      cmocka_unit_test(test_hard_stage_after_output_only_exits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
