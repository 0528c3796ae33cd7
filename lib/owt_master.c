/* owt_master.c - fork, watch, respawn, reload, drain, and pass kept
 * connections from workers that leave to workers that stay.
 *
 * The master never runs Python: it only forks. Signals reach it through a
 * signalfd on a blocked set, so there is no handler state to race with; it
 * polls that and every worker's hand-off channel, and the poll's timeout
 * doubles as the watchdog tick. */
#define _GNU_SOURCE 1 /* accept4 */
#include "owt_master.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "owt_handoff.h"
#include "owt_log.h"
#include "owt_reject.h"
#include "owt_response.h"

#define TICK_SECONDS 0.2
#define DRAIN_TICK_SECONDS 0.02
#define FAST_DEATH_SECONDS 2.0 /* a worker dying this soon after start counts toward backoff */
#define MAX_BACKOFF_SECONDS 10.0
#define HANG_MARGIN_SECONDS 2.0 /* past timeout + kill-grace (+ grace-timeout when the worker
                                   drains), the master kills */
#define MAX_PENDING 1024        /* kept connections waiting for a worker to take them */
#define PENDING_SECONDS 30.0    /* ... for at most this long (a respawn held back by backoff) */

typedef struct {
  pid_t pid;         /* 0: slot free */
  double started;
  int old;           /* of a previous generation: finishing up, not respawned */
  double term_sent;  /* when it was asked to stop (0: not yet) */
  int chan;          /* the master's end of its hand-off channel (-1: none) */
  int killed;        /* SIGKILL sent: counted once, however soon the next look */
} worker;

typedef struct {
  int fd;
  double since;
} pending_conn;

typedef struct {
  const owt_config *cfg;
  int listen_fd;
  owt_scoreboard *board;
  owt_worker_fn fn;
  void *ctx;
  worker *workers;   /* board->n entries, indexed like the slots */
  size_t wanted;     /* live current-generation workers we want */
  int stopping;
  double stop_deadline;
  int fatal;
  int fast_deaths;   /* consecutive workers that died young */
  double respawn_at; /* 0: no respawn pending */
  uint64_t generation;
  size_t starts;     /* workers started so far */
  int sig_fd;        /* signalfd for the master's signals */
  pending_conn pending[MAX_PENDING]; /* kept connections no worker could take yet */
  size_t npending;
  size_t next_target; /* round robin over the workers that stay */
  uint64_t handed_off;
  char busy_reply[512]; /* the 503 a connection gets while the master drains */
  size_t busy_reply_len;
} master;

static void sigset_master(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGCHLD);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGQUIT);
  sigaddset(set, SIGHUP);
}

static size_t live_current(const master *m) {
  size_t n = 0;
  for (size_t i = 0; i < m->board->n; i++) n += m->workers[i].pid && !m->workers[i].old;
  return n;
}

static size_t live_total(const master *m) {
  size_t n = 0;
  for (size_t i = 0; i < m->board->n; i++) n += m->workers[i].pid != 0;
  return n;
}

static int spawn_worker(master *m) {
  int slot = owt_scoreboard_claim(m->board);
  if (slot < 0) return -1;
  owt_slot *s = owt_scoreboard_slot(m->board, (size_t)slot);
  owt_scoreboard_reset_slot(m->board, (size_t)slot);
  int chan[2] = {-1, -1};
  if (owt_handoff_pair(chan) != OWT_OK)
    owt_log(OWT_LOG_WARNING, "no hand-off channel for a worker: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    owt_log(OWT_LOG_ERROR, "fork: %s", strerror(errno));
    if (chan[0] >= 0) close(chan[0]), close(chan[1]);
    return -1;
  }
  if (pid == 0) {
    /* Default dispositions (libfcgi's init may have installed handlers in
     * this process), and the signals stay blocked: a SIGTERM that comes
     * while the worker starts stays pending until it can handle it. */
    static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
    /* Only its own end of its own channel: a sibling's, or the master's
     * ends, would keep channels open past the death of their owners. */
    close(m->sig_fd);
    for (size_t i = 0; i < m->board->n; i++)
      if (m->workers[i].chan >= 0) close(m->workers[i].chan);
    for (size_t i = 0; i < m->npending; i++) close(m->pending[i].fd);
    if (chan[0] >= 0) close(chan[0]);
    _exit(m->fn(m->ctx, m->listen_fd, chan[1], m->board, slot));
  }
  if (chan[1] >= 0) close(chan[1]);
  if (m->starts++ >= m->wanted) s->respawns++; /* not one of the first N: a replacement */
  s->worker.pid = pid;
  s->worker.started = owt_now();
  s->generation = m->generation;
  s->in_use = 1;
  m->workers[slot] = (worker){pid, owt_now(), 0, 0, chan[0], 0};
  owt_log(OWT_LOG_INFO, "started worker %ld (slot %d)", (long)pid, slot);
  return 0;
}

