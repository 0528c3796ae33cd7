/* test_config.c - owt_config: options -> fields, bad values -> OWT_E_BAD_REQUEST (exit 2) with a
 * message naming the option, K/M/G sizes, OWT_AUTH. */
#include <unistd.h>

#include "owt_config.h"
#include "unit.h"

#define SECRET_HEX "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"

/* What the last parse printed to stderr. */
static char last_stderr[8192];

/* Parse argv (NULL-terminated, program name first) with stderr captured. */
static owt_err parse(owt_config *cfg, char **argv) {
  int argc = 0;
  while (argv[argc]) argc++;
  char path[] = "/tmp/owt-config-test-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  unlink(path);
  fflush(stderr);
  int saved = dup(2);
  assert_true(saved >= 0);
  dup2(fd, 2);
  owt_err rc = owt_config_parse(cfg, argc, argv);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  ssize_t n = pread(fd, last_stderr, sizeof last_stderr - 1, 0);
  last_stderr[n > 0 ? n : 0] = '\0';
  close(fd);
  return rc;
}

#define ARGV(...) ((char *[]){"owt-fcgi", __VA_ARGS__, NULL})

static int clean_env(void **state) {
  (void)state;
  unsetenv("OWT_AUTH");
  return 0;
}

static void test_defaults(void **state) {
  (void)state;
  owt_config cfg;
  char *argv[] = {"owt-fcgi", NULL};
  owt_limits def = OWT_LIMITS_DEFAULT;
  assert_int_equal(parse(&cfg, argv), OWT_OK);
  assert_int_equal(cfg.mode, OWT_MODE_AUTO);
  assert_int_equal(cfg.log_level, OWT_LOG_ERROR);
  assert_memory_equal(&cfg.limits, &def, sizeof def);
  assert_int_equal(cfg.max_adaptors, 64);
  assert_true(cfg.timeout == 300);
  assert_true(cfg.kill_grace == 5);
  assert_null(cfg.venv);
  assert_int_equal(cfg.n_python_paths, 0);
  assert_int_equal(cfg.n_adaptor_dirs, 0);
  assert_false(cfg.debug);
  assert_false(cfg.no_code);
  assert_false(cfg.allow_shell);
  assert_false(owt_auth_enabled(&cfg.auth));
  assert_string_equal(last_stderr, "");
  owt_config_free(&cfg);
}

static void test_verbosity(void **state) {
  (void)state;
  owt_config cfg;
  /* The mapping: -v warnings, -vv a line per request, -vvv debug. */
  assert_int_equal(parse(&cfg, ARGV("-v")), OWT_OK);
  owt_log_level one = cfg.log_level;
  assert_int_equal(one, OWT_LOG_WARNING);
  owt_config_free(&cfg);
  assert_int_equal(parse(&cfg, ARGV("--verbose")), OWT_OK);
  assert_int_equal(cfg.log_level, one);
  owt_config_free(&cfg);
  assert_int_equal(parse(&cfg, ARGV("-vv")), OWT_OK);
  assert_int_equal(cfg.log_level, OWT_LOG_INFO);
  owt_config_free(&cfg);
  assert_int_equal(parse(&cfg, ARGV("-vvv")), OWT_OK);
  assert_int_equal(cfg.log_level, OWT_LOG_DEBUG);
  owt_config_free(&cfg);
  assert_int_equal(parse(&cfg, ARGV("-v", "-v", "-v", "-v", "-vvvv")), OWT_OK);
  assert_int_equal(cfg.log_level, OWT_LOG_DEBUG);
  owt_config_free(&cfg);
}

static void test_paths_and_flags(void **state) {
  (void)state;
  owt_config cfg;
  char **argv = ARGV("--venv", "/opt/venv", "--python-path", "/p/one", "--python-path=/p/two",
                     "--adaptors", "/srv/adaptors", "--debug", "--no-code", "--allow-shell",
                     "--max-adaptors", "10", "--timeout", "2.5", "--kill-grace", "0.25");
  assert_int_equal(parse(&cfg, argv), OWT_OK);
  assert_string_equal(cfg.venv, "/opt/venv");
  assert_int_equal(cfg.n_python_paths, 2);
  assert_string_equal(cfg.python_paths[0], "/p/one");
  assert_string_equal(cfg.python_paths[1], "/p/two");
  assert_int_equal(cfg.n_adaptor_dirs, 1);
  assert_string_equal(cfg.adaptor_dirs[0], "/srv/adaptors");
  assert_true(cfg.debug);
  assert_true(cfg.no_code);
  assert_true(cfg.allow_shell);
  assert_int_equal(cfg.max_adaptors, 10);
  assert_true(cfg.timeout == 2.5);
  assert_true(cfg.kill_grace == 0.25);
  owt_config_free(&cfg);

  assert_int_equal(parse(&cfg, ARGV("--timeout", "0")), OWT_OK);
  assert_true(cfg.timeout == 0);
  owt_config_free(&cfg);
}

