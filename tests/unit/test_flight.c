/* test_flight.c - owt_flight: a request in flight between its thread and the
 * watchdog. A takeover answers over the FastCGI connection only when nothing
 * was written yet, always cuts the connection, and stops the thread's later
 * writes; the I/O clock runs only during a blocking read or write. */
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "owt_flight.h"
#include "owt_stats.h"
#include "unit.h"

static const char answer[] = "Status: 504 Gateway Timeout\r\n\r\ntoo slow";

/* Read what the peer got until it is closed or shut down. */
static size_t drain(int fd, unsigned char *out, size_t cap) {
  size_t n = 0;
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 2000) <= 0) break;
    ssize_t r = read(fd, out + n, cap - n);
    if (r <= 0) break;
    n += (size_t)r;
  }
  return n;
}

static void test_takeover_answers_when_nothing_was_written(void **state) {
  (void)state;
  int sv[2];
  owt_flight f;
  unsigned char got[512];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal(owt_flight_init(&f), OWT_OK);
  owt_flight_bind(&f, sv[0], 0x1234);
  assert_false(owt_flight_taken_over(&f));
  assert_int_equal(owt_flight_take_over(&f, answer, sizeof answer - 1), 1);
  assert_true(owt_flight_taken_over(&f));
  size_t n = drain(sv[1], got, sizeof got);
  /* STDOUT record(s) with the answer, the empty STDOUT, END_REQUEST; then EOF (shut down) */
  assert_int_equal(n, 8 + sizeof answer - 1 + 8 + 16);
  assert_int_equal(got[0], 1);
  assert_int_equal(got[1], 6); /* FCGI_STDOUT */
  assert_int_equal(got[2] << 8 | got[3], 0x1234);
  assert_int_equal(got[4] << 8 | got[5], sizeof answer - 1);
  assert_memory_equal(got + 8, answer, sizeof answer - 1);
  assert_int_equal(got[8 + sizeof answer - 1 + 8 + 1], 3); /* FCGI_END_REQUEST */
  /* the thread may not write any more */
  assert_int_equal(owt_flight_write_begin(&f), OWT_E_IO);
  owt_flight_bind(&f, -1, 0);
  assert_false(owt_flight_taken_over(&f)); /* a new request starts clean */
  owt_flight_destroy(&f);
  close(sv[0]);
  close(sv[1]);
}

static void test_takeover_after_a_write_only_cuts(void **state) {
  (void)state;
  int sv[2];
  owt_flight f;
  unsigned char got[512];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal(owt_flight_init(&f), OWT_OK);
  owt_flight_bind(&f, sv[0], 1);
  assert_int_equal(owt_flight_write_begin(&f), OWT_OK);
  assert_int_equal(write(sv[0], "part", 4), 4); /* what the thread wrote */
  owt_flight_write_end(&f);
  assert_int_equal(owt_flight_take_over(&f, answer, sizeof answer - 1), 0);
  assert_true(owt_flight_taken_over(&f));
  /* only the thread's bytes, then the end: no answer glued after a partial reply */
  assert_int_equal(drain(sv[1], got, sizeof got), 4);
  assert_memory_equal(got, "part", 4);
  owt_flight_destroy(&f);
  close(sv[0]);
  close(sv[1]);
}

typedef struct {
  owt_flight *f;
  int started;  /* atomic: the write has begun */
  int release;  /* atomic: let it end */
} writer_arg;

/* A thread blocked in a write: it holds io_lock until released. */
static void *blocked_writer(void *arg) {
  writer_arg *w = arg;
  assert_int_equal(owt_flight_write_begin(w->f), OWT_OK);
  __atomic_store_n(&w->started, 1, __ATOMIC_RELEASE);
  while (!__atomic_load_n(&w->release, __ATOMIC_ACQUIRE)) usleep(1000);
  owt_flight_write_end(w->f);
  return NULL;
}

static void test_takeover_during_a_write_cuts_without_waiting(void **state) {
  (void)state;
  int sv[2];
  owt_flight f;
  unsigned char got[64];
  pthread_t tid;
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal(owt_flight_init(&f), OWT_OK);
  owt_flight_bind(&f, sv[0], 1);
  writer_arg w = {&f, 0, 0};
  assert_int_equal(pthread_create(&tid, NULL, blocked_writer, &w), 0);
  while (!__atomic_load_n(&w.started, __ATOMIC_ACQUIRE)) usleep(1000);
  /* the I/O clock runs while the write is under way */
  usleep(20000);
  double age = owt_flight_io_age(&f, owt_monotonic());
  assert_true(age >= 0.015 && age < 5);
  assert_int_equal(owt_flight_take_over(&f, answer, sizeof answer - 1), 0); /* does not block */
  assert_true(owt_flight_taken_over(&f));
  /* the connection is shut down: the peer sees its end, and writes fail */
  assert_int_equal(drain(sv[1], got, sizeof got), 0);
  assert_int_equal(send(sv[0], "x", 1, MSG_NOSIGNAL), -1);
  __atomic_store_n(&w.release, 1, __ATOMIC_RELEASE);
  pthread_join(tid, NULL);
  assert_true(owt_flight_io_age(&f, owt_monotonic()) == 0);
  assert_int_equal(owt_flight_write_begin(&f), OWT_E_IO);
  owt_flight_destroy(&f);
  close(sv[0]);
  close(sv[1]);
}

static void test_io_clock_and_cut(void **state) {
  (void)state;
  int sv[2];
  owt_flight f;
  unsigned char got[8];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal(owt_flight_init(&f), OWT_OK);
  owt_flight_bind(&f, sv[0], 1);
  assert_true(owt_flight_io_age(&f, owt_monotonic()) == 0); /* idle: no clock */
  owt_flight_read_begin(&f);
  assert_true(owt_flight_io_age(&f, owt_monotonic() + 3) >= 3);
  owt_flight_read_end(&f);
  assert_true(owt_flight_io_age(&f, owt_monotonic() + 3) == 0);
  /* a stalled connection is cut: the peer sees EOF, nothing else changes */
  owt_flight_cut(&f);
  assert_int_equal(drain(sv[1], got, sizeof got), 0);
  assert_false(owt_flight_taken_over(&f));
  /* with no connection bound, cut and take over touch no fd */
  owt_flight_bind(&f, -1, 0);
  owt_flight_cut(&f);
  assert_int_equal(owt_flight_take_over(&f, answer, sizeof answer - 1), 0);
  owt_flight_destroy(&f);
  close(sv[0]);
  close(sv[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_takeover_answers_when_nothing_was_written),
      cmocka_unit_test(test_takeover_after_a_write_only_cuts),
      cmocka_unit_test(test_takeover_during_a_write_cuts_without_waiting),
      cmocka_unit_test(test_io_clock_and_cut),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
