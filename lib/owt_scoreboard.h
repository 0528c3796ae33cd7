/* owt_scoreboard.h - worker counters and in-flight requests in memory shared
 * by every process of a server, so any of them can answer /_owt/status for
 * the whole server.
 *
 * A slot per worker: its counters (owt_stats), the master's fields, and one
 * owt_inflight record per request thread. Each worker writes only its own
 * slot (counters atomically, records under their sequence locks).
 *
 * Two kinds of board:
 * - anonymous (owt_scoreboard_create): a master maps it before it forks its
 *   workers and hands each a slot; it writes the fields it owns (in_use,
 *   kills, respawns) and adds the counters of workers that exit to retired.
 *   Without a master a worker makes a private one-slot board.
 * - file-backed (owt_scoreboard_open, lib/owt_scoreboard_file.c): for
 *   processes with no common parent (mod_fcgid, spawn-fcgi + multiwatch,
 *   lighttpd max-procs, CGI runs). Each process claims a slot itself
 *   (owt_scoreboard_join: the owner pid set by compare-and-swap), gives it
 *   back with its counters added to retired when it ends (owt_scoreboard_leave),
 *   and the slot of a process that died without doing so is reclaimed by
 *   whoever next looks (owt_scoreboard_sweep). */
#ifndef OWT_SCOREBOARD_H
#define OWT_SCOREBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "owt_stats.h"

typedef struct {
  owt_stats worker;   /* written by the worker in this slot */
  int in_use;         /* the slot holds a live worker (master, or the owner of a file slot) */
  int32_t owner;      /* file boards: the pid that claimed the slot; < 0 while it sets it up */
  uint64_t owner_start; /* file boards: the owner's start time (clock ticks after boot, /proc) */
  uint64_t kills;     /* master: workers in this slot it had to kill */
  uint64_t respawns;  /* master: replacements started in this slot (for a worker that died,
                         retired or was reloaded; not the first --workers) */
  uint64_t generation;
  owt_inflight inflight[]; /* one per request thread (board->records) */
} owt_slot;

typedef struct {
  void *mem;          /* the mapping */
  size_t map_bytes;   /* its length */
  size_t n;           /* slots */
  size_t threads;     /* request threads of this process (<= records) */
  size_t records;     /* in-flight records per slot */
  size_t stride;      /* bytes per slot */
  void *slots;        /* the first slot */
  owt_stats *retired; /* counters of workers that have exited */
  double since;       /* unix time the board was made */
  int file;           /* file-backed: slots claimed by the processes themselves */
} owt_scoreboard;

/* Map n zeroed slots of `threads` in-flight records each, shared with
 * children forked later. 0 or -1 (errno set). */
int owt_scoreboard_create(owt_scoreboard *board, size_t n, size_t threads);

/* Unmap either kind of board. */
void owt_scoreboard_destroy(owt_scoreboard *board);

/* Slot i (i < board->n). */
static inline owt_slot *owt_scoreboard_slot(const owt_scoreboard *board, size_t i) {
  return (owt_slot *)((char *)board->slots + i * board->stride);
}

/* The in-flight records of slot worth reading: its worker's threads. */
size_t owt_scoreboard_records(const owt_scoreboard *board, const owt_slot *slot);

/* Add a finished worker's counters (requests, errors, durations, ...) to
 * board->retired, so server totals do not drop when a worker is replaced. */
void owt_scoreboard_retire(owt_scoreboard *board, const owt_stats *worker);

/* A free slot index (in_use == 0), or -1. */
int owt_scoreboard_claim(owt_scoreboard *board);

/* Forget what a slot said about its last worker (before a new one starts in it). */
void owt_scoreboard_reset_slot(owt_scoreboard *board, size_t i);

/* The oldest start time among slot's requests in flight (0: none), and how
 * many there are. */
double owt_scoreboard_oldest(const owt_scoreboard *board, const owt_slot *slot, size_t *busy);

/* ---- file-backed boards (lib/owt_scoreboard_file.c) -------------------------- */

/* Slots and in-flight records per slot of a scoreboard file: room for any
 * --threads, and more processes than a front is set to start. */
#define OWT_SCOREBOARD_FILE_SLOTS 128
#define OWT_SCOREBOARD_FILE_RECORDS 1024

/* Map the scoreboard file at path for a process of `threads` request
 * threads, making it (mode 0600) when it is missing or empty, and making it
 * anew when it was written by another layout. The file must be a regular
 * file owned by this user. 0, or -1 with why filled in. */
int owt_scoreboard_open(owt_scoreboard *board, const char *path, size_t threads, char *why, size_t why_len);

/* Claim a slot of a file board for this process (reclaiming slots of
 * processes that died first when none is free). The slot index, or -1 when
 * every slot holds a live process. */
int owt_scoreboard_join(owt_scoreboard *board);

/* Give slot i back: its counters go to retired, the slot is free. */
void owt_scoreboard_leave(owt_scoreboard *board, int i);

/* File boards: free the slots of processes that died without leaving (their
 * counters go to retired). Nothing for anonymous boards. */
void owt_scoreboard_sweep(owt_scoreboard *board);

/* The scoreboard file a FastCGI process with no master uses when no
 * --scoreboard was given: owt-fcgi.scoreboard in the directory of the unix
 * socket on fd (so the processes a front starts on sockets in one directory
 * share it). 0, or -1 when fd is not a unix socket with a path. */
int owt_scoreboard_default_path(int fd, char *out, size_t out_len);

#endif
