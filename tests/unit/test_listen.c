/* test_listen.c - the --listen address: parsing, the loopback decision, binding.
 *
 * The loopback decision lets the master run code without auth, so it must come
 * from resolved numeric addresses: a name that merely starts with "127." is
 * refused, never looked up. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "owt_listen.h"
#include "unit.h"

static int parses(const char *spec, owt_listen_addr *addr, const char **why) {
  *why = NULL;
  return owt_listen_parse(spec, addr, why) == OWT_OK;
}

static void test_numeric_loopback_addresses_are_local(void **state) {
  (void)state;
  static const char *const local[] = {
      "127.0.0.1:9000", "127.0.0.2:0",      "127.255.255.254:80", "127.1:80", /* inet_aton form */
      "[::1]:9001",     "[0:0:0:0:0:0:0:1]:1", "[::ffff:127.0.0.1]:80", "::1:9000",
  };
  for (size_t i = 0; i < ARRAY_LEN(local); i++) {
    owt_listen_addr addr;
    const char *why = NULL;
    if (!parses(local[i], &addr, &why)) fail_msg("%s was refused: %s", local[i], why);
    if (!owt_listen_is_local(&addr)) fail_msg("%s is loopback but was not taken as local", local[i]);
  }
}

static void test_other_numeric_addresses_are_not_local(void **state) {
  (void)state;
  static const char *const remote[] = {
      "0.0.0.0:80", "[::]:80", "192.0.2.1:80", "128.0.0.1:80", "126.255.255.255:80",
      "[2001:db8::1]:80", "[::2]:80", "[::ffff:192.0.2.1]:80", "[::127.0.0.1]:80", /* v4-compatible, not mapped */
  };
  for (size_t i = 0; i < ARRAY_LEN(remote); i++) {
    owt_listen_addr addr;
    const char *why = NULL;
    if (!parses(remote[i], &addr, &why)) fail_msg("%s was refused: %s", remote[i], why);
    if (owt_listen_is_local(&addr)) fail_msg("%s is not loopback but was taken as local", remote[i]);
  }
}

static void test_names_are_refused_not_looked_up(void **state) {
  (void)state;
  static const char *const names[] = {
      "127.attacker.example:80", "127.0.0.1.attacker.example:80", "localhost.attacker.example:80",
      "example.com:80",          "127.0.0.1.:80",                 "127.0.0.1 :80",
      "[localhost]:80",          "[127.0.0.1]:80",                "[127.attacker.example]:80",
  };
  for (size_t i = 0; i < ARRAY_LEN(names); i++) {
    owt_listen_addr addr;
    const char *why = NULL;
    if (parses(names[i], &addr, &why)) fail_msg("%s was accepted", names[i]);
    assert_non_null(why);
    assert_false(owt_listen_is_local(&addr));
  }
  owt_listen_addr addr;
  const char *why = NULL;
  assert_false(parses("127.attacker.example:80", &addr, &why));
  assert_string_equal(why, "the host must be a numeric IPv4 or IPv6 address, or localhost (names are not looked up)");
  assert_false(parses("[127.0.0.1]:80", &addr, &why));
  assert_string_equal(why, "[...] holds a numeric IPv6 address");
}

static void test_localhost_is_resolved_and_every_address_checked(void **state) {
  (void)state;
  owt_listen_addr addr;
  const char *why = NULL;
  /* Every resolver this runs on maps localhost to loopback only. */
  assert_true(parses("localhost:9000", &addr, &why));
  assert_true(owt_listen_is_local(&addr));
  assert_true(parses("LocalHost:9000", &addr, &why));
  assert_true(owt_listen_is_local(&addr));
}

