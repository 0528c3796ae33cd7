/* test_response.c - owt_response: heads, the headers every response carries,
 * header injection, and the complete error responses. */
#define _GNU_SOURCE /* memmem */
#include "owt_response.h"
#include "unit.h"

#define HDR(n, v)                                \
  {                                              \
    {(n), sizeof(n) - 1}, { (v), sizeof(v) - 1 } \
  }
#define H(n, v) ((owt_header)HDR(n, v))
#define NONE \
  { HDR("", "") }

#define NOSNIFF "X-Content-Type-Options: nosniff\r\n"
#define TEXT "Content-Type: text/plain; charset=utf-8\r\n"

typedef struct {
  const char *name;
  int status;
  owt_header headers[6];
  size_t nheaders;
  long long content_length;
  owt_err err;
  const char *head; /* the expected head when err is OWT_OK */
  int event_stream;
} head_case;

/* One case per line where it fits; the table reads better unformatted. */
// clang-format off
static const head_case head_cases[] = {
    {"bare 200 with a length", 200, NONE, 0, 5, OWT_OK,
     "Status: 200 OK\r\n" TEXT NOSNIFF "Content-Length: 5\r\n\r\n", 0},
    {"no length when streaming", 200, NONE, 0, -1, OWT_OK,
     "Status: 200 OK\r\n" TEXT NOSNIFF "\r\n", 0},
    {"zero length", 204, NONE, 0, 0, OWT_OK,
     "Status: 204 No Content\r\n" TEXT NOSNIFF "Content-Length: 0\r\n\r\n", 0},
    {"reason phrases", 404, NONE, 0, -1, OWT_OK,
     "Status: 404 Not Found\r\n" TEXT NOSNIFF "\r\n", 0},
    {"unknown 2xx", 299, NONE, 0, -1, OWT_OK,
     "Status: 299 OK\r\n" TEXT NOSNIFF "\r\n", 0},
    {"unknown 5xx", 599, NONE, 0, -1, OWT_OK,
     "Status: 599 Server Error\r\n" TEXT NOSNIFF "\r\n", 0},
    {"given type", 200, {HDR("Content-Type", "text/html; charset=utf-8")}, 1, 3, OWT_OK,
     "Status: 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n" NOSNIFF
     "Content-Length: 3\r\n\r\n", 0},
    {"type in any case", 200, {HDR("content-type", "application/json")}, 1, -1, OWT_OK,
     "Status: 200 OK\r\ncontent-type: application/json\r\n" NOSNIFF "\r\n", 0},
    {"headers kept in order", 201, {HDR("X-A", "1"), HDR("Location", "/x"), HDR("X-A", "2")}, 3, -1,
     OWT_OK, "Status: 201 Created\r\nX-A: 1\r\nLocation: /x\r\nX-A: 2\r\n" TEXT NOSNIFF "\r\n",
     0},
    {"hop-by-hop and computed headers dropped", 200,
     {HDR("Status", "302 Found"), HDR("content-length", "999"),
      HDR("Transfer-Encoding", "chunked"), HDR("Connection", "close"),
      HDR("Keep-Alive", "timeout=5"), HDR("UPGRADE", "websocket")}, 6, 2,
     OWT_OK, "Status: 200 OK\r\n" TEXT NOSNIFF "Content-Length: 2\r\n\r\n", 0},
    {"nosniff given is not added again", 200, {HDR("x-content-type-options", "nosniff")}, 1, -1,
     OWT_OK, "Status: 200 OK\r\nx-content-type-options: nosniff\r\n" TEXT "\r\n", 0},
    {"event stream extras", 200, {HDR("Content-Type", "text/event-stream")}, 1, -1, OWT_OK,
     "Status: 200 OK\r\nContent-Type: text/event-stream\r\n" NOSNIFF
     "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n\r\n", 1},
    {"event stream with parameters and odd case", 200,
     {HDR("Content-Type", " Text/Event-Stream ; charset=utf-8")}, 1, -1, OWT_OK,
     "Status: 200 OK\r\nContent-Type:  Text/Event-Stream ; charset=utf-8\r\n" NOSNIFF
     "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n\r\n", 1},
    {"event stream keeps the adaptor's cache headers", 200,
     {HDR("Cache-Control", "no-store"), HDR("X-Accel-Buffering", "yes"),
      HDR("Content-Type", "text/event-stream")}, 3, -1, OWT_OK,
     "Status: 200 OK\r\nCache-Control: no-store\r\nX-Accel-Buffering: yes\r\n"
     "Content-Type: text/event-stream\r\n" NOSNIFF "\r\n", 1},
    {"not an event stream", 200, {HDR("Content-Type", "text/event-streamer")}, 1, -1, OWT_OK,
     "Status: 200 OK\r\nContent-Type: text/event-streamer\r\n" NOSNIFF "\r\n", 0},
    {"tab and high bytes in a value", 200, {HDR("X-Note", "a\tb \xc3\xa9")}, 1, -1, OWT_OK,
     "Status: 200 OK\r\nX-Note: a\tb \xc3\xa9\r\n" TEXT NOSNIFF "\r\n", 0},
    {"empty value", 200, {HDR("X-Empty", "")}, 1, -1, OWT_OK,
     "Status: 200 OK\r\nX-Empty: \r\n" TEXT NOSNIFF "\r\n", 0},
    {"token punctuation in a name", 200, {HDR("X-!#$%&'*+-.^_`|~", "v")}, 1, -1, OWT_OK,
     "Status: 200 OK\r\nX-!#$%&'*+-.^_`|~: v\r\n" TEXT NOSNIFF "\r\n", 0},
    /* header injection and other adaptor mistakes */
    {"CRLF in a value", 200, {HDR("X-A", "a\r\nSet-Cookie: owned=1")}, 1, -1, OWT_E_ADAPTOR,
     NULL, 0},
    {"LF in a value", 200, {HDR("X-A", "a\nb")}, 1, -1, OWT_E_ADAPTOR, NULL, 0},
    {"CR in a value", 200, {HDR("X-A", "a\rb")}, 1, -1, OWT_E_ADAPTOR, NULL, 0},
    {"NUL in a value", 200, {{{"X-A", 3}, {"a\0b", 3}}}, 1, -1, OWT_E_ADAPTOR, NULL, 0},
    {"DEL in a value", 200, {HDR("X-A", "a\x7f")}, 1, -1, OWT_E_ADAPTOR, NULL, 0},
    {"control byte in a value", 200, {HDR("X-A", "\x01")}, 1, -1, OWT_E_ADAPTOR, NULL, 0},
    {"injection, dropped header", 200, {HDR("Connection", "x\r\nEvil: 1")}, 1, -1, OWT_E_ADAPTOR,
     NULL, 0},
    {"space in a name", 200, {HDR("Bad Name", "v")}, 1, -1, OWT_E_ADAPTOR, NULL, 0},
    {"colon in a name", 200, {HDR("X-A:", "v")}, 1, -1, OWT_E_ADAPTOR, NULL, 0},
    {"CRLF in a name", 200, {HDR("X-A\r\nEvil", "v")}, 1, -1, OWT_E_ADAPTOR, NULL, 0},
    {"empty name", 200, {HDR("", "v")}, 1, -1, OWT_E_ADAPTOR, NULL, 0},
    {"non-ASCII name", 200, {HDR("X-\xc3\xa9", "v")}, 1, -1, OWT_E_ADAPTOR, NULL, 0},
    {"NUL in a name", 200, {{{"X\0A", 3}, {"v", 1}}}, 1, -1, OWT_E_ADAPTOR, NULL, 0},
    {"status too small", 99, NONE, 0, -1, OWT_E_ADAPTOR, NULL, 0},
    {"status too big", 1000, NONE, 0, -1, OWT_E_ADAPTOR, NULL, 0},
    {"negative status", -200, NONE, 0, -1, OWT_E_ADAPTOR, NULL, 0},
};
// clang-format on