static void test_modes(void **state) {
  (void)state;
  static const struct {
    const char *opt;
    owt_mode mode;
  } m[] = {{"--cgi", OWT_MODE_CGI},
           {"--fastcgi", OWT_MODE_FASTCGI},
           {"--hash-password", OWT_MODE_HASH_PASSWORD},
           {"-h", OWT_MODE_HELP},
           {"--help", OWT_MODE_HELP},
           {"-V", OWT_MODE_VERSION},
           {"--version", OWT_MODE_VERSION}};
  for (size_t i = 0; i < ARRAY_LEN(m); i++) {
    owt_config cfg;
    char *argv[] = {"owt-fcgi", (char *)m[i].opt, NULL};
    assert_int_equal(parse(&cfg, argv), OWT_OK);
    assert_int_equal(cfg.mode, m[i].mode);
    owt_config_free(&cfg);
  }
  /* --hash-password[=FORMAT] */
  static const char *const formats[] = {"--hash-password=yescrypt", "--hash-password=bcrypt",
                                        "--hash-password=sha256"};
  for (size_t i = 0; i < ARRAY_LEN(formats); i++) {
    owt_config cfg;
    char *argv[] = {"owt-fcgi", (char *)formats[i], NULL};
    assert_int_equal(parse(&cfg, argv), OWT_OK);
    assert_int_equal(cfg.mode, OWT_MODE_HASH_PASSWORD);
    assert_string_equal(cfg.hash_format, strchr(formats[i], '=') + 1);
    owt_config_free(&cfg);
  }
  owt_config cfg;
  char *plain[] = {"owt-fcgi", "--hash-password", NULL};
  assert_int_equal(parse(&cfg, plain), OWT_OK);
  assert_null(cfg.hash_format); /* the default: yescrypt */
  owt_config_free(&cfg);
  char *bad[] = {"owt-fcgi", "--hash-password=md5", NULL};
  assert_int_equal(parse(&cfg, bad), OWT_E_BAD_REQUEST);
  owt_config_free(&cfg);
}

static void test_sizes(void **state) {
  (void)state;
  static const struct {
    const char *arg;
    size_t bytes;
  } s[] = {
      {"0", 0},
      {"1", 1},
      {"1024", 1024},
      {"1K", 1024},
      {"1k", 1024},
      {"1KB", 1024},
      {"1kb", 1024},
      {"2M", 2u << 20},
      {"16m", 16u << 20},
      {"1MB", 1u << 20},
      {"3G", (size_t)3 << 30},
      {"1gB", (size_t)1 << 30},
      {"007", 7},
      {"17179869183G", (size_t)17179869183ull << 30},
      {"18446744073709551615", SIZE_MAX},
  };
  for (size_t i = 0; i < ARRAY_LEN(s); i++) {
    owt_config cfg;
    char *argv[] = {"owt-fcgi", "--max-body", (char *)s[i].arg, NULL};
    if (parse(&cfg, argv) != 0) fail_msg("--max-body %s refused: %s", s[i].arg, last_stderr);
    if (cfg.limits.max_body != s[i].bytes)
      fail_msg("--max-body %s: %zu", s[i].arg, cfg.limits.max_body);
    owt_config_free(&cfg);
  }
  owt_config cfg;
  assert_int_equal(parse(&cfg, ARGV("--max-code", "512K")), OWT_OK);
  assert_int_equal(cfg.limits.max_code, 512 << 10);
  owt_config_free(&cfg);
}

