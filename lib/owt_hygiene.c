/* owt_hygiene.c - snapshot and restore of what adaptors may disturb. */
#define _GNU_SOURCE 1
#include "owt_hygiene.h"
#include "owt_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

owt_err owt_hygiene_snapshot(owt_hygiene *h, const int *signals, size_t n) {
  memset(h, 0, sizeof *h);
  h->std_copy[0] = h->std_copy[1] = h->std_copy[2] = h->cwd_fd = -1; /* owt_hygiene_free closes none */
  if (n > OWT_HYGIENE_MAX_SIGNALS) n = OWT_HYGIENE_MAX_SIGNALS;
  for (size_t i = 0; i < n; i++) {
    h->signals[i] = signals[i];
    if (sigaction(signals[i], NULL, &h->actions[i]) != 0) return OWT_E_INTERNAL;
  }
  h->nsignals = n;
  static const char *const copies[3] = {"copy of fd 0", "copy of fd 1", "copy of fd 2"};
  for (int fd = 0; fd < 3; fd++) {
    if (fstat(fd, &h->std_stat[fd]) == 0) h->std_copy[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (h->std_copy[fd] >= 0) owt_hygiene_own_fd(h, h->std_copy[fd], copies[fd]);
  }
  h->cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (h->cwd_fd >= 0) owt_hygiene_own_fd(h, h->cwd_fd, "copy of the working directory");
  h->umask = umask(0);
  umask(h->umask);
  for (int r = 0; r < RLIM_NLIMITS; r++) {
    if (getrlimit((__rlimit_resource_t)r, &h->limits[r]) != 0) h->limits[r].rlim_cur = h->limits[r].rlim_max = RLIM_INFINITY;
  }
  memset(&h->thread_mask, 0, sizeof h->thread_mask); /* see owt_hygiene_restore_thread */
  pthread_sigmask(SIG_SETMASK, NULL, &h->thread_mask);
  h->thread_mask_bits = 0;
  for (int sig = 1; sig <= 64; sig++)
    if (sigismember(&h->thread_mask, sig) == 1) h->thread_mask_bits |= (uint64_t)1 << (sig - 1);
  return OWT_OK;
}

static int same_action(const struct sigaction *a, const struct sigaction *b) {
  return a->sa_handler == b->sa_handler && a->sa_flags == b->sa_flags;
}

static int same_file(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Put each resource limit back. A lowered hard limit can be raised only with
 * CAP_SYS_RESOURCE: without it, the soft limit goes back as far as the new
 * hard one allows, and that is what is kept from then on (so it is said once,
 * not four times a second). */
static unsigned restore_limits(owt_hygiene *h) {
  h->changed_limits = h->kept_limits = 0;
  for (int r = 0; r < RLIM_NLIMITS; r++) {
    struct rlimit now, *want = &h->limits[r];
    if (getrlimit((__rlimit_resource_t)r, &now) != 0) continue;
    if (now.rlim_cur == want->rlim_cur && now.rlim_max == want->rlim_max) continue;
    h->changed_limits |= 1u << r;
    h->found[r] = now;
    if (setrlimit((__rlimit_resource_t)r, want) == 0) continue;
    struct rlimit best = {want->rlim_cur < now.rlim_max ? want->rlim_cur : now.rlim_max, now.rlim_max};
    if (setrlimit((__rlimit_resource_t)r, &best) != 0) best = now;
    *want = best;
    h->kept_limits |= 1u << r;
  }
  return h->changed_limits ? OWT_HYGIENE_RLIMIT : 0;
}

const char *owt_hygiene_rlimit_name(int resource) {
  static const char *const names[] = {
      [RLIMIT_CPU] = "RLIMIT_CPU",         [RLIMIT_FSIZE] = "RLIMIT_FSIZE",     [RLIMIT_DATA] = "RLIMIT_DATA",
      [RLIMIT_STACK] = "RLIMIT_STACK",     [RLIMIT_CORE] = "RLIMIT_CORE",       [RLIMIT_RSS] = "RLIMIT_RSS",
      [RLIMIT_NPROC] = "RLIMIT_NPROC",     [RLIMIT_NOFILE] = "RLIMIT_NOFILE",   [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",
      [RLIMIT_AS] = "RLIMIT_AS",           [RLIMIT_LOCKS] = "RLIMIT_LOCKS",     [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
      [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",     [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",
      [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
  };
  if (resource < 0 || (size_t)resource >= sizeof names / sizeof names[0] || !names[resource]) return "RLIMIT_?";
  return names[resource];
}

unsigned owt_hygiene_restore_process(owt_hygiene *h) {
  unsigned changed = restore_limits(h);
  struct sigaction now;
  struct stat st;
  for (size_t i = 0; i < h->nsignals; i++) {
    if (sigaction(h->signals[i], NULL, &now) == 0 && same_action(&now, &h->actions[i])) continue;
    sigaction(h->signals[i], &h->actions[i], NULL);
    changed |= OWT_HYGIENE_SIGNAL;
  }
  for (int fd = 0; fd < 3; fd++) {
    if (h->std_copy[fd] < 0) continue;
    if (fstat(fd, &st) == 0 && same_file(&st, &h->std_stat[fd])) continue;
    dup2(h->std_copy[fd], fd); /* dup2 clears CLOEXEC on fd: as it was */
    changed |= OWT_HYGIENE_STDIO;
  }
  if (h->cwd_fd >= 0) {
    struct stat want;
    if (stat(".", &st) != 0 || fstat(h->cwd_fd, &want) != 0 || !same_file(&st, &want)) {
      if (fchdir(h->cwd_fd) == 0) changed |= OWT_HYGIENE_CWD;
    }
  }
  mode_t m = umask(h->umask);
  if (m != h->umask) changed |= OWT_HYGIENE_UMASK;
  return changed;
}

/* Set by the wrapper of signal.pthread_sigmask in this thread: so a request
 * that did not call it costs no system call to check its mask. */
static _Thread_local int mask_touched;

void owt_hygiene_mask_touched(void) { mask_touched = 1; }

unsigned owt_hygiene_restore_thread(const owt_hygiene *h, int force) {
  sigset_t old;
  if (!mask_touched && !force) return 0;
  mask_touched = 0;
  /* The kernel fills only its 8 bytes of glibc's 128-byte set (and
   * sigemptyset clears only those): zero it all, so a byte compare with the
   * snapshot (made the same way) is exact. */
  memset(&old, 0, sizeof old);
  if (pthread_sigmask(SIG_SETMASK, &h->thread_mask, &old) != 0) return 0;
  return memcmp(&old, &h->thread_mask, sizeof old) ? OWT_HYGIENE_MASK : 0;
}

int owt_hygiene_mask_changed(const owt_hygiene *h, pid_t tid) {
  char path[64], text[4096];
  snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
  if (!owt_proc_read(path, text, sizeof text)) return 0; /* the thread is gone */
  const char *line = strstr(text, "\nSigBlk:");
  if (!line) return 0;
  char *end;
  errno = 0;
  unsigned long long blocked = strtoull(line + 8, &end, 16);
  return end != line + 8 && errno == 0 && (uint64_t)blocked != h->thread_mask_bits;
}

owt_err owt_hygiene_own_fd(owt_hygiene *h, int fd, const char *what) {
  if (h->nown >= OWT_HYGIENE_MAX_OWN_FDS || fd < 0) return OWT_E_INTERNAL;
  owt_hygiene_fd *o = &h->own[h->nown];
  if (fstat(fd, &o->st) != 0) return OWT_E_INTERNAL;
  o->fd = fd;
  o->what = what;
  h->nown++;
  return OWT_OK;
}

static int intact(const owt_hygiene_fd *o) {
  struct stat st;
  return fstat(o->fd, &st) == 0 && same_file(&st, &o->st);
}

const owt_hygiene_fd *owt_hygiene_check_own(const owt_hygiene *h) {
  for (size_t i = 0; i < h->nown; i++)
    if (!intact(&h->own[i])) return &h->own[i];
  return NULL;
}

int owt_hygiene_fd_intact(const owt_hygiene *h, int fd) {
  for (size_t i = 0; i < h->nown; i++)
    if (h->own[i].fd == fd) return intact(&h->own[i]);
  return 0;
}

/* A thread's values; 0 when it is gone (or cannot be read). */
static int read_task(pid_t tid, owt_hygiene_task *t) {
  errno = 0;
  t->nice = getpriority(PRIO_PROCESS, (id_t)tid); /* per thread on Linux */
  if (t->nice == -1 && errno) return 0;
  CPU_ZERO(&t->cpus);
  if (sched_getaffinity(tid, sizeof t->cpus, &t->cpus) != 0) return 0;
  memset(&t->param, 0, sizeof t->param);
  if ((t->policy = sched_getscheduler(tid)) < 0 || sched_getparam(tid, &t->param) != 0) return 0;
  return 1;
}

static unsigned task_diff(const owt_hygiene_task *want, const owt_hygiene_task *now) {
  unsigned d = 0;
  if (now->nice != want->nice) d |= OWT_HYGIENE_NICE;
  if (!CPU_EQUAL(&now->cpus, &want->cpus)) d |= OWT_HYGIENE_CPUS;
  if (now->policy != want->policy || now->param.sched_priority != want->param.sched_priority) d |= OWT_HYGIENE_SCHED;
  return d;
}

void owt_hygiene_task_snapshot(owt_hygiene_task *want) {
  memset(want, 0, sizeof *want);
  read_task((pid_t)syscall(SYS_gettid), want);
}

unsigned owt_hygiene_task_changed(const owt_hygiene_task *want, pid_t tid) {
  owt_hygiene_task now;
  return read_task(tid, &now) ? task_diff(want, &now) : 0;
}

unsigned owt_hygiene_task_restore(owt_hygiene_task *want, pid_t tid, unsigned *kept) {
  pid_t self = tid > 0 ? tid : (pid_t)syscall(SYS_gettid);
  owt_hygiene_task now;
  *kept = 0;
  if (!read_task(self, &now)) return 0;
  unsigned changed = task_diff(want, &now);
  /* The policy first: it bounds the priorities the others may take. */
  if ((changed & OWT_HYGIENE_SCHED) && sched_setscheduler(self, want->policy, &want->param) != 0) {
    want->policy = now.policy;
    want->param = now.param;
    *kept |= OWT_HYGIENE_SCHED;
  }
  if ((changed & OWT_HYGIENE_NICE) && setpriority(PRIO_PROCESS, (id_t)self, want->nice) != 0) {
    want->nice = now.nice;
    *kept |= OWT_HYGIENE_NICE;
  }
  if ((changed & OWT_HYGIENE_CPUS) && sched_setaffinity(self, sizeof want->cpus, &want->cpus) != 0) {
    want->cpus = now.cpus;
    *kept |= OWT_HYGIENE_CPUS;
  }
  return changed;
}

/* The state letter of /proc/PID/stat (after the parenthesised name). */
static char proc_state(pid_t pid) {
  char buf[512];
  const char *fields = owt_proc_stat_fields(pid, buf, sizeof buf);
  return fields ? fields[0] : 0;
}

static int seen_before(const owt_hygiene *h, pid_t pid) {
  for (size_t i = 0; i < h->nzombies; i++)
    if (h->zombies[i] == pid) return 1;
  return 0;
}

/* Every child of every thread of this process: /proc/self/task/T/children. */
static size_t list_zombies(pid_t *out, size_t max) {
  size_t n = 0;
  DIR *tasks = opendir("/proc/self/task");
  struct dirent *d;
  if (!tasks) return 0;
  while (n < max && (d = readdir(tasks))) {
    char path[300], buf[4096];
    if (d->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/children", d->d_name);
    if (!owt_proc_read(path, buf, sizeof buf)) continue;
    for (char *p = buf; n < max && *p;) {
      char *end = NULL;
      long pid = strtol(p, &end, 10);
      if (end == p) break;
      if (pid > 0 && proc_state((pid_t)pid) == 'Z') out[n++] = (pid_t)pid;
      p = end;
      while (*p == ' ' || *p == '\n') p++;
    }
  }
  closedir(tasks);
  return n;
}

size_t owt_hygiene_reap(owt_hygiene *h) {
  pid_t now[OWT_HYGIENE_MAX_ZOMBIES];
  size_t n = list_zombies(now, OWT_HYGIENE_MAX_ZOMBIES), reaped = 0, kept = 0;
  for (size_t i = 0; i < n; i++) {
    if (seen_before(h, now[i])) {
      int status;
      if (waitpid(now[i], &status, WNOHANG) == now[i]) reaped++;
    } else {
      now[kept++] = now[i];
    }
  }
  memcpy(h->zombies, now, kept * sizeof now[0]);
  h->nzombies = kept;
  return reaped;
}

void owt_hygiene_free(owt_hygiene *h) {
  for (int fd = 0; fd < 3; fd++)
    if (h->std_copy[fd] >= 0) close(h->std_copy[fd]);
  if (h->cwd_fd >= 0) close(h->cwd_fd);
  memset(h, 0, sizeof *h);
  h->cwd_fd = -1;
}