static void test_head_table(void **state) {
  (void)state;
  for (size_t i = 0; i < ARRAY_LEN(head_cases); i++) {
    const head_case *c = &head_cases[i];
    owt_buf out = OWT_BUF_INIT(4096);
    int sse = -1;
    owt_err err =
        owt_response_head(&out, c->status, c->headers, c->nheaders, c->content_length, &sse);
    if (err != c->err) fail_msg("%s: err %d, want %d", c->name, err, c->err);
    if (err == OWT_OK) {
      if (!owt_str_eq(owt_buf_str(&out), owt_str_of(c->head)))
        fail_msg("%s:\n got: %s\nwant: %s", c->name, out.data, c->head);
      if (sse != c->event_stream) fail_msg("%s: event_stream %d", c->name, sse);
    } else if (out.data && memmem(out.data, out.len, "Evil", 4)) {
      fail_msg("%s: the injected header reached the output", c->name);
    }
    owt_buf_free(&out);
  }
}

static void test_head_event_stream_may_be_null(void **state) {
  (void)state;
  owt_buf out = OWT_BUF_INIT(4096);
  owt_header h = H("Content-Type", "text/event-stream");
  assert_int_equal(owt_response_head(&out, 200, &h, 1, -1, NULL), OWT_OK);
  assert_non_null(strstr(out.data, "X-Accel-Buffering: no\r\n"));
  owt_buf_free(&out);
}

