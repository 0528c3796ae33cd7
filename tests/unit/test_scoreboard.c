/* test_scoreboard.c - the file-backed scoreboard (lib/owt_scoreboard_file.c):
 * made on first use, slots claimed by distinct processes, a dead owner's
 * slot reclaimed with its counters kept, another layout made anew, files it
 * must not use refused; and the request durations (owt_stats_observe). */
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "owt_scoreboard.h"
#include "unit.h"

static char dir[] = "/tmp/owt-test-scoreboard-XXXXXX";
static char path[256];

static int setup(void **state) {
  (void)state;
  if (!mkdtemp(dir)) return -1;
  snprintf(path, sizeof path, "%s/board", dir);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void open_board(owt_scoreboard *b, size_t threads) {
  char why[512] = "";
  int rc = owt_scoreboard_open(b, path, threads, why, sizeof why);
  if (rc != 0) fail_msg("%s", why);
  assert_true(b->file);
}

static size_t live(const owt_scoreboard *b) {
  size_t n = 0;
  for (size_t i = 0; i < b->n; i++) n += owt_scoreboard_slot(b, i)->in_use != 0;
  return n;
}

static void test_processes_share_and_leave(void **state) {
  (void)state;
  unlink(path);
  owt_scoreboard a;
  open_board(&a, 4);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  int mine = owt_scoreboard_join(&a);
  assert_true(mine >= 0);
  owt_slot *s = owt_scoreboard_slot(&a, (size_t)mine);
  assert_int_equal(s->owner, getpid());
  assert_int_equal(s->worker.threads, 4);
  owt_stats_add(&s->worker.requests, 5);

  int ready[2], go[2];
  assert_int_equal(pipe(ready), 0);
  assert_int_equal(pipe(go), 0);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) { /* another process of the server: joins, answers 7, leaves */
    owt_scoreboard b;
    char why[512], c;
    if (owt_scoreboard_open(&b, path, 2, why, sizeof why) != 0) _exit(2);
    int slot = owt_scoreboard_join(&b);
    if (slot < 0 || slot == mine) _exit(3);
    owt_stats_add(&owt_scoreboard_slot(&b, (size_t)slot)->worker.requests, 7);
    if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1) _exit(4);
    owt_scoreboard_leave(&b, slot);
    owt_scoreboard_destroy(&b);
    _exit(0);
  }
  char c;
  assert_int_equal(read(ready[0], &c, 1), 1);
  assert_int_equal(live(&a), 2); /* this process sees the other one */
  owt_scoreboard_sweep(&a);       /* alive: stays */
  assert_int_equal(live(&a), 2);
  assert_int_equal(write(go[1], "g", 1), 1);
  int status;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(live(&a), 1);
  assert_int_equal(owt_stats_get(&a.retired->requests), 7); /* its counts stay in the totals */
  owt_scoreboard_leave(&a, mine);
  assert_int_equal(live(&a), 0);
  assert_int_equal(owt_stats_get(&a.retired->requests), 12);
  owt_scoreboard_destroy(&a);
  for (int i = 0; i < 2; i++) close(ready[i]), close(go[i]);
}

static void test_dead_owner_reclaimed(void **state) {
  (void)state;
  unlink(path);
  owt_scoreboard a;
  open_board(&a, 1);
  int sync[2];
  assert_int_equal(pipe(sync), 0);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) { /* joins, counts 3 requests, then is killed without leaving */
    owt_scoreboard b;
    char why[512];
    if (owt_scoreboard_open(&b, path, 1, why, sizeof why) != 0) _exit(2);
    int slot = owt_scoreboard_join(&b);
    if (slot < 0) _exit(3);
    owt_stats_observe(&owt_scoreboard_slot(&b, (size_t)slot)->worker, owt_now(), 0.02, 200);
    owt_stats_add(&owt_scoreboard_slot(&b, (size_t)slot)->worker.requests, 3);
    if (write(sync[1], "j", 1) != 1) _exit(4);
    pause();
    _exit(0);
  }
  char c;
  assert_int_equal(read(sync[0], &c, 1), 1);
  assert_int_equal(live(&a), 1);
  kill(child, SIGKILL);
  int status;
  assert_int_equal(waitpid(child, &status, 0), child);
  owt_scoreboard_sweep(&a);
  assert_int_equal(live(&a), 0);
  assert_int_equal(owt_stats_get(&a.retired->requests), 3);
  assert_int_equal(owt_stats_get(&a.retired->latency.count), 1);
  assert_int_equal(owt_stats_get(&a.retired->latency.buckets[2]), 1); /* (0.01, 0.025] */
  owt_tick t;
  owt_stats_read_tick(a.retired->history, (uint64_t)(owt_now() / OWT_HISTORY_STEP_SECONDS), &t);
  if (t.epoch) assert_int_equal(t.requests, 1); /* unless the step turned meanwhile */
  for (size_t i = 0; i < a.n; i++) assert_int_equal(owt_scoreboard_slot(&a, i)->owner, 0);
  owt_scoreboard_destroy(&a);
  close(sync[0]);
  close(sync[1]);
}

static void test_full_board(void **state) {
  (void)state;
  unlink(path);
  owt_scoreboard a;
  open_board(&a, 1);
  /* Every slot held by a live process (this one, pretending to be many). */
  for (size_t i = 0; i < a.n; i++) owt_scoreboard_slot(&a, i)->owner = getppid(), owt_scoreboard_slot(&a, i)->in_use = 1;
  assert_int_equal(owt_scoreboard_join(&a), -1);
  owt_scoreboard_slot(&a, 5)->owner = 0;
  owt_scoreboard_slot(&a, 5)->in_use = 0;
  assert_int_equal(owt_scoreboard_join(&a), 5);
  owt_scoreboard_destroy(&a);
}

