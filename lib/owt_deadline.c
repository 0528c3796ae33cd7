/* owt_deadline.c - SIGALRM-driven request deadline. */
#include "owt_deadline.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

enum { STAGE_IDLE = 0, STAGE_SOFT = 1, STAGE_HARD = 2 };

static volatile sig_atomic_t stage = STAGE_IDLE;
static volatile sig_atomic_t fired = 0;
static void (*soft_callback)(void);
static struct timeval grace_tv;
static int fallback_fd = -1;
static const char *fallback_resp;
static size_t fallback_len;
static volatile sig_atomic_t *fallback_started;

void owt_deadline_set_fallback(int fd, const char *resp, size_t len, volatile sig_atomic_t *started) {
  fallback_resp = resp;
  fallback_len = len;
  fallback_started = started;
  fallback_fd = fd;
}

static void set_timer(struct timeval tv) {
  struct itimerval it;
  memset(&it, 0, sizeof it);
  it.it_value = tv;
  setitimer(ITIMER_REAL, &it, NULL);
}

static struct timeval to_timeval(double seconds) {
  struct timeval tv;
  tv.tv_sec = (time_t)seconds;
  tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
  if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1;
  return tv;
}

static void on_alarm(int signo) {
  (void)signo;
  int saved_errno = errno;
  if (stage == STAGE_SOFT) {
    stage = STAGE_HARD;
    fired = 1;
    if (soft_callback) soft_callback();
    set_timer(grace_tv);
  } else if (stage == STAGE_HARD) {
    static const char msg[] =
        "owt-fcgi: error: the adaptor did not stop after its timeout (stuck in C code?); "
        "ending this worker\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    if (fallback_fd >= 0 && fallback_started && !*fallback_started)
      ignored = write(fallback_fd, fallback_resp, fallback_len);
    (void)ignored;
    _exit(70);
  }
  errno = saved_errno;
}

void owt_deadline_install(void (*on_soft)(void)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  soft_callback = on_soft;
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: blocking calls return EINTR at the deadline */
  sigaction(SIGALRM, &sa, NULL);
}

void owt_deadline_arm(double soft, double grace) {
  fired = 0;
  if (soft <= 0) {
    stage = STAGE_IDLE;
    return;
  }
  grace_tv = to_timeval(grace > 0 ? grace : 1);
  stage = STAGE_SOFT;
  set_timer(to_timeval(soft));
}

int owt_deadline_disarm(void) {
  stage = STAGE_IDLE;
  set_timer((struct timeval){0, 0});
  return fired;
}

int owt_deadline_fired(void) { return fired; }
