/* owt_worker.c - request threads, their dispatcher and watchdog.
 *
 * Threads take connections in leader/follower turns: one idle thread (the
 * leader) waits on the listening socket, accepts and serves what it
 * accepted, then leads again. The lead passes to an idle thread (a follower)
 * only when nobody has led for PROMOTE_SECONDS and a connection waits: the
 * dispatcher sees to it (promote). So quick requests are served one after
 * another by one thread, as with --threads 1, with no thread woken and no
 * GIL handed between threads per request; slow ones (a model call, a sleep)
 * fan out over the idle threads, a millisecond apart at most. A busy worker
 * has no leader and accepts nothing: its backlog stays in the kernel for
 * other workers. The process's first thread (the dispatcher) holds the
 * connections that have nothing to read yet (a new one that has not sent its
 * request, a kept one between requests) and queues them for the threads when
 * they do; it also keeps every request's clocks, the stop signals and the
 * process hygiene. Nothing here blocks on the GIL but the interrupter. */
#define _GNU_SOURCE 1 /* accept4, POLLRDHUP */
#include "owt_worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "owt_allow.h"
#include "owt_flight.h"
#include "owt_handoff.h"
#include "owt_hygiene.h"
#include "owt_io_fcgx.h"
#include "owt_log.h"
#include "owt_reject.h"
#include "owt_response.h"

#define TICK_SECONDS 0.1        /* the dispatcher's longest sleep: deadlines land this late at most */
#define PROMOTE_SECONDS 0.001   /* a worker with idle threads and nobody accepting: a follower takes
                                   the lead once it has been so this long and a connection waits */
#define WATCH_GAP_MAX 0.010    /* the dispatcher's longest look-out gap while a leader accepts
                                   (promotion_due): what a first slow request may wait for its
                                   follower on top of PROMOTE_SECONDS */
#define WATCH_CLIENT_AFTER 0.010 /* a request's connection is polled for a departed client once
                                   the request is this old: a quick one is over before, and
                                   polling it would wake the dispatcher when it ends */
#define HYGIENE_SECONDS 0.25    /* process-wide state checked and restored this often */
#define REAP_SECONDS 1.0        /* zombie children looked for this often */
#define MAX_WATCHED 4096        /* connections waiting for data (new + kept) */
#define ACCEPT_RETRY_MS 10      /* out of descriptors or memory: accept again this much later */
#define ACCEPT_WARN_SECONDS 10.0 /* and say so at most this often */
#define STRAY_WARN_SECONDS 10.0  /* a caught timer or limit signal: said at most this often */
#define N_STRAY_SIGNALS 5        /* stray_signals[] */
#define DRAIN_NEW_SECONDS 1.0   /* draining, a new connection gets this long to send its request */
#define WEDGED_SECONDS 1.0      /* an interrupt waiting this long (or half of --kill-grace) for the
                                   GIL, at the hard deadline: the GIL is held for good */
#define FINISH_DRAIN_MAX (256u << 10) /* unread request body read and dropped before a close */
#define LINGER_MS 1000          /* a close with body left unread waits this long for the peer */
#define THREAD_STACK (4u << 20) /* per request thread: ample for Python (3.11 keeps its frames off
                                   the C stack), and address space counts under --memory-limit */

/* The soft-deadline kick: interrupts a blocking call (pause()) in one
 * request thread so its pending Timeout can land. */
#define KICK_SIGNAL (SIGRTMIN + 5)

enum { CONN_NEW = 1, CONN_KEPT = 2 };

typedef struct {
  int fd;
  int kind;
  double since; /* monotonic: when it started waiting */
} conn;

typedef enum {
  DRAIN_NONE = 0,
  DRAIN_SIGNAL,  /* asked to stop */
  DRAIN_RECYCLE, /* --max-requests, --max-rss */
  DRAIN_STUCK,   /* a request would not stop: answered 504, the process must go */
} drain_reason;

typedef struct owt_worker owt_worker;

typedef struct {
  owt_worker *w;
  size_t index;
  pthread_t tid;
  int started;
  owt_flight flight;
  FCGX_Request fcgx;
  owt_ctx ctx;
  owt_py_thread *py;
  /* under w->lock */
  pthread_cond_t wake_cv; /* it waits here when idle and not leading */
  int woken;         /* taken off the idle stack: it has something to do */
  int busy;          /* holds a connection */
  uint64_t ticket;   /* the request in Python (0: none) */
  double soft_at;    /* monotonic deadlines; 0: no limit */
  double hard_at;
  int soft_done;
  int hard_done;
  int abandoned;     /* taken over: the worker will not wait for it */
  int watch_fd;      /* the connection, once its body is read: the client may leave */
  double armed_at;   /* monotonic: when its request went to Python */
  int client_gone;
  pid_t os_tid;           /* its kernel thread id, once started */
  owt_hygiene_task task;  /* its nice value, CPU affinity, scheduling: what it must keep */
  unsigned tend;          /* OWT_HYGIENE_* bits the sweep saw changed: put back before the next
                             request (atomic: read on every request without the lock) */
} rthread;

typedef struct {
  rthread *target;
  uint64_t ticket;
  owt_py_reason why;
} interrupt_req;

struct owt_worker {
  owt_server *srv;
  const owt_config *cfg;
  int listen_fd;
  int handoff_fd;            /* the channel to the master (-1: no master); constant */
  size_t nthreads;
  rthread *threads;
  pthread_mutex_t lock;
  /* under lock */
  conn ready[MAX_WATCHED];   /* connections with data, for any thread (a ring) */
  size_t ready_head, ready_len;
  conn *handback;            /* connections threads give the dispatcher to wait on */
  size_t nhandback;          /* at most MAX_WATCHED */
  rthread *idle[OWT_CONFIG_MAX_THREADS]; /* followers: idle threads, the last one to go idle on top */
  size_t nidle;
  size_t nbusy;              /* threads holding a connection (t->busy) */
  int has_leader;
  int leader_called;         /* a ready connection woke the leader (push_ready) */
  double leaderless_since;   /* monotonic: when the worker last lost its leader (go_serve), or a
                                follower was promoted */
  int promote_watch;         /* the dispatcher looks out for a promotion (promotion_due) */
  double watch_gap;          /* and how long it sleeps between looks that find a leader accepting:
                                PROMOTE_SECONDS when the watch starts and after a promotion,
                                twice as long after each such look, up to WATCH_GAP_MAX */
  double stray_warned_at[N_STRAY_SIGNALS]; /* the dispatcher's: the last line about each */
  unsigned long strays[N_STRAY_SIGNALS];   /* caught since that line */
  double accept_warned_at;   /* the leader's alone (leads follow one another under lock): when
                                it last logged that accept4 failed for want of resources */
  double starved_since;      /* the leader's alone: since when accept4 has failed so (0: it has not) */
  int stopping;              /* threads return once nothing is ready */
  drain_reason drain;        /* once set, no more accepting */
  drain_reason drain_asked;  /* a thread asks the dispatcher to drain */
  interrupt_req irq[OWT_CONFIG_MAX_THREADS * 2];
  size_t nirq;
  int irq_stop;
  double irq_since;          /* monotonic start of the interrupt being delivered (0: none) */
  pthread_cond_t irq_cv;
  /* the dispatcher's own */
  conn watched[MAX_WATCHED];
  size_t nwatched;
  double drain_deadline;
  int handoff_live;          /* the master's end is open (the dispatcher's own) */
  uint64_t handed_off;       /* kept connections given to the master */
  uint64_t passed_new;       /* new ones given to it for a worker with a free thread */
  int log_fd;                /* the worker's private copy of fd 2 (-1: none) */
  int wake_fd;               /* eventfd: wakes the dispatcher */
  int leader_fd;             /* eventfd: wakes the leader out of its poll */
  pthread_t interrupter;
  int interrupter_started;
  owt_hygiene hygiene;
  char timeout_reply[512];   /* the 504 a stuck request gets */
  size_t timeout_reply_len;
  char wedged_reply[512];    /* the 503 the others get when it holds the GIL for good */
  size_t wedged_reply_len;
  int wedged;                /* the GIL is held for good: nothing in flight can finish */
};