static void test_sockaddr_is_loopback(void **state) {
  (void)state;
  struct sockaddr_in in4;
  memset(&in4, 0, sizeof in4);
  in4.sin_family = AF_INET;
  static const struct {
    const char *text;
    int loopback;
  } v4[] = {{"127.0.0.1", 1}, {"127.1.2.3", 1}, {"127.255.255.255", 1}, {"126.0.0.1", 0}, {"0.0.0.0", 0},
            {"10.0.0.1", 0}};
  for (size_t i = 0; i < ARRAY_LEN(v4); i++) {
    assert_int_equal(inet_pton(AF_INET, v4[i].text, &in4.sin_addr), 1);
    if (owt_listen_sockaddr_is_loopback((struct sockaddr *)&in4) != v4[i].loopback) fail_msg("%s", v4[i].text);
  }
  struct sockaddr_in6 in6;
  memset(&in6, 0, sizeof in6);
  in6.sin6_family = AF_INET6;
  static const struct {
    const char *text;
    int loopback;
  } v6[] = {{"::1", 1}, {"::ffff:127.0.0.9", 1}, {"::", 0}, {"::ffff:10.0.0.1", 0}, {"fe80::1", 0}};
  for (size_t i = 0; i < ARRAY_LEN(v6); i++) {
    assert_int_equal(inet_pton(AF_INET6, v6[i].text, &in6.sin6_addr), 1);
    if (owt_listen_sockaddr_is_loopback((struct sockaddr *)&in6) != v6[i].loopback) fail_msg("%s", v6[i].text);
  }
  struct sockaddr sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_family = AF_UNIX;
  assert_false(owt_listen_sockaddr_is_loopback(&sa));
}

static void test_parse_shapes(void **state) {
  (void)state;
  owt_listen_addr addr;
  const char *why = NULL;
  assert_true(parses("127.0.0.1:9000", &addr, &why));
  assert_string_equal(addr.host, "127.0.0.1");
  assert_string_equal(addr.port, "9000");
  assert_true(parses("[::1]:9001", &addr, &why));
  assert_string_equal(addr.host, "::1");
  assert_true(parses("unix:/run/owt.sock", &addr, &why));
  assert_true(addr.is_unix);
  assert_true(owt_listen_is_local(&addr));
  assert_string_equal(addr.path, "/run/owt.sock");
  static const char *const bad[] = {"9000", "host:", ":9000", "[::1]9000", "[::1:9000", "h:9x",
                                    "unix:", "h:1234567", "127.0.0.1:65536", "[]:80"};
  for (size_t i = 0; i < ARRAY_LEN(bad); i++)
    if (owt_listen_parse(bad[i], &addr, &why) != OWT_E_BAD_REQUEST) fail_msg("%s was accepted", bad[i]);
  owt_listen_addr blank;
  memset(&blank, 0, sizeof blank); /* not from owt_listen_parse: never local */
  memcpy(blank.host, "127.0.0.1", sizeof "127.0.0.1");
  assert_false(owt_listen_is_local(&blank));
}

/* fd's bound address as text. */
static void bound_host(int fd, char *out, size_t len) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
  const void *a = ss.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
                                          : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
  assert_non_null(inet_ntop(ss.ss_family, a, out, (socklen_t)len));
}

static void test_open_binds_the_checked_address(void **state) {
  (void)state;
  static const struct {
    const char *spec, *bound;
  } cases[] = {{"127.0.0.2:0", "127.0.0.2"}, {"127.1:0", "127.0.0.1"}, {"[::1]:0", "::1"}};
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    owt_listen_addr addr;
    const char *why = NULL;
    char msg[256], host[INET6_ADDRSTRLEN];
    assert_true(parses(cases[i].spec, &addr, &why));
    int fd = -1;
    if (owt_listen_open(&addr, 16, 0, &fd, msg, sizeof msg) != OWT_OK) fail_msg("%s: %s", cases[i].spec, msg);
    bound_host(fd, host, sizeof host);
    assert_string_equal(host, cases[i].bound);
    close(fd);
  }
  owt_listen_addr addr;
  const char *why = NULL;
  char msg[256], host[INET6_ADDRSTRLEN];
  assert_true(parses("localhost:0", &addr, &why));
  int fd = -1;
  assert_int_equal(owt_listen_open(&addr, 16, 0, &fd, msg, sizeof msg), OWT_OK);
  assert_true(fd >= 0);
  bound_host(fd, host, sizeof host);
  assert_true(strcmp(host, "::1") == 0 || strncmp(host, "127.", 4) == 0);
  close(fd);
}

