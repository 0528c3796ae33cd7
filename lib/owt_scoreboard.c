/* owt_scoreboard.c - anonymous shared mapping for worker counters. */
#include "owt_scoreboard.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

static size_t total_bytes(const owt_scoreboard *board) {
  return board->n * board->stride + sizeof(owt_stats);
}

int owt_scoreboard_create(owt_scoreboard *board, size_t n, size_t threads) {
  memset(board, 0, sizeof *board);
  if (n == 0 || threads == 0 || threads > (1u << 16) || n > (1u << 16)) {
    errno = EINVAL;
    return -1;
  }
  size_t stride = sizeof(owt_slot) + threads * sizeof(owt_inflight);
  stride = (stride + 63) & ~(size_t)63; /* slots on their own cache lines */
  board->n = n;
  board->threads = threads;
  board->stride = stride;
  void *p = mmap(NULL, total_bytes(board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    memset(board, 0, sizeof *board);
    return -1;
  }
  board->mem = p; /* mmap gives zeroed pages */
  board->retired = (owt_stats *)((char *)p + n * stride);
  return 0;
}

void owt_scoreboard_retire(owt_scoreboard *board, const owt_stats *w) {
  owt_stats *r = board->retired;
  owt_stats_add(&r->requests, owt_stats_get(&w->requests));
  owt_stats_add(&r->errors_4xx, owt_stats_get(&w->errors_4xx));
  owt_stats_add(&r->errors_5xx, owt_stats_get(&w->errors_5xx));
  owt_stats_add(&r->timeouts, owt_stats_get(&w->timeouts));
  owt_stats_add(&r->client_gone, owt_stats_get(&w->client_gone));
  owt_stats_add(&r->bytes_out, owt_stats_get(&w->bytes_out));
  owt_stats_add(&r->cache_hits, owt_stats_get(&w->cache_hits));
  owt_stats_add(&r->cache_misses, owt_stats_get(&w->cache_misses));
}

void owt_scoreboard_destroy(owt_scoreboard *board) {
  if (board->mem) munmap(board->mem, total_bytes(board));
  memset(board, 0, sizeof *board);
}

int owt_scoreboard_claim(owt_scoreboard *board) {
  for (size_t i = 0; i < board->n; i++)
    if (!owt_scoreboard_slot(board, i)->in_use) return (int)i;
  return -1;
}

void owt_scoreboard_reset_slot(owt_scoreboard *board, size_t i) {
  owt_slot *s = owt_scoreboard_slot(board, i);
  memset(&s->worker, 0, sizeof s->worker);
  memset(s->inflight, 0, board->threads * sizeof(owt_inflight));
}

double owt_scoreboard_oldest(const owt_scoreboard *board, const owt_slot *slot, size_t *busy) {
  double oldest = 0;
  size_t n = 0;
  for (size_t t = 0; t < board->threads; t++) {
    owt_inflight rec;
    owt_inflight_read(&slot->inflight[t], &rec);
    if (!rec.busy_since) continue;
    n++;
    if (!oldest || rec.busy_since < oldest) oldest = rec.busy_since;
  }
  if (busy) *busy = n;
  return oldest;
}