/* The one process-wide value a signal handler needs: where to say it. */
static int signal_pipe[2] = {-1, -1};

/* The dispatcher acts on it (on_signals). */
static void forward_signal(int signo) {
  int saved = errno;
  unsigned char b = (unsigned char)signo;
  ssize_t ignored = write(signal_pipe[1], &b, 1);
  (void)ignored;
  errno = saved;
}

static void on_kick(int signo) { (void)signo; }

static const int stop_signals[] = {SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGHUP};

/* What an adaptor's timer (signal.alarm, signal.setitimer) or a resource
 * limit it set (RLIMIT_CPU, RLIMIT_FSIZE) sends. Each would end the worker
 * and every request in it. No adaptor can have a handler for them (Python's
 * signal.signal works only in the main thread, the dispatcher), so they are
 * caught, dropped and logged; a write past RLIMIT_FSIZE fails with EFBIG
 * instead. A handler, not SIG_IGN: a program an adaptor starts gets the
 * default action back at exec. */
static const int stray_signals[N_STRAY_SIGNALS] = {SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ};

/* Its index in stray_signals, or -1. */
static int stray_index(int signo) {
  for (int i = 0; i < N_STRAY_SIGNALS; i++)
    if (stray_signals[i] == signo) return i;
  return -1;
}

static int install_signals(void) {
  struct sigaction sa;
  if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  /* SA_RESTART: a stop signal that lands in a request thread must not fail
   * its FastCGI read or write (libfcgi does not retry EINTR). */
  sa.sa_flags = SA_RESTART;
  sa.sa_handler = forward_signal;
  for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) sigaction(stop_signals[i], &sa, NULL);
  for (size_t i = 0; i < N_STRAY_SIGNALS; i++) sigaction(stray_signals[i], &sa, NULL);
  sa.sa_flags = 0; /* the kick exists to interrupt */
  sa.sa_handler = on_kick;
  sigaction(KICK_SIGNAL, &sa, NULL);
  signal(SIGPIPE, SIG_IGN); /* a gone client is a write error, not a death */
  signal(SIGCHLD, SIG_DFL); /* children are waited for by whoever started them (or reaped) */
  /* A master forks its workers with these blocked (lib/owt_master.h): one
   * that arrived while the worker started is handled now. No thread keeps
   * them blocked: programs adaptors start inherit the mask. */
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) sigaddset(&set, stop_signals[i]);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, KICK_SIGNAL);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  return 0;
}

static void wake(int efd) {
  uint64_t one = 1;
  ssize_t ignored = write(efd, &one, sizeof one);
  (void)ignored;
}

static void drain_eventfd(int efd) {
  uint64_t v;
  ssize_t ignored = read(efd, &v, sizeof v);
  (void)ignored;
}

/* ---- closing connections ---------------------------------------------------- */

/* Close a connection whose peer may still be sending (a body we did not
 * read): a plain close() with unread data makes the kernel answer with a
 * reset, which can destroy the response in the web server's buffers. Wait
 * (bounded) for the peer to finish first. */
static void linger_close(int fd) {
  char sink[4096];
  double until = owt_monotonic() + LINGER_MS / 1000.0;
  shutdown(fd, SHUT_WR);
  for (;;) {
    int left = (int)((until - owt_monotonic()) * 1000);
    struct pollfd p = {fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) <= 0) break;
    ssize_t n = read(fd, sink, sizeof sink);
    if (n <= 0 && !(n < 0 && errno == EINTR)) break;
  }
  close(fd);
}

/* ---- the request threads ------------------------------------------------------ */

static void queue_interrupt(owt_worker *w, rthread *t, owt_py_reason why) {
  /* w->lock held */
  if (w->nirq < sizeof w->irq / sizeof w->irq[0]) {
    w->irq[w->nirq++] = (interrupt_req){t, t->ticket, why};
    pthread_cond_signal(&w->irq_cv);
  }
}

static void thread_arm(void *arg, uint64_t ticket) {
  rthread *t = arg;
  owt_worker *w = t->w;
  const owt_config *cfg = w->cfg;
  double now = owt_monotonic();
  pthread_mutex_lock(&w->lock);
  t->ticket = ticket;
  t->soft_at = cfg->timeout > 0 ? now + cfg->timeout : 0;
  t->hard_at = cfg->timeout > 0 ? now + cfg->timeout + (cfg->kill_grace > 0 ? cfg->kill_grace : 1) : 0;
  t->soft_done = t->hard_done = 0;
  t->watch_fd = t->fcgx.ipcFd;
  t->armed_at = now;
  t->client_gone = 0;
  pthread_mutex_unlock(&w->lock);
}

static int thread_disarm(void *arg) {
  rthread *t = arg;
  owt_worker *w = t->w;
  pthread_mutex_lock(&w->lock);
  int fired = t->soft_done;
  t->ticket = 0;
  t->soft_at = t->hard_at = 0;
  t->watch_fd = -1;
  pthread_mutex_unlock(&w->lock);
  return fired;
}

/* From a request thread: ask the dispatcher to drain (recycling). */
static void ask_drain(owt_worker *w, drain_reason why) {
  pthread_mutex_lock(&w->lock);
  if (!w->drain_asked) w->drain_asked = why;
  pthread_mutex_unlock(&w->lock);
  wake(w->wake_fd);
}

/* The highest RSS this process has had (one getrusage, cheap enough to ask
 * after every request; /proc/self/statm is read only once this is past the
 * line). */
static uint64_t peak_rss_bytes(void) {
  struct rusage ru;
  return getrusage(RUSAGE_SELF, &ru) == 0 ? (uint64_t)ru.ru_maxrss * 1024 : 0;
}

/* --max-requests and --max-rss: a worker that has served enough, or grown
 * too big, ends after its requests in flight; its manager (our master,
 * lighttpd, mod_fcgid) starts a fresh one. */
static void check_recycle(owt_worker *w) {
  const owt_config *cfg = w->cfg;
  const owt_stats *s = &w->srv->slot->worker;
  uint64_t done = owt_stats_get(&s->requests);
  if (cfg->max_requests && done >= cfg->max_requests) {
    if (done == cfg->max_requests)
      owt_log(OWT_LOG_INFO, "recycling after %llu requests (--max-requests)", (unsigned long long)done);
    ask_drain(w, DRAIN_RECYCLE);
    return;
  }
  if (cfg->max_rss_bytes && peak_rss_bytes() > cfg->max_rss_bytes) {
    /* The peak passed the line at some point: now read the current RSS. */
    uint64_t rss = owt_stats_rss();
    if (rss > cfg->max_rss_bytes) {
      owt_log(OWT_LOG_WARNING, "recycling: RSS %llu MB is over --max-rss %llu MB",
              (unsigned long long)(rss >> 20), (unsigned long long)(cfg->max_rss_bytes >> 20));
      ask_drain(w, DRAIN_RECYCLE);
    }
  }
}

/* End the request on t's connection. Returns the fd when the web server
 * keeps the connection for another request, else -1 (closed). */
