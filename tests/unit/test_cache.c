/* test_cache.c - lib/owt_cache: keys, entries on disk, damage, eviction, TTL.
 *
 * Each test gets a fresh directory under $TMPDIR; entries are written with
 * the writer and read back with lookup, and damaged by hand in between. */
#include <dirent.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "owt_cache.h"
#include "unit.h"

typedef struct {
  char dir[256];
  owt_cache cache;
} fixture;

static double fake_now;
static double fake_clock(void) { return fake_now; }

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  char why[512];
  unit_temp_dir(f->dir, sizeof f->dir, "cache");
  assert_int_equal(owt_cache_open(&f->cache, f->dir, 1u << 20, 0, why, sizeof why), OWT_OK);
  f->cache.touch_interval = 0; /* every hit refreshes the mtime */
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  owt_cache_close(&f->cache);
  unit_remove_dir(f->dir);
  free(f);
  return 0;
}

static owt_cache_key key_of(const char *base) {
  owt_cache_key k;
  owt_cache_key_make(&k, owt_str_of(base), NULL, NULL);
  return k;
}

static const owt_header plain_headers[] = {
    {OWT_STR_LIT("Content-Type"), OWT_STR_LIT("text/plain; charset=utf-8")},
    {OWT_STR_LIT("X-Owt-Cache"), OWT_STR_LIT("miss")}, /* never stored */
    {OWT_STR_LIT("X-Extra"), OWT_STR_LIT("1")},
};

/* Store chunks (NULL-terminated) under base; streamed says how. */
static void store(owt_cache *c, const char *base, int streamed, const char *const *chunks) {
  owt_cache_writer w = OWT_CACHE_WRITER_INIT;
  owt_cache_key k = key_of(base);
  assert_int_equal(owt_cache_writer_begin(c, &w, &k, 200, plain_headers, 3, streamed), OWT_OK);
  for (size_t i = 0; chunks && chunks[i]; i++)
    assert_int_equal(owt_cache_writer_chunk(c, &w, chunks[i], strlen(chunks[i])), OWT_OK);
  assert_int_equal(owt_cache_writer_commit(c, &w), OWT_OK);
  assert_false(owt_cache_writer_active(&w));
}

static void store_body(owt_cache *c, const char *base, size_t len) {
  char *body = malloc(len + 1);
  memset(body, 'x', len);
  body[len] = '\0';
  const char *chunks[] = {body, NULL};
  store(c, base, 0, chunks);
  free(body);
}

static int present(owt_cache *c, const char *base) {
  owt_cache_key k = key_of(base);
  struct stat st;
  return fstatat(c->dirfd, k.name, &st, 0) == 0;
}

static void entry_path(fixture *f, const char *base, char *out, size_t len) {
  owt_cache_key k = key_of(base);
  snprintf(out, len, "%s/%s", f->dir, k.name);
}

