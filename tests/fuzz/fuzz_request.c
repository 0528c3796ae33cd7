/* fuzz_request.c - CGI environment / FastCGI params: NUL-separated input
 * becomes an envp for owt_request_read_params (the index, the path, the
 * params cap), then CONTENT_LENGTH, lookups, a body read of the same bytes
 * in pieces under a 64-byte --max-body, and the same params once more after
 * owt_request_reset. */
#undef NDEBUG /* the asserts are the checks */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "owt_request.h"

#include "fuzz_source.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  char *copy = malloc(size + 1);
  size_t n = 1, k = 0, length = 0;
  memcpy(copy, data, size);
  copy[size] = '\0';
  for (size_t i = 0; i < size; i++) n += copy[i] == '\0';
  char **envp = calloc(n + 1, sizeof *envp);
  for (char *p = copy; p <= copy + size; p += strlen(p) + 1) envp[k++] = p;
  owt_limits limits = OWT_LIMITS_DEFAULT;
  limits.max_params = 2048;
  limits.max_body = 64;
  owt_request r;
  source body = {data, size, 5};
  owt_io io = {&body, source_read, NULL, NULL, envp};
  owt_request_init(&r, &limits);
  owt_err first = owt_request_read_params(&r, envp, &limits);
  if (first == OWT_OK) {
    assert(r.nparams == n && r.method.len > 0);
    assert(r.path.len > 0 && r.path.data[0] == '/' && r.path.data[r.path.len] == '\0');
    if (owt_request_content_length(&r, &length) == OWT_OK) (void)owt_request_read_body(&r, &io);
    (void)owt_request_param(&r, "HTTP_HOST");
    (void)owt_request_param(&r, "");
  }
  owt_request_reset(&r);
  assert(owt_request_read_params(&r, envp, &limits) == first);
  owt_request_free(&r);
  free(envp);
  free(copy);
  return 0;
}