static int finish_request(rthread *t, int web_keeps) {
  FCGX_Request *r = &t->fcgx;
  int fd = r->ipcFd;
  char sink[4096];
  size_t drained = 0;
  if (owt_flight_taken_over(&t->flight) || t->ctx.cut) {
    /* The watchdog answered for this request, or its reply failed half
     * way: drop what libfcgi buffered without writing a byte of it, and
     * close the connection with no FastCGI end of request; a failed reply
     * also gets the abort record, so the web server ends the client's
     * response as incomplete (a bare close is a complete body to nginx). */
    if (!owt_flight_taken_over(&t->flight) && fd >= 0) owt_reject_abort(fd);
    FCGX_Free(r, 0);
    owt_flight_bind(&t->flight, -1, 0);
    r->ipcFd = -1;
    if (fd >= 0) close(fd);
    return -1;
  }
  owt_flight_read_begin(&t->flight);
  while (r->in && !FCGX_HasSeenEOF(r->in) && drained < FINISH_DRAIN_MAX) {
    int n = FCGX_GetStr(sink, sizeof sink, r->in);
    if (n <= 0) break;
    drained += (size_t)n;
  }
  owt_flight_read_end(&t->flight);
  int at_eof = r->in && FCGX_HasSeenEOF(r->in) && !FCGX_GetError(r->in);
  /* libfcgi must not close: its close lingers with select(), which cannot
   * take fds past FD_SETSIZE; we close (or linger) below. */
  r->keepConnection = 1;
  r->detached = 1;
  if (owt_flight_write_begin(&t->flight) == OWT_OK) {
    FCGX_Finish_r(r); /* flushes, END_REQUEST; closes only on a stream error */
    owt_flight_write_end(&t->flight);
  } else {
    FCGX_Free(r, 0);
  }
  fd = r->ipcFd;
  r->ipcFd = -1;
  pthread_mutex_lock(&t->w->lock);
  int stopping = t->w->drain != DRAIN_NONE;
  pthread_mutex_unlock(&t->w->lock);
  /* Draining, a connection the web server keeps goes to the master (and on
   * to a worker that stays) when there is one: closing it could lose the
   * request the web server may be sending on it right now. */
  int keep = !stopping || t->w->handoff_fd >= 0;
  if (fd >= 0 && web_keeps && at_eof && keep && !owt_flight_taken_over(&t->flight)) {
    owt_flight_bind(&t->flight, -1, 0);
    return fd;
  }
  owt_flight_bind(&t->flight, -1, 0);
  if (fd >= 0) {
    if (at_eof) close(fd);
    else linger_close(fd);
  }
  return -1;
}

/* Give the dispatcher a connection to wait on: a kept one between requests,
 * or a new one that has not sent its request yet. */
static int queue_handback(owt_worker *w, int fd, int kind) {
  /* w->lock held. 1: queued, the dispatcher is to be woken. */
  if (w->nhandback >= MAX_WATCHED) {
    close(fd); /* more idle connections than can be watched */
    return 0;
  }
  w->handback[w->nhandback++] = (conn){fd, kind, owt_monotonic()};
  return 1;
}

static void hand_back(owt_worker *w, int fd, int kind) {
  pthread_mutex_lock(&w->lock);
  int queued = queue_handback(w, fd, kind);
  pthread_mutex_unlock(&w->lock);
  if (queued) wake(w->wake_fd); /* after the unlock: the dispatcher takes the lock at once */
}

/* The calling request thread's signal mask, when the wrapped
 * signal.pthread_sigmask was called in it, or when force is set (the sweep
 * saw it changed). */
static void put_back_mask(owt_worker *w, int force) {
  if (owt_hygiene_restore_thread(&w->hygiene, force))
    owt_log(OWT_LOG_WARNING, "an adaptor changed its thread's signal mask: restored");
}

static void serve(rthread *t, int fd) {
  owt_worker *w = t->w;
  FCGX_Request *r = &t->fcgx;
  owt_io io;
  owt_io_fcgx fx;
  r->ipcFd = fd;
  r->keepConnection = 1; /* FCGX_Accept_r first "finishes" a previous request: not this fd */
  r->detached = 1;       /* and if it gives up on the fd, it closes without lingering */
  owt_flight_bind(&t->flight, fd, 0);
  owt_flight_read_begin(&t->flight);
  int rc = FCGX_Accept_r(r);
  owt_flight_read_end(&t->flight);
  if (rc < 0) { /* no request came (peer closed, garbage): libfcgi closed the fd */
    r->ipcFd = -1;
    owt_flight_bind(&t->flight, -1, 0);
    return;
  }
  int web_keeps = r->keepConnection;
  owt_flight_bind(&t->flight, fd, (unsigned)r->requestId);
  owt_io_fcgx_bind(&io, &fx, r, &t->flight);
  owt_server_handle(&t->ctx, &io);
  int kept = finish_request(t, web_keeps);
  put_back_mask(w, 0);
  check_recycle(w);
  if (kept >= 0) hand_back(w, kept, CONN_KEPT);
}

/* Whether a warning last said at *said_at (0: never) may be said again now,
 * at most once every `every` seconds; if so, now is when it was said. */
static int time_to_say(double *said_at, double now, double every) {
  if (*said_at != 0 && now - *said_at < every) return 0;
  *said_at = now;
  return 1;
}

/* accept4 failed for want of descriptors or memory. The connection stays
 * queued and the next poll would say so at once: wait a little for them to
 * come free (unless called), and say why, now and then. */
static void back_off_accept(owt_worker *w, int err) {
  double now = owt_monotonic();
  if (time_to_say(&w->accept_warned_at, now, ACCEPT_WARN_SECONDS)) {
    owt_log(OWT_LOG_WARNING, "cannot accept a FastCGI connection: %s; trying again every %d ms (quiet "
            "connections are closed after --io-timeout)", strerror(err), ACCEPT_RETRY_MS);
  }
  /* Quiet connections give their descriptors back at --io-timeout. Still
   * none long after that, something else holds them (an adaptor that leaks
   * one a request): only a new worker will have any. */
  if (w->starved_since == 0) w->starved_since = now;
  else if (now - w->starved_since > w->cfg->io_timeout + 1) {
    owt_log(OWT_LOG_ERROR, "no descriptor to accept a connection with for %.0f s, longer than --io-timeout: "
            "recycling (an adaptor leaking descriptors?)", now - w->starved_since);
    ask_drain(w, DRAIN_RECYCLE);
    w->starved_since = now; /* said once per --io-timeout while the drain goes on */
  }
  struct pollfd call = {w->leader_fd, POLLIN, 0};
  if (poll(&call, 1, ACCEPT_RETRY_MS) > 0) drain_eventfd(w->leader_fd);
}

/* Accept one connection as the leader. Returns its fd, or -1 when there is
 * nothing to accept now (another worker won it, or the leader was woken).
 * A busy worker's next connection is usually waiting: it is taken without
 * a poll first (the listening socket is non-blocking). */
static int lead_accept(owt_worker *w) {
  int fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) {
    struct pollfd p[2] = {{w->listen_fd, POLLIN, 0}, {w->leader_fd, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) return -1;
    if (p[1].revents & POLLIN) {
      drain_eventfd(w->leader_fd);
      return -1; /* work is ready here: take it before accepting more */
    }
    if (!(p[0].revents & POLLIN)) return -1;
    fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) back_off_accept(w, errno);
      return -1;
    }
  }
  w->starved_since = 0;
  if (!owt_allow_check_fd(&w->cfg->allow_from, fd)) {
    owt_log(OWT_LOG_WARNING, "refused a FastCGI connection from a peer not in --allow-from");
    close(fd); /* no response at all, as libfcgi does for FCGI_WEB_SERVER_ADDRS */
    return -1;
  }
  return fd;
}

/* Idle threads that do not lead wait as followers, each on its own
 * condition, so that every wake-up reaches a different one: a ready
 * connection or the lead handed on is never lost to a thread that was
 * already woken for something else. The last one to go idle is woken
 * first: its stack and its Python thread state are the warmest. */
