/* owt_scoreboard.c - anonymous shared mapping for worker counters. */
#include "owt_scoreboard.h"

#include <string.h>
#include <sys/mman.h>

/* One mapping: n slots, then the retired counters in one more slot. */
int owt_scoreboard_create(owt_scoreboard *board, size_t n) {
  size_t bytes = (n + 1) * sizeof(owt_slot);
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return -1;
  memset(p, 0, bytes);
  board->slots = p;
  board->n = n;
  board->retired = &board->slots[n].worker;
  return 0;
}

void owt_scoreboard_retire(owt_scoreboard *board, const owt_stats *w) {
  owt_stats *r = board->retired;
  r->requests += w->requests;
  r->errors_4xx += w->errors_4xx;
  r->errors_5xx += w->errors_5xx;
  r->timeouts += w->timeouts;
  r->client_gone += w->client_gone;
  r->bytes_out += w->bytes_out;
  r->cache_hits += w->cache_hits;
  r->cache_misses += w->cache_misses;
}

void owt_scoreboard_destroy(owt_scoreboard *board) {
  if (board->slots) munmap(board->slots, (board->n + 1) * sizeof(owt_slot));
  board->slots = NULL;
  board->retired = NULL;
  board->n = 0;
}

int owt_scoreboard_claim(owt_scoreboard *board) {
  for (size_t i = 0; i < board->n; i++)
    if (!board->slots[i].in_use) return (int)i;
  return -1;
}