static void test_bad_values(void **state) {
  (void)state;
  static const struct {
    const char *opt, *arg;
  } b[] = {
      {"--max-body", ""},
      {"--max-body", "abc"},
      {"--max-body", "1X"},
      {"--max-body", "1KX"},
      {"--max-body", "1B"},
      {"--max-body", "1.5M"},
      {"--max-body", "-1"},
      {"--max-body", "-1K"},
      {"--max-body", "+5"},
      {"--max-body", " 5"},
      {"--max-body", "5 "},
      {"--max-body", "17179869184G"},
      {"--max-body", "18446744073709551616"},
      {"--max-code", "0"},
      {"--max-code", "-1"},
      {"--max-code", "lots"},
      {"--max-adaptors", "0"},
      {"--max-adaptors", "1000001"},
      {"--max-adaptors", "-5"},
      {"--max-adaptors", "ten"},
      {"--timeout", "-1"},
      {"--timeout", "abc"},
      {"--timeout", ""},
      {"--timeout", "5s"},
      {"--timeout", "nan"},
      {"--timeout", "inf"},
      {"--timeout", "1e10"},
      {"--kill-grace", "-0.5"},
      {"--kill-grace", "soon"},
      {"--auth", "alice"},
      {"--auth", "alice:secret"},
      {"--auth-file", "/nonexistent/owt/auth"},
  };
  for (size_t i = 0; i < ARRAY_LEN(b); i++) {
    owt_config cfg;
    char *argv[] = {"owt-fcgi", (char *)b[i].opt, (char *)b[i].arg, NULL};
    owt_err rc = parse(&cfg, argv);
    if (rc != OWT_E_BAD_REQUEST) fail_msg("%s \"%s\": rc %d, want OWT_E_BAD_REQUEST", b[i].opt, b[i].arg, rc);
    if (!strstr(last_stderr, b[i].opt))
      fail_msg("%s \"%s\": message \"%s\"", b[i].opt, b[i].arg, last_stderr);
    owt_config_free(&cfg);
  }
}

static void test_bad_command_lines(void **state) {
  (void)state;
  owt_config cfg;
  assert_int_equal(parse(&cfg, ARGV("--nope")), OWT_E_BAD_REQUEST);
  assert_non_null(strstr(last_stderr, "nope"));
  owt_config_free(&cfg);
  assert_int_equal(parse(&cfg, ARGV("-x")), OWT_E_BAD_REQUEST);
  owt_config_free(&cfg);
  assert_int_equal(parse(&cfg, ARGV("--venv")), OWT_E_BAD_REQUEST); /* missing argument */
  owt_config_free(&cfg);
  assert_int_equal(parse(&cfg, ARGV("--debug=yes")), OWT_E_BAD_REQUEST);
  owt_config_free(&cfg);
  assert_int_equal(parse(&cfg, ARGV("--debug", "stray")), OWT_E_BAD_REQUEST);
  assert_non_null(strstr(last_stderr, "stray"));
  owt_config_free(&cfg);
  /* an option after a bad one is not reached */
  assert_int_equal(parse(&cfg, ARGV("--max-body", "x", "--debug")), OWT_E_BAD_REQUEST);
  owt_config_free(&cfg);
}

static void test_too_many_dirs(void **state) {
  (void)state;
  char *argv[2 + 2 * (OWT_CONFIG_MAX_DIRS + 1)];
  size_t n = 0;
  argv[n++] = "owt-fcgi";
  for (int i = 0; i < OWT_CONFIG_MAX_DIRS; i++) {
    argv[n++] = "--python-path";
    argv[n++] = "/d";
  }
  argv[n] = NULL;
  owt_config cfg;
  assert_int_equal(parse(&cfg, argv), OWT_OK);
  assert_int_equal(cfg.n_python_paths, OWT_CONFIG_MAX_DIRS);
  owt_config_free(&cfg);
  argv[n++] = "--python-path";
  argv[n++] = "/one-too-many";
  argv[n] = NULL;
  assert_int_equal(parse(&cfg, argv), OWT_E_BAD_REQUEST);
  assert_non_null(strstr(last_stderr, "--python-path"));
  owt_config_free(&cfg);
}

static void test_auth_options(void **state) {
  (void)state;
  owt_config cfg;
  assert_int_equal(parse(&cfg, ARGV("--auth", "alice:" SECRET_HEX, "--auth", "bob:" SECRET_HEX)),
                   0);
  assert_int_equal(cfg.auth.n, 2);
  assert_string_equal(cfg.auth.entries[1].user, "bob");
  owt_config_free(&cfg);
  assert_int_equal(cfg.auth.n, 0);

  /* a refused entry is not echoed: it may hold a password */
  assert_int_equal(parse(&cfg, ARGV("--auth", "alice:hunter2-typed-by-mistake")), OWT_E_BAD_REQUEST);
  assert_null(strstr(last_stderr, "hunter2"));
  owt_config_free(&cfg);

  char path[] = "/tmp/owt-config-auth-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  static const char file[] = "# team\ncarol:" SECRET_HEX "\n";
  assert_int_equal(write(fd, file, sizeof file - 1), (ssize_t)(sizeof file - 1));
  close(fd);
  char *argv[] = {"owt-fcgi", "--auth-file", path, NULL};
  assert_int_equal(parse(&cfg, argv), OWT_OK);
  assert_int_equal(cfg.auth.n, 1);
  owt_config_free(&cfg);
  unlink(path);
}