static void follow(owt_worker *w, rthread *t) {
  /* w->lock held */
  t->woken = 0;
  w->idle[w->nidle++] = t;
  while (!t->woken) pthread_cond_wait(&t->wake_cv, &w->lock);
}

/* w->lock held. 0: no follower to wake. */
static int wake_idle(owt_worker *w) {
  if (!w->nidle) return 0;
  rthread *t = w->idle[--w->nidle];
  t->woken = 1;
  pthread_cond_signal(&t->wake_cv);
  return 1;
}

/* w->lock held: a follower takes over the lead or a ready connection
 * because the leader is busy (counted: /_owt/status "promotions"). 0: no
 * follower to wake. */
static int wake_follower(owt_worker *w) {
  if (!wake_idle(w)) return 0;
  owt_stats_add(&w->srv->slot->worker.promotions, 1);
  return 1;
}

/* w->lock held: t goes to serve a connection (one it accepted as the
 * leader, or a ready one) with no other thread leading: the worker has no
 * leader until a follower is promoted or t comes back. */
static void go_serve(owt_worker *w, rthread *t) {
  w->leaderless_since = owt_monotonic();
  t->busy = 1;
  w->nbusy++;
  if (w->nidle && !w->promote_watch) { /* the dispatcher may sleep a whole tick: tell it */
    w->promote_watch = 1;
    w->watch_gap = PROMOTE_SECONDS;
    wake(w->wake_fd);
  }
}

/* The next connection for thread t to serve: one with data queued by the
 * dispatcher, or one it accepts as the leader. -1 when the worker stops. */
static int next_connection(rthread *t) {
  owt_worker *w = t->w;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    if (w->ready_len) {
      conn c = w->ready[w->ready_head];
      w->ready_head = (w->ready_head + 1) % MAX_WATCHED;
      w->ready_len--;
      if (w->has_leader) {
        t->busy = 1;
        w->nbusy++;
      } else {
        go_serve(w, t); /* nobody accepts while it serves: the dispatcher sees to that */
      }
      pthread_mutex_unlock(&w->lock);
      return c.fd;
    }
    if (w->stopping) {
      pthread_mutex_unlock(&w->lock);
      return -1;
    }
    if (w->has_leader || w->drain) {
      follow(w, t);
      continue;
    }
    w->has_leader = 1;
    pthread_mutex_unlock(&w->lock);
    int fd = lead_accept(w);
    pthread_mutex_lock(&w->lock);
    w->has_leader = 0;
    if (w->leader_called) {
      w->leader_called = 0;
      /* Called for a ready connection, it accepted another first: the
       * ready one gets a follower (the ones readied after it got theirs). */
      if (fd >= 0 && w->ready_len) wake_follower(w);
    }
    if (fd < 0) continue;
    /* A web server sends its request right after connecting: serve it here
     * when it is there, else let the dispatcher wait for it (an idle peer
     * must not hold a thread). */
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0) { /* data, or an orderly close libfcgi will see */
      /* The lead is not handed on here: the dispatcher gives it to a
       * follower if this request is still going PROMOTE_SECONDS from now
       * and a connection waits (promote). */
      go_serve(w, t);
      if (w->ready_len && w->nbusy >= w->nthreads) wake(w->wake_fd); /* they would wait: pass them on */
      pthread_mutex_unlock(&w->lock);
      return fd;
    }
    /* Handed back without letting go of the lock: a thread coming back from
     * a request in between would take the lead, and this one would follow. */
    if (queue_handback(w, fd, CONN_NEW)) wake(w->wake_fd);
  }
}

/* What tend_task or watch_threads put back, or could not. */
static void log_task(unsigned changed, unsigned kept) {
  static const struct {
    unsigned bit;
    const char *what;
  } parts[] = {{OWT_HYGIENE_NICE, "nice value"},
               {OWT_HYGIENE_CPUS, "CPU affinity"},
               {OWT_HYGIENE_SCHED, "scheduling policy"}};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    if (!(changed & parts[i].bit)) continue;
    if (kept & parts[i].bit)
      owt_log(OWT_LOG_WARNING, "an adaptor changed its thread's %s, and it may not be put back without "
              "privilege: the thread keeps it%s", parts[i].what,
              parts[i].bit == OWT_HYGIENE_NICE ? " (raising a priority needs CAP_SYS_NICE)" : "");
    else
      owt_log(OWT_LOG_WARNING, "an adaptor changed its thread's %s: restored", parts[i].what);
  }
}

/* Before its next request: put back the thread's signal mask, nice value,
 * CPU affinity or scheduling an adaptor changed, which the sweep saw
 * (watch_threads): a mask at any time (only the thread itself can set it),
 * the rest while the thread was busy. */
static void tend_task(rthread *t) {
  unsigned bits = __atomic_exchange_n(&t->tend, 0, __ATOMIC_RELAXED);
  if (bits & OWT_HYGIENE_MASK) put_back_mask(t->w, 1);
  if (!(bits & (OWT_HYGIENE_NICE | OWT_HYGIENE_CPUS | OWT_HYGIENE_SCHED))) return;
  owt_hygiene_task want = t->task; /* this thread is its only writer */
  unsigned kept = 0, changed = owt_hygiene_task_restore(&want, 0, &kept);
  if (kept) {
    pthread_mutex_lock(&t->w->lock);
    t->task = want;
    pthread_mutex_unlock(&t->w->lock);
  }
  log_task(changed, kept);
}

static void *request_thread(void *arg) {
  rthread *t = arg;
  owt_worker *w = t->w;
  owt_deadline_ops ops = {thread_arm, thread_disarm, t};
  t->py = owt_py_thread_attach(w->srv->py);
  if (!t->py || owt_ctx_init(&t->ctx, w->srv, t->py, t->index, ops) != OWT_OK) {
    owt_log(OWT_LOG_ERROR, "request thread %zu could not start (out of memory)", t->index);
    ask_drain(w, DRAIN_RECYCLE);
    return NULL;
  }
  FCGX_InitRequest(&t->fcgx, -1, 0); /* -1: libfcgi never accepts by itself */
  owt_hygiene_task task;
  owt_hygiene_task_snapshot(&task); /* as the dispatcher's thread that started it */
  pthread_mutex_lock(&w->lock);
  t->task = task;
  t->os_tid = (pid_t)syscall(SYS_gettid);
  pthread_mutex_unlock(&w->lock);
  for (int fd; (fd = next_connection(t)) >= 0;) {
    if (__atomic_load_n(&t->tend, __ATOMIC_RELAXED)) tend_task(t);
    serve(t, fd);
    pthread_mutex_lock(&w->lock);
    t->busy = 0;
    w->nbusy--;
    pthread_mutex_unlock(&w->lock);
  }
  owt_ctx_free(&t->ctx);
  owt_py_thread_detach(t->py);
  return NULL;
}

/* ---- the interrupter: the watchdog's hand inside Python ------------------------- */

static void *interrupter_thread(void *arg) {
  owt_worker *w = arg;
  owt_py_thread *self = owt_py_thread_attach(w->srv->py);
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (!w->nirq && !w->irq_stop) pthread_cond_wait(&w->irq_cv, &w->lock);
    if (!w->nirq) break;
    interrupt_req req = w->irq[0];
    memmove(&w->irq[0], &w->irq[1], --w->nirq * sizeof w->irq[0]);
    w->irq_since = owt_monotonic();
    pthread_mutex_unlock(&w->lock);
    int hit = self && owt_py_interrupt(self, req.target->py, req.ticket, req.why); /* waits for the GIL */
    /* Its Timeout is pending now: kick a blocking call that a signal ends
     * (pause()) so that it lands. Not while it is in FastCGI I/O, whose
     * EINTR libfcgi would take for an error. */
    if (hit && req.why == OWT_PY_TIMEOUT && owt_flight_io_age(&req.target->flight, owt_monotonic()) == 0)
      pthread_kill(req.target->tid, KICK_SIGNAL);
    pthread_mutex_lock(&w->lock);
    w->irq_since = 0;
  }
  pthread_mutex_unlock(&w->lock);
  owt_py_thread_detach(self);
  return NULL;
}