static void set_mtime(fixture *f, const char *base, time_t when) {
  char path[512];
  struct timespec ts[2] = {{when, 0}, {when, 0}};
  entry_path(f, base, path, sizeof path);
  assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static size_t dir_files(fixture *f) {
  DIR *d = opendir(f->dir);
  struct dirent *de;
  size_t n = 0;
  while ((de = readdir(d)) != NULL) n += de->d_name[0] != '.' || strncmp(de->d_name, ".owt-tmp-", 9) == 0;
  closedir(d);
  return n;
}

/* ---- keys ------------------------------------------------------------------------ */

static void test_key_table(void **state) {
  (void)state;
  owt_cache_key a, b;
  const owt_str kw = OWT_STR_LIT("{\"name\": \"owt\"}"), kw2 = OWT_STR_LIT("{\"name\": \"tha\"}");
  const owt_str empty = OWT_STR_LIT(""), alice = OWT_STR_LIT("alice"), bob = OWT_STR_LIT("bob");
  static const struct {
    const char *base_a, *base_b;
    int kw_a, kw_b;   /* 0 none, 1 kw, 2 kw2, 3 empty */
    int user_a, user_b; /* 0 none, 1 alice, 2 bob */
    int same;
  } rows[] = {
      {"/favicon.ico", "/favicon.ico", 0, 0, 0, 0, 1}, /* same path: same key */
      {"/a", "/b", 0, 0, 0, 0, 0},                     /* path is the key */
      {"/a", "/a", 1, 0, 0, 0, 0},                     /* cache_kwargs adds the kwargs */
      {"/a", "/a", 1, 1, 0, 0, 1},
      {"/a", "/a", 1, 2, 0, 0, 0},                     /* other kwargs, other key */
      {"/a", "/a", 3, 0, 0, 0, 1},                     /* empty kwargs add nothing */
      {"/a", "/a", 0, 0, 1, 0, 0},                     /* auth on: the user is part of it */
      {"/a", "/a", 0, 0, 1, 1, 1},
      {"/a", "/a", 0, 0, 1, 2, 0},
      {"/a", "/a", 1, 1, 1, 2, 0},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const owt_str *kws[] = {NULL, &kw, &kw2, &empty};
    const owt_str *users[] = {NULL, &alice, &bob};
    owt_cache_key_make(&a, owt_str_of(rows[i].base_a), kws[rows[i].kw_a], users[rows[i].user_a]);
    owt_cache_key_make(&b, owt_str_of(rows[i].base_b), kws[rows[i].kw_b], users[rows[i].user_b]);
    if (rows[i].same) assert_string_equal(a.name, b.name);
    else assert_string_not_equal(a.name, b.name);
  }
  /* Parts are length-prefixed: moving bytes between them changes the key. */
  owt_str ab = OWT_STR_LIT("ab"), c = OWT_STR_LIT("c"), bc = OWT_STR_LIT("bc");
  owt_cache_key_make(&a, OWT_STR_LIT("/x"), &ab, &c);
  owt_cache_key_make(&b, OWT_STR_LIT("/x"), &c, &ab);
  assert_string_not_equal(a.name, b.name);
  owt_cache_key_make(&a, OWT_STR_LIT("/xa"), &bc, NULL);
  owt_cache_key_make(&b, OWT_STR_LIT("/x"), &ab, NULL); /* "/x"+"ab" vs "/xa"+"bc" */
  assert_string_not_equal(a.name, b.name);
  /* The name is the lower-case hex of the digest. */
  assert_int_equal(strlen(a.name), 64);
  assert_int_equal(strspn(a.name, "0123456789abcdef"), 64);
}

/* ---- round trips ----------------------------------------------------------------- */

static void test_stream_round_trip(void **state) {
  fixture *f = *state;
  const char *chunks[] = {"data: 1\n\n", "", "data: 2\n\n", "data: [DONE]\n\n", NULL};
  owt_cache_hit hit;
  owt_str chunk;
  store(&f->cache, "/events", 1, chunks);
  owt_cache_key k = key_of("/events");
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_OK);
  assert_int_equal(hit.status, 200);
  assert_int_equal(hit.streamed, 1);
  assert_int_equal(hit.nheaders, 2); /* X-Owt-Cache dropped */
  assert_true(owt_str_eq(hit.headers[0].name, OWT_STR_LIT("Content-Type")));
  assert_true(owt_str_eq(hit.headers[1].value, OWT_STR_LIT("1")));
  assert_int_equal(hit.nchunks, 3); /* the empty chunk was skipped */
  const char *want[] = {"data: 1\n\n", "data: 2\n\n", "data: [DONE]\n\n"};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(owt_cache_hit_next(&hit, &chunk), 1);
    assert_true(owt_str_eq(chunk, owt_str_of(want[i])));
  }
  assert_int_equal(owt_cache_hit_next(&hit, &chunk), 0);
  assert_null(chunk.p);
  owt_cache_hit_release(&hit);
  assert_int_equal(f->cache.hits, 1);
}

static void test_body_round_trip(void **state) {
  fixture *f = *state;
  owt_cache_hit hit;
  owt_str chunk;
  owt_cache_key k;
  /* bigger than the writer's buffer; read into the cache's buffer / mapped */
  const size_t sizes[] = {200000, OWT_CACHE_READ_MAX + 1000};
  for (size_t i = 0; i < 2; i++) {
    store_body(&f->cache, "/big", sizes[i]);
    k = key_of("/big");
    assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_OK);
    assert_int_equal(hit.mapped, (int)i);
    assert_int_equal(hit.streamed, 0);
    assert_int_equal(hit.body_len, sizes[i]);
    assert_int_equal(owt_cache_hit_next(&hit, &chunk), 1);
    assert_int_equal(chunk.len, sizes[i]);
    assert_int_equal(chunk.p[0], 'x');
    assert_int_equal(chunk.p[sizes[i] - 1], 'x');
    assert_int_equal(owt_cache_hit_next(&hit, &chunk), 0);
    owt_cache_hit_release(&hit);
  }
  store(&f->cache, "/empty", 0, NULL);
  k = key_of("/empty");
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_OK);
  assert_int_equal(hit.body_len, 0);
  assert_int_equal(owt_cache_hit_next(&hit, &chunk), 0);
  owt_cache_hit_release(&hit);
}

static void test_replace_and_miss(void **state) {
  fixture *f = *state;
  owt_cache_hit hit;
  owt_str chunk;
  owt_cache_key k = key_of("/x");
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_E_NOT_FOUND);
  assert_int_equal(f->cache.misses, 1);
  const char *one[] = {"one", NULL}, *two[] = {"two", NULL};
  store(&f->cache, "/x", 0, one);
  store(&f->cache, "/x", 0, two); /* the newer entry replaces the older */
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_OK);
  assert_int_equal(owt_cache_hit_next(&hit, &chunk), 1);
  assert_true(owt_str_eq(chunk, OWT_STR_LIT("two")));
  owt_cache_hit_release(&hit);
  assert_int_equal(dir_files(f), 1);
}

