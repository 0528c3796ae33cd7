/* owt_scoreboard_file.c - a scoreboard in a file, for the processes of a
 * server that have no common parent to map one for them (mod_fcgid,
 * spawn-fcgi + multiwatch, lighttpd max-procs, CGI runs).
 *
 * The file: a header naming its layout, the retired counters, then the
 * slots. It is made (or made anew, through a rename, when a build with
 * another layout left it) under an flock; after that everything is atomic
 * operations on the mapping: a slot belongs to the pid in its owner field,
 * set by compare-and-swap; its start time tells a live owner from a dead
 * one whose pid was reused. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "owt_proc.h"
#include "owt_scoreboard.h"

#define MAGIC "owt-sb1"
#define ALIGN(x) (((x) + 63) & ~(size_t)63)
#define OPEN_TRIES 5

typedef struct {
  char magic[8];
  uint64_t slots, records, stride, total;
  uint64_t slot_bytes, stats_bytes, inflight_bytes; /* another build's layout: made anew */
  double since;
} file_header;

static size_t file_stride(void) {
  return ALIGN(sizeof(owt_slot) + OWT_SCOREBOARD_FILE_RECORDS * sizeof(owt_inflight));
}
static size_t file_head(void) { return ALIGN(sizeof(file_header)) + ALIGN(sizeof(owt_stats)); }
static size_t file_total(void) { return file_head() + OWT_SCOREBOARD_FILE_SLOTS * file_stride(); }

static void expected_header(file_header *h) {
  memset(h, 0, sizeof *h);
  memcpy(h->magic, MAGIC, sizeof MAGIC);
  h->slots = OWT_SCOREBOARD_FILE_SLOTS;
  h->records = OWT_SCOREBOARD_FILE_RECORDS;
  h->stride = file_stride();
  h->total = file_total();
  h->slot_bytes = sizeof(owt_slot);
  h->stats_bytes = sizeof(owt_stats);
  h->inflight_bytes = sizeof(owt_inflight);
}

static int header_ok(int fd, off_t size, double *since) {
  file_header want, got;
  expected_header(&want);
  if ((uint64_t)size != want.total || pread(fd, &got, sizeof got, 0) != (ssize_t)sizeof got) return 0;
  *since = got.since;
  got.since = 0;
  return memcmp(&want, &got, sizeof got) == 0;
}

/* A zeroed board with its header, in fd (a new, empty file). */
static int write_fresh(int fd, double *since) {
  file_header h;
  expected_header(&h);
  h.since = owt_now();
  if (ftruncate(fd, 0) != 0 || ftruncate(fd, (off_t)h.total) != 0) return -1; /* sparse zeros */
  if (pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h) return -1;
  *since = h.since;
  return 0;
}

/* Replace the file at path by a fresh one, through a rename, so processes
 * that still map the old layout keep their own inode. */
static int replace_file(const char *path) {
  char tmp[4096];
  double since;
  if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fchmod(fd, 0600) == 0 && write_fresh(fd, &since) == 0 && rename(tmp, path) == 0 ? 0 : -1;
  if (rc != 0) unlink(tmp);
  close(fd);
  return rc;
}

static int fail(char *why, size_t why_len, const char *path, const char *what) {
  snprintf(why, why_len, "scoreboard %s: %s", path, what);
  return -1;
}

int owt_scoreboard_open(owt_scoreboard *board, const char *path, size_t threads, char *why, size_t why_len) {
  memset(board, 0, sizeof *board);
  if (threads == 0 || threads > OWT_SCOREBOARD_FILE_RECORDS) return fail(why, why_len, path, "too many threads");
  for (int attempt = 0; attempt < OPEN_TRIES; attempt++) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
    if (fd < 0) return fail(why, why_len, path, strerror(errno));
    struct stat st, now;
    double since = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      return fail(why, why_len, path, "not a regular file");
    }
    if (st.st_uid != geteuid()) {
      close(fd);
      return fail(why, why_len, path, "owned by another user (each user's processes need their own)");
    }
    if (flock(fd, LOCK_EX) != 0) {
      close(fd);
      return fail(why, why_len, path, strerror(errno));
    }
    /* Another process may have replaced the file while we waited. */
    if (stat(path, &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev || fstat(fd, &st) != 0) {
      close(fd);
      continue;
    }
    if (!header_ok(fd, st.st_size, &since)) {
      int made = st.st_size == 0 ? write_fresh(fd, &since) : replace_file(path);
      if (made != 0) {
        int e = errno;
        close(fd);
        return fail(why, why_len, path, strerror(e));
      }
      if (st.st_size != 0) { /* replaced: open the new one */
        close(fd);
        continue;
      }
    }
    size_t total = file_total();
    void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    flock(fd, LOCK_UN); /* explicitly: the mapping keeps the open file, and with it the lock */
    close(fd);
    if (p == MAP_FAILED) return fail(why, why_len, path, strerror(e));
    board->mem = p;
    board->map_bytes = total;
    board->n = OWT_SCOREBOARD_FILE_SLOTS;
    board->threads = threads;
    board->records = OWT_SCOREBOARD_FILE_RECORDS;
    board->stride = file_stride();
    board->retired = (owt_stats *)((char *)p + ALIGN(sizeof(file_header)));
    board->slots = (char *)p + file_head();
    board->since = since;
    board->file = 1;
    return 0;
  }
  return fail(why, why_len, path, "it keeps being replaced");
}