static void test_open_refuses_a_taken_port(void **state) {
  (void)state;
  owt_listen_addr addr;
  const char *why = NULL;
  char msg[256];
  assert_true(parses("127.0.0.1:0", &addr, &why));
  int fd = -1;
  assert_int_equal(owt_listen_open(&addr, 16, 0, &fd, msg, sizeof msg), OWT_OK);
  assert_true(fd >= 0);
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
  snprintf(addr.port, sizeof addr.port, "%u", ntohs(sin.sin_port));
  int again = 0;
  assert_int_equal(owt_listen_open(&addr, 16, 0, &again, msg, sizeof msg), OWT_E_INTERNAL);
  assert_int_equal(again, -1);
  assert_non_null(strstr(msg, "cannot listen"));
  close(fd);
}

/* A unix socket: a stale socket file is replaced, anything else at the path
 * is not (bind fails), and the mode is applied. */
static void test_unix_socket(void **state) {
  (void)state;
  char dir[] = "/tmp/owt-listen-XXXXXX", spec[128], msg[256];
  assert_non_null(mkdtemp(dir));
  snprintf(spec, sizeof spec, "unix:%s/owt.sock", dir);
  owt_listen_addr addr;
  const char *why = NULL;
  assert_true(parses(spec, &addr, &why));
  int fd = -1;
  assert_int_equal(owt_listen_open(&addr, 16, 0600, &fd, msg, sizeof msg), OWT_OK);
  struct stat st;
  assert_int_equal(lstat(addr.path, &st), 0);
  assert_true(S_ISSOCK(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0600);
  /* it accepts */
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sun;
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, addr.path, strlen(addr.path) + 1);
  assert_int_equal(connect(c, (struct sockaddr *)&sun, sizeof sun), 0);
  close(c);
  close(fd); /* the file stays: a stale socket */
  int again = -1;
  assert_int_equal(owt_listen_open(&addr, 16, 0660, &again, msg, sizeof msg), OWT_OK);
  assert_int_equal(lstat(addr.path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0660);
  close(again);
  /* a regular file is not a stale socket: it stays, and the bind fails */
  assert_int_equal(unlink(addr.path), 0);
  FILE *f = fopen(addr.path, "w");
  assert_non_null(f);
  fclose(f);
  again = 0;
  assert_int_equal(owt_listen_open(&addr, 16, 0, &again, msg, sizeof msg), OWT_E_INTERNAL);
  assert_int_equal(again, -1);
  assert_non_null(strstr(msg, "cannot listen on unix:"));
  assert_int_equal(lstat(addr.path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  unlink(addr.path);
  rmdir(dir);
  /* a path that does not fit sockaddr_un */
  char long_spec[200] = "unix:/tmp/";
  memset(long_spec + 10, 'x', 120);
  long_spec[130] = '\0';
  assert_int_equal(owt_listen_parse(long_spec, &addr, &why), OWT_E_BAD_REQUEST);
  assert_string_equal(why, "unix socket path is empty or too long");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_numeric_loopback_addresses_are_local),
      cmocka_unit_test(test_other_numeric_addresses_are_not_local),
      cmocka_unit_test(test_names_are_refused_not_looked_up),
      cmocka_unit_test(test_localhost_is_resolved_and_every_address_checked),
      cmocka_unit_test(test_sockaddr_is_loopback),
      cmocka_unit_test(test_parse_shapes),
      cmocka_unit_test(test_open_binds_the_checked_address),
      cmocka_unit_test(test_open_refuses_a_taken_port),
      cmocka_unit_test(test_unix_socket),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