static void test_abort_keeps_nothing(void **state) {
  fixture *f = *state;
  owt_cache_writer w = OWT_CACHE_WRITER_INIT;
  owt_cache_key k = key_of("/killed");
  owt_cache_hit hit;
  assert_int_equal(owt_cache_writer_begin(&f->cache, &w, &k, 200, plain_headers, 3, 1), OWT_OK);
  assert_int_equal(owt_cache_writer_chunk(&f->cache, &w, "data: 1\n\n", 9), OWT_OK);
  assert_int_equal(dir_files(f), 1); /* the temporary file */
  owt_cache_writer_abort(&f->cache, &w);
  owt_cache_writer_abort(&f->cache, &w); /* twice is fine */
  assert_int_equal(dir_files(f), 0);
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_E_NOT_FOUND);
}

static void test_over_cap_not_stored(void **state) {
  fixture *f = *state;
  owt_cache_writer w = OWT_CACHE_WRITER_INIT;
  owt_cache_key k = key_of("/huge");
  static char big[4096];
  f->cache.max_bytes = 8192;
  assert_int_equal(owt_cache_writer_begin(&f->cache, &w, &k, 200, plain_headers, 3, 1), OWT_OK);
  assert_int_equal(owt_cache_writer_chunk(&f->cache, &w, big, sizeof big), OWT_OK);
  assert_int_equal(owt_cache_writer_chunk(&f->cache, &w, big, sizeof big), OWT_E_TOO_LARGE);
  assert_false(owt_cache_writer_active(&w));
  assert_int_equal(owt_cache_writer_chunk(&f->cache, &w, big, 1), OWT_OK); /* inert now */
  assert_int_equal(owt_cache_writer_commit(&f->cache, &w), OWT_OK);
  assert_false(present(&f->cache, "/huge"));
  assert_int_equal(dir_files(f), 0);
}

static void test_disabled(void **state) {
  (void)state;
  owt_cache c;
  owt_cache_writer w = OWT_CACHE_WRITER_INIT;
  owt_cache_hit hit;
  owt_cache_key k = key_of("/x");
  char why[64];
  uint64_t n = 1, bytes = 1;
  assert_int_equal(owt_cache_open(&c, NULL, 1 << 20, 0, why, sizeof why), OWT_OK);
  assert_false(owt_cache_enabled(&c));
  assert_int_equal(owt_cache_lookup(&c, &k, &hit), OWT_E_NOT_FOUND);
  assert_int_equal(owt_cache_writer_begin(&c, &w, &k, 200, NULL, 0, 0), OWT_OK);
  assert_false(owt_cache_writer_active(&w));
  assert_int_equal(owt_cache_writer_commit(&c, &w), OWT_OK);
  assert_int_equal(owt_cache_usage(&c, &n, &bytes), OWT_OK);
  assert_int_equal(n, 0);
  owt_cache_close(&c);
  assert_int_equal(owt_cache_open(&c, "/etc/passwd/cache", 1 << 20, 0, why, sizeof why), OWT_E_INTERNAL);
  assert_non_null(strstr(why, "--cache-dir"));
  assert_false(owt_cache_enabled(&c));
}