/* ---- owners --------------------------------------------------------------------- */

/* The start time of pid (field 22 of /proc/PID/stat, clock ticks after
 * boot), 0 when unknown; *zombie when it has exited but is not reaped. */
static uint64_t proc_start(pid_t pid, int *zombie) {
  char buf[1024];
  *zombie = 0;
  char *p = owt_proc_stat_fields(pid, buf, sizeof buf);
  if (!p) return 0;
  *zombie = *p == 'Z' || *p == 'X';
  for (int field = 3; field < 22; field++) { /* p is at field 3 (the state) */
    p = strchr(p, ' ');
    if (!p) return 0;
    p++;
  }
  return strtoull(p, NULL, 10);
}

/* Whether the process that claimed a slot (pid, started at start; 0:
 * unknown) is still running. */
static int owner_alive(pid_t pid, uint64_t start) {
  if (pid <= 0) return 0;
  if (kill(pid, 0) != 0 && errno == ESRCH) return 0;
  int zombie;
  uint64_t now = proc_start(pid, &zombie);
  if (zombie) return 0;
  return !(start && now && now != start); /* a reused pid is another process */
}

void owt_scoreboard_sweep(owt_scoreboard *board) {
  if (!board->file) return;
  int32_t me = (int32_t)getpid();
  for (size_t i = 0; i < board->n; i++) {
    owt_slot *s = owt_scoreboard_slot(board, i);
    int32_t cur = __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE);
    if (cur == 0 || cur == me || cur == -me) continue;
    uint64_t start = cur > 0 ? __atomic_load_n(&s->owner_start, __ATOMIC_RELAXED) : 0;
    if (owner_alive(cur > 0 ? cur : -cur, start)) continue;
    if (!__atomic_compare_exchange_n(&s->owner, &cur, -me, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) continue;
    __atomic_store_n(&s->in_use, 0, __ATOMIC_RELEASE);
    if (cur > 0) owt_scoreboard_retire(board, &s->worker); /* a set-up never finished counted nothing */
    owt_scoreboard_reset_slot(board, i);
    __atomic_store_n(&s->owner_start, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->owner, 0, __ATOMIC_RELEASE);
  }
}

int owt_scoreboard_join(owt_scoreboard *board) {
  if (!board->file) return -1;
  int32_t me = (int32_t)getpid();
  int zombie;
  uint64_t start = proc_start(me, &zombie);
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < board->n; i++) {
      owt_slot *s = owt_scoreboard_slot(board, i);
      int32_t free_owner = 0;
      if (!__atomic_compare_exchange_n(&s->owner, &free_owner, -me, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        continue;
      owt_scoreboard_reset_slot(board, i);
      s->kills = s->respawns = s->generation = 0;
      __atomic_store_n(&s->owner_start, start, __ATOMIC_RELAXED);
      s->worker.pid = me;
      s->worker.started = owt_now();
      __atomic_store_n(&s->worker.threads, (uint32_t)board->threads, __ATOMIC_RELAXED);
      __atomic_store_n(&s->in_use, 1, __ATOMIC_RELEASE);
      __atomic_store_n(&s->owner, me, __ATOMIC_RELEASE);
      return (int)i;
    }
    owt_scoreboard_sweep(board); /* every slot taken: free those of processes that died */
  }
  return -1;
}

void owt_scoreboard_leave(owt_scoreboard *board, int i) {
  if (!board->file || i < 0 || (size_t)i >= board->n) return;
  owt_slot *s = owt_scoreboard_slot(board, (size_t)i);
  int32_t me = (int32_t)getpid();
  if (__atomic_load_n(&s->owner, __ATOMIC_ACQUIRE) != me) return;
  __atomic_store_n(&s->owner, -me, __ATOMIC_RELEASE);
  __atomic_store_n(&s->in_use, 0, __ATOMIC_RELEASE);
  owt_scoreboard_retire(board, &s->worker);
  owt_scoreboard_reset_slot(board, (size_t)i);
  __atomic_store_n(&s->owner_start, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&s->owner, 0, __ATOMIC_RELEASE);
}

int owt_scoreboard_default_path(int fd, char *out, size_t out_len) {
  struct sockaddr_un addr;
  socklen_t len = sizeof addr;
  memset(&addr, 0, sizeof addr);
  if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0 || addr.sun_family != AF_UNIX) return -1;
  size_t path_len = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
  if (path_len == 0 || addr.sun_path[0] == '\0') return -1; /* unnamed or abstract */
  path_len = strnlen(addr.sun_path, path_len < sizeof addr.sun_path ? path_len : sizeof addr.sun_path);
  const char *slash = memrchr(addr.sun_path, '/', path_len);
  int dir_len = slash ? (int)(slash - addr.sun_path) : 1;
  const char *dir = slash ? addr.sun_path : ".";
  if (slash && dir_len == 0) dir_len = 1; /* a socket in / */
  int n = snprintf(out, out_len, "%.*s/owt-fcgi.scoreboard", dir_len, dir);
  if (n < 0 || (size_t)n >= out_len) return -1;
  if (dir_len == 1 && dir[0] == '/') snprintf(out, out_len, "/owt-fcgi.scoreboard");
  return 0;
}
