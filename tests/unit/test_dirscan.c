/* test_dirscan.c - lib/owt_dirscan: which files are entries, stale
 * temporary files removed by a scan, eviction oldest first that spares the
 * entry just stored and one used since the scan.
 *
 * Each test gets a fresh directory under $TMPDIR with files made by hand
 * and mtimes set with utimensat. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "owt_dirscan.h"
#include "unit.h"

typedef struct {
  char dir[256];
  int dirfd;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  unit_temp_dir(f->dir, sizeof f->dir, "dirscan");
  f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(f->dirfd >= 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  close(f->dirfd);
  unit_remove_dir(f->dir);
  free(f);
  return 0;
}

/* An entry name: 64 hex digits, all c. */
static const char *name_of(char c) {
  static char name[OWT_DIRSCAN_NAME_LEN + 1];
  memset(name, c, OWT_DIRSCAN_NAME_LEN);
  name[OWT_DIRSCAN_NAME_LEN] = '\0';
  return name;
}

/* A file of size bytes whose mtime is `age` seconds before 1,000,000. */
static void make(fixture *f, const char *name, size_t size, long age) {
  int fd = openat(f->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)size), 0);
  struct timespec t[2] = {{1000000 - age, 0}, {1000000 - age, 0}};
  assert_int_equal(futimens(fd, t), 0);
  close(fd);
}

static int exists(fixture *f, const char *name) { return faccessat(f->dirfd, name, F_OK, 0) == 0; }

static void test_entry_names(void **state) {
  (void)state;
  assert_true(owt_dirscan_is_entry_name(name_of('a')));
  assert_true(owt_dirscan_is_entry_name("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
  assert_false(owt_dirscan_is_entry_name("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
  assert_false(owt_dirscan_is_entry_name("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"));
  assert_false(owt_dirscan_is_entry_name("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"));
  assert_false(owt_dirscan_is_entry_name(".usage"));
  assert_false(owt_dirscan_is_entry_name(""));
}

static void test_read_lists_entries_and_removes_stale_temporaries(void **state) {
  fixture *f = *state;
  owt_dirscan l = OWT_DIRSCAN_INIT;
  uint64_t entries, bytes;
  make(f, name_of('1'), 100, 10);
  make(f, name_of('2'), 50, 5);
  make(f, ".usage", 4000, 0);           /* not an entry */
  make(f, ".tmp-old", 7, 7200);         /* a writer died two hours ago */
  make(f, ".tmp-new", 7, 10);           /* a writer is still at it */
  assert_int_equal(mkdirat(f->dirfd, name_of('3'), 0700), 0); /* named like one, not a file */
  assert_int_equal(owt_dirscan_read(f->dirfd, ".tmp-", 1000000.0, 3600.0, &l, &entries, &bytes), OWT_OK);
  assert_int_equal(entries, 2);
  assert_int_equal(bytes, 150);
  assert_int_equal(l.n, 2);
  assert_int_equal(l.bytes, 150);
  assert_false(exists(f, ".tmp-old"));
  assert_true(exists(f, ".tmp-new"));
  owt_dirscan_free(&l);
  /* Counting only. */
  assert_int_equal(owt_dirscan_read(f->dirfd, ".tmp-", 1000000.0, 3600.0, NULL, &entries, &bytes), OWT_OK);
  assert_int_equal(entries, 2);
  assert_int_equal(bytes, 150);
}

static void test_evict_oldest_first_down_to_low_water(void **state) {
  fixture *f = *state;
  owt_dirscan l = OWT_DIRSCAN_INIT;
  uint64_t entries, bytes, left;
  make(f, name_of('1'), 100, 40); /* oldest */
  make(f, name_of('2'), 100, 30); /* the one just stored: kept */
  make(f, name_of('3'), 100, 20);
  make(f, name_of('4'), 100, 10); /* newest */
  assert_int_equal(owt_dirscan_read(f->dirfd, ".tmp-", 1000000.0, 3600.0, &l, &entries, &bytes), OWT_OK);
  /* Used since the scan: no longer the oldest, so spared. */
  make(f, name_of('3'), 100, 0);
  assert_int_equal(owt_dirscan_evict_oldest(f->dirfd, &l, 150, name_of('2'), &left), 2);
  assert_false(exists(f, name_of('1')));
  assert_true(exists(f, name_of('2')));
  assert_true(exists(f, name_of('3')));
  assert_false(exists(f, name_of('4')));
  assert_int_equal(left, 2);
  assert_int_equal(l.bytes, 200); /* low water not reached: what is left is kept or in use */
  owt_dirscan_free(&l);
}

static void test_evict_counts_entries_gone_meanwhile(void **state) {
  fixture *f = *state;
  owt_dirscan l = OWT_DIRSCAN_INIT;
  uint64_t entries, bytes, left;
  make(f, name_of('1'), 100, 40);
  make(f, name_of('2'), 100, 30);
  make(f, name_of('3'), 100, 20);
  assert_int_equal(owt_dirscan_read(f->dirfd, ".tmp-", 1000000.0, 3600.0, &l, &entries, &bytes), OWT_OK);
  assert_int_equal(unlinkat(f->dirfd, name_of('1'), 0), 0); /* another process evicted it */
  assert_int_equal(owt_dirscan_evict_oldest(f->dirfd, &l, 100, NULL, &left), 1);
  assert_false(exists(f, name_of('2')));
  assert_true(exists(f, name_of('3')));
  assert_int_equal(left, 1);
  assert_int_equal(l.bytes, 100);
  owt_dirscan_free(&l);
}

static void test_unreadable_directory_is_an_error(void **state) {
  (void)state;
  uint64_t entries = 9, bytes = 9;
  assert_int_equal(owt_dirscan_read(-1, ".tmp-", 0.0, 3600.0, NULL, &entries, &bytes), OWT_E_INTERNAL);
  assert_int_equal(entries, 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_entry_names),
      T(test_read_lists_entries_and_removes_stale_temporaries),
      T(test_evict_oldest_first_down_to_low_water),
      T(test_evict_counts_entries_gone_meanwhile),
      T(test_unreadable_directory_is_an_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