static void log_death(pid_t pid, int status, int expected) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    owt_log(expected ? OWT_LOG_INFO : OWT_LOG_ERROR, "worker %ld was killed by signal %d (%s)%s",
            (long)pid, sig, strsignal(sig), expected ? "" : ": the requests it had in flight are lost");
  } else if (WEXITSTATUS(status) != 0) {
    owt_log(expected ? OWT_LOG_INFO : OWT_LOG_ERROR, "worker %ld exited with status %d",
            (long)pid, WEXITSTATUS(status));
  } else {
    owt_log(OWT_LOG_INFO, "worker %ld exited", (long)pid);
  }
}

/* ---- kept connections passed from workers that leave to workers that stay ---- */

/* A worker that will keep serving: started in this generation, not asked to
 * stop, not draining by itself. */
static int stays(const master *m, size_t i) {
  const worker *w = &m->workers[i];
  return w->pid && !w->old && !w->term_sent && w->chan >= 0 &&
         !owt_scoreboard_slot(m->board, i)->worker.retiring;
}

/* Whether worker i has a request thread with nothing in flight (by the
 * scoreboard: a hint, it may take a request the next moment). */
static int has_free_thread(const master *m, size_t i) {
  const owt_slot *slot = owt_scoreboard_slot(m->board, i);
  size_t busy = 0;
  owt_scoreboard_oldest(m->board, slot, &busy);
  return busy < owt_scoreboard_records(m->board, slot);
}

/* Pass fd on to a worker that stays: another than `from` (the worker that
 * gave it, or SIZE_MAX) with a free thread; else back to `from`, which will
 * serve it when a thread of its own is free; else any (round robin). 1 when
 * one took it (the master's copy is closed), 0 when none could. */
static int pass_on(master *m, int fd, size_t from) {
  size_t n = m->board->n;
  for (int pass = 0; pass < 3; pass++) {
    for (size_t k = 0; k < n; k++) {
      size_t i = (m->next_target + k) % n;
      if (!stays(m, i)) continue;
      if (pass == 0 && (i == from || !has_free_thread(m, i))) continue;
      if (pass == 1 && i != from) continue;
      if (owt_handoff_send(m->workers[i].chan, fd) != OWT_OK) continue;
      m->next_target = i + 1;
      m->handed_off++;
      close(fd);
      return 1;
    }
  }
  return 0;
}

/* Hold fd until a worker can take it; closed when the master stops or it
 * has waited PENDING_SECONDS (the web server then opens a new one). */
static void hold(master *m, int fd) {
  if (m->stopping || m->npending >= MAX_PENDING) {
    close(fd);
    return;
  }
  m->pending[m->npending++] = (pending_conn){fd, owt_now()};
}

/* Everything worker i has handed off so far. */
static void take_from(master *m, size_t i) {
  worker *w = &m->workers[i];
  for (int fd; w->chan >= 0;) {
    owt_err e = owt_handoff_recv(w->chan, &fd);
    if (e != OWT_OK) { /* its end is closed: it has exited */
      close(w->chan);
      w->chan = -1;
      return;
    }
    if (fd < 0) return;
    if (!pass_on(m, fd, i)) hold(m, fd);
  }
}