/* ---- the dispatcher ------------------------------------------------------------------ */

static void push_ready(owt_worker *w, conn c) {
  /* w->lock held. The ring holds MAX_WATCHED: as many as can be watched. */
  w->ready[(w->ready_head + w->ready_len) % MAX_WATCHED] = c;
  w->ready_len++;
  /* The leader first, when it waits on the socket: quick requests stay on
   * one thread. Once it is called, the next ones wake followers. */
  if (w->has_leader && !w->leader_called) {
    w->leader_called = 1;
    wake(w->leader_fd);
  } else if (!wake_follower(w) && w->has_leader) {
    wake(w->leader_fd); /* no thread but the leader: it takes them one by one */
  }
}

/* A kept connection this worker will not serve again: to the master, which
 * passes it to a worker that stays, so a request the web server sends on it
 * meanwhile waits there instead of failing. Closed when there is no master
 * (the web server may lose a request it was sending at that moment:
 * docs/reliability.md, "The front server"). */
static void let_go(owt_worker *w, int fd) {
  if (w->handoff_live && owt_handoff_send(w->handoff_fd, fd) == OWT_OK) w->handed_off++;
  close(fd);
}

/* New connections whose request arrived after their leader accepted them,
 * waiting in the ready ring while every thread here holds a connection: the
 * master passes them to a worker with a free thread rather than let them wait
 * behind this worker's requests (nothing was read from them). Only
 * connections this worker accepted itself: one the master passed here stays
 * (CONN_KEPT), so nothing goes round. */
static void pass_waiting_new(owt_worker *w) {
  pthread_mutex_lock(&w->lock);
  if (!w->drain && w->handoff_live && w->ready_len && w->nbusy >= w->nthreads) {
    size_t kept = 0, n = w->ready_len;
    for (size_t k = 0; k < n; k++) {
      conn c = w->ready[(w->ready_head + k) % MAX_WATCHED];
      if (c.kind == CONN_NEW && owt_handoff_send(w->handoff_fd, c.fd) == OWT_OK) {
        w->passed_new++;
        close(c.fd);
        continue;
      }
      w->ready[(w->ready_head + kept++) % MAX_WATCHED] = c;
    }
    w->ready_len = kept;
  }
  pthread_mutex_unlock(&w->lock);
}

/* Draining: kept connections between requests are let go of (nothing more
 * will be served on them here). A new connection this worker accepted is
 * still its own to answer: it stays until it sends its request (or
 * --io-timeout). */
static void drop_kept(owt_worker *w) {
  size_t kept = 0;
  for (size_t i = 0; i < w->nwatched; i++) {
    if (w->watched[i].kind == CONN_KEPT) let_go(w, w->watched[i].fd);
    else w->watched[kept++] = w->watched[i];
  }
  w->nwatched = kept;
}

static void begin_drain(owt_worker *w, drain_reason why, const char *what) {
  if (w->drain) return;
  double now = owt_monotonic();
  owt_log(why == DRAIN_STUCK ? OWT_LOG_ERROR : OWT_LOG_INFO,
          "%s: no more new requests; finishing those in flight (at most %.0f s)", what,
          w->cfg->grace_timeout);
  pthread_mutex_lock(&w->lock);
  w->drain = why;
  if (w->has_leader) wake(w->leader_fd);
  pthread_mutex_unlock(&w->lock);
  w->drain_deadline = now + w->cfg->grace_timeout;
  w->srv->slot->worker.retiring = 1; /* a master starts the replacement now */
  drop_kept(w);
}

/* Kept connections a retiring sibling let go of, passed on by the master:
 * watched like this worker's own. Draining itself, it gives them back. */
static void take_handoffs(owt_worker *w) {
  for (int fd;;) {
    if (owt_handoff_recv(w->handoff_fd, &fd) != OWT_OK) {
      /* The master is gone (killed outright: it would have stopped us
       * first). Serve on: under lighttpd, which adopts a socket that still
       * answers as a backend it did not start, orphans that left would leave
       * nobody on it and lighttpd would not start a new master. */
      w->handoff_live = 0;
      return;
    }
    if (fd < 0) return;
    if (w->drain) let_go(w, fd);
    else if (w->nwatched < MAX_WATCHED) w->watched[w->nwatched++] = (conn){fd, CONN_KEPT, owt_monotonic()};
    else close(fd);
  }
}

/* A stray signal reached the worker (see stray_signals): stop the interval
 * timer that sends it, if one repeats, and say so now and then. */
static void on_stray_signal(owt_worker *w, int i) {
  static const struct itimerval off;
  int signo = stray_signals[i];
  if (signo == SIGALRM) setitimer(ITIMER_REAL, &off, NULL);
  if (signo == SIGVTALRM) setitimer(ITIMER_VIRTUAL, &off, NULL);
  if (signo == SIGPROF) setitimer(ITIMER_PROF, &off, NULL);
  w->strays[i]++;
  if (!time_to_say(&w->stray_warned_at[i], owt_monotonic(), STRAY_WARN_SECONDS)) return;
  owt_log(OWT_LOG_WARNING, "caught SIG%s (%lu since the last such line): dropped%s. An adaptor's "
          "signal.alarm(), signal.setitimer() or resource limit sends it, and it would have ended the "
          "worker; a request's time limit is --timeout", sigabbrev_np(signo), w->strays[i],
          signo == SIGALRM || signo == SIGVTALRM || signo == SIGPROF ? ", its timer stopped" : "");
  w->strays[i] = 0;
}

static void on_signals(owt_worker *w) {
  unsigned char sigs[16];
  ssize_t n = read(signal_pipe[0], sigs, sizeof sigs);
  for (ssize_t i = 0; i < n; i++) {
    int stray = stray_index(sigs[i]);
    if (stray >= 0) {
      on_stray_signal(w, stray);
      continue;
    }
    char what[64];
    snprintf(what, sizeof what, "%s", strsignal(sigs[i]));
    begin_drain(w, DRAIN_SIGNAL, what);
  }
}

/* Move connections threads handed back into the watch list. */
static void take_handbacks(owt_worker *w) {
  pthread_mutex_lock(&w->lock);
  for (size_t i = 0; i < w->nhandback; i++) {
    conn c = w->handback[i];
    if (w->drain && c.kind == CONN_KEPT) {
      let_go(w, c.fd);
      continue;
    }
    if (w->nwatched >= MAX_WATCHED) {
      close(c.fd);
      continue;
    }
    w->watched[w->nwatched++] = c;
  }
  w->nhandback = 0;
  pthread_mutex_unlock(&w->lock);
}

/* The watch list's connections that have data (or hung up) go to the threads;
 * those idle too long are closed. */
static void service_watched(owt_worker *w, const struct pollfd *p, double now, size_t polled) {
  size_t kept = 0;
  pthread_mutex_lock(&w->lock);
  for (size_t i = 0; i < polled; i++) {
    conn c = w->watched[i];
    double limit = c.kind == CONN_NEW ? w->cfg->io_timeout : w->cfg->idle_timeout;
    if (w->drain && c.kind == CONN_NEW && limit > DRAIN_NEW_SECONDS) limit = DRAIN_NEW_SECONDS;
    if (p[i].revents) {
      push_ready(w, c);
    } else if (now - c.since > limit) {
      close(c.fd);
    } else {
      w->watched[kept++] = c;
    }
  }
  w->nwatched = kept;
  pthread_mutex_unlock(&w->lock);
}