static void test_head_large_length(void **state) {
  (void)state;
  owt_buf out = OWT_BUF_INIT(4096);
  assert_int_equal(owt_response_head(&out, 200, NULL, 0, 9876543210LL, NULL), OWT_OK);
  assert_non_null(strstr(out.data, "\r\nContent-Length: 9876543210\r\n\r\n"));
  owt_buf_free(&out);
}

static void test_head_too_big_for_buffer(void **state) {
  (void)state;
  char small[48];
  owt_buf out = OWT_BUF_FIXED(small);
  assert_int_equal(owt_response_head(&out, 200, NULL, 0, -1, NULL), OWT_E_TOO_LARGE);
  assert_ptr_equal(out.data, small);
}

/* ---- complete responses --------------------------------------------------------- */

static void test_send_error(void **state) {
  (void)state;
  owt_io io;
  mem_io m;
  mem_io_bind(&io, &m, NULL, 0, NULL);
  owt_header extra = H("WWW-Authenticate", "Basic realm=\"owt\"");
  assert_int_equal(owt_response_send_error(&io, OWT_E_UNAUTHORIZED,
                                           OWT_STR_LIT("authentication required"), &extra, 1),
                   OWT_OK);
  assert_span_equal(owt_buf_str(&m.out), "Status: 401 Unauthorized\r\n" TEXT
                                         "WWW-Authenticate: Basic realm=\"owt\"\r\n" NOSNIFF
                                         "Content-Length: 23\r\n\r\nauthentication required");
  mem_io_free(&m);
}

static void test_send_error_every_status(void **state) {
  (void)state;
  for (int e = OWT_E_BAD_REQUEST; e < OWT_E__COUNT; e++) {
    owt_io io;
    mem_io m;
    mem_io_bind(&io, &m, NULL, 0, NULL);
    assert_int_equal(owt_response_send_error(&io, (owt_err)e, OWT_STR_LIT("why"), NULL, 0), OWT_OK);
    char want[256];
    int status = owt_err_status((owt_err)e);
    snprintf(want, sizeof want, "Status: %d %s\r\n" TEXT NOSNIFF "Content-Length: 3\r\n\r\nwhy",
             status, owt_err_reason(status));
    assert_span_equal(owt_buf_str(&m.out), want);
    mem_io_free(&m);
  }
}

static void test_send_error_empty_message(void **state) {
  (void)state;
  owt_io io;
  mem_io m;
  mem_io_bind(&io, &m, NULL, 0, NULL);
  assert_int_equal(owt_response_send_error(&io, OWT_E_NOT_FOUND, OWT_STR_NULL, NULL, 0), OWT_OK);
  assert_span_equal(owt_buf_str(&m.out),
                    "Status: 404 Not Found\r\n" TEXT NOSNIFF "Content-Length: 0\r\n\r\n");
  mem_io_free(&m);
}

/* The message is the body: CR/LF there is not a header and passes as is. */
static void test_send_error_message_is_body(void **state) {
  (void)state;
  owt_io io;
  mem_io m;
  mem_io_bind(&io, &m, NULL, 0, NULL);
  assert_int_equal(owt_response_send_error(&io, OWT_E_ADAPTOR,
                                           OWT_STR_LIT("Error executing code:\r\nline 2"), NULL, 0),
                   OWT_OK);
  assert_span_equal(owt_buf_str(&m.out),
                    "Status: 500 Internal Server Error\r\n" TEXT NOSNIFF
                    "Content-Length: 29\r\n\r\nError executing code:\r\nline 2");
  mem_io_free(&m);
}