static void test_dir_made_by_first_store(void **state) {
  fixture *f = *state;
  owt_cache c;
  owt_cache_hit hit;
  owt_cache_key k = key_of("/x");
  char dir[300], why[128];
  struct stat st;
  uint64_t n = 1, bytes = 1;
  const char *chunks[] = {"x", NULL};
  snprintf(dir, sizeof dir, "%s/state/owt/cache", f->dir);
  assert_int_equal(owt_cache_open(&c, dir, 1 << 20, 0, why, sizeof why), OWT_OK);
  assert_true(owt_cache_enabled(&c));
  assert_int_equal(owt_cache_lookup(&c, &k, &hit), OWT_E_NOT_FOUND);
  assert_int_equal(owt_cache_usage(&c, &n, &bytes), OWT_OK);
  assert_int_equal(n, 0);
  assert_int_equal(stat(dir, &st), -1); /* nothing made until something is stored */
  store(&c, "/x", 0, chunks);
  assert_int_equal(stat(dir, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_equal(owt_cache_lookup(&c, &k, &hit), OWT_OK);
  owt_cache_hit_release(&hit);
  owt_cache_close(&c);
}

/* ---- damage ------------------------------------------------------------------------ */

static void assert_miss_and_deleted(fixture *f, const char *base) {
  owt_cache_hit hit;
  owt_cache_key k = key_of(base);
  uint64_t corrupt = f->cache.corrupt;
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_E_NOT_FOUND);
  assert_null(hit.map);
  assert_int_equal(f->cache.corrupt, corrupt + 1);
  assert_false(present(&f->cache, base));
}

static void flip_byte(fixture *f, const char *base, off_t at_from_end) {
  char path[512];
  unsigned char b;
  entry_path(f, base, path, sizeof path);
  int fd = open(path, O_RDWR);
  off_t size = lseek(fd, 0, SEEK_END);
  assert_int_equal(pread(fd, &b, 1, size - at_from_end), 1);
  b ^= 0x20;
  assert_int_equal(pwrite(fd, &b, 1, size - at_from_end), 1);
  close(fd);
}

static void test_corrupt_is_miss(void **state) {
  fixture *f = *state;
  const char *chunks[] = {"hello ", "world", NULL};
  /* a body byte, a length byte, the checksum itself, the magic */
  const off_t where[] = {60, 57, 1, 0};
  char base[32];
  for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
    snprintf(base, sizeof base, "/c%zu", i);
    store(&f->cache, base, 1, chunks);
    char path[512];
    entry_path(f, base, path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    flip_byte(f, base, where[i] ? where[i] : st.st_size);
    assert_miss_and_deleted(f, base);
  }
}

static void test_truncated_is_miss(void **state) {
  fixture *f = *state;
  const char *chunks[] = {"hello ", "world", NULL};
  char path[512];
  struct stat st;
  const off_t cuts[] = {1, 32, 48, 60};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    store(&f->cache, "/t", 1, chunks);
    entry_path(f, "/t", path, sizeof path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - cuts[i]), 0);
    assert_miss_and_deleted(f, "/t");
  }
  /* empty, and not an entry at all */
  store(&f->cache, "/t", 1, chunks);
  assert_int_equal(truncate(path, 0), 0);
  assert_miss_and_deleted(f, "/t");
  FILE *junk = fopen(path, "w");
  for (int i = 0; i < 100; i++) fputs("not a cache entry ", junk);
  fclose(junk);
  assert_miss_and_deleted(f, "/t");
}

static void test_wrong_name_is_miss(void **state) {
  fixture *f = *state;
  const char *chunks[] = {"for /a", NULL};
  char from[512], to[512];
  store(&f->cache, "/a", 0, chunks);
  entry_path(f, "/a", from, sizeof from);
  entry_path(f, "/b", to, sizeof to);
  assert_int_equal(rename(from, to), 0); /* a sound entry under another key's name */
  assert_miss_and_deleted(f, "/b");
}

/* ---- eviction and TTL --------------------------------------------------------------- */

static void test_eviction_order(void **state) {
  fixture *f = *state;
  owt_cache_hit hit;
  uint64_t n = 0, bytes = 0;
  store_body(&f->cache, "/a", 1000);
  assert_int_equal(owt_cache_usage(&f->cache, &n, &bytes), OWT_OK);
  uint64_t one = bytes;
  store_body(&f->cache, "/b", 1000);
  store_body(&f->cache, "/c", 1000);
  set_mtime(f, "/a", 1000000);
  set_mtime(f, "/b", 2000000);
  set_mtime(f, "/c", 3000000);
  /* /a is the oldest, but a hit makes it the most recently used. */
  owt_cache_key k = key_of("/a");
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_OK);
  owt_cache_hit_release(&hit);
  f->cache.max_bytes = f->cache.low_water = 3 * one + one / 2;
  store_body(&f->cache, "/d", 1000); /* four entries: over the cap, one goes */
  assert_false(present(&f->cache, "/b"));
  assert_true(present(&f->cache, "/a"));
  assert_true(present(&f->cache, "/c"));
  assert_true(present(&f->cache, "/d"));
  store_body(&f->cache, "/e", 1000); /* next least recently used: /c */
  assert_false(present(&f->cache, "/c"));
  assert_true(present(&f->cache, "/a"));
  assert_int_equal(owt_cache_usage(&f->cache, &n, &bytes), OWT_OK);
  assert_int_equal(n, 3);
  assert_true(bytes <= f->cache.max_bytes);
  assert_int_equal(f->cache.evictions, 2);
}

static void test_low_water(void **state) {
  fixture *f = *state;
  uint64_t n = 0, bytes = 0;
  char base[16];
  for (int i = 0; i < 8; i++) {
    snprintf(base, sizeof base, "/%d", i);
    store_body(&f->cache, base, 1000);
    set_mtime(f, base, 1000000 + i);
  }
  assert_int_equal(owt_cache_usage(&f->cache, &n, &bytes), OWT_OK);
  f->cache.max_bytes = bytes - 1;     /* one byte over */
  f->cache.low_water = bytes / 2;     /* evict down to half */
  assert_int_equal(owt_cache_evict(&f->cache), OWT_OK);
  assert_int_equal(owt_cache_usage(&f->cache, &n, &bytes), OWT_OK);
  assert_int_equal(n, 4);
  assert_false(present(&f->cache, "/3"));
  assert_true(present(&f->cache, "/4"));
}

