/* test_master.c - owt_master with real forks and a real socket, and a trivial
 * worker function instead of an interpreter: workers started in their slots
 * and serving the shared socket, a killed one respawned, SIGHUP replacing the
 * generation, SIGTERM draining (answering 503 itself while a worker will not
 * stop, then killing it), a worker that cannot start stopping the master,
 * and a connection a leaving worker hands off reaching a worker that stays
 * (also when none is there yet: held until its replacement starts).
 * The master runs in a child of the test; the test watches the scoreboard. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "owt_handoff.h"
#include "owt_listen.h"
#include "owt_master.h"
#include "unit.h"

enum { SERVE = 0, STUBBORN = 1, CANNOT_START = 2, HAND_OFF = 3 };

static volatile sig_atomic_t stop_asked;

static void on_term(int sig) {
  (void)sig;
  stop_asked = 1;
}

/* HAND_OFF: a client that starts with 'h' asks the worker that accepted it
 * to leave as a retiring worker does: say so on the board, hand the
 * connection (unread) to the master, exit. A connection that arrives from
 * the master is answered "<pid> handed". */
static int hand_off_or_answer(int listen_fd, int handoff_fd, owt_scoreboard *board, int slot) {
  char line[48];
  int n, c;
  struct pollfd p[2] = {{listen_fd, POLLIN, 0}, {handoff_fd, POLLIN, 0}};
  if (poll(p, 2, 50) <= 0) return 0;
  if (p[1].revents && owt_handoff_recv(handoff_fd, &c) == OWT_OK && c >= 0) {
    n = snprintf(line, sizeof line, "%ld handed\n", (long)getpid());
  } else if ((p[0].revents & POLLIN) && (c = accept(listen_fd, NULL, NULL)) >= 0) {
    char first = 0;
    struct pollfd q = {c, POLLIN, 0};
    if (poll(&q, 1, 2000) == 1 && recv(c, &first, 1, MSG_PEEK) == 1 && first == 'h') {
      owt_scoreboard_slot(board, (size_t)slot)->worker.retiring = 1;
      assert_int_equal(owt_handoff_send(handoff_fd, c), OWT_OK);
      close(c);
      return 1;
    }
    n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
  } else {
    return 0;
  }
  ssize_t ignored = write(c, line, (size_t)n);
  (void)ignored;
  close(c);
  return 0;
}

/* The worker: answers each connection with its pid until SIGTERM; STUBBORN
 * never unblocks SIGTERM and never accepts; CANNOT_START gives up at once. */
static int worker(void *ctx, int listen_fd, int handoff_fd, owt_scoreboard *board, int slot) {
  int mode = *(const int *)ctx;
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* a master killed after a failed test takes its workers */
  /* Every idle worker wakes for a connection: the ones that lose the accept
   * must not block in it (they would queue up and take turns in order). */
  fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
  if (mode == CANNOT_START) return OWT_EXIT_CONFIG;
  if (mode == STUBBORN)
    for (;;) pause();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term; /* no SA_RESTART: a blocked accept returns */
  sigaction(SIGTERM, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL); /* the master forks its workers with its signals blocked */
  while (!stop_asked && mode == HAND_OFF) {
    if (hand_off_or_answer(listen_fd, handoff_fd, board, slot)) return 0;
  }
  while (!stop_asked) {
    struct pollfd p = {listen_fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int c = accept(listen_fd, NULL, NULL);
    if (c < 0) continue;
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    ssize_t ignored = write(c, line, (size_t)n);
    (void)ignored;
    close(c);
  }
  return 0;
}

typedef struct {
  owt_config cfg;
  owt_scoreboard board;
  int fd;
  int port;
  int mode;
  pid_t master;
} fixture;

/* The master a test started and has not finished yet: killed after a test
 * that failed half way, so no master outlives the test binary. */
static pid_t running_master;

static int kill_leftover_master(void **state) {
  (void)state;
  if (running_master > 0) {
    kill(running_master, SIGKILL);
    waitpid(running_master, NULL, 0);
    running_master = 0;
  }
  return 0;
}

static void start(fixture *f, size_t workers, int mode) {
  owt_listen_addr addr;
  const char *why = NULL;
  char msg[256];
  memset(f, 0, sizeof *f);
  f->cfg.workers = workers;
  f->cfg.grace_timeout = 1;
  f->cfg.threads = 1;
  f->mode = mode;
  assert_int_equal(owt_listen_parse("127.0.0.1:0", &addr, &why), OWT_OK);
  assert_int_equal(owt_listen_open(&addr, 64, 0, &f->fd, msg, sizeof msg), OWT_OK);
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sin, &len), 0);
  f->port = ntohs(sin.sin_port);
  assert_int_equal(owt_scoreboard_create(&f->board, 2 * workers, 1), 0);
  fflush(NULL);
  f->master = fork();
  assert_true(f->master >= 0);
  if (f->master == 0) _exit(owt_master_run(&f->cfg, f->fd, &f->board, worker, &f->mode));
  running_master = f->master;
}