static void test_send_error_bad_extra_header(void **state) {
  (void)state;
  owt_io io;
  mem_io m;
  mem_io_bind(&io, &m, NULL, 0, NULL);
  owt_header extra = H("X-Bad", "a\r\nb");
  assert_int_equal(owt_response_send_error(&io, OWT_E_BAD_REQUEST, OWT_STR_LIT("x"), &extra, 1),
                   OWT_OK);
  assert_span_equal(owt_buf_str(&m.out),
                    "Status: 500 Internal Server Error\r\n" TEXT NOSNIFF "Content-Length: 0\r\n\r\n");
  mem_io_free(&m);
}

static void test_send_client_gone(void **state) {
  (void)state;
  owt_io io;
  mem_io m;
  mem_io_bind(&io, &m, NULL, 0, NULL);
  m.write_fails = 1;
  assert_int_equal(owt_response_send_error(&io, OWT_E_BAD_REQUEST, OWT_STR_LIT("x"), NULL, 0),
                   OWT_E_IO);
  assert_int_equal(owt_response_send(&io, OWT_STR_LIT("text/plain"), OWT_STR_LIT("ok")),
                   OWT_E_IO);
  owt_header extra = H("X-Bad", "\n");
  assert_int_equal(owt_response_send_error(&io, OWT_E_BAD_REQUEST, OWT_STR_LIT("x"), &extra, 1),
                   OWT_E_IO);
  mem_io_free(&m);
}

static void test_send(void **state) {
  (void)state;
  owt_io io;
  mem_io m;
  mem_io_bind(&io, &m, NULL, 0, NULL);
  assert_int_equal(
      owt_response_send(&io, OWT_STR_LIT("application/json"), OWT_STR_LIT("{\"ok\":1}")),
      OWT_OK);
  assert_span_equal(owt_buf_str(&m.out),
                    "Status: 200 OK\r\nContent-Type: application/json\r\n" NOSNIFF
                    "Content-Length: 8\r\n\r\n{\"ok\":1}");
  mem_io_free(&m);
}

/* A canned response is byte for byte what send_error writes for the same
 * error: one place decides the status line and the headers. */
static void test_canned_is_what_send_error_writes(void **state) {
  (void)state;
  static const owt_header retry = HDR("Retry-After", "1");
  static const struct {
    owt_err err;
    const char *message;
    int nextra;
  } cases[] = {{OWT_E_TIMEOUT, "Error executing code: Timeout", 0},
               {OWT_E_UNAVAILABLE, "the server is shutting down", 1},
               {OWT_E_INTERNAL, "", 0}};
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    owt_io io;
    mem_io m;
    char text[512];
    owt_buf canned = OWT_BUF_FIXED(text);
    owt_str message = owt_str_of(cases[i].message);
    mem_io_bind(&io, &m, NULL, 0, NULL);
    assert_int_equal(owt_response_send_error(&io, cases[i].err, message, &retry, (size_t)cases[i].nextra),
                     OWT_OK);
    assert_int_equal(owt_response_canned(&canned, cases[i].err, message, &retry, (size_t)cases[i].nextra),
                     OWT_OK);
    assert_buf_bytes(&canned, m.out.data, m.out.len);
    mem_io_free(&m);
  }
  char text[512];
  owt_buf out = OWT_BUF_FIXED(text);
  assert_int_equal(owt_response_canned(&out, OWT_E_UNAVAILABLE, OWT_STR_LIT("bye"), &retry, 1), OWT_OK);
  assert_span_equal(owt_buf_str(&out), "Status: 503 Service Unavailable\r\n" TEXT "Retry-After: 1\r\n" NOSNIFF
                                       "Content-Length: 3\r\n\r\nbye");
  char tiny[16];
  owt_buf small = OWT_BUF_FIXED(tiny);
  assert_int_equal(owt_response_canned(&small, OWT_E_TIMEOUT, OWT_STR_LIT("x"), NULL, 0), OWT_E_TOO_LARGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_head_table),
      cmocka_unit_test(test_canned_is_what_send_error_writes),
      cmocka_unit_test(test_head_event_stream_may_be_null),
      cmocka_unit_test(test_head_large_length),
      cmocka_unit_test(test_head_too_big_for_buffer),
      cmocka_unit_test(test_send_error),
      cmocka_unit_test(test_send_error_every_status),
      cmocka_unit_test(test_send_error_empty_message),
      cmocka_unit_test(test_send_error_message_is_body),
      cmocka_unit_test(test_send_error_bad_extra_header),
      cmocka_unit_test(test_send_client_gone),
      cmocka_unit_test(test_send),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