static void test_ttl(void **state) {
  fixture *f = *state;
  owt_cache_hit hit;
  const char *chunks[] = {"fresh", NULL};
  owt_cache_key k = key_of("/ttl");
  f->cache.clock = fake_clock;
  f->cache.ttl = 60;
  fake_now = 1700000000;
  store(&f->cache, "/ttl", 0, chunks);
  fake_now += 59;
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_OK);
  owt_cache_hit_release(&hit);
  fake_now += 2;
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_E_NOT_FOUND);
  assert_false(present(&f->cache, "/ttl")); /* expired entries are deleted */
  assert_int_equal(f->cache.corrupt, 0);   /* and are not counted as damage */
}

static void test_stale_tmp_removed(void **state) {
  fixture *f = *state;
  char path[512];
  struct timespec old[2] = {{1000, 0}, {1000, 0}};
  snprintf(path, sizeof path, "%s/.owt-tmp-1-1", f->dir);
  fclose(fopen(path, "w"));
  assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
  snprintf(path, sizeof path, "%s/.owt-tmp-1-2", f->dir); /* fresh: a stream in progress */
  fclose(fopen(path, "w"));
  assert_int_equal(owt_cache_evict(&f->cache), OWT_OK);
  assert_int_equal(dir_files(f), 1);
}

static void test_purge(void **state) {
  fixture *f = *state;
  const char *chunks[] = {"x", NULL};
  uint64_t purged = 0, n = 0, bytes = 0;
  owt_cache_writer w = OWT_CACHE_WRITER_INIT;
  owt_cache_key k;
  owt_str kw = OWT_STR_LIT("{\"a\": 1}"), bob = OWT_STR_LIT("bob");
  store(&f->cache, "/favicon.ico", 0, chunks);
  store(&f->cache, "/other", 0, chunks);
  /* a kwargs and user variant of /favicon.ico */
  owt_cache_key_make(&k, OWT_STR_LIT("/favicon.ico"), &kw, &bob);
  assert_int_equal(owt_cache_writer_begin(&f->cache, &w, &k, 200, NULL, 0, 0), OWT_OK);
  assert_int_equal(owt_cache_writer_commit(&f->cache, &w), OWT_OK);
  owt_str which = OWT_STR_LIT("/favicon.ico");
  assert_int_equal(owt_cache_purge(&f->cache, &which, &purged), OWT_OK);
  assert_int_equal(purged, 2);
  assert_true(present(&f->cache, "/other"));
  owt_str none = OWT_STR_LIT("/nothing");
  assert_int_equal(owt_cache_purge(&f->cache, &none, &purged), OWT_OK);
  assert_int_equal(purged, 0);
  assert_int_equal(owt_cache_purge(&f->cache, NULL, &purged), OWT_OK);
  assert_int_equal(purged, 1);
  assert_int_equal(owt_cache_usage(&f->cache, &n, &bytes), OWT_OK);
  assert_int_equal(n, 0);
  assert_int_equal(bytes, 0);
}

/* ---- hostile directory contents (issue 15.5) ----------------------------------------- */

static void on_alarm(int signo) {
  (void)signo;
  static const char msg[] = "test_cache: a cache call hung (killed by the test's alarm)\n";
  ssize_t ignored = write(2, msg, sizeof msg - 1);
  (void)ignored;
  _exit(99);
}

/* Fail the test instead of hanging it when a call blocks. */
static void arm_hang_guard(void) {
  signal(SIGALRM, on_alarm);
  alarm(20);
}

static void test_fifo_entry_is_miss(void **state) {
  fixture *f = *state;
  char path[512];
  owt_cache_hit hit;
  owt_cache_key k = key_of("/fifo");
  const char *chunks[] = {"after", NULL};
  entry_path(f, "/fifo", path, sizeof path);
  assert_int_equal(mkfifo(path, 0600), 0); /* nobody will ever write to it */
  arm_hang_guard();
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_E_NOT_FOUND);
  alarm(0);
  assert_false(present(&f->cache, "/fifo")); /* not an entry: removed */
  store(&f->cache, "/fifo", 0, chunks);
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_OK);
  owt_cache_hit_release(&hit);
  /* a symbolic link at an entry's name is not followed, and goes too */
  owt_cache_key l = key_of("/link");
  entry_path(f, "/link", path, sizeof path);
  char target[600];
  entry_path(f, "/fifo", target, sizeof target);
  assert_int_equal(symlink(target, path), 0);
  assert_int_equal(owt_cache_lookup(&f->cache, &l, &hit), OWT_E_NOT_FOUND);
  struct stat st;
  assert_int_equal(lstat(path, &st), -1);
}

