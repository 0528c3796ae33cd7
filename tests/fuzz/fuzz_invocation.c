/* fuzz_invocation.c - PROTOCOL §2 field extraction through
 * owt_invocation_parse: the first byte picks the content type, the query
 * string runs to the first NUL, the body is the rest (read in pieces). */
#undef NDEBUG /* the asserts are the checks */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "owt_invocation.h"
#include "owt_utf8.h"

#include "fuzz_source.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  static char *types[] = {"CONTENT_TYPE=application/json",
                          "CONTENT_TYPE=application/x-www-form-urlencoded",
                          "CONTENT_TYPE=text/plain"};
  if (size == 0) return 0;
  owt_limits limits = OWT_LIMITS_DEFAULT;
  limits.max_code = 4096;
  limits.max_fields = 64;
  const unsigned char *nul = memchr(data + 1, 0, size - 1);
  size_t qlen = nul ? (size_t)(nul - (data + 1)) : size - 1;
  char *query = malloc(qlen + 14);
  memcpy(query, "QUERY_STRING=", 13);
  memcpy(query + 13, data + 1, qlen);
  query[13 + qlen] = '\0';
  char *envp[] = {"REQUEST_METHOD=POST", query, types[data[0] % 3], NULL};
  source src = {nul ? nul + 1 : data + size, nul ? size - (size_t)(nul + 1 - data) : 0, 13};
  owt_io io = {&src, source_read, NULL, NULL, envp};
  owt_request req;
  owt_invocation inv;
  owt_request_init(&req, &limits);
  owt_invocation_init(&inv, &limits);
  if (owt_request_read_params(&req, envp, &limits) == OWT_OK &&
      owt_request_read_body(&req, &io) == OWT_OK) {
    owt_err err = owt_invocation_parse(&inv, &req, &limits);
    if (err) assert(inv.error != NULL);
    if (!err) {
      /* code, or code_sha256 (the code comes from the store later), or an adaptor */
      assert((inv.has_code || inv.has_code_sha256) != inv.has_adaptor);
      assert(!inv.has_code_sig || !inv.has_adaptor);
      if (inv.has_code_sha256) {
        assert(strlen(inv.code_sha256_hex) == 64);
        for (int i = 0; i < 64; i++) assert(owt_hex_digit(inv.code_sha256_hex[i]) >= 0);
      }
      assert(inv.code.len <= limits.max_code && owt_utf8_valid_text(inv.code.data, inv.code.len));
      assert(owt_invocation_valid_name(owt_buf_str(&inv.fn_name), 0));
      assert(inv.kwargs_kind == owt_kwargs_classify(owt_buf_str(&inv.kwargs)));
    }
  }
  owt_invocation_free(&inv);
  owt_request_free(&req);
  free(query);
  return 0;
}
