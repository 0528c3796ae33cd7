/* test_reject.c - the master's canned FastCGI answer, over a socketpair. */
#include <sys/socket.h>
#include <unistd.h>

#include "owt_reject.h"
#include "unit.h"

static void put_record(int fd, int type, int id, const void *content, size_t len) {
  unsigned char h[8] = {1, (unsigned char)type, (unsigned char)(id >> 8), (unsigned char)id,
                        (unsigned char)(len >> 8), (unsigned char)len, 0, 0};
  assert_int_equal(write(fd, h, 8), 8);
  if (len) assert_int_equal(write(fd, content, len), (ssize_t)len);
}

static size_t read_all(int fd, unsigned char *buf, size_t cap) {
  size_t n = 0;
  ssize_t r;
  while (n < cap && (r = read(fd, buf + n, cap - n)) > 0) n += (size_t)r;
  return n;
}

static void test_answers_with_the_request_id(void **state) {
  (void)state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  static const unsigned char begin[8] = {0, 1, 0, 0, 0, 0, 0, 0};
  static const char params[] = "\x0e\x03REQUEST_METHODGET";
  put_record(sv[0], 1, 7, begin, sizeof begin);
  put_record(sv[0], 4, 7, params, sizeof params - 1);
  put_record(sv[0], 4, 7, NULL, 0);
  put_record(sv[0], 5, 7, "body", 4);
  put_record(sv[0], 5, 7, NULL, 0);
  static const char resp[] = "Status: 503 Service Unavailable\r\n\r\nshutting down";
  assert_int_equal(owt_reject_connection(sv[1], resp, sizeof resp - 1, 65536, 1000), OWT_OK);
  unsigned char out[512];
  size_t n = read_all(sv[0], out, sizeof out);
  /* STDOUT(resp) + STDOUT(empty) + END_REQUEST(8) */
  assert_int_equal(n, 8 + (sizeof resp - 1) + 8 + 16);
  assert_int_equal(out[1], 6);
  assert_int_equal(out[2] << 8 | out[3], 7);
  assert_memory_equal(out + 8, resp, sizeof resp - 1);
  const unsigned char *end = out + 8 + (sizeof resp - 1) + 8;
  assert_int_equal(end[1], 3);
  assert_int_equal(end[2] << 8 | end[3], 7);
  close(sv[0]);
}

static void test_a_connection_closed_early_is_not_answered(void **state) {
  (void)state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal(write(sv[0], "\x01\x01", 2), 2); /* half a header, then gone */
  shutdown(sv[0], SHUT_WR);
  assert_int_equal(owt_reject_connection(sv[1], "x", 1, 65536, 1000), OWT_E_IO);
  close(sv[0]);
}

static void test_a_silent_peer_times_out(void **state) {
  (void)state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal(owt_reject_connection(sv[1], "x", 1, 65536, 50), OWT_E_IO);
  close(sv[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_answers_with_the_request_id),
      cmocka_unit_test(test_a_connection_closed_early_is_not_answered),
      cmocka_unit_test(test_a_silent_peer_times_out),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
