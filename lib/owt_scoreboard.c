/* owt_scoreboard.c - anonymous shared mapping for worker counters. */
#include "owt_scoreboard.h"

#include <string.h>
#include <sys/mman.h>

int owt_scoreboard_create(owt_scoreboard *board, size_t n) {
  void *p = mmap(NULL, n * sizeof(owt_slot), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return -1;
  memset(p, 0, n * sizeof(owt_slot));
  board->slots = p;
  board->n = n;
  return 0;
}

void owt_scoreboard_destroy(owt_scoreboard *board) {
  if (board->slots) munmap(board->slots, board->n * sizeof(owt_slot));
  board->slots = NULL;
  board->n = 0;
}

int owt_scoreboard_claim(owt_scoreboard *board) {
  for (size_t i = 0; i < board->n; i++)
    if (!board->slots[i].in_use) return (int)i;
  return -1;
}