static void test_fifo_at_temporary_name(void **state) {
  fixture *f = *state;
  char path[512];
  owt_cache_hit hit;
  const char *chunks[] = {"stored anyway", NULL};
  /* FIFOs (and a symlink) where this process's next temporary files go */
  for (unsigned i = 0; i < 4; i++) {
    snprintf(path, sizeof path, "%s/.owt-tmp-%ld-%u", f->dir, (long)getpid(), f->cache.tmp_counter + i);
    if (i == 3) assert_int_equal(symlink("/etc/passwd", path), 0);
    else assert_int_equal(mkfifo(path, 0600), 0);
  }
  arm_hang_guard();
  for (int i = 0; i < 4; i++) store(&f->cache, "/tmp-fifo", 0, chunks);
  alarm(0);
  owt_cache_key k = key_of("/tmp-fifo");
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_OK);
  owt_cache_hit_release(&hit);
}

/* A sound entry whose digest matches but whose stored key is another one
 * (what a SHA-256 collision, or a digest that could not be made, would
 * give) is a miss: the key stored in the entry is compared on lookup. */
static void test_stored_key_is_compared(void **state) {
  fixture *f = *state;
  owt_cache_hit hit;
  const char *chunks[] = {"for /a only", NULL};
  store(&f->cache, "/a", 0, chunks);
  owt_cache_key k = key_of("/a");
  k.base = OWT_STR_LIT("/b"); /* same digest and name, another key */
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_E_NOT_FOUND);
  k.base = OWT_STR_LIT("/a!");
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_E_NOT_FOUND);
  k = key_of("/a");
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_OK);
  owt_cache_hit_release(&hit);
}

/* OpenSSL's allocations, refused on demand: a digest that cannot be made. */
static int crypto_alloc_fails;
static void *crypto_malloc(size_t n, const char *file, int line) {
  (void)file, (void)line;
  return crypto_alloc_fails ? NULL : malloc(n);
}
static void *crypto_realloc(void *p, size_t n, const char *file, int line) {
  (void)file, (void)line;
  return crypto_alloc_fails ? NULL : realloc(p, n);
}
static void crypto_free(void *p, const char *file, int line) {
  (void)file, (void)line;
  free(p);
}

static void test_key_that_cannot_be_made(void **state) {
  fixture *f = *state;
  owt_cache_hit hit;
  owt_cache_writer w = OWT_CACHE_WRITER_INIT;
  owt_cache_key x, y;
  crypto_alloc_fails = 1;
  assert_int_equal(owt_cache_key_make(&x, OWT_STR_LIT("/x"), NULL, NULL), OWT_E_INTERNAL);
  assert_int_equal(owt_cache_key_make(&y, OWT_STR_LIT("/y"), NULL, NULL), OWT_E_INTERNAL);
  crypto_alloc_fails = 0;
  assert_false(owt_cache_key_valid(&x));
  assert_int_equal(owt_cache_writer_begin(&f->cache, &w, &x, 200, plain_headers, 3, 0), OWT_E_INTERNAL);
  assert_false(owt_cache_writer_active(&w));
  /* nothing is stored under it ... */
  owt_cache_writer_begin(&f->cache, &w, &x, 200, plain_headers, 3, 0);
  owt_cache_writer_chunk(&f->cache, &w, "x", 1);
  owt_cache_writer_commit(&f->cache, &w);
  owt_cache_writer_abort(&f->cache, &w);
  assert_int_equal(dir_files(f), 0);
  /* ... and nothing is found under it, not even what another such key stored */
  assert_int_equal(owt_cache_lookup(&f->cache, &x, &hit), OWT_E_NOT_FOUND);
  owt_cache_writer_begin(&f->cache, &w, &y, 200, plain_headers, 3, 0);
  owt_cache_writer_chunk(&f->cache, &w, "y", 1);
  owt_cache_writer_commit(&f->cache, &w);
  assert_int_equal(owt_cache_lookup(&f->cache, &y, &hit), OWT_E_NOT_FOUND);
  assert_int_equal(owt_cache_lookup(&f->cache, &x, &hit), OWT_E_NOT_FOUND);
}

/* The accounting file's total (docs/cache.md: bytes at offset 16). */
static uint64_t accounted(fixture *f) {
  char path[512];
  unsigned char r[24];
  snprintf(path, sizeof path, "%s/.owt-usage", f->dir);
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(pread(fd, r, sizeof r, 0), sizeof r);
  close(fd);
  assert_memory_equal(r, "OWTUSAGE", 8);
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | r[16 + i];
  return v;
}

/* The entries' bytes, counted here (not by the cache, whose scan would
 * correct the record it is compared with). */
static uint64_t scanned(fixture *f) {
  uint64_t bytes = 0;
  DIR *d = opendir(f->dir);
  struct dirent *de;
  struct stat st;
  while ((de = readdir(d)) != NULL)
    if (strlen(de->d_name) == 64 && fstatat(dirfd(d), de->d_name, &st, 0) == 0) bytes += (uint64_t)st.st_size;
  closedir(d);
  return bytes;
}

/* Every change a process makes to the set of entries keeps the accounting
 * exact, without a scan: stores, replacements, damaged entries deleted by a
 * lookup, purges. */