/* Wait for the master to exit (at most seconds); its exit code. */
static int finish(fixture *f, double seconds) {
  int status = 0;
  double until = owt_monotonic() + seconds;
  for (;;) {
    pid_t r = waitpid(f->master, &status, WNOHANG);
    if (r == f->master) {
      running_master = 0;
      break;
    }
    if (owt_monotonic() > until) {
      kill(f->master, SIGKILL);
      waitpid(f->master, &status, 0);
      fail_msg("the master did not exit within %.0f s", seconds);
    }
    usleep(20000);
  }
  close(f->fd);
  owt_scoreboard_destroy(&f->board);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

/* The pids of the live workers on the board (slot in use, process there). */
static size_t live(fixture *f, pid_t *pids, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < f->board.n && n < max; i++) {
    owt_slot *s = owt_scoreboard_slot(&f->board, i);
    pid_t pid = __atomic_load_n(&s->worker.pid, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&s->in_use, __ATOMIC_ACQUIRE) && pid > 0 && kill(pid, 0) == 0) pids[n++] = pid;
  }
  return n;
}

static int contains(const pid_t *pids, size_t n, pid_t pid) {
  for (size_t i = 0; i < n; i++)
    if (pids[i] == pid) return 1;
  return 0;
}

/* Wait until exactly `want` workers are live and none of them is in `not`. */
static size_t wait_workers(fixture *f, size_t want, const pid_t *not, size_t nnot, pid_t *pids) {
  double until = owt_monotonic() + 15;
  for (;;) {
    size_t n = live(f, pids, 16), fresh = 0;
    for (size_t i = 0; i < n; i++) fresh += !contains(not, nnot, pids[i]);
    if (n == want && fresh == want) return n;
    if (owt_monotonic() > until) fail_msg("%zu live workers (%zu new), want %zu new", n, fresh, want);
    usleep(20000);
  }
}

/* Connect to the master's socket, send `say` (NULL: nothing), read the reply
 * up to the worker's close into buf. */
static void ask_text(fixture *f, const char *say, char *buf, size_t size) {
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)f->port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof sin), 0);
  if (say) assert_int_equal(write(c, say, strlen(say)), (ssize_t)strlen(say));
  size_t n = 0;
  for (;;) { /* to EOF: nobody (the master included) still holds the connection */
    struct pollfd p = {c, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) fail_msg("no reply, or the connection stayed open: \"%.*s\"", (int)n, buf);
    ssize_t r = read(c, buf + n, size - 1 - n);
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(c);
  buf[n] = '\0';
}

/* Connect to the master's socket and read the pid of the worker that answered. */
static pid_t ask(fixture *f) {
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)f->port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof sin), 0);
  char buf[32] = "";
  struct pollfd p = {c, POLLIN, 0};
  assert_int_equal(poll(&p, 1, 5000), 1);
  ssize_t n = read(c, buf, sizeof buf - 1);
  close(c);
  assert_true(n > 0);
  buf[n] = '\0';
  return (pid_t)strtol(buf, NULL, 10);
}

static void test_workers_serve_and_drain(void **state) {
  (void)state;
  fixture f;
  pid_t pids[16];
  start(&f, 2, SERVE);
  assert_int_equal(wait_workers(&f, 2, NULL, 0, pids), 2);
  for (int i = 0; i < 6; i++) assert_true(contains(pids, 2, ask(&f)));
  kill(f.master, SIGTERM);
  int code = finish(&f, 10);
  assert_int_equal(code, 0);
  for (int i = 0; i < 2; i++) assert_int_equal(kill(pids[i], 0), -1); /* gone and reaped */
}

static void test_a_killed_worker_is_respawned(void **state) {
  (void)state;
  fixture f;
  pid_t pids[16], now[16];
  start(&f, 2, SERVE);
  wait_workers(&f, 2, NULL, 0, pids);
  assert_int_equal(kill(pids[0], SIGKILL), 0);
  /* a replacement in its place; the other one untouched */
  double until = owt_monotonic() + 15;
  size_t n;
  for (;;) {
    n = live(&f, now, 16);
    if (n == 2 && !contains(now, n, pids[0]) && contains(now, n, pids[1])) break;
    if (owt_monotonic() > until) fail_msg("no replacement for the killed worker");
    usleep(20000);
  }
  uint64_t respawns = 0;
  for (size_t i = 0; i < f.board.n; i++) respawns += owt_scoreboard_slot(&f.board, i)->respawns;
  assert_int_equal(respawns, 1);
  pid_t fresh = now[0] == pids[1] ? now[1] : now[0];
  int served_by_fresh = 0;
  for (int i = 0; i < 20 && !served_by_fresh; i++) served_by_fresh = ask(&f) == fresh;
  assert_true(served_by_fresh);
  kill(f.master, SIGTERM);
  assert_int_equal(finish(&f, 10), 0);
}

