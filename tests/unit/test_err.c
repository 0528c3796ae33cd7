/* test_err.c - owt_err: every error has a status and a name, and names round trip. */
#include "owt_err.h"
#include "unit.h"

static const struct {
  owt_err err;
  int status;
  const char *name;
} expected[] = {
    {OWT_OK, 200, "ok"},
    {OWT_E_BAD_REQUEST, 400, "bad_request"},
    {OWT_E_UNAUTHORIZED, 401, "unauthorized"},
    {OWT_E_FORBIDDEN, 403, "forbidden"},
    {OWT_E_NOT_FOUND, 404, "not_found"},
    {OWT_E_UNKNOWN_CODE, 404, "unknown_code"},
    {OWT_E_METHOD, 405, "method_not_allowed"},
    {OWT_E_CONFLICT, 409, "conflict"},
    {OWT_E_TOO_LARGE, 413, "too_large"},
    {OWT_E_URI_TOO_LONG, 414, "uri_too_long"},
    {OWT_E_ADAPTOR, 500, "adaptor"},
    {OWT_E_INTERNAL, 500, "internal"},
    {OWT_E_NOMEM, 500, "no_memory"},
    {OWT_E_UNAVAILABLE, 503, "unavailable"},
    {OWT_E_TIMEOUT, 504, "timeout"},
    {OWT_E_IO, 499, "client_gone"},
};

static void test_table_covers_every_error(void **state) {
  (void)state;
  assert_int_equal(ARRAY_LEN(expected), OWT_E__COUNT);
  for (size_t i = 0; i < ARRAY_LEN(expected); i++) assert_int_equal(expected[i].err, (owt_err)i);
}

static void test_status(void **state) {
  (void)state;
  for (size_t i = 0; i < ARRAY_LEN(expected); i++)
    assert_int_equal(owt_err_status(expected[i].err), expected[i].status);
  /* out of range: a server error, never a success */
  assert_int_equal(owt_err_status(OWT_E__COUNT), 500);
  assert_int_equal(owt_err_status((owt_err)-1), 500);
  assert_int_equal(owt_err_status((owt_err)1000), 500);
}

static void test_names(void **state) {
  (void)state;
  for (size_t i = 0; i < ARRAY_LEN(expected); i++)
    assert_string_equal(owt_err_name(expected[i].err), expected[i].name);
  assert_string_equal(owt_err_name(OWT_E__COUNT), "internal");
  assert_string_equal(owt_err_name((owt_err)-1), "internal");
}

static void test_names_round_trip_and_are_unique(void **state) {
  (void)state;
  for (int i = 0; i < OWT_E__COUNT; i++) {
    const char *name = owt_err_name((owt_err)i);
    assert_non_null(name);
    assert_int_equal(owt_err_from_name(name, strlen(name)), i);
    for (int j = 0; j < i; j++) assert_string_not_equal(name, owt_err_name((owt_err)j));
  }
}

static void test_from_name_needs_exact_span(void **state) {
  (void)state;
  /* a span, not a C string: the length decides */
  assert_int_equal(owt_err_from_name("timeout_and_more", 7), OWT_E_TIMEOUT);
  assert_int_equal(owt_err_from_name("timeout", 6), OWT_E__COUNT);
  assert_int_equal(owt_err_from_name("timeouts", 8), OWT_E__COUNT);
  assert_int_equal(owt_err_from_name("Timeout", 7), OWT_E__COUNT);
  assert_int_equal(owt_err_from_name("bad", 3), OWT_E__COUNT);
  assert_int_equal(owt_err_from_name("", 0), OWT_E__COUNT);
  assert_int_equal(owt_err_from_name("nonsense", 8), OWT_E__COUNT);
}

static void test_reasons(void **state) {
  (void)state;
  static const struct {
    int status;
    const char *reason;
  } r[] = {{200, "OK"},
           {204, "No Content"},
           {302, "Found"},
           {400, "Bad Request"},
           {401, "Unauthorized"},
           {403, "Forbidden"},
           {404, "Not Found"},
           {405, "Method Not Allowed"},
           {413, "Content Too Large"},
           {499, "Client Closed Request"},
           {500, "Internal Server Error"},
           {503, "Service Unavailable"},
           {504, "Gateway Timeout"},
           {299, "OK"},
           {399, "Redirect"},
           {451, "Client Error"},
           {599, "Server Error"},
           {999, "Server Error"}};
  for (size_t i = 0; i < ARRAY_LEN(r); i++)
    assert_string_equal(owt_err_reason(r[i].status), r[i].reason);
  for (int status = -1; status < 1100; status++) assert_non_null(owt_err_reason(status));
  /* every status an error maps to has a reason of its own */
  for (int i = 0; i < OWT_E__COUNT; i++) {
    const char *reason = owt_err_reason(owt_err_status((owt_err)i));
    assert_string_not_equal(reason, "Client Error");
    assert_string_not_equal(reason, "Server Error");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_covers_every_error),
      cmocka_unit_test(test_status),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_names_round_trip_and_are_unique),
      cmocka_unit_test(test_from_name_needs_exact_span),
      cmocka_unit_test(test_reasons),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
