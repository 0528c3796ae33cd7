/* test_codestore.c - lib/owt_codestore: entries on disk, damage, signatures
 * kept and added, the bound over the whole directory with threads and
 * processes storing at once, LRU order.
 *
 * Each test gets a fresh directory under $TMPDIR; entries are stored with
 * put and read back with get, and damaged by hand in between. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "owt_codestore.h"
#include "unit.h"

typedef struct {
  char dir[256];
  owt_codestore cs;
  owt_buf out;
} fixture;

static int open_store(fixture *f, uint64_t max_bytes) {
  char why[512];
  owt_codestore_close(&f->cs);
  if (owt_codestore_open(&f->cs, f->dir, max_bytes, 1u << 20, why, sizeof why) != OWT_OK) return -1;
  f->cs.touch_interval = 0; /* every load refreshes the mtime */
  return 0;
}

static int setup(void **state) {
  char why[512];
  fixture *f = calloc(1, sizeof *f);
  unit_temp_dir(f->dir, sizeof f->dir, "codestore");
  assert_int_equal(owt_codestore_open(&f->cs, f->dir, 1u << 20, 1u << 20, why, sizeof why), OWT_OK);
  f->cs.touch_interval = 0;
  owt_buf_init(&f->out, 1u << 20);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  owt_codestore_close(&f->cs);
  owt_buf_free(&f->out);
  unit_remove_dir(f->dir);
  free(f);
  return 0;
}

static void digest_of(const char *src, size_t len, unsigned char d[32]) {
  assert_int_equal(owt_codestore_hash(NULL, (owt_str){src, len}, d), OWT_OK);
}

static void path_of(const fixture *f, const unsigned char d[32], char *path, size_t len) {
  char name[OWT_CODESTORE_NAME_LEN + 1];
  owt_codestore_name(d, name);
  snprintf(path, len, "%s/%s", f->dir, name);
}

/* Store src; return its digest in d. */
static void put(fixture *f, const char *src, unsigned char d[32], const unsigned char *sig) {
  digest_of(src, strlen(src), d);
  assert_int_equal(owt_codestore_put(&f->cs, d, owt_str_of(src), sig), OWT_OK);
}

static owt_err get(fixture *f, const unsigned char d[32], unsigned char sig[64], int *has_sig) {
  owt_buf_reset(&f->out);
  return owt_codestore_get(&f->cs, d, &f->out, sig, has_sig);
}

static size_t entry_count(const fixture *f, uint64_t *bytes) {
  DIR *d = opendir(f->dir);
  struct dirent *de;
  struct stat st;
  char path[600];
  size_t n = 0;
  *bytes = 0;
  assert_non_null(d);
  while ((de = readdir(d))) {
    if (strlen(de->d_name) != OWT_CODESTORE_NAME_LEN) continue;
    snprintf(path, sizeof path, "%s/%s", f->dir, de->d_name);
    assert_int_equal(lstat(path, &st), 0);
    n++;
    *bytes += (uint64_t)st.st_size;
  }
  closedir(d);
  return n;
}

/* Set a file's mtime to seconds ago (file timestamps are coarser than the
 * time between two stores, so LRU tests say the order outright). */