static void pass_on_pending(master *m) {
  size_t kept = 0;
  double now = owt_now();
  for (size_t i = 0; i < m->npending; i++) {
    pending_conn c = m->pending[i];
    if (pass_on(m, c.fd, SIZE_MAX)) continue;
    if (m->stopping || now - c.since > PENDING_SECONDS) close(c.fd);
    else m->pending[kept++] = c;
  }
  m->npending = kept;
}

static void reap(master *m) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (size_t i = 0; i < m->board->n; i++) {
      worker *w = &m->workers[i];
      if (w->pid != pid) continue;
      int expected = m->stopping || w->old || w->term_sent;
      log_death(pid, status, expected);
      if (WIFEXITED(status) && WEXITSTATUS(status) == OWT_EXIT_CONFIG && !w->old) {
        owt_log(OWT_LOG_ERROR, "a worker could not start (see above): stopping");
        m->fatal = 1;
      }
      double lived = owt_now() - w->started;
      /* Dying inside a request is that request's fault (a segfault, os._exit):
       * the worker had started fine, so it does not count toward the backoff. */
      owt_slot *slot = owt_scoreboard_slot(m->board, i);
      size_t busy = 0;
      owt_scoreboard_oldest(m->board, slot, &busy);
      int in_request = busy > 0;
      if (!expected && !in_request && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        m->fast_deaths = lived < FAST_DEATH_SECONDS ? m->fast_deaths + 1 : 0;
      } else if (lived >= FAST_DEATH_SECONDS || in_request) {
        m->fast_deaths = 0;
      }
      owt_scoreboard_retire(m->board, &slot->worker);
      slot->in_use = 0;
      take_from(m, i); /* what it handed off just before it went */
      if (w->chan >= 0) close(w->chan);
      *w = (worker){0, 0, 0, 0, -1, 0};
      break;
    }
  }
}

/* A worker that drains by itself (recycling, a stuck request) says so on
 * the scoreboard: it becomes "old" and its replacement starts now, not
 * when it has finished. */
static void replace_retiring(master *m) {
  for (size_t i = 0; i < m->board->n; i++) {
    worker *w = &m->workers[i];
    if (!w->pid || w->old || w->term_sent || m->stopping) continue;
    if (!owt_scoreboard_slot(m->board, i)->worker.retiring) continue;
    owt_log(OWT_LOG_INFO, "worker %ld is retiring: starting its replacement", (long)w->pid);
    w->old = 1;
  }
}

static void schedule_respawns(master *m) {
  if (m->stopping || m->fatal || live_current(m) >= m->wanted || m->respawn_at) return;
  double delay = 0;
  if (m->fast_deaths > 1) {
    delay = 0.1 * (double)(1u << (m->fast_deaths < 8 ? m->fast_deaths : 8));
    if (delay > MAX_BACKOFF_SECONDS) delay = MAX_BACKOFF_SECONDS;
    owt_log(OWT_LOG_WARNING, "%d workers died young in a row: next start in %.1f s",
            m->fast_deaths, delay);
  }
  m->respawn_at = owt_now() + delay;
}

static void do_respawns(master *m) {
  if (!m->respawn_at || owt_now() < m->respawn_at) return;
  m->respawn_at = 0;
  while (!m->stopping && !m->fatal && live_current(m) < m->wanted)
    if (spawn_worker(m) < 0) break;
}

static void ask_to_stop(worker *w) {
  if (!w->pid || w->term_sent) return;
  kill(w->pid, SIGTERM);
  w->term_sent = owt_now();
}

static void reload(master *m) {
  owt_log(OWT_LOG_INFO, "SIGHUP: starting new workers; old ones finish their requests");
  m->generation++;
  for (size_t i = 0; i < m->board->n; i++)
    if (m->workers[i].pid) m->workers[i].old = 1;
  m->fast_deaths = 0;
  for (size_t i = 0; i < m->wanted; i++)
    if (spawn_worker(m) < 0) break;
  for (size_t i = 0; i < m->board->n; i++)
    if (m->workers[i].old) ask_to_stop(&m->workers[i]);
}