static void test_sighup_replaces_the_generation(void **state) {
  (void)state;
  fixture f;
  pid_t old[16], now[16];
  start(&f, 2, SERVE);
  wait_workers(&f, 2, NULL, 0, old);
  kill(f.master, SIGHUP);
  wait_workers(&f, 2, old, 2, now);
  for (int i = 0; i < 4; i++) assert_true(contains(now, 2, ask(&f)));
  kill(f.master, SIGTERM);
  assert_int_equal(finish(&f, 10), 0);
}

/* A FastCGI request with no params and no body. */
static const unsigned char fcgi_request[] = {
    1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, /* BEGIN_REQUEST id 1, responder */
    1, 4, 0, 1, 0, 0, 0, 0,                         /* empty PARAMS */
    1, 5, 0, 1, 0, 0, 0, 0,                         /* empty STDIN */
};

static void test_drain_answers_503_and_kills_a_worker_that_stays(void **state) {
  (void)state;
  fixture f;
  pid_t pids[16];
  start(&f, 1, STUBBORN);
  wait_workers(&f, 1, NULL, 0, pids);
  double t0 = owt_monotonic();
  kill(f.master, SIGTERM);
  /* while it drains, the master answers new connections itself */
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)f.port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  usleep(300000); /* the master has seen SIGTERM (it looks every 0.2 s) */
  assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof sin), 0);
  assert_int_equal(write(c, fcgi_request, sizeof fcgi_request), (ssize_t)sizeof fcgi_request);
  unsigned char reply[1024];
  size_t n = 0;
  for (;;) {
    struct pollfd p = {c, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) break;
    ssize_t r = read(c, reply + n, sizeof reply - n);
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(c);
  static const char status[] = "Status: 503 Service Unavailable\r\n";
  assert_true(n > 8 + sizeof status);
  assert_int_equal(reply[1], 6); /* STDOUT */
  assert_memory_equal(reply + 8, status, sizeof status - 1);
  /* the worker ignores SIGTERM: killed once its grace time is over, and the master exits */
  assert_int_equal(kill(pids[0], 0), 0);
  assert_int_equal(finish(&f, 15), 0);
  assert_true(owt_monotonic() - t0 >= f.cfg.grace_timeout);
  assert_int_equal(kill(pids[0], 0), -1);
}

static void test_a_leaving_worker_hands_its_connection_to_one_that_stays(void **state) {
  (void)state;
  fixture f;
  pid_t pids[16];
  char reply[64];
  start(&f, 2, HAND_OFF);
  wait_workers(&f, 2, NULL, 0, pids);
  ask_text(&f, "h", reply, sizeof reply);
  long by = strtol(reply, NULL, 10);
  assert_non_null(strstr(reply, " handed\n"));
  /* answered by one of the two; the other handed it off and left */
  assert_true(contains(pids, 2, (pid_t)by));
  pid_t left = pids[0] == (pid_t)by ? pids[1] : pids[0];
  pid_t now[16];
  wait_workers(&f, 2, &left, 1, now);
  assert_true(contains(now, 2, (pid_t)by));
  kill(f.master, SIGTERM);
  assert_int_equal(finish(&f, 10), 0);
}

static void test_a_handed_off_connection_waits_for_the_replacement(void **state) {
  (void)state;
  fixture f;
  pid_t pids[16];
  char reply[64];
  start(&f, 1, HAND_OFF);
  wait_workers(&f, 1, NULL, 0, pids);
  ask_text(&f, "h", reply, sizeof reply); /* the only worker leaves: its replacement answers */
  long by = strtol(reply, NULL, 10);
  assert_non_null(strstr(reply, " handed\n"));
  assert_true(by > 0 && (pid_t)by != pids[0]);
  kill(f.master, SIGTERM);
  assert_int_equal(finish(&f, 10), 0);
}

static void test_a_worker_that_cannot_start_stops_the_master(void **state) {
  (void)state;
  fixture f;
  start(&f, 2, CANNOT_START);
  assert_int_equal(finish(&f, 15), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_workers_serve_and_drain, kill_leftover_master),
      cmocka_unit_test_teardown(test_a_killed_worker_is_respawned, kill_leftover_master),
      cmocka_unit_test_teardown(test_sighup_replaces_the_generation, kill_leftover_master),
      cmocka_unit_test_teardown(test_drain_answers_503_and_kills_a_worker_that_stays, kill_leftover_master),
      cmocka_unit_test_teardown(test_a_worker_that_cannot_start_stops_the_master, kill_leftover_master),
      cmocka_unit_test_teardown(test_a_leaving_worker_hands_its_connection_to_one_that_stays, kill_leftover_master),
      cmocka_unit_test_teardown(test_a_handed_off_connection_waits_for_the_replacement, kill_leftover_master),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