static void age(const char *path, double seconds_ago) {
  struct timespec ts[2];
  clock_gettime(CLOCK_REALTIME, &ts[0]);
  ts[0].tv_sec -= (time_t)seconds_ago;
  ts[1] = ts[0];
  assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* ---- names and heads ---------------------------------------------------------------- */

static void test_hash_and_name(void **state) {
  (void)state;
  unsigned char d[32];
  char name[OWT_CODESTORE_NAME_LEN + 1];
  digest_of("abc", 3, d);
  owt_codestore_name(d, name);
  assert_string_equal(name, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  digest_of("", 0, d);
  owt_codestore_name(d, name);
  assert_string_equal(name, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_parse_head(void **state) {
  (void)state;
  unsigned char p[80];
  owt_codestore_head h;
  memset(p, 0, sizeof p);
  memcpy(p, "OWTCODE1", 8);
  p[12] = 5; /* source_len 5, no signature */
  assert_int_equal(owt_codestore_parse_head(p, 16, 21, &h), OWT_OK);
  assert_int_equal(h.source_at, 16);
  assert_int_equal(h.source_len, 5);
  assert_int_equal(owt_codestore_parse_head(p, 16, 22, &h), OWT_E_NOT_FOUND); /* a byte too many */
  assert_int_equal(owt_codestore_parse_head(p, 16, 20, &h), OWT_E_NOT_FOUND); /* truncated */
  assert_int_equal(owt_codestore_parse_head(p, 15, 21, &h), OWT_E_NOT_FOUND); /* head cut short */
  p[8] = 1;                                                                    /* signed */
  assert_int_equal(owt_codestore_parse_head(p, 80, 85, &h), OWT_OK);
  assert_int_equal(h.sig_at, 16);
  assert_int_equal(h.source_at, 80);
  assert_int_equal(owt_codestore_parse_head(p, 80, 21, &h), OWT_E_NOT_FOUND);
  p[8] = 2; /* an unknown flag */
  assert_int_equal(owt_codestore_parse_head(p, 80, 85, &h), OWT_E_NOT_FOUND);
  p[8] = 0;
  p[0] = 'X';
  assert_int_equal(owt_codestore_parse_head(p, 16, 21, &h), OWT_E_NOT_FOUND);
  memcpy(p, "OWTCODE1", 8);
  p[15] = 0xff; /* a length no file of this size has */
  assert_int_equal(owt_codestore_parse_head(p, 16, 21, &h), OWT_E_NOT_FOUND);
}

/* ---- round trips ---------------------------------------------------------------------- */

static void test_put_get(void **state) {
  fixture *f = *state;
  unsigned char d[32], sig[64], other[32];
  int has_sig = 7;
  char path[600];
  struct stat st;
  const char *src = "def run():\n    return 'h\xc3\xa9'\n";
  put(f, src, d, NULL);
  assert_int_equal(get(f, d, sig, &has_sig), OWT_OK);
  assert_span_equal(owt_buf_str(&f->out), src);
  assert_int_equal(has_sig, 0);
  path_of(f, d, path, sizeof path);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_size, 16 + strlen(src));
  assert_int_equal(st.st_mode & 0777, 0600);
  /* A get appends to what the buffer holds, and a miss leaves it alone. */
  owt_buf_reset(&f->out);
  owt_buf_append_str(&f->out, ">>");
  assert_int_equal(owt_codestore_get(&f->cs, d, &f->out, sig, &has_sig), OWT_OK);
  assert_int_equal(f->out.len, 2 + strlen(src));
  digest_of("never stored", 12, other);
  assert_int_equal(owt_codestore_get(&f->cs, other, &f->out, sig, &has_sig), OWT_E_NOT_FOUND);
  assert_int_equal(f->out.len, 2 + strlen(src));
  assert_int_equal(atomic_load(&f->cs.hits), 2);
  assert_int_equal(atomic_load(&f->cs.misses), 1);
  /* The empty source is a source too. */
  put(f, "", d, NULL);
  assert_int_equal(get(f, d, sig, &has_sig), OWT_OK);
  assert_int_equal(f->out.len, 0);
}

static void test_signature_kept_and_added(void **state) {
  fixture *f = *state;
  unsigned char d[32], sig[64], got[64];
  int has_sig = 0;
  const char *src = "run = lambda: 1\n";
  unit_fill_bytes(sig, sizeof sig, 7);
  put(f, src, d, NULL);
  assert_int_equal(get(f, d, got, &has_sig), OWT_OK);
  assert_int_equal(has_sig, 0);
  put(f, src, d, sig); /* a verified signature arrives later: the entry is rewritten with it */
  assert_int_equal(get(f, d, got, &has_sig), OWT_OK);
  assert_int_equal(has_sig, 1);
  assert_memory_equal(got, sig, 64);
  assert_span_equal(owt_buf_str(&f->out), src);
  put(f, src, d, NULL); /* sent again unsigned: the signature stays */
  has_sig = 0;
  assert_int_equal(get(f, d, got, &has_sig), OWT_OK);
  assert_int_equal(has_sig, 1);
}

static void test_off_and_limits(void **state) {
  fixture *f = *state;
  owt_codestore off;
  char why[64] = "";
  unsigned char d[32], sig[64];
  int has_sig;
  assert_int_equal(owt_codestore_open(&off, NULL, 1024, 1024, why, sizeof why), OWT_OK);
  assert_false(owt_codestore_enabled(&off));
  digest_of("x", 1, d);
  assert_int_equal(owt_codestore_put(&off, d, OWT_STR_LIT("x"), NULL), OWT_OK);
  assert_int_equal(owt_codestore_get(&off, d, &f->out, sig, &has_sig), OWT_E_NOT_FOUND);
  owt_codestore_close(&off);
  /* Over max_source, or an entry over the whole bound: not stored. */
  assert_int_equal(open_store(f, 4096), 0);
  f->cs.max_source = 100;
  char big[200];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  digest_of(big, strlen(big), d);
  assert_int_equal(owt_codestore_put(&f->cs, d, owt_str_of(big), NULL), OWT_E_TOO_LARGE);
  f->cs.max_source = 1u << 20;
  char huge[5000];
  memset(huge, 'y', sizeof huge - 1);
  huge[sizeof huge - 1] = '\0';
  digest_of(huge, strlen(huge), d);
  assert_int_equal(owt_codestore_put(&f->cs, d, owt_str_of(huge), NULL), OWT_E_TOO_LARGE);
  uint64_t bytes;
  assert_int_equal(entry_count(f, &bytes), 0);
  /* Stored, but over what the reader's buffer takes: 413 material, and it stays. */
  put(f, "def run():\n    return 12345\n", d, NULL);
  owt_buf small = OWT_BUF_INIT(8);
  assert_int_equal(owt_codestore_get(&f->cs, d, &small, sig, &has_sig), OWT_E_TOO_LARGE);
  assert_int_equal(small.len, 0);
  owt_buf_free(&small);
  assert_int_equal(get(f, d, sig, &has_sig), OWT_OK);
}

/* A server whose start failed before the store was opened frees a zeroed
 * struct: that must not close fd 0 (its dirfd field reads 0). */
static void test_close_of_a_zeroed_store(void **state) {
  (void)state;
  owt_codestore cs;
  if (fcntl(0, F_GETFD) == -1) assert_int_equal(open("/dev/null", O_RDONLY), 0);
  memset(&cs, 0, sizeof cs);
  owt_codestore_close(&cs);
  owt_codestore_close(&cs);
  assert_int_not_equal(fcntl(0, F_GETFD), -1); /* fd 0 is still open */
}

static void test_directory_made_on_first_store(void **state) {
  fixture *f = *state;
  char sub[400], why[512];
  unsigned char d[32], sig[64];
  int has_sig;
  owt_codestore cs;
  struct stat st;
  snprintf(sub, sizeof sub, "%s/a/b/code", f->dir);
  assert_int_equal(owt_codestore_open(&cs, sub, 1u << 20, 1u << 20, why, sizeof why), OWT_OK);
  digest_of("1", 1, d);
  assert_int_equal(owt_codestore_get(&cs, d, &f->out, sig, &has_sig), OWT_E_NOT_FOUND);
  assert_int_equal(stat(sub, &st), -1); /* a load makes nothing */
  assert_int_equal(owt_codestore_put(&cs, d, OWT_STR_LIT("1"), NULL), OWT_OK);
  assert_int_equal(stat(sub, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  owt_codestore_close(&cs);
  /* A path under a regular file can never be made: refused at start. */
  char file[400];
  snprintf(file, sizeof file, "%s/plain", f->dir);
  FILE *fp = fopen(file, "w");
  fclose(fp);
  snprintf(sub, sizeof sub, "%s/plain/code", f->dir);
  assert_int_equal(owt_codestore_open(&cs, sub, 1u << 20, 1u << 20, why, sizeof why), OWT_E_INTERNAL);
  assert_non_null(strstr(why, "--code-store"));
  assert_false(owt_codestore_enabled(&cs));
  owt_codestore_close(&cs);
}

/* ---- damage is a miss ------------------------------------------------------------------ */

static void test_corrupt_entries_are_misses(void **state) {
  fixture *f = *state;
  unsigned char a[32], b[32], sig[64];
  int has_sig;
  char pa[600], pb[600], cmd[1400];
  struct stat st;
  const char *src_a = "def run():\n    return 'a'\n", *src_b = "def run():\n    return 'b'\n";

  /* A flipped byte in the source. */
  put(f, src_a, a, NULL);
  path_of(f, a, pa, sizeof pa);
  int fd = open(pa, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, "X", 1, 20), 1);
  close(fd);
  assert_int_equal(get(f, a, sig, &has_sig), OWT_E_NOT_FOUND);
  assert_int_equal(stat(pa, &st), -1); /* deleted */
  assert_int_equal(atomic_load(&f->cs.corrupt), 1);

  /* Truncated. */
  put(f, src_a, a, NULL);
  assert_int_equal(truncate(pa, 20), 0);
  assert_int_equal(get(f, a, sig, &has_sig), OWT_E_NOT_FOUND);
  assert_int_equal(stat(pa, &st), -1);

  /* Swapped: b's whole, sound entry under a's name. */
  put(f, src_a, a, NULL);
  put(f, src_b, b, NULL);
  path_of(f, b, pb, sizeof pb);
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", pb, pa);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(get(f, a, sig, &has_sig), OWT_E_NOT_FOUND);
  assert_int_equal(get(f, b, sig, &has_sig), OWT_OK);
  assert_span_equal(owt_buf_str(&f->out), src_b);

  /* A symbolic link to a sound entry: not followed, removed; its target stays. */
  assert_int_equal(symlink(pb, pa), 0);
  assert_int_equal(get(f, a, sig, &has_sig), OWT_E_NOT_FOUND);
  assert_int_equal(lstat(pa, &st), -1);
  assert_int_equal(stat(pb, &st), 0);

  /* A FIFO under the name: no hang (O_NONBLOCK), a miss, removed. */
  assert_int_equal(mkfifo(pa, 0600), 0);
  assert_int_equal(get(f, a, sig, &has_sig), OWT_E_NOT_FOUND);
  assert_int_equal(lstat(pa, &st), -1);

  /* A directory under the name: a miss (left alone). */
  assert_int_equal(mkdir(pa, 0700), 0);
  assert_int_equal(get(f, a, sig, &has_sig), OWT_E_NOT_FOUND);
  assert_int_equal(rmdir(pa), 0);

  /* A stored signature is opaque: a flipped signature byte still loads (the
   * caller re-verifies it), a flipped length does not. */
  unsigned char s[64];
  unit_fill_bytes(s, sizeof s, 3);
  put(f, src_a, a, s);
  fd = open(pa, O_WRONLY);
  assert_int_equal(pwrite(fd, "Z", 1, 20), 1);
  close(fd);
  assert_int_equal(get(f, a, sig, &has_sig), OWT_OK);
  assert_int_equal(has_sig, 1);
  assert_memory_not_equal(sig, s, 64);
  fd = open(pa, O_WRONLY);
  assert_int_equal(pwrite(fd, "\x01", 1, 12), 1);
  close(fd);
  assert_int_equal(get(f, a, sig, &has_sig), OWT_E_NOT_FOUND);
}

/* ---- the bound ---------------------------------------------------------------------------- */

/* Sources of exactly 1000 bytes, distinct by i: entries of 1016 bytes. */
static void source_n(char *buf, int i) {
  memset(buf, '#', 1000);
  int n = snprintf(buf, 1001, "run = lambda: %d\n", i);
  buf[n] = '#';
  buf[999] = '\n';
  buf[1000] = '\0';
}

static void test_lru_eviction_order(void **state) {
  fixture *f = *state;
  unsigned char d[8][32], sig[64];
  char src[1001], path[600];
  int has_sig;
  uint64_t bytes;
  assert_int_equal(open_store(f, 4 * 1016), 0); /* four fit; eviction goes down to 15/16 */
  for (int i = 0; i < 4; i++) {
    source_n(src, i);
    put(f, src, d[i], NULL);
    path_of(f, d[i], path, sizeof path);
    age(path, 1000 - i); /* 0 oldest ... 3 newest */
  }
  assert_int_equal(entry_count(f, &bytes), 4);
  assert_int_equal(get(f, d[0], sig, &has_sig), OWT_OK); /* 0 becomes the newest */
  source_n(src, 4);
  put(f, src, d[4], NULL); /* over: 1 goes, then 2 (down to 15/16 of the bound) */
  assert_true(entry_count(f, &bytes) <= 4);
  assert_true(bytes <= f->cs.max_bytes);
  assert_int_equal(get(f, d[1], sig, &has_sig), OWT_E_NOT_FOUND);
  assert_int_equal(get(f, d[0], sig, &has_sig), OWT_OK);
  assert_int_equal(get(f, d[4], sig, &has_sig), OWT_OK);
  assert_int_equal(get(f, d[3], sig, &has_sig), OWT_OK);
  assert_true(atomic_load(&f->cs.evictions) >= 1);
}

static void test_stored_again_is_touched(void **state) {
  fixture *f = *state;
  unsigned char d[8][32], sig[64];
  char src[1001], path[600];
  int has_sig;
  assert_int_equal(open_store(f, 3 * 1016), 0);
  for (int i = 0; i < 3; i++) {
    source_n(src, i);
    put(f, src, d[i], NULL);
    path_of(f, d[i], path, sizeof path);
    age(path, 1000 - i);
  }
  source_n(src, 0);
  put(f, src, d[0], NULL); /* sent again: now the most recently used */
  source_n(src, 3);
  put(f, src, d[3], NULL);
  assert_int_equal(get(f, d[0], sig, &has_sig), OWT_OK);
  assert_int_equal(get(f, d[1], sig, &has_sig), OWT_E_NOT_FOUND);
}

static void test_usage_file_is_repaired(void **state) {
  fixture *f = *state;
  unsigned char d[32];
  char src[1001], path[600];
  uint64_t bytes;
  assert_int_equal(open_store(f, 3 * 1016), 0);
  for (int i = 0; i < 3; i++) {
    source_n(src, i);
    put(f, src, d, NULL);
  }
  /* A total claiming the directory is empty: without the scan a store would
   * push it over the bound. Any damage to the file means "unknown": scan. */
  snprintf(path, sizeof path, "%s/.usage", f->dir);
  FILE *fp = fopen(path, "w");
  fputs("garbage", fp);
  fclose(fp);
  source_n(src, 3);
  put(f, src, d, NULL);
  entry_count(f, &bytes);
  assert_true(bytes <= f->cs.max_bytes);
  /* A total that is too high only brings the scan early. */
  unsigned char raw[32] = "OWTUSE1\n";
  memset(raw + 8, 0xff, 8);
  memset(raw + 16, 0, 16);
  int fd = open(path, O_WRONLY);
  assert_int_equal(pwrite(fd, raw, sizeof raw, 0), (ssize_t)sizeof raw);
  close(fd);
  source_n(src, 4);
  put(f, src, d, NULL);
  assert_int_equal(entry_count(f, &bytes), 3); /* the scan found 3 x 1016: at the bound, not over */
  fd = open(path, O_RDONLY);
  assert_int_equal(pread(fd, raw, sizeof raw, 0), (ssize_t)sizeof raw);
  close(fd);
  uint64_t total = 0;
  for (int i = 7; i >= 0; i--) total = total << 8 | raw[8 + i];
  assert_int_equal(total, bytes); /* the shared total is the directory's again */
}

static void test_stale_temporary_files_go(void **state) {
  fixture *f = *state;
  char stale[600], fresh[600];
  struct stat st;
  snprintf(stale, sizeof stale, "%s/.owt-tmp-1-1", f->dir);
  snprintf(fresh, sizeof fresh, "%s/.owt-tmp-1-2", f->dir);
  fclose(fopen(stale, "w"));
  fclose(fopen(fresh, "w"));
  age(stale, 7200);
  assert_int_equal(owt_codestore_evict(&f->cs), OWT_OK);
  assert_int_equal(stat(stale, &st), -1);
  assert_int_equal(stat(fresh, &st), 0); /* maybe being written right now */
}

/* ---- many writers at once --------------------------------------------------------------- */

typedef struct {
  owt_codestore *cs;
  int base;
} writer_arg;

#define WRITERS 8
#define PER_WRITER 100

static void *writer(void *p) {
  writer_arg *w = p;
  char src[1001];
  unsigned char d[32];
  for (int i = 0; i < PER_WRITER; i++) {
    source_n(src, w->base + i);
    digest_of(src, 1000, d);
    if (owt_codestore_put(w->cs, d, owt_str_of(src), NULL) != OWT_OK) return (void *)1;
  }
  return NULL;
}

/* The shared total in .usage: bytes, entries. */
static void shared_total(const fixture *f, uint64_t *bytes, uint64_t *entries) {
  unsigned char raw[32];
  char path[600];
  snprintf(path, sizeof path, "%s/.usage", f->dir);
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(pread(fd, raw, sizeof raw, 0), (ssize_t)sizeof raw);
  close(fd);
  assert_memory_equal(raw, "OWTUSE1\n", 8);
  *bytes = *entries = 0;
  for (int i = 7; i >= 0; i--) {
    *bytes = *bytes << 8 | raw[8 + i];
    *entries = *entries << 8 | raw[16 + i];
  }
}

static void check_bound_and_readable(fixture *f) {
  uint64_t bytes, entries, shared_bytes, shared_entries;
  unsigned char sig[64];
  int has_sig;
  size_t n = entry_count(f, &bytes);
  assert_true(n > 0);
  assert_true(bytes <= f->cs.max_bytes);
  /* Every store and eviction updated the shared total under the lock: it is
   * exactly the directory, with no scan since the last one needed. */
  shared_total(f, &shared_bytes, &shared_entries);
  assert_int_equal(shared_bytes, bytes);
  assert_int_equal(shared_entries, n);
  assert_int_equal(owt_codestore_usage(&f->cs, &entries, &bytes), OWT_OK);
  assert_int_equal(entries, n);
  /* The newest of the last writer is there and sound. */
  char src[1001];
  unsigned char d[32];
  source_n(src, (WRITERS - 1) * 1000 + PER_WRITER - 1);
  digest_of(src, 1000, d);
  owt_err err = get(f, d, sig, &has_sig);
  assert_true(err == OWT_OK || err == OWT_E_NOT_FOUND); /* another writer may have evicted it */
  if (err == OWT_OK) assert_span_equal(owt_buf_str(&f->out), src);
}

static void run_threads(fixture *f) {
  pthread_t t[WRITERS];
  writer_arg a[WRITERS];
  for (int i = 0; i < WRITERS; i++) {
    a[i] = (writer_arg){&f->cs, i * 1000};
    assert_int_equal(pthread_create(&t[i], NULL, writer, &a[i]), 0);
  }
  for (int i = 0; i < WRITERS; i++) {
    void *rc;
    pthread_join(t[i], &rc);
    assert_null(rc);
  }
}

static void run_processes(fixture *f) {
  pid_t pids[WRITERS];
  for (int i = 0; i < WRITERS; i++) {
    pids[i] = fork();
    assert_true(pids[i] >= 0);
    if (pids[i] == 0) {
      owt_codestore child; /* each process opens the directory itself, as workers do */
      char why[256];
      if (owt_codestore_open(&child, f->dir, f->cs.max_bytes, 1u << 20, why, sizeof why)) _exit(2);
      child.scan_every = f->cs.scan_every;
      writer_arg w = {&child, i * 1000};
      _exit(writer(&w) ? 1 : 0);
    }
  }
  for (int i = 0; i < WRITERS; i++) {
    int status;
    assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
}

/* Room for everything: no eviction, so no scan corrects the total; it is
 * exact only if no update was lost between concurrent stores. */
static void test_total_exact_with_threads(void **state) {
  fixture *f = *state;
  assert_int_equal(open_store(f, 2u << 20), 0);
  f->cs.scan_every = 1000000;
  run_threads(f);
  uint64_t bytes;
  assert_int_equal(entry_count(f, &bytes), WRITERS * PER_WRITER);
  check_bound_and_readable(f);
  assert_int_equal(atomic_load(&f->cs.stores), WRITERS * PER_WRITER);
}

static void test_total_exact_with_processes(void **state) {
  fixture *f = *state;
  assert_int_equal(open_store(f, 2u << 20), 0);
  f->cs.scan_every = 1000000;
  run_processes(f);
  uint64_t bytes;
  assert_int_equal(entry_count(f, &bytes), WRITERS * PER_WRITER);
  check_bound_and_readable(f);
}

/* Room for 20 of 800: evictions all along, from every writer. */
static void test_bound_holds_with_threads(void **state) {
  fixture *f = *state;
  assert_int_equal(open_store(f, 20 * 1016), 0);
  f->cs.scan_every = 1000000; /* only the shared total keeps the bound */
  run_threads(f);
  check_bound_and_readable(f);
}

static void test_bound_holds_with_processes(void **state) {
  fixture *f = *state;
  assert_int_equal(open_store(f, 20 * 1016), 0);
  f->cs.scan_every = 1000000;
  run_processes(f);
  check_bound_and_readable(f);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_and_name),
      cmocka_unit_test(test_parse_head),
      T(test_put_get),
      T(test_signature_kept_and_added),
      T(test_off_and_limits),
      cmocka_unit_test(test_close_of_a_zeroed_store),
      T(test_directory_made_on_first_store),
      T(test_corrupt_entries_are_misses),
      T(test_lru_eviction_order),
      T(test_stored_again_is_touched),
      T(test_usage_file_is_repaired),
      T(test_stale_temporary_files_go),
      T(test_total_exact_with_threads),
      T(test_total_exact_with_processes),
      T(test_bound_holds_with_threads),
      T(test_bound_holds_with_processes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
