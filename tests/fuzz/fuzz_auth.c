/* fuzz_auth.c - the Authorization header against a table that holds
 * alice:secret: nothing else may pass, and nothing may crash. */
#undef NDEBUG /* the asserts are the checks */
#include <assert.h>
#include <string.h>

#include "owt_auth.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  static owt_auth table; /* alice:secret */
  const char *why = NULL;
  if (!owt_auth_enabled(&table)) {
    owt_str spec =
        OWT_STR_LIT("alice:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b");
    assert(owt_auth_add(&table, spec, &why) == OWT_OK);
  }
  owt_buf user = OWT_BUF_INIT(OWT_AUTH_USER_MAX);
  owt_err err = owt_auth_check(&table, (owt_str){(const char *)data, size}, &user);
  assert(err == OWT_OK || err == OWT_E_UNAUTHORIZED);
  if (err == OWT_OK) assert(user.len == 5 && memcmp(user.data, "alice", 5) == 0);
  owt_buf_free(&user);
  return 0;
}
