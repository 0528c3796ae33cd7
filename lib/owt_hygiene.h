/* owt_hygiene.h - what one request's adaptor may have done to its worker,
 * noticed and undone before it can hurt a later request.
 *
 * An adaptor runs with the worker's full powers: it can change a signal's
 * disposition, block signals in its thread, close or replace fds 0-2, change
 * the working directory, umask or a resource limit, and fork children it
 * never waits for. The worker takes a snapshot of the state it relies on
 * when it starts and puts it back: process-wide state from its supervising
 * thread (a few times a second), a thread's signal mask after each request
 * in that thread.
 * Children that stay zombies are reaped once they have been seen twice (a
 * Popen.wait() under way in another request reaps its own child at once; one
 * that nobody waits for is reaped a sweep later). */
#ifndef OWT_HYGIENE_H
#define OWT_HYGIENE_H

#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "owt_err.h"

#define OWT_HYGIENE_MAX_SIGNALS 16
#define OWT_HYGIENE_MAX_ZOMBIES 256
#define OWT_HYGIENE_MAX_OWN_FDS 16

/* A descriptor the worker cannot do without, as it was at start. */
typedef struct {
  int fd;
  struct stat st;   /* its device and inode are what it is */
  const char *what; /* static: "listening socket" */
} owt_hygiene_fd;

typedef struct {
  int signals[OWT_HYGIENE_MAX_SIGNALS];
  struct sigaction actions[OWT_HYGIENE_MAX_SIGNALS];
  size_t nsignals;
  int std_copy[3];            /* private CLOEXEC copies of fds 0-2 (-1: was closed) */
  struct stat std_stat[3];
  int cwd_fd;                 /* the working directory at start (-1: unknown) */
  mode_t umask;
  sigset_t thread_mask;       /* what a request thread's mask must be */
  uint64_t thread_mask_bits;  /* the same, as /proc shows it (bit n-1: signal n) */
  struct rlimit limits[RLIM_NLIMITS]; /* every resource limit at start */
  /* What the last restore found, for its log lines: a bit per resource
   * (1u << RLIMIT_x) that had changed, and what it had changed to. Of those,
   * kept_limits could not be put back whole: an adaptor lowered the hard
   * limit and the worker may not raise it (no CAP_SYS_RESOURCE); the worker
   * keeps the lower one from then on. */
  unsigned changed_limits, kept_limits;
  struct rlimit found[RLIM_NLIMITS];
  owt_hygiene_fd own[OWT_HYGIENE_MAX_OWN_FDS];
  size_t nown;
  pid_t zombies[OWT_HYGIENE_MAX_ZOMBIES]; /* seen at the last sweep, not yet reaped */
  size_t nzombies;
} owt_hygiene;

/* What a thread's requests may change of that thread alone, and a later
 * request on it would inherit: its nice value, CPU affinity and scheduling
 * policy (os.nice, os.sched_setaffinity(0, ...), os.sched_setscheduler(0,
 * ...), or a native library pinning its calling thread). Each request
 * thread keeps the values it must have. */
typedef struct {
  int nice;
  cpu_set_t cpus;
  int policy;
  struct sched_param param;
} owt_hygiene_task;

/* What a restore found and undid (a bit each). */
enum {
  OWT_HYGIENE_SIGNAL = 1, /* a signal disposition */
  OWT_HYGIENE_STDIO = 2,  /* fd 0, 1 or 2 */
  OWT_HYGIENE_CWD = 4,
  OWT_HYGIENE_UMASK = 8,
  OWT_HYGIENE_MASK = 16,  /* a thread's signal mask */
  OWT_HYGIENE_RLIMIT = 32, /* a resource limit (which: changed_limits) */
  OWT_HYGIENE_NICE = 64,   /* a thread's nice value */
  OWT_HYGIENE_CPUS = 128,  /* a thread's CPU affinity */
  OWT_HYGIENE_SCHED = 256, /* a thread's scheduling policy or priority */
};

/* Record the current dispositions of signals[0..n), fds 0-2, the working
 * directory, the umask, every resource limit, and the calling thread's mask
 * as the one request threads must have. OWT_OK, or OWT_E_INTERNAL when a
 * disposition cannot be read (a signal number that is not one). */
owt_err owt_hygiene_snapshot(owt_hygiene *h, const int *signals, size_t n);

/* Put the process-wide state back. Returns the OWT_HYGIENE_* bits of what
 * had changed (and is now restored). */
unsigned owt_hygiene_restore_process(owt_hygiene *h);

/* The calling thread's signal mask may have changed: Python's
 * signal.pthread_sigmask, wrapped in the worker, says so. */
void owt_hygiene_mask_touched(void);

/* In a request thread, after its request: restore its signal mask when
 * owt_hygiene_mask_touched was called in this thread since, or when force is
 * set (the sweep saw it changed some other way); otherwise no system call.
 * Returns OWT_HYGIENE_MASK when it had changed. */
unsigned owt_hygiene_restore_thread(const owt_hygiene *h, int force);

/* From any thread: whether thread tid's (a kernel thread id of this process)
 * signal mask differs from the one request threads must have (read from
 * /proc; 0 when it cannot be read). */
int owt_hygiene_mask_changed(const owt_hygiene *h, pid_t tid);

/* The calling thread's nice value, CPU affinity and scheduling policy. */
void owt_hygiene_task_snapshot(owt_hygiene_task *want);

/* From any thread: which of thread tid's (a kernel thread id) differ from
 * want (OWT_HYGIENE_NICE, _CPUS, _SCHED bits; 0 for a thread gone). */
unsigned owt_hygiene_task_changed(const owt_hygiene_task *want, pid_t tid);

/* Put back what differs from want in thread tid (0: the calling thread),
 * while it runs no request, and return its bits. What may not be put back
 * without privilege (a lowered priority: CAP_SYS_NICE) is taken into want
 * as the thread's value from now on, and its bits are set in *kept. */
unsigned owt_hygiene_task_restore(owt_hygiene_task *want, pid_t tid, unsigned *kept);

/* Reap this process's zombie children that were already zombies at the
 * previous call. Returns how many were reaped. */
size_t owt_hygiene_reap(owt_hygiene *h);

/* Remember fd (what it is now) as one the worker relies on; its own copies
 * of fds 0-2 and its working directory are remembered by the snapshot.
 * what must be a static string. OWT_E_INTERNAL when fd is not open or
 * there are too many. */
owt_err owt_hygiene_own_fd(owt_hygiene *h, int fd, const char *what);

/* The first descriptor the worker relies on that is closed or is now
 * another file (an adaptor's os.closerange(3, ...) or os.dup2 onto it), or
 * NULL when all are as they were. Such damage cannot be undone in place:
 * the fd's number may already name someone else's file. */
const owt_hygiene_fd *owt_hygiene_check_own(const owt_hygiene *h);

/* Whether fd is still the file it was when remembered (0 for a fd never
 * remembered). */
int owt_hygiene_fd_intact(const owt_hygiene *h, int fd);

/* "RLIMIT_NOFILE" for RLIMIT_NOFILE; "RLIMIT_?" for a number it does not know. */
const char *owt_hygiene_rlimit_name(int resource);

void owt_hygiene_free(owt_hygiene *h);

#endif
