/* test_scoreboard_slots.c - owt_scoreboard as a master maps it, and the
 * in-flight records: slots of their own, shared with forked children,
 * claim/reset/retire, the oldest request, and a reader that never sees half
 * of a record while its writer thread keeps changing it. */
#include <errno.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "owt_scoreboard.h"
#include "unit.h"

static void test_create_bounds(void **state) {
  (void)state;
  owt_scoreboard b;
  errno = 0;
  assert_int_equal(owt_scoreboard_create(&b, 0, 4), -1);
  assert_int_equal(errno, EINVAL);
  assert_null(b.mem);
  assert_int_equal(owt_scoreboard_create(&b, 4, 0), -1);
  assert_int_equal(owt_scoreboard_create(&b, 4, (1u << 16) + 1), -1);
  assert_int_equal(owt_scoreboard_create(&b, (1u << 16) + 1, 1), -1);
  owt_scoreboard_destroy(&b); /* a board that failed is safe to destroy */
  assert_int_equal(owt_scoreboard_create(&b, 3, 5), 0);
  assert_int_equal(b.n, 3);
  assert_int_equal(b.threads, 5);
  assert_int_equal(b.stride % 64, 0);
  assert_true(b.stride >= sizeof(owt_slot) + 5 * sizeof(owt_inflight));
  owt_scoreboard_destroy(&b);
  assert_null(b.mem);
}

/* Every byte of every slot (its records included) belongs to that slot
 * alone, and the retired counters to none of them. */
static void test_slots_do_not_overlap(void **state) {
  (void)state;
  owt_scoreboard b;
  assert_int_equal(owt_scoreboard_create(&b, 4, 3), 0);
  for (size_t i = 0; i < b.n; i++) {
    owt_slot *s = owt_scoreboard_slot(&b, i);
    assert_int_equal((uintptr_t)s % 64, 0);
    assert_true(s->in_use == 0 && s->worker.requests == 0 && s->inflight[2].busy_since == 0); /* zeroed */
    s->worker.requests = 100 + i;
    s->kills = 10 + i;
    for (size_t t = 0; t < b.threads; t++)
      owt_inflight_set_busy(&s->inflight[t], (double)(1000 * i + t), i, "GET", 3, "/x", 2);
  }
  b.retired->requests = 7;
  for (size_t i = 0; i < b.n; i++) {
    owt_slot *s = owt_scoreboard_slot(&b, i);
    assert_int_equal(s->worker.requests, 100 + i);
    assert_int_equal(s->kills, 10 + i);
    for (size_t t = 0; t < b.threads; t++) {
      owt_inflight rec;
      owt_inflight_read(&s->inflight[t], &rec);
      assert_true(rec.busy_since == (double)(1000 * i + t));
    }
  }
  assert_int_equal(b.retired->requests, 7);
  owt_scoreboard_destroy(&b);
}