static void test_owt_auth_env(void **state) {
  (void)state;
  owt_config cfg;
  setenv("OWT_AUTH", "alice:" SECRET_HEX ",bob:" SECRET_HEX, 1);
  assert_int_equal(parse(&cfg, ARGV("--auth", "carol:" SECRET_HEX)), OWT_OK);
  assert_int_equal(cfg.auth.n, 3);
  assert_string_equal(cfg.auth.entries[0].user, "alice");
  assert_string_equal(cfg.auth.entries[2].user, "carol");
  owt_config_free(&cfg);

  setenv("OWT_AUTH", "", 1);
  char *argv[] = {"owt-fcgi", NULL};
  assert_int_equal(parse(&cfg, argv), OWT_OK);
  assert_false(owt_auth_enabled(&cfg.auth));
  owt_config_free(&cfg);

  setenv("OWT_AUTH", "alice:" SECRET_HEX ",broken", 1);
  assert_int_equal(parse(&cfg, argv), OWT_E_BAD_REQUEST);
  assert_non_null(strstr(last_stderr, "OWT_AUTH"));
  owt_config_free(&cfg);
  unsetenv("OWT_AUTH");
}

static void test_allow_install(void **state) {
  (void)state;
  owt_config cfg;
  assert_int_equal(parse(&cfg, ARGV("--venv", "/opt/venv")), OWT_OK);
  assert_false(cfg.allow_install);
  owt_config_free(&cfg);
  assert_int_equal(parse(&cfg, ARGV("--allow-install", "--venv", "/opt/venv")), OWT_OK);
  assert_true(cfg.allow_install);
  assert_string_equal(cfg.venv, "/opt/venv");
  owt_config_free(&cfg);
  /* Never into the system's Python: without --venv it is a usage error. */
  assert_int_equal(parse(&cfg, ARGV("--allow-install")), OWT_E_BAD_REQUEST);
  assert_non_null(strstr(last_stderr, "--allow-install"));
  assert_non_null(strstr(last_stderr, "needs --venv DIR"));
  owt_config_free(&cfg);
}

static void test_usage(void **state) {
  (void)state;
  static const char *const options[] = {"--venv",
                                        "--python-path",
                                        "--adaptors",
                                        "--max-adaptors",
                                        "--max-body",
                                        "--max-code",
                                        "--timeout",
                                        "--kill-grace",
                                        "--debug",
                                        "--no-code",
                                        "--allow-shell",
                                        "--allow-install",
                                        "--auth",
                                        "--auth-file",
                                        "--hash-password",
                                        "--cgi",
                                        "--fastcgi",
                                        "--help",
                                        "--version",
                                        "-v"};
  char text[8192];
  FILE *f = fmemopen(text, sizeof text, "w");
  assert_non_null(f);
  owt_config_usage(f);
  fclose(f);
  for (size_t i = 0; i < ARRAY_LEN(options); i++)
    if (!strstr(text, options[i])) fail_msg("usage does not mention %s", options[i]);
}

int main(void) {
  unsetenv("OWT_AUTH");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_defaults, clean_env),
      cmocka_unit_test_setup(test_verbosity, clean_env),
      cmocka_unit_test_setup(test_paths_and_flags, clean_env),
      cmocka_unit_test_setup(test_modes, clean_env),
      cmocka_unit_test_setup(test_sizes, clean_env),
      cmocka_unit_test_setup(test_bad_values, clean_env),
      cmocka_unit_test_setup(test_bad_command_lines, clean_env),
      cmocka_unit_test_setup(test_too_many_dirs, clean_env),
      cmocka_unit_test_setup(test_auth_options, clean_env),
      cmocka_unit_test_setup(test_owt_auth_env, clean_env),
      cmocka_unit_test_setup(test_allow_install, clean_env),
      cmocka_unit_test(test_usage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
