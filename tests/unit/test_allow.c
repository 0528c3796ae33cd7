/* test_allow.c - the --allow-from list (the --listen address: test_listen.c). */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "owt_allow.h"
#include "unit.h"

static struct sockaddr_storage peer(const char *text) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
  } else {
    assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
    in6->sin6_family = AF_INET6;
  }
  return ss;
}

static int allowed(const owt_allow *a, const char *text) {
  struct sockaddr_storage ss = peer(text);
  return owt_allow_check(a, (struct sockaddr *)&ss, sizeof ss);
}

static void test_empty_list_allows_everyone(void **state) {
  (void)state;
  owt_allow a = {0};
  assert_true(allowed(&a, "203.0.113.9"));
  assert_true(allowed(&a, "2001:db8::1"));
}

static void test_addresses_and_blocks(void **state) {
  (void)state;
  owt_allow a = {0};
  const char *why = NULL;
  assert_int_equal(owt_allow_add(&a, "127.0.0.1, 10.1.0.0/16 ::1 2001:db8:aa00::/40", &why), OWT_OK);
  assert_int_equal(a.n, 4);
  static const struct {
    const char *peer;
    int ok;
  } cases[] = {
      {"127.0.0.1", 1},    {"127.0.0.2", 0},         {"10.1.255.7", 1},
      {"10.2.0.1", 0},     {"::1", 1},               {"::2", 0},
      {"2001:db8:aa12::9", 1}, {"2001:db8:ab00::1", 0}, {"::ffff:10.1.2.3", 1},
      {"::ffff:192.0.2.1", 0},
  };
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    if (allowed(&a, cases[i].peer) != cases[i].ok)
      fail_msg("%s: want %s", cases[i].peer, cases[i].ok ? "allowed" : "refused");
  }
}

static void test_prefix_edges(void **state) {
  (void)state;
  owt_allow a = {0};
  const char *why = NULL;
  assert_int_equal(owt_allow_add(&a, "192.0.2.128/25,0.0.0.0/0", &why), OWT_OK);
  assert_true(allowed(&a, "192.0.2.200"));
  owt_allow b = {0};
  assert_int_equal(owt_allow_add(&b, "192.0.2.128/25", &why), OWT_OK);
  assert_true(allowed(&b, "192.0.2.128"));
  assert_true(allowed(&b, "192.0.2.255"));
  assert_false(allowed(&b, "192.0.2.127"));
}

static void test_unix_peers_pass(void **state) {
  (void)state;
  owt_allow a = {0};
  const char *why = NULL;
  assert_int_equal(owt_allow_add(&a, "10.0.0.1", &why), OWT_OK);
  struct sockaddr sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_family = AF_UNIX;
  assert_true(owt_allow_check(&a, &sa, sizeof sa));
}

static void test_bad_entries(void **state) {
  (void)state;
  static const char *const bad[] = {"localhost", "10.0.0.0/33", "::1/129", "10.0.0.1/",
                                    "10.0.0.1/x", "1.2.3", "0123456789012345678901234567890123456789012345678901234567890123456789"};
  for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
    owt_allow a = {0};
    const char *why = NULL;
    if (owt_allow_add(&a, bad[i], &why) != OWT_E_BAD_REQUEST || !why) fail_msg("%s was accepted", bad[i]);
  }
  owt_allow full = {0};
  const char *why = NULL;
  for (int i = 0; i < OWT_ALLOW_MAX; i++) assert_int_equal(owt_allow_add(&full, "10.0.0.1", &why), OWT_OK);
  assert_int_equal(owt_allow_add(&full, "10.0.0.2", &why), OWT_E_BAD_REQUEST);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_list_allows_everyone),
      cmocka_unit_test(test_addresses_and_blocks),
      cmocka_unit_test(test_prefix_edges),
      cmocka_unit_test(test_unix_peers_pass),
      cmocka_unit_test(test_bad_entries),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