static void test_accounting_follows_every_change(void **state) {
  fixture *f = *state;
  owt_cache_hit hit;
  const char *chunks[] = {"hello ", "world", NULL}, *longer[] = {"a longer body than before", NULL};
  f->cache.scan_every = 1000000; /* no correcting scans in this test */
  store(&f->cache, "/one", 0, chunks); /* the first store counts the directory */
  assert_int_equal(accounted(f), scanned(f));
  store(&f->cache, "/two", 1, chunks);
  store(&f->cache, "/three", 0, chunks);
  assert_int_equal(accounted(f), scanned(f));
  store(&f->cache, "/two", 0, longer); /* replaced: the old size goes */
  assert_int_equal(accounted(f), scanned(f));
  flip_byte(f, "/three", 5);
  owt_cache_key k = key_of("/three");
  assert_int_equal(owt_cache_lookup(&f->cache, &k, &hit), OWT_E_NOT_FOUND); /* damaged: deleted */
  assert_int_equal(accounted(f), scanned(f));
  uint64_t purged = 0;
  owt_str which = OWT_STR_LIT("/one");
  assert_int_equal(owt_cache_purge(&f->cache, &which, &purged), OWT_OK);
  assert_int_equal(purged, 1);
  assert_int_equal(accounted(f), scanned(f));
  assert_true(accounted(f) > 0);
  /* A record that is not one (damaged, or from elsewhere) makes the next store count. */
  char path[512];
  snprintf(path, sizeof path, "%s/.owt-usage", f->dir);
  FILE *junk = fopen(path, "w");
  fputs("junk", junk);
  fclose(junk);
  store(&f->cache, "/four", 0, chunks);
  assert_int_equal(accounted(f), scanned(f));
}

/* A FIFO where the accounting file goes: the cache refuses to open (a
 * message, not a hang), and a store into a directory where it appears later
 * is dropped, not hung. */
