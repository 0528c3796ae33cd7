/* test_handoff.c - passing an open connection over a hand-off channel: the
 * receiver gets the same connection (bytes written on it reach the peer,
 * bytes the peer sent and nobody read are still there), an empty channel
 * says "nothing", a closed one says so, and the sender's copy can be closed
 * without ending the connection. */
#include <sys/socket.h>
#include <unistd.h>

#include "owt_handoff.h"
#include "unit.h"

static void test_a_connection_crosses_with_its_unread_bytes(void **state) {
  (void)state;
  int chan[2], conn[2], got = -1;
  assert_int_equal(owt_handoff_pair(chan), OWT_OK);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, conn), 0);
  assert_int_equal(write(conn[1], "next request", 12), 12); /* sent before the hand-off */
  assert_int_equal(owt_handoff_send(chan[1], conn[0]), OWT_OK);
  close(conn[0]); /* the sender lets go of its copy */
  assert_int_equal(owt_handoff_recv(chan[0], &got), OWT_OK);
  assert_true(got >= 0);
  char buf[32];
  assert_int_equal(read(got, buf, sizeof buf), 12);
  assert_memory_equal(buf, "next request", 12);
  assert_int_equal(write(got, "reply", 5), 5);
  assert_int_equal(read(conn[1], buf, sizeof buf), 5);
  assert_memory_equal(buf, "reply", 5);
  close(got);
  assert_int_equal(read(conn[1], buf, sizeof buf), 0); /* the last copy closed: the peer sees EOF */
  close(conn[1]);
  close(chan[0]);
  close(chan[1]);
}

static void test_an_empty_channel_has_nothing_and_a_closed_one_says_so(void **state) {
  (void)state;
  int chan[2], got = 7;
  assert_int_equal(owt_handoff_pair(chan), OWT_OK);
  assert_int_equal(owt_handoff_recv(chan[0], &got), OWT_OK);
  assert_int_equal(got, -1);
  close(chan[1]);
  assert_int_equal(owt_handoff_recv(chan[0], &got), OWT_E_IO);
  assert_int_equal(owt_handoff_send(chan[0], 0), OWT_E_IO);
  close(chan[0]);
}

static void test_many_connections_in_order(void **state) {
  (void)state;
  int chan[2], pairs[8][2];
  assert_int_equal(owt_handoff_pair(chan), OWT_OK);
  for (int i = 0; i < 8; i++) {
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i]), 0);
    char c = (char)('a' + i);
    assert_int_equal(write(pairs[i][1], &c, 1), 1);
    assert_int_equal(owt_handoff_send(chan[1], pairs[i][0]), OWT_OK);
    close(pairs[i][0]);
  }
  for (int i = 0; i < 8; i++) {
    int got = -1;
    char c = 0;
    assert_int_equal(owt_handoff_recv(chan[0], &got), OWT_OK);
    assert_int_equal(read(got, &c, 1), 1);
    assert_int_equal(c, 'a' + i);
    close(got);
    close(pairs[i][1]);
  }
  close(chan[0]);
  close(chan[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_a_connection_crosses_with_its_unread_bytes),
      cmocka_unit_test(test_an_empty_channel_has_nothing_and_a_closed_one_says_so),
      cmocka_unit_test(test_many_connections_in_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
