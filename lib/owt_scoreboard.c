/* owt_scoreboard.c - the anonymous shared board of a master, the parts
 * both kinds of board share. File-backed boards: owt_scoreboard_file.c. */
#include "owt_scoreboard.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int owt_scoreboard_create(owt_scoreboard *board, size_t n, size_t threads) {
  memset(board, 0, sizeof *board);
  if (n == 0 || threads == 0 || threads > (1u << 16) || n > (1u << 16)) {
    errno = EINVAL;
    return -1;
  }
  size_t stride = sizeof(owt_slot) + threads * sizeof(owt_inflight);
  stride = (stride + 63) & ~(size_t)63; /* slots on their own cache lines */
  size_t head = (sizeof(owt_stats) + 63) & ~(size_t)63;
  size_t bytes = head + n * stride;
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return -1;
  board->mem = p; /* mmap gives zeroed pages */
  board->map_bytes = bytes;
  board->n = n;
  board->threads = threads;
  board->records = threads;
  board->stride = stride;
  board->retired = p;
  board->slots = (char *)p + head;
  board->since = owt_now();
  return 0;
}

void owt_scoreboard_retire(owt_scoreboard *board, const owt_stats *w) {
  owt_stats *r = board->retired;
  owt_stats_add(&r->requests, owt_stats_get(&w->requests));
  owt_stats_add(&r->errors_4xx, owt_stats_get(&w->errors_4xx));
  owt_stats_add(&r->errors_5xx, owt_stats_get(&w->errors_5xx));
  owt_stats_add(&r->timeouts, owt_stats_get(&w->timeouts));
  owt_stats_add(&r->client_gone, owt_stats_get(&w->client_gone));
  owt_stats_add(&r->promotions, owt_stats_get(&w->promotions));
  owt_stats_add(&r->bytes_out, owt_stats_get(&w->bytes_out));
  owt_stats_add(&r->cache_hits, owt_stats_get(&w->cache_hits));
  owt_stats_add(&r->cache_misses, owt_stats_get(&w->cache_misses));
  owt_stats_add(&r->compiled, owt_stats_get(&w->compiled));
  owt_latency_add(&r->latency, &w->latency);
  owt_stats_add_history(r->history, w->history, owt_now());
}

void owt_scoreboard_destroy(owt_scoreboard *board) {
  if (board->mem) munmap(board->mem, board->map_bytes);
  memset(board, 0, sizeof *board);
}

int owt_scoreboard_claim(owt_scoreboard *board) {
  for (size_t i = 0; i < board->n; i++)
    if (!owt_scoreboard_slot(board, i)->in_use) return (int)i;
  return -1;
}

size_t owt_scoreboard_records(const owt_scoreboard *board, const owt_slot *slot) {
  if (!board->file) return board->records;
  uint32_t t = __atomic_load_n(&slot->worker.threads, __ATOMIC_RELAXED);
  return t < board->records ? t : board->records;
}

void owt_scoreboard_reset_slot(owt_scoreboard *board, size_t i) {
  owt_slot *s = owt_scoreboard_slot(board, i);
  size_t records = owt_scoreboard_records(board, s);
  memset(&s->worker, 0, sizeof s->worker);
  memset(s->inflight, 0, records * sizeof(owt_inflight));
}

double owt_scoreboard_oldest(const owt_scoreboard *board, const owt_slot *slot, size_t *busy) {
  double oldest = 0;
  size_t n = 0, records = owt_scoreboard_records(board, slot);
  for (size_t t = 0; t < records; t++) {
    owt_inflight rec;
    owt_inflight_read(&slot->inflight[t], &rec);
    if (!rec.busy_since) continue;
    n++;
    if (!oldest || rec.busy_since < oldest) oldest = rec.busy_since;
  }
  if (busy) *busy = n;
  return oldest;
}