/* A request past its timeout and kill-grace: answer it 504 and drain. When
 * even the interrupt that should have stopped it is still waiting for the
 * GIL, the GIL is held for good (C code that never lets go): no other
 * request of this worker can finish either, so each is answered 503 now and
 * the worker exits without waiting out --grace-timeout. */
static void take_over(owt_worker *w, rthread *t) {
  double now = owt_monotonic();
  owt_inflight rec;
  char method[40], path[4 * OWT_INFLIGHT_PATH + 1];
  owt_inflight_read(&w->srv->slot->inflight[t->index], &rec);
  owt_inflight_text(&rec, method, sizeof method, path, sizeof path);
  owt_stats_add(&w->srv->slot->worker.timeouts, 1);
  int answered = owt_flight_take_over(&t->flight, w->timeout_reply, w->timeout_reply_len);
  owt_log(OWT_LOG_ERROR, "the request to %s did not stop %g s after its timeout (stuck outside Python "
          "code?): %s; this worker drains and exits", path, w->cfg->kill_grace,
          answered ? "answered 504" : "its connection was cut");
  pthread_mutex_lock(&w->lock);
  double wedge_after = w->cfg->kill_grace / 2 < WEDGED_SECONDS ? w->cfg->kill_grace / 2 : WEDGED_SECONDS;
  int wedged = w->irq_since > 0 && now - w->irq_since >= wedge_after;
  pthread_mutex_unlock(&w->lock);
  begin_drain(w, DRAIN_STUCK, "a request would not stop");
  if (!wedged || w->wedged) return;
  w->wedged = 1;
  size_t others = 0;
  for (size_t i = 0; i < w->nthreads; i++) {
    rthread *o = &w->threads[i];
    pthread_mutex_lock(&w->lock);
    int busy = o != t && o->busy && !o->abandoned;
    if (busy) o->abandoned = 1;
    pthread_mutex_unlock(&w->lock);
    if (!busy) continue;
    owt_flight_take_over(&o->flight, w->wedged_reply, w->wedged_reply_len);
    others++;
  }
  owt_log(OWT_LOG_ERROR, "it holds the Python interpreter for good: %zu other request(s) answered 503; "
          "exiting now", others);
}

/* Deadlines, stalled I/O and departed clients. Returns the seconds until the
 * next deadline (capped at TICK_SECONDS). */
static double watch_requests(owt_worker *w, const struct pollfd *watch, const uint64_t *watch_ticket,
                             const size_t *watch_thread, size_t nwatch) {
  double now = owt_monotonic(), next = TICK_SECONDS;
  rthread *stuck[OWT_CONFIG_MAX_THREADS];
  size_t nstuck = 0;
  pthread_mutex_lock(&w->lock);
  for (size_t i = 0; i < nwatch; i++) {
    rthread *t = &w->threads[watch_thread[i]];
    if (!watch[i].revents || t->ticket != watch_ticket[i] || t->client_gone) continue;
    t->client_gone = 1; /* the web server ended the request: its client left */
    queue_interrupt(w, t, OWT_PY_CLIENT_GONE);
  }
  for (size_t i = 0; i < w->nthreads; i++) {
    rthread *t = &w->threads[i];
    if (!t->ticket || t->abandoned) continue;
    if (!t->soft_done && t->soft_at && now >= t->soft_at) {
      t->soft_done = 1;
      queue_interrupt(w, t, OWT_PY_TIMEOUT);
    }
    if (!t->hard_done && t->hard_at && now >= t->hard_at) {
      t->hard_done = 1;
      t->abandoned = 1;
      stuck[nstuck++] = t;
    }
    if (!t->soft_done && t->soft_at && t->soft_at - now < next) next = t->soft_at - now;
    if (!t->hard_done && t->hard_at && t->hard_at - now < next) next = t->hard_at - now;
  }
  pthread_mutex_unlock(&w->lock);
  for (size_t i = 0; i < nstuck; i++) take_over(w, stuck[i]);
  for (size_t i = 0; i < w->nthreads; i++) { /* a read or write that makes no progress */
    rthread *t = &w->threads[i];
    if (owt_flight_io_age(&t->flight, now) > w->cfg->io_timeout) {
      owt_log(OWT_LOG_WARNING, "FastCGI connection stalled for %.0f s (--io-timeout): cut",
              w->cfg->io_timeout);
      owt_flight_cut(&t->flight);
    }
  }
  return next > 0.001 ? next : 0.001;
}

static const char *limit_text(rlim_t v, char *buf, size_t size) {
  if (v == RLIM_INFINITY) return "unlimited";
  snprintf(buf, size, "%llu", (unsigned long long)v);
  return buf;
}

/* One line per resource limit an adaptor changed: what it found, and what
 * the worker has now (the same as at start, unless the hard limit was
 * lowered and may not be raised again). */
static void log_limits(const owt_hygiene *h) {
  for (int r = 0; r < RLIM_NLIMITS; r++) {
    if (!(h->changed_limits & (1u << r))) continue;
    char a[24], b[24], c[24], d[24];
    const struct rlimit *found = &h->found[r], *now = &h->limits[r];
    owt_log(OWT_LOG_WARNING, "an adaptor changed %s to soft %s, hard %s: %s to soft %s, hard %s",
            owt_hygiene_rlimit_name(r), limit_text(found->rlim_cur, a, sizeof a),
            limit_text(found->rlim_max, b, sizeof b),
            h->kept_limits & (1u << r) ? "the hard limit may not be raised again without privilege; kept at"
                                       : "restored",
            limit_text(now->rlim_cur, c, sizeof c), limit_text(now->rlim_max, d, sizeof d));
  }
}

/* The sweep's look at each request thread's nice value, CPU affinity,
 * scheduling and signal mask: a few system calls a thread, four times a
 * second, instead of five per request. (A mask changed through Python's
 * signal.pthread_sigmask is put back at the end of its request; this finds
 * one changed by native code.) */
static void watch_threads(owt_worker *w) {
  for (size_t i = 0; i < w->nthreads; i++) {
    rthread *t = &w->threads[i];
    pthread_mutex_lock(&w->lock);
    pid_t tid = t->os_tid;
    owt_hygiene_task want = t->task;
    pthread_mutex_unlock(&w->lock);
    if (tid > 0 && owt_hygiene_mask_changed(&w->hygiene, tid))
      __atomic_or_fetch(&t->tend, OWT_HYGIENE_MASK, __ATOMIC_RELAXED);
    unsigned changed = tid > 0 ? owt_hygiene_task_changed(&want, tid) : 0, kept = 0;
    if (!changed) continue;
    /* An idle thread is put back from here, under the lock (so it takes no
     * connection meanwhile); a busy one puts itself back before its next
     * request, so the adaptor that changed it keeps it for its own. */
    pthread_mutex_lock(&w->lock);
    if (t->busy) {
      __atomic_or_fetch(&t->tend, changed, __ATOMIC_RELAXED);
      changed = 0;
    } else {
      changed = owt_hygiene_task_restore(&t->task, tid, &kept);
    }
    pthread_mutex_unlock(&w->lock);
    log_task(changed, kept);
  }
}

