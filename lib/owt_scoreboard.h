/* owt_scoreboard.h - per-worker counters in memory shared by the master and
 * its workers, so any worker can answer /_owt/status for the whole server.
 *
 * Each worker writes only its own slot; the master writes the fields it
 * owns (kills, respawns). Readers may see a slot mid-update: these are
 * statistics, not accounts. Without a master there is one private slot. */
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
} owt_slot;

typedef struct {
  owt_slot *slots;   /* n slots, shared (MAP_SHARED) when created before fork */
  size_t n;
  owt_stats *retired; /* counters of workers that have exited (the master adds them) */
} owt_scoreboard;

/* Map n zeroed slots shared with children forked later. 0 or -1. */
int owt_scoreboard_create(owt_scoreboard *board, size_t n);

void owt_scoreboard_destroy(owt_scoreboard *board);

/* Add a finished worker's counters (requests, errors, ...) to board->retired,
 * so server totals do not drop when a worker is replaced. */
void owt_scoreboard_retire(owt_scoreboard *board, const owt_stats *worker);

/* A free slot index (in_use == 0), or -1. */
int owt_scoreboard_claim(owt_scoreboard *board);

#endif