static void test_other_layout_made_anew(void **state) {
  (void)state;
  unlink(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "not a scoreboard at all", 23), 23);
  close(fd);
  owt_scoreboard a;
  open_board(&a, 2);
  assert_int_equal(live(&a), 0);
  assert_true(owt_scoreboard_join(&a) >= 0);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal((size_t)st.st_size, a.map_bytes);
  owt_scoreboard_destroy(&a);
  owt_scoreboard b; /* a second open keeps what is there */
  open_board(&b, 2);
  assert_int_equal(live(&b), 1); /* the same file: the slot claimed above is still there */
  owt_scoreboard_destroy(&b);
}

static void test_refuses_what_it_must_not_use(void **state) {
  (void)state;
  char why[512], link_path[300];
  owt_scoreboard b;
  snprintf(link_path, sizeof link_path, "%s/link", dir);
  unlink(link_path);
  assert_int_equal(symlink("/etc/passwd", link_path), 0);
  assert_int_equal(owt_scoreboard_open(&b, link_path, 1, why, sizeof why), -1);
  assert_non_null(strstr(why, link_path));
  assert_int_equal(owt_scoreboard_open(&b, dir, 1, why, sizeof why), -1); /* a directory */
  assert_int_equal(owt_scoreboard_open(&b, path, OWT_SCOREBOARD_FILE_RECORDS + 1, why, sizeof why), -1);
  assert_null(b.mem);
}

static void test_default_path(void **state) {
  (void)state;
  char out[256];
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  assert_true(strlen(dir) + 12 < sizeof addr.sun_path);
  memcpy(addr.sun_path, dir, strlen(dir));
  memcpy(addr.sun_path + strlen(dir), "/owt.sock-0", 11);
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
  assert_int_equal(owt_scoreboard_default_path(fd, out, sizeof out), 0);
  char want[300];
  snprintf(want, sizeof want, "%s/owt-fcgi.scoreboard", dir);
  assert_string_equal(out, want);
  assert_int_equal(owt_scoreboard_default_path(fd, out, 8), -1); /* does not fit */
  close(fd);
  int tcp = socket(AF_INET, SOCK_STREAM, 0);
  assert_int_equal(owt_scoreboard_default_path(tcp, out, sizeof out), -1);
  close(tcp);
  assert_int_equal(owt_scoreboard_default_path(-1, out, sizeof out), -1);
}

static void test_durations(void **state) {
  (void)state;
  static owt_stats s;
  double now = 1700000000.0;
  owt_stats_observe(&s, now, 0.004, 200);
  owt_stats_observe(&s, now, 0.3, 500);
  owt_stats_observe(&s, now, 42.0, -1);
  owt_stats_observe(&s, now, -1.0, 200); /* a clock that stepped back counts as 0 */
  assert_int_equal(s.latency.count, 4);
  assert_int_equal(s.latency.buckets[0], 2);
  assert_int_equal(s.latency.buckets[6], 1);                     /* (0.25, 0.5] */
  assert_int_equal(s.latency.buckets[OWT_STATS_BUCKETS - 1], 1); /* +Inf */
  assert_int_equal(s.latency.sum_us, 4000 + 300000 + 42000000);
  uint64_t e = (uint64_t)(now / OWT_HISTORY_STEP_SECONDS);
  owt_tick t;
  owt_stats_read_tick(s.history, e, &t);
  assert_int_equal(t.epoch, e);
  assert_int_equal(t.requests, 4);
  assert_int_equal(t.errors, 2); /* a 5xx and a client gone */
  /* Five minutes later the same record holds the new step, counted from zero. */
  owt_stats_observe(&s, now + OWT_HISTORY_STEPS * OWT_HISTORY_STEP_SECONDS, 0.001, 200);
  owt_stats_read_tick(s.history, e, &t);
  assert_int_equal(t.requests, 0);
  owt_stats_read_tick(s.history, e + OWT_HISTORY_STEPS, &t);
  assert_int_equal(t.requests, 1);
  /* An old step is not counted into a newer record. */
  owt_stats_observe(&s, now, 0.001, 200);
  owt_stats_read_tick(s.history, e + OWT_HISTORY_STEPS, &t);
  assert_int_equal(t.requests, 1);
  /* Retiring adds only the recent steps. */
  static owt_stats r;
  owt_stats_add_history(r.history, s.history, now + OWT_HISTORY_STEPS * OWT_HISTORY_STEP_SECONDS);
  owt_stats_read_tick(r.history, e + OWT_HISTORY_STEPS, &t);
  assert_int_equal(t.requests, 1);
  owt_stats_add_history(r.history, s.history, now + 10 * OWT_HISTORY_STEPS * OWT_HISTORY_STEP_SECONDS);
  owt_stats_read_tick(r.history, e + OWT_HISTORY_STEPS, &t);
  assert_int_equal(t.requests, 1); /* too old the second time: not added again */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_processes_share_and_leave),
      cmocka_unit_test(test_dead_owner_reclaimed),
      cmocka_unit_test(test_full_board),
      cmocka_unit_test(test_other_layout_made_anew),
      cmocka_unit_test(test_refuses_what_it_must_not_use),
      cmocka_unit_test(test_default_path),
      cmocka_unit_test(test_durations),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
