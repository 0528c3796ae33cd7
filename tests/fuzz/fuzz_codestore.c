/* fuzz_codestore.c - code store entries as files: owt_codestore_parse_head
 * against the file's size, then owt_codestore_get on the same bytes written
 * into a directory under the name a sound entry of them would have (the
 * SHA-256 of what the head says is the source), so the whole load runs:
 * the head, the length checks, the read, the hash, the signature copy.
 * The first byte picks how the file's size is told: as it is (0), or as a
 * little-endian u64 taken from the next 8 bytes (a lying size: parse only). */
#undef NDEBUG /* the asserts are the checks */
#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "owt_codestore.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define MAX_SOURCE 4096

static owt_codestore store;
static char dir[64];

static void remove_dir(void) { rmdir(dir); } /* every input's file is gone by then */

static void open_store(void) {
  char why[256];
  snprintf(dir, sizeof dir, "%s", "/tmp/owt-fuzz-codestore.XXXXXX");
  assert(mkdtemp(dir));
  assert(owt_codestore_open(&store, dir, 1u << 20, MAX_SOURCE, why, sizeof why) == OWT_OK);
  atexit(remove_dir);
}

static void check_head(const owt_codestore_head *h, uint64_t file_size) {
  assert(h->source_at == OWT_CODESTORE_HEAD_LEN ||
         h->source_at == OWT_CODESTORE_HEAD_LEN + OWT_CODESTORE_SIG_LEN);
  assert((h->flags & OWT_CODESTORE_FLAG_SIG) == (h->source_at != OWT_CODESTORE_HEAD_LEN));
  assert(h->source_at + (uint64_t)h->source_len == file_size);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  owt_codestore_head h;
  if (size == 0) return 0;
  if (!dir[0]) open_store();
  if (data[0] & 1) {
    if (size < 9) return 0;
    uint64_t claimed = 0;
    for (int i = 7; i >= 0; i--) claimed = claimed << 8 | data[1 + i];
    if (owt_codestore_parse_head(data + 9, size - 9, claimed, &h) == OWT_OK) check_head(&h, claimed);
    return 0;
  }
  const unsigned char *file = data + 1;
  size_t len = size - 1;
  int sound = owt_codestore_parse_head(file, len, len, &h) == OWT_OK;
  if (sound) check_head(&h, len);
  /* The name a sound entry of these bytes would have. */
  unsigned char digest[32];
  size_t at = sound ? h.source_at : (len < OWT_CODESTORE_HEAD_LEN ? len : OWT_CODESTORE_HEAD_LEN);
  assert(owt_codestore_hash(&store, (owt_str){(const char *)file + at, len - at}, digest) == OWT_OK);
  char name[OWT_CODESTORE_NAME_LEN + 1], path[160];
  owt_codestore_name(digest, name);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert(fd >= 0);
  assert(write(fd, file, len) == (ssize_t)len);
  close(fd);

  owt_buf source = OWT_BUF_INIT(MAX_SOURCE);
  unsigned char sig[OWT_CODESTORE_SIG_LEN];
  int has_sig = 0;
  owt_err err = owt_codestore_get(&store, digest, &source, sig, &has_sig);
  if (sound && h.source_len <= MAX_SOURCE) {
    assert(err == OWT_OK);
    assert(source.len == h.source_len && memcmp(source.data, file + h.source_at, source.len) == 0);
    assert(has_sig == ((h.flags & OWT_CODESTORE_FLAG_SIG) != 0));
    if (has_sig) assert(memcmp(sig, file + h.sig_at, OWT_CODESTORE_SIG_LEN) == 0);
  } else {
    assert(err != OWT_OK && source.len == 0);
  }
  owt_buf_free(&source);
  unlink(path); /* a refused entry was deleted already; either way the next input starts clean */
  return 0;
}