static void begin_stop(master *m, int sig) {
  if (m->stopping) return;
  owt_log(OWT_LOG_INFO, "%s: draining (at most %.0f s)", strsignal(sig), m->cfg->grace_timeout);
  m->stopping = 1;
  m->stop_deadline = owt_now() + m->cfg->grace_timeout;
  for (size_t i = 0; i < m->board->n; i++) ask_to_stop(&m->workers[i]);
  /* From now on the master answers new connections itself (503), so they
   * are told at once instead of waiting in the backlog for a worker that
   * will never accept. Non-blocking: an accept a worker won must not stall
   * the master; workers asked to stop no longer accept. */
  fcntl(m->listen_fd, F_SETFL, fcntl(m->listen_fd, F_GETFL) | O_NONBLOCK);
}

/* During the drain: a 503 for every connection waiting on the socket. */
static void refuse_while_draining(master *m) {
  for (int i = 0; i < 64; i++) {
    struct pollfd p = {m->listen_fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return;
    int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return;
    owt_reject_connection(fd, m->busy_reply, m->busy_reply_len, 64 * 1024, 500);
  }
}

/* Kill what will not end by itself: a worker busy far past its timeout
 * (stuck in C with the deadline unable to act), old or draining workers
 * past the grace time. */
static void watchdog(master *m) {
  double now = owt_now();
  const owt_config *cfg = m->cfg;
  for (size_t i = 0; i < m->board->n; i++) {
    worker *w = &m->workers[i];
    owt_slot *s = owt_scoreboard_slot(m->board, i);
    if (!w->pid || w->killed) continue;
    /* A worker answers its own stuck request at timeout + kill-grace and
     * drains by itself within --grace-timeout; this is the backstop for one
     * that cannot act at all (stopped, or its watchdog wedged). */
    double busy_since = owt_scoreboard_oldest(m->board, s, NULL);
    double limit = cfg->timeout + cfg->kill_grace + HANG_MARGIN_SECONDS;
    if (s->worker.retiring) limit += cfg->grace_timeout; /* it noticed, and drains */
    int hung = cfg->timeout > 0 && busy_since > 0 && now - busy_since > limit;
    int overstayed = w->term_sent && now - w->term_sent > cfg->grace_timeout + HANG_MARGIN_SECONDS;
    if (!hung && !overstayed) continue;
    owt_log(OWT_LOG_ERROR, "killing worker %ld: %s", (long)w->pid,
            hung ? "a request is busy far past --timeout, --kill-grace and --grace-timeout"
                 : "still running after --grace-timeout");
    kill(w->pid, SIGKILL);
    s->kills++;
    w->killed = 1;
    w->term_sent = now;
  }
}

int owt_master_run(const owt_config *cfg, int listen_fd, owt_scoreboard *board, owt_worker_fn fn,
                   void *ctx) {
  sigset_t set;
  master m;
  memset(&m, 0, sizeof m);
  m.cfg = cfg;
  m.listen_fd = listen_fd;
  m.board = board;
  m.fn = fn;
  m.ctx = ctx;
  m.wanted = cfg->workers;
  m.generation = 1;
  static const owt_header retry = {OWT_STR_LIT("Retry-After"), OWT_STR_LIT("1")};
  owt_buf busy = OWT_BUF_FIXED(m.busy_reply);
  if (owt_response_canned(&busy, OWT_E_UNAVAILABLE, OWT_STR_LIT("the server is shutting down"), &retry, 1) ==
      OWT_OK)
    m.busy_reply_len = busy.len;
  m.workers = calloc(board->n, sizeof *m.workers);
  struct pollfd *p = calloc(board->n + 1, sizeof *p);
  size_t *of = calloc(board->n + 1, sizeof *of);
  sigset_master(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);
  m.sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (!m.workers || !p || !of || m.sig_fd < 0) {
    owt_log(OWT_LOG_ERROR, "the master cannot start: %s", strerror(errno));
    free(m.workers), free(p), free(of);
    return 1;
  }
  for (size_t i = 0; i < board->n; i++) m.workers[i].chan = -1;
  signal(SIGPIPE, SIG_IGN);

  for (size_t i = 0; i < m.wanted; i++) spawn_worker(&m);
  while (!(m.stopping || m.fatal) || live_total(&m) > 0) {
    /* Draining, the master also answers the socket: look at it often. */
    double tick = m.stopping ? DRAIN_TICK_SECONDS : TICK_SECONDS;
    size_t n = 0;
    p[n++] = (struct pollfd){m.sig_fd, POLLIN, 0};
    for (size_t i = 0; i < board->n; i++) {
      if (m.workers[i].chan < 0) continue;
      of[n] = i;
      p[n++] = (struct pollfd){m.workers[i].chan, POLLIN, 0};
    }
    if (poll(p, n, (int)(tick * 1000)) < 0 && errno != EINTR) {
      owt_log(OWT_LOG_ERROR, "poll: %s", strerror(errno));
      break;
    }
    struct signalfd_siginfo si;
    while (read(m.sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
      int sig = (int)si.ssi_signo;
      if (sig == SIGHUP && !m.stopping) reload(&m);
      else if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) begin_stop(&m, sig);
    }
    for (size_t k = 1; k < n; k++)
      if (p[k].revents) take_from(&m, of[k]);
    reap(&m); /* SIGCHLDs coalesce: always look */
    if (m.fatal && !m.stopping) begin_stop(&m, SIGTERM);
    replace_retiring(&m);
    schedule_respawns(&m);
    do_respawns(&m);
    if (m.npending) pass_on_pending(&m);
    watchdog(&m);
    if (m.stopping) refuse_while_draining(&m);
    if (m.stopping && owt_now() > m.stop_deadline + 1.0) {
      for (size_t i = 0; i < board->n; i++)
        if (m.workers[i].pid) kill(m.workers[i].pid, SIGKILL);
    }
  }
  for (size_t i = 0; i < m.npending; i++) close(m.pending[i].fd);
  for (size_t i = 0; i < board->n; i++)
    if (m.workers[i].chan >= 0) close(m.workers[i].chan);
  close(m.sig_fd);
  free(m.workers), free(p), free(of);
  owt_log(OWT_LOG_INFO, "master exiting (%llu kept connections passed between workers)",
          (unsigned long long)m.handed_off);
  return m.fatal ? 1 : 0;
}

owt_err owt_master_drop_privileges(const owt_config *cfg, const char *socket_path) {
  if (!cfg->user && !cfg->group) return OWT_OK;
  if (geteuid() != 0) {
    owt_log(OWT_LOG_WARNING, "--user/--group ignored: not running as root");
    return OWT_OK;
  }
  gid_t gid = 0;
  uid_t uid = 0;
  const char *user_name = NULL;
  if (cfg->user) {
    struct passwd *pw = getpwnam(cfg->user);
    if (!pw) return owt_log(OWT_LOG_ERROR, "--user %s: no such user", cfg->user), OWT_E_NOT_FOUND;
    uid = pw->pw_uid;
    gid = pw->pw_gid;
    user_name = pw->pw_name;
  }
  if (cfg->group) {
    struct group *gr = getgrnam(cfg->group);
    if (!gr) return owt_log(OWT_LOG_ERROR, "--group %s: no such group", cfg->group), OWT_E_NOT_FOUND;
    gid = gr->gr_gid;
  }
  if (socket_path && chown(socket_path, cfg->user ? uid : (uid_t)-1, gid) != 0)
    return owt_log(OWT_LOG_ERROR, "chown %s: %s", socket_path, strerror(errno)), OWT_E_INTERNAL;
  if ((cfg->group || cfg->user) && setgid(gid) != 0)
    return owt_log(OWT_LOG_ERROR, "setgid: %s", strerror(errno)), OWT_E_INTERNAL;
  if (user_name && initgroups(user_name, gid) != 0)
    return owt_log(OWT_LOG_ERROR, "initgroups: %s", strerror(errno)), OWT_E_INTERNAL;
  if (cfg->user && setuid(uid) != 0)
    return owt_log(OWT_LOG_ERROR, "setuid: %s", strerror(errno)), OWT_E_INTERNAL;
  owt_log(OWT_LOG_INFO, "running as uid %ld gid %ld", (long)getuid(), (long)getgid());
  return OWT_OK;
}
