/* owt_scoreboard.h - worker counters and in-flight requests in memory shared
 * by the master and its workers, so any worker can answer /_owt/status for
 * the whole server.
 *
 * A slot per worker: its counters (owt_stats), the master's fields, and one
 * owt_inflight record per request thread. Each worker writes only its own
 * slot (counters atomically, records under their sequence locks); the master
 * writes the fields it owns (kills, respawns, in_use). Without a master
 * there is one private slot. */
#ifndef OWT_SCOREBOARD_H
#define OWT_SCOREBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "owt_stats.h"

typedef struct {
  owt_stats worker;   /* written by the worker in this slot */
  int in_use;         /* written by the master */
  uint64_t kills;     /* master: workers in this slot it had to kill */
  uint64_t respawns;  /* master: workers started in this slot after the first */
  uint64_t generation;
  owt_inflight inflight[]; /* one per request thread (board->threads) */
} owt_slot;

typedef struct {
  void *mem;          /* the mapping: n slots of stride bytes, then the retired counters */
  size_t n;           /* slots */
  size_t threads;     /* in-flight records per slot */
  size_t stride;      /* bytes per slot */
  owt_stats *retired; /* counters of workers that have exited (the master adds them) */
} owt_scoreboard;

/* Map n zeroed slots of `threads` in-flight records each, shared with
 * children forked later. 0 or -1 (errno set). */
int owt_scoreboard_create(owt_scoreboard *board, size_t n, size_t threads);

void owt_scoreboard_destroy(owt_scoreboard *board);

/* Slot i (i < board->n). */
static inline owt_slot *owt_scoreboard_slot(const owt_scoreboard *board, size_t i) {
  return (owt_slot *)((char *)board->mem + i * board->stride);
}

/* Add a finished worker's counters (requests, errors, ...) to board->retired,
 * so server totals do not drop when a worker is replaced. */
void owt_scoreboard_retire(owt_scoreboard *board, const owt_stats *worker);

/* A free slot index (in_use == 0), or -1. */
int owt_scoreboard_claim(owt_scoreboard *board);

/* Forget what a slot said about its last worker (before a new one starts in it). */
void owt_scoreboard_reset_slot(owt_scoreboard *board, size_t i);

/* The oldest start time among slot's requests in flight (0: none), and how
 * many there are. */
double owt_scoreboard_oldest(const owt_scoreboard *board, const owt_slot *slot, size_t *busy);

#endif