static void keep_clean(owt_worker *w) {
  const owt_hygiene_fd *lost = owt_hygiene_check_own(&w->hygiene);
  if (lost) {
    /* Its number may already name another file (an adaptor's, a new
     * connection): writing there would hurt someone else. A new worker
     * takes this one's place; what is in flight here is lost, as in a crash. */
    if (!owt_hygiene_fd_intact(&w->hygiene, w->log_fd)) owt_log_set_fd(2); /* last words: wherever fd 2 is */
    owt_log(OWT_LOG_ERROR, "an adaptor closed or replaced the worker's %s (fd %d): exiting, the requests "
            "in flight here are lost (status %d)", lost->what, lost->fd, OWT_EXIT_DAMAGED);
    _exit(OWT_EXIT_DAMAGED);
  }
  unsigned changed = owt_hygiene_restore_process(&w->hygiene);
  watch_threads(w);
  if (changed & OWT_HYGIENE_RLIMIT) log_limits(&w->hygiene);
  if (changed & OWT_HYGIENE_SIGNAL)
    owt_log(OWT_LOG_WARNING, "an adaptor changed a signal disposition the server relies on: restored");
  if (changed & OWT_HYGIENE_STDIO)
    owt_log(OWT_LOG_WARNING, "an adaptor closed or replaced fd 0, 1 or 2: restored");
  if (changed & OWT_HYGIENE_CWD)
    owt_log(OWT_LOG_WARNING, "an adaptor changed the working directory: restored");
  if (changed & OWT_HYGIENE_UMASK) owt_log(OWT_LOG_WARNING, "an adaptor changed the umask: restored");
}

/* Whether the drain is over: no request in flight (but abandoned ones),
 * nothing queued. */
static int drained(owt_worker *w, size_t *abandoned) {
  size_t busy = 0;
  *abandoned = 0;
  pthread_mutex_lock(&w->lock);
  int queued = w->ready_len > 0 || w->nhandback > 0 || w->nwatched > 0;
  for (size_t i = 0; i < w->nthreads; i++) {
    if (!w->threads[i].busy) continue;
    if (w->threads[i].abandoned) (*abandoned)++;
    else busy++;
  }
  pthread_mutex_unlock(&w->lock);
  return !queued && busy == 0;
}

/* w->lock held. Whether the dispatcher watches the listening socket now,
 * to give the lead to a follower when a connection waits (promote): the
 * worker has had no leader for PROMOTE_SECONDS, and has idle threads. Else
 * *timeout is shortened to when that may next be so. The watch stops once
 * the worker has been idle for a tick; the next leader to go and serve with
 * followers idle starts it again (go_serve). */
static int promotion_due(owt_worker *w, double now, double *timeout) {
  if (!w->promote_watch) return 0;
  double age = now - w->leaderless_since;
  if (w->drain || w->stopping || !w->nidle || (w->has_leader && age > TICK_SECONDS)) {
    w->promote_watch = 0;
    return 0;
  }
  if (!w->has_leader && age >= PROMOTE_SECONDS) return 1;
  double next = PROMOTE_SECONDS - age;
  if (w->has_leader) {
    /* Quick requests: the leader is back before anyone is due. Looking
     * every PROMOTE_SECONDS all the same is a thousand timer wake-ups a
     * second under any steady load, each dearer on a VM than the look
     * itself; so look half as often after each look that finds the leader
     * accepting, and every PROMOTE_SECONDS again after a promotion. */
    next = w->watch_gap;
    w->watch_gap = next * 2 < WATCH_GAP_MAX ? next * 2 : WATCH_GAP_MAX;
  }
  if (next < *timeout) *timeout = next;
  return 0;
}

/* The listening socket has a connection and nobody has led for
 * PROMOTE_SECONDS (promotion_due): a follower takes the lead. Its clock
 * restarts, so the next follower is woken only if that one, too, is busy
 * PROMOTE_SECONDS later. */
static void promote(owt_worker *w, double now) {
  pthread_mutex_lock(&w->lock);
  if (!w->has_leader && !w->drain && !w->stopping && now - w->leaderless_since >= PROMOTE_SECONDS &&
      wake_follower(w)) {
    w->leaderless_since = now;
    w->watch_gap = PROMOTE_SECONDS; /* slow requests about: the next may come at once */
  }
  pthread_mutex_unlock(&w->lock);
}

static int dispatch(owt_worker *w) {
  struct pollfd p[4 + MAX_WATCHED + OWT_CONFIG_MAX_THREADS];
  uint64_t watch_ticket[OWT_CONFIG_MAX_THREADS];
  size_t watch_thread[OWT_CONFIG_MAX_THREADS];
  double timeout = TICK_SECONDS, next_hygiene = 0, next_reap = 0;
  for (;;) {
    size_t abandoned = 0;
    if (w->wedged) return -1;
    if (w->drain && drained(w, &abandoned)) return abandoned ? -1 : 0;
    if (w->drain && owt_monotonic() > w->drain_deadline) {
      owt_log(OWT_LOG_ERROR, "requests still running after --grace-timeout (%.0f s): exiting without them",
              w->cfg->grace_timeout);
      return -1;
    }
    take_handbacks(w);
    size_t n = 0, nwatched = w->nwatched;
    p[n++] = (struct pollfd){signal_pipe[0], POLLIN, 0};
    p[n++] = (struct pollfd){w->wake_fd, POLLIN, 0};
    p[n++] = (struct pollfd){w->handoff_live ? w->handoff_fd : -1, POLLIN, 0};
    p[n++] = (struct pollfd){-1, POLLIN, 0}; /* the listening socket, when a promotion is due */
    for (size_t i = 0; i < w->nwatched; i++) p[n++] = (struct pollfd){w->watched[i].fd, POLLIN, 0};
    size_t nwatch = 0;
    pthread_mutex_lock(&w->lock);
    double looked = owt_monotonic();
    for (size_t i = 0; i < w->nthreads; i++) {
      rthread *t = &w->threads[i];
      if (!t->ticket || t->watch_fd < 0 || t->client_gone || looked - t->armed_at < WATCH_CLIENT_AFTER) continue;
      watch_ticket[nwatch] = t->ticket;
      watch_thread[nwatch++] = i;
      p[n++] = (struct pollfd){t->watch_fd, POLLIN | POLLRDHUP, 0};
    }
    if (promotion_due(w, looked, &timeout)) p[3].fd = w->listen_fd;
    pthread_mutex_unlock(&w->lock);
    struct timespec ts = {(time_t)timeout, (long)((timeout - (double)(time_t)timeout) * 1e9)};
    if (ppoll(p, n, &ts, NULL) < 0 && errno != EINTR) {
      owt_log(OWT_LOG_ERROR, "poll: %s", strerror(errno));
      return -1;
    }
    if (p[0].revents & POLLIN) on_signals(w);
    if (p[1].revents & POLLIN) drain_eventfd(w->wake_fd);
    double now = owt_monotonic();
    if (p[3].revents & POLLIN) promote(w, now);
    if (w->nwatched) service_watched(w, p + 4, now, nwatched);
    if (w->handoff_live) pass_waiting_new(w);
    if (p[2].revents) take_handoffs(w); /* after: the new ones are watched from the next poll */
    timeout = watch_requests(w, p + 4 + nwatched, watch_ticket, watch_thread, nwatch);
    pthread_mutex_lock(&w->lock);
    drain_reason asked = w->drain_asked;
    pthread_mutex_unlock(&w->lock);
    if (asked) begin_drain(w, asked, "recycling");
    if (now >= next_hygiene) {
      keep_clean(w);
      /* for /_owt/status and /metrics: here, not per request (open, read, close) */
      w->srv->slot->worker.rss_bytes = owt_stats_rss();
      next_hygiene = now + HYGIENE_SECONDS;
    }
    if (now >= next_reap) {
      size_t reaped = owt_hygiene_reap(&w->hygiene);
      if (reaped) owt_log(OWT_LOG_INFO, "reaped %zu child process(es) an adaptor left behind", reaped);
      next_reap = now + REAP_SECONDS;
    }
  }
}

/* ---- set-up and tear-down ------------------------------------------------------------ */

/* The whole responses the dispatcher writes itself, built before any
 * request: a stuck request's 504, and the 503 for the others when the GIL
 * is held for good. */