static void test_fifo_at_accounting_file(void **state) {
  fixture *f = *state;
  char path[512], why[512], sub[400];
  owt_cache c;
  snprintf(sub, sizeof sub, "%s/sub", f->dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  snprintf(path, sizeof path, "%s/.owt-usage", sub);
  assert_int_equal(mkfifo(path, 0600), 0);
  arm_hang_guard();
  assert_int_equal(owt_cache_open(&c, sub, 1 << 20, 0, why, sizeof why), OWT_E_INTERNAL);
  alarm(0);
  assert_non_null(strstr(why, ".owt-usage"));
}

/* ---- several workers, several threads ---------------------------------------------- */

/* Two processes store into one directory at once: the bound holds for the
 * directory as a whole, not per process. */
static void test_two_processes_keep_the_bound(void **state) {
  fixture *f = *state;
  const uint64_t max = 48u << 10;
  pid_t kids[2];
  for (int p = 0; p < 2; p++) {
    kids[p] = fork();
    assert_true(kids[p] >= 0);
    if (kids[p] == 0) {
      owt_cache c;
      char why[256], base[64];
      int bad = 0;
      owt_cache observer; /* a handle of its own, so looking changes nothing */
      uint64_t seen_max = 0;
      if (owt_cache_open(&c, f->dir, max, 0, why, sizeof why) != OWT_OK) _exit(2);
      if (owt_cache_open(&observer, f->dir, max, 0, why, sizeof why) != OWT_OK) _exit(2);
      for (int i = 0; i < 300; i++) {
        owt_cache_writer w = OWT_CACHE_WRITER_INIT;
        char body[700];
        owt_cache_key k;
        memset(body, 'a' + p, sizeof body);
        snprintf(base, sizeof base, "/p%d-%d", p, i);
        owt_cache_key_make(&k, owt_str_of(base), NULL, NULL);
        bad |= owt_cache_writer_begin(&c, &w, &k, 200, plain_headers, 3, 0) != OWT_OK;
        bad |= owt_cache_writer_chunk(&c, &w, body, sizeof body) != OWT_OK;
        bad |= owt_cache_writer_commit(&c, &w) != OWT_OK;
        uint64_t n = 0, bytes = 0;
        bad |= owt_cache_usage(&observer, &n, &bytes) != OWT_OK;
        if (bytes > seen_max) seen_max = bytes;
      }
      owt_cache_close(&c);
      owt_cache_close(&observer);
      /* The other process may be between its rename and its eviction: one
       * entry (about 800 bytes) over is that, not an overshoot. */
      if (seen_max > max + 1024) {
        fprintf(stderr, "process %d saw %llu bytes in the directory: %.2fx the bound of %llu\n", p,
                (unsigned long long)seen_max, (double)seen_max / (double)max, (unsigned long long)max);
        _exit(4);
      }
      _exit(bad ? 3 : 0);
    }
  }
  for (int p = 0; p < 2; p++) {
    int st = 0;
    assert_int_equal(waitpid(kids[p], &st, 0), kids[p]);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
  }
  uint64_t n = 0, bytes = 0;
  assert_int_equal(owt_cache_usage(&f->cache, &n, &bytes), OWT_OK);
  if (bytes > max) fail_msg("%llu bytes in %llu entries: over the bound of %llu", (unsigned long long)bytes,
                            (unsigned long long)n, (unsigned long long)max);
  assert_true(n > 10); /* and it was not emptied either */
}

typedef struct {
  owt_cache *cache;
  int id;
  int lookups, mismatches, errors;
} thread_job;

/* The body stored for key k: its own byte, its own length. */
static size_t body_len_of(int k) { return 1000 + (size_t)k * 37000; }
static char body_byte_of(int k) { return (char)('A' + k); }

static void *cache_thread(void *arg) {
  thread_job *job = arg;
  char base[32];
  for (int i = 0; i < 400; i++) {
    int k = (i * 7 + job->id * 3) % 8;
    owt_cache_hit hit;
    owt_cache_key key;
    owt_str chunk;
    snprintf(base, sizeof base, "/thread-%d", k);
    owt_cache_key_make(&key, owt_str_of(base), NULL, NULL);
    job->lookups++;
    if (owt_cache_lookup(job->cache, &key, &hit) == OWT_OK) {
      size_t got = 0;
      int ok = 1;
      while (owt_cache_hit_next(&hit, &chunk)) {
        for (size_t j = 0; j < chunk.len; j++) ok &= chunk.p[j] == body_byte_of(k);
        got += chunk.len;
      }
      job->mismatches += !ok || got != body_len_of(k);
      owt_cache_hit_release(&hit);
      continue;
    }
    size_t len = body_len_of(k);
    char *body = malloc(len);
    memset(body, body_byte_of(k), len);
    owt_cache_writer w = OWT_CACHE_WRITER_INIT;
    job->errors += owt_cache_writer_begin(job->cache, &w, &key, 200, plain_headers, 3, i & 1) != OWT_OK;
    for (size_t off = 0; off < len; off += 10000) {
      size_t n = len - off < 10000 ? len - off : 10000;
      job->errors += owt_cache_writer_chunk(job->cache, &w, body + off, n) != OWT_OK;
    }
    if (i % 5 == 0) owt_cache_writer_abort(job->cache, &w); /* a client that left */
    else job->errors += owt_cache_writer_commit(job->cache, &w) != OWT_OK;
    free(body);
  }
  return NULL;
}

static void test_threads_share_one_cache(void **state) {
  fixture *f = *state;
  pthread_t t[6];
  thread_job jobs[6];
  int lookups = 0;
  f->cache.max_bytes = 600u << 10; /* some evictions on the way */
  f->cache.low_water = f->cache.max_bytes - f->cache.max_bytes / 16;
  for (int i = 0; i < 6; i++) {
    jobs[i] = (thread_job){&f->cache, i, 0, 0, 0};
    assert_int_equal(pthread_create(&t[i], NULL, cache_thread, &jobs[i]), 0);
  }
  for (int i = 0; i < 6; i++) {
    assert_int_equal(pthread_join(t[i], NULL), 0);
    if (jobs[i].mismatches || jobs[i].errors)
      fail_msg("thread %d: %d replies with another entry's bytes, %d failed stores", i, jobs[i].mismatches,
               jobs[i].errors);
    lookups += jobs[i].lookups;
  }
  assert_int_equal(f->cache.hits + f->cache.misses, (uint64_t)lookups);
  assert_int_equal(f->cache.corrupt, 0);
  uint64_t n = 0, bytes = 0;
  assert_int_equal(owt_cache_usage(&f->cache, &n, &bytes), OWT_OK);
  assert_true(bytes <= f->cache.max_bytes);
}

int main(void) {
  /* before OpenSSL allocates anything */
  if (!CRYPTO_set_mem_functions(crypto_malloc, crypto_realloc, crypto_free)) {
    fputs("test_cache: CRYPTO_set_mem_functions refused\n", stderr);
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_key_table),
      cmocka_unit_test_setup_teardown(test_stream_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_body_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replace_and_miss, setup, teardown),
      cmocka_unit_test_setup_teardown(test_abort_keeps_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_over_cap_not_stored, setup, teardown),
      cmocka_unit_test(test_disabled),
      cmocka_unit_test_setup_teardown(test_dir_made_by_first_store, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_is_miss, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated_is_miss, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_name_is_miss, setup, teardown),
      cmocka_unit_test_setup_teardown(test_eviction_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_low_water, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ttl, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stale_tmp_removed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fifo_entry_is_miss, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fifo_at_temporary_name, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stored_key_is_compared, setup, teardown),
      cmocka_unit_test_setup_teardown(test_key_that_cannot_be_made, setup, teardown),
      cmocka_unit_test_setup_teardown(test_accounting_follows_every_change, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fifo_at_accounting_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_two_processes_keep_the_bound, setup, teardown),
      cmocka_unit_test_setup_teardown(test_threads_share_one_cache, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