static void test_shared_with_forked_children(void **state) {
  (void)state;
  owt_scoreboard b;
  assert_int_equal(owt_scoreboard_create(&b, 2, 2), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    owt_slot *s = owt_scoreboard_slot(&b, 1);
    owt_stats_add(&s->worker.requests, 42);
    owt_inflight_set_busy(&s->inflight[1], 123.5, 9, "POST", 4, "/from/child", 11);
    _exit(0);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  owt_slot *s = owt_scoreboard_slot(&b, 1);
  assert_int_equal(owt_stats_get(&s->worker.requests), 42);
  owt_inflight rec;
  owt_inflight_read(&s->inflight[1], &rec);
  assert_true(rec.busy_since == 123.5);
  assert_string_equal(rec.method, "POST");
  assert_string_equal(rec.path, "/from/child");
  owt_scoreboard_destroy(&b);
}

static void test_claim_reset_retire(void **state) {
  (void)state;
  owt_scoreboard b;
  assert_int_equal(owt_scoreboard_create(&b, 3, 2), 0);
  assert_int_equal(owt_scoreboard_claim(&b), 0);
  owt_scoreboard_slot(&b, 0)->in_use = 1;
  owt_scoreboard_slot(&b, 2)->in_use = 1;
  assert_int_equal(owt_scoreboard_claim(&b), 1);
  owt_scoreboard_slot(&b, 1)->in_use = 1;
  assert_int_equal(owt_scoreboard_claim(&b), -1);
  owt_scoreboard_slot(&b, 2)->in_use = 0;
  assert_int_equal(owt_scoreboard_claim(&b), 2);

  /* retire adds every counter of the worker that leaves */
  owt_slot *s = owt_scoreboard_slot(&b, 1);
  owt_stats w = {.requests = 5, .errors_4xx = 1, .errors_5xx = 2, .timeouts = 3, .client_gone = 4,
                 .bytes_out = 600, .cache_hits = 7, .cache_misses = 8};
  s->worker = w;
  owt_scoreboard_retire(&b, &s->worker);
  owt_scoreboard_retire(&b, &s->worker);
  assert_int_equal(b.retired->requests, 10);
  assert_int_equal(b.retired->errors_4xx, 2);
  assert_int_equal(b.retired->errors_5xx, 4);
  assert_int_equal(b.retired->timeouts, 6);
  assert_int_equal(b.retired->client_gone, 8);
  assert_int_equal(b.retired->bytes_out, 1200);
  assert_int_equal(b.retired->cache_hits, 14);
  assert_int_equal(b.retired->cache_misses, 16);

  /* reset forgets the worker and its requests, not what the master keeps */
  s->kills = 3;
  s->respawns = 4;
  s->generation = 5;
  owt_inflight_set_busy(&s->inflight[1], 99.0, 1, "GET", 3, "/old", 4);
  owt_scoreboard_reset_slot(&b, 1);
  assert_int_equal(s->worker.requests, 0);
  assert_int_equal(s->worker.pid, 0);
  assert_true(owt_scoreboard_oldest(&b, s, NULL) == 0);
  assert_int_equal(s->kills, 3);
  assert_int_equal(s->respawns, 4);
  assert_int_equal(s->generation, 5);
  assert_int_equal(s->in_use, 1);
  owt_scoreboard_destroy(&b);
}

static void test_oldest(void **state) {
  (void)state;
  owt_scoreboard b;
  size_t busy = 99;
  assert_int_equal(owt_scoreboard_create(&b, 1, 4), 0);
  owt_slot *s = owt_scoreboard_slot(&b, 0);
  assert_true(owt_scoreboard_oldest(&b, s, &busy) == 0);
  assert_int_equal(busy, 0);
  owt_inflight_set_busy(&s->inflight[3], 300.0, 1, "GET", 3, "/c", 2);
  owt_inflight_set_busy(&s->inflight[1], 100.0, 2, "GET", 3, "/a", 2);
  owt_inflight_set_busy(&s->inflight[2], 200.0, 3, "GET", 3, "/b", 2);
  assert_true(owt_scoreboard_oldest(&b, s, &busy) == 100.0);
  assert_int_equal(busy, 3);
  owt_inflight_set_idle(&s->inflight[1]);
  assert_true(owt_scoreboard_oldest(&b, s, &busy) == 200.0);
  assert_int_equal(busy, 2);
  assert_true(owt_scoreboard_oldest(&b, s, NULL) == 200.0);
  owt_scoreboard_destroy(&b);
}

static void test_record_fields_are_escaped_and_bounded(void **state) {
  (void)state;
  owt_inflight rec, got;
  char path[1000], method[40], shown[4 * OWT_INFLIGHT_PATH + 1];
  memset(&rec, 0, sizeof rec);
  memset(path, '\n', sizeof path);
  owt_inflight_set_busy(&rec, 1.0, 1, "GE\"T\x01", 5, path, sizeof path);
  owt_inflight_read(&rec, &got);
  /* The record keeps raw bytes, cut to fit; they are escaped when shown. */
  assert_int_equal(got.path_len, OWT_INFLIGHT_PATH);
  assert_int_equal(got.method_len, 5);
  owt_inflight_text(&got, method, sizeof method, shown, sizeof shown);
  assert_string_equal(method, "GE\\x22T\\x01");
  assert_int_equal(strlen(shown), 4 * OWT_INFLIGHT_PATH);
  assert_int_equal(strncmp(shown, "\\x0a\\x0a", 8), 0);
  /* a NULL path keeps the one there */
  owt_inflight_set_busy(&rec, 2.0, 2, NULL, 0, NULL, 0);
  owt_inflight_read(&rec, &got);
  assert_true(got.busy_since == 2.0);
  owt_inflight_text(&got, method, sizeof method, shown, sizeof shown);
  assert_int_equal(strncmp(shown, "\\x0a", 4), 0);
}

/* ---- the sequence lock under a concurrent writer ------------------------------ */

typedef struct {
  owt_inflight *rec;
  int stop;             /* atomic */
  unsigned long writes; /* atomic */
} writer_arg;

/* Each write describes request n consistently: since n, number n, path
 * "/n/n/n..." and method "M<n%10>"; or marks the record idle. */
static void *writer(void *arg) {
  writer_arg *w = arg;
  char path[OWT_INFLIGHT_PATH];
  for (unsigned long n = 1; !__atomic_load_n(&w->stop, __ATOMIC_RELAXED); n++) {
    if (n % 7 == 0) {
      owt_inflight_set_idle(w->rec);
    } else {
      int len = snprintf(path, sizeof path, "/%lu/%lu/%lu/%lu/%lu", n, n, n, n, n);
      char method[2] = {'M', (char)('0' + n % 10)};
      owt_inflight_set_busy(w->rec, (double)n, n, method, 2, path, (size_t)len);
    }
    __atomic_store_n(&w->writes, n, __ATOMIC_RELAXED);
  }
  return NULL;
}

static void test_read_never_sees_half_a_write(void **state) {
  (void)state;
  owt_scoreboard b;
  assert_int_equal(owt_scoreboard_create(&b, 1, 1), 0);
  writer_arg w = {&owt_scoreboard_slot(&b, 0)->inflight[0], 0, 0};
  pthread_t tid;
  assert_int_equal(pthread_create(&tid, NULL, writer, &w), 0);
  unsigned long busy_reads = 0, reads = 0;
  double until = owt_monotonic() + 10;
  /* Read while the writer writes: many reads, many of them of a busy record, and many
   * writes during them. (A read that meets a write 1000 times in a row reports idle, as
   * for a writer that died: with this writer in a tight loop on the other core that
   * happens, so the reads go on until enough saw a busy record, not for a fixed count.) */
  while (reads < 200000 || busy_reads <= 1000 || __atomic_load_n(&w.writes, __ATOMIC_RELAXED) < 100000) {
    if (owt_monotonic() > until) break;
    reads++;
    owt_inflight rec;
    char want[OWT_INFLIGHT_PATH];
    owt_inflight_read(w.rec, &rec);
    assert_int_equal(rec.seq % 2, 0);
    if (rec.busy_since == 0) continue; /* idle (or never written yet) */
    unsigned long n = (unsigned long)rec.busy_since;
    snprintf(want, sizeof want, "/%lu/%lu/%lu/%lu/%lu", n, n, n, n, n);
    if (rec.number != n || strcmp(rec.path, want) != 0 || rec.method[1] != (char)('0' + n % 10))
      fail_msg("torn read: since %lu, number %llu, method %s, path %s", n, (unsigned long long)rec.number,
               rec.method, rec.path);
    busy_reads++;
  }
  __atomic_store_n(&w.stop, 1, __ATOMIC_RELAXED);
  pthread_join(tid, NULL);
  assert_true(w.writes >= 100000);
  assert_true(busy_reads > 1000);
  owt_scoreboard_destroy(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_bounds),
      cmocka_unit_test(test_slots_do_not_overlap),
      cmocka_unit_test(test_shared_with_forked_children),
      cmocka_unit_test(test_claim_reset_retire),
      cmocka_unit_test(test_oldest),
      cmocka_unit_test(test_record_fields_are_escaped_and_bounded),
      cmocka_unit_test(test_read_never_sees_half_a_write),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