static void build_replies(owt_worker *w) {
  static const owt_header retry = {OWT_STR_LIT("Retry-After"), OWT_STR_LIT("1")};
  char text[256];
  owt_buf timeout = OWT_BUF_FIXED(w->timeout_reply), wedged = OWT_BUF_FIXED(w->wedged_reply);
  int n = snprintf(text, sizeof text,
                   "Error executing code: Timeout: the adaptor ran past its %gs timeout and did not "
                   "stop (stuck outside Python code?)",
                   w->cfg->timeout);
  owt_str message = owt_str_make(text, n > 0 && (size_t)n < sizeof text ? (size_t)n : 0);
  w->timeout_reply_len = owt_response_canned(&timeout, OWT_E_TIMEOUT, message, NULL, 0) ? 0 : timeout.len;
  message = OWT_STR_LIT("another request stopped this worker (it holds the Python interpreter and will not "
                        "let go): retry");
  w->wedged_reply_len = owt_response_canned(&wedged, OWT_E_UNAVAILABLE, message, &retry, 1) ? 0 : wedged.len;
}

static int start_threads(owt_worker *w) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, THREAD_STACK);
  for (size_t i = 0; i < w->nthreads; i++) {
    rthread *t = &w->threads[i];
    t->w = w;
    t->index = i;
    t->watch_fd = -1;
    if (owt_flight_init(&t->flight) != OWT_OK) break;
    if (pthread_create(&t->tid, &attr, request_thread, t) != 0) {
      owt_flight_destroy(&t->flight);
      break;
    }
    t->started = 1;
  }
  w->interrupter_started = pthread_create(&w->interrupter, &attr, interrupter_thread, w) == 0;
  pthread_attr_destroy(&attr);
  return w->threads[0].started && w->interrupter_started ? 0 : -1;
}

/* Threads that can stop are stopped and joined. */
static void stop_threads(owt_worker *w) {
  pthread_mutex_lock(&w->lock);
  w->stopping = 1;
  w->irq_stop = 1;
  while (wake_idle(w)) continue;
  pthread_cond_broadcast(&w->irq_cv);
  if (w->has_leader) wake(w->leader_fd);
  pthread_mutex_unlock(&w->lock);
  for (size_t i = 0; i < w->nthreads; i++) {
    if (!w->threads[i].started) continue;
    pthread_join(w->threads[i].tid, NULL);
    owt_flight_destroy(&w->threads[i].flight);
  }
  if (w->interrupter_started) pthread_join(w->interrupter, NULL);
}

static int worker_init(owt_worker *w, owt_server *srv, int listen_fd, int handoff_fd) {
  memset(w, 0, sizeof *w);
  w->srv = srv;
  w->handoff_fd = handoff_fd;
  w->handoff_live = handoff_fd >= 0;
  w->cfg = srv->cfg;
  w->nthreads = srv->board->threads;
  w->wake_fd = w->leader_fd = w->listen_fd = -1;
  w->threads = calloc(w->nthreads, sizeof *w->threads);
  w->handback = calloc(MAX_WATCHED, sizeof *w->handback);
  if (!w->threads || !w->handback) return -1;
  if (pthread_mutex_init(&w->lock, NULL) || pthread_cond_init(&w->irq_cv, NULL)) return -1;
  for (size_t i = 0; i < w->nthreads; i++)
    if (pthread_cond_init(&w->threads[i].wake_cv, NULL)) return -1;
  /* A private copy of the listening socket: an adaptor that closes fd 0
   * does not stop the worker. Non-blocking: another worker may win a
   * connection this one was woken for. */
  if ((w->listen_fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 3)) < 0) return -1;
  fcntl(w->listen_fd, F_SETFL, fcntl(w->listen_fd, F_GETFL) | O_NONBLOCK);
  if (listen_fd == 0) {
    /* fd 0 was the listening socket (how lighttpd and spawn-fcgi hand it
     * over): programs adaptors start read their stdin from /dev/null, not
     * from the web server's socket. */
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) {
      dup2(devnull, 0);
      close(devnull);
    }
  }
  if ((w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) return -1;
  if ((w->leader_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) return -1;
  build_replies(w);
  return 0;
}

static void worker_free(owt_worker *w) {
  for (size_t i = 0; i < w->nwatched; i++) close(w->watched[i].fd);
  if (w->listen_fd >= 0) close(w->listen_fd);
  if (w->wake_fd >= 0) close(w->wake_fd);
  if (w->leader_fd >= 0) close(w->leader_fd);
  owt_hygiene_free(&w->hygiene);
  pthread_cond_destroy(&w->irq_cv);
  for (size_t i = 0; w->threads && i < w->nthreads; i++) pthread_cond_destroy(&w->threads[i].wake_cv);
  pthread_mutex_destroy(&w->lock);
  free(w->threads);
  free(w->handback);
}

int owt_worker_run(owt_server *srv, int listen_fd, int handoff_fd) {
  static owt_worker w; /* large (its rings); one per process */
  int signals[OWT_HYGIENE_MAX_SIGNALS], nsig = 0, rc = 1;
  if (worker_init(&w, srv, listen_fd, handoff_fd) != 0 || FCGX_Init() != 0 || install_signals() != 0) {
    owt_log(OWT_LOG_ERROR, "the worker failed to start: %s", strerror(errno));
    worker_free(&w);
    return 1;
  }
  w.log_fd = fcntl(2, F_DUPFD_CLOEXEC, 3); /* the log survives an adaptor closing fd 2 */
  if (w.log_fd >= 0) owt_log_set_fd(w.log_fd);
  for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) signals[nsig++] = stop_signals[i];
  for (size_t i = 0; i < N_STRAY_SIGNALS; i++) signals[nsig++] = stray_signals[i];
  signals[nsig++] = SIGPIPE;
  signals[nsig++] = SIGCHLD;
  signals[nsig++] = KICK_SIGNAL;
  owt_hygiene_snapshot(&w.hygiene, signals, (size_t)nsig);
  owt_hygiene_own_fd(&w.hygiene, w.listen_fd, "listening socket");
  if (w.handoff_fd >= 0) owt_hygiene_own_fd(&w.hygiene, w.handoff_fd, "channel to the master");
  owt_hygiene_own_fd(&w.hygiene, w.wake_fd, "dispatcher's eventfd");
  owt_hygiene_own_fd(&w.hygiene, w.leader_fd, "leader's eventfd");
  owt_hygiene_own_fd(&w.hygiene, signal_pipe[0], "signal pipe");
  owt_hygiene_own_fd(&w.hygiene, signal_pipe[1], "signal pipe");
  if (w.log_fd >= 0) owt_hygiene_own_fd(&w.hygiene, w.log_fd, "log");
  owt_py_protect_listener(w.listen_fd);
  owt_log(OWT_LOG_INFO, "serving FastCGI on fd %d with %zu threads", listen_fd, w.nthreads);
  if (start_threads(&w) != 0) {
    owt_log(OWT_LOG_ERROR, "cannot start the request threads: %s", strerror(errno));
    _exit(1); /* threads that did start hold the interpreter: no orderly way back */
  }
  int outcome = dispatch(&w);
  if (outcome < 0) {
    /* A thread that will not stop holds its request and maybe the GIL:
     * nothing can be torn down in order. Its request was answered (or cut). */
    owt_log(OWT_LOG_ERROR, "exiting with a request thread still stuck");
    _exit(OWT_EXIT_STUCK);
  }
  stop_threads(&w);
  rc = 0;
  owt_log(OWT_LOG_INFO, "stopping after %llu requests (%llu kept connections handed to the master, "
          "%llu new ones passed on to a worker with a free thread)",
          (unsigned long long)owt_stats_get(&srv->slot->worker.requests),
          (unsigned long long)w.handed_off, (unsigned long long)w.passed_new);
  worker_free(&w);
  if (w.log_fd >= 0) {
    owt_log_set_fd(2);
    close(w.log_fd);
  }
  return rc;
}
