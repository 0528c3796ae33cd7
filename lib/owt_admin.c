/* owt_admin.c - /_owt/health, /_owt/status, /_owt/metrics. */
#include "owt_admin.h"

#include <stdio.h>

#include "config.h"
#include "owt_response.h"

#define PREFIX "/_owt/"

int owt_admin_is_reserved(owt_str path) {
  return path.len >= sizeof PREFIX - 2 && memcmp(path.p, PREFIX, sizeof PREFIX - 2) == 0 &&
         (path.len == sizeof PREFIX - 2 || path.p[sizeof PREFIX - 2] == '/');
}

int owt_admin_is_public(owt_str path) { return owt_str_eq(path, OWT_STR_LIT("/_owt/health")); }

static owt_err status_json(owt_buf *out, const owt_stats *s, const char *python_version) {
  double now = owt_now();
  /* python_version has no quotes or backslashes; the path is shown up to
   * its first one, so the JSON stays well-formed without an escaper. */
  size_t plen = strcspn(s->path, "\"\\");
  return owt_buf_printf(
      out,
      "{\"version\":\"%s\",\"python\":\"%.*s\",\"workers\":[{\"pid\":%ld,\"state\":\"%s\","
      "\"busy_for\":%.3f,\"path\":\"%.*s\",\"uptime\":%.3f,\"requests\":%llu,\"errors_4xx\":%llu,"
      "\"errors_5xx\":%llu,\"timeouts\":%llu,\"client_gone\":%llu,\"bytes_out\":%llu,"
      "\"rss_bytes\":%llu}]}\n",
      PACKAGE_VERSION, (int)strcspn(python_version, " \"\\"), python_version, (long)s->pid,
      s->busy_since ? "busy" : "idle", s->busy_since ? now - s->busy_since : 0.0, (int)plen,
      s->path, now - s->started, (unsigned long long)s->requests,
      (unsigned long long)s->errors_4xx, (unsigned long long)s->errors_5xx,
      (unsigned long long)s->timeouts, (unsigned long long)s->client_gone,
      (unsigned long long)s->bytes_out, (unsigned long long)owt_stats_rss());
}

static owt_err metrics_text(owt_buf *out, const owt_stats *s) {
  return owt_buf_printf(
      out,
      "# HELP owt_requests_total Requests answered by this worker.\n"
      "# TYPE owt_requests_total counter\n"
      "owt_requests_total{pid=\"%ld\"} %llu\n"
      "# HELP owt_errors_total Error responses by class.\n"
      "# TYPE owt_errors_total counter\n"
      "owt_errors_total{pid=\"%ld\",class=\"4xx\"} %llu\n"
      "owt_errors_total{pid=\"%ld\",class=\"5xx\"} %llu\n"
      "# HELP owt_timeouts_total Adaptors stopped by --timeout.\n"
      "# TYPE owt_timeouts_total counter\n"
      "owt_timeouts_total{pid=\"%ld\"} %llu\n"
      "# HELP owt_client_gone_total Responses cut short because the client left.\n"
      "# TYPE owt_client_gone_total counter\n"
      "owt_client_gone_total{pid=\"%ld\"} %llu\n"
      "# HELP owt_response_bytes_total Body bytes sent.\n"
      "# TYPE owt_response_bytes_total counter\n"
      "owt_response_bytes_total{pid=\"%ld\"} %llu\n"
      "# HELP owt_worker_rss_bytes Resident memory of the worker.\n"
      "# TYPE owt_worker_rss_bytes gauge\n"
      "owt_worker_rss_bytes{pid=\"%ld\"} %llu\n",
      (long)s->pid, (unsigned long long)s->requests, (long)s->pid,
      (unsigned long long)s->errors_4xx, (long)s->pid, (unsigned long long)s->errors_5xx,
      (long)s->pid, (unsigned long long)s->timeouts, (long)s->pid,
      (unsigned long long)s->client_gone, (long)s->pid, (unsigned long long)s->bytes_out,
      (long)s->pid, (unsigned long long)owt_stats_rss());
}

int owt_admin_handle(owt_io *io, owt_str method, owt_str path, const owt_stats *stats,
                     const char *python_version) {
  owt_buf body = OWT_BUF_INIT(64 * 1024);
  owt_str type = OWT_STR_LIT("text/plain; charset=utf-8");
  int status = 200;
  owt_err err = OWT_OK;
  if (!owt_str_eq(method, OWT_STR_LIT("GET")) && !owt_str_eq(method, OWT_STR_LIT("HEAD"))) {
    status = 405;
    err = owt_buf_append_str(&body, "the /_owt/ pages answer GET only");
  } else if (owt_str_eq(path, OWT_STR_LIT("/_owt/health"))) {
    err = owt_buf_append_str(&body, "ok");
  } else if (owt_str_eq(path, OWT_STR_LIT("/_owt/status"))) {
    type = OWT_STR_LIT("application/json");
    err = status_json(&body, stats, python_version);
  } else if (owt_str_eq(path, OWT_STR_LIT("/_owt/metrics"))) {
    type = OWT_STR_LIT("text/plain; version=0.0.4; charset=utf-8");
    err = metrics_text(&body, stats);
  } else {
    status = 404;
    err = owt_buf_append_str(&body, "no such page: /_owt/ has health, status and metrics");
  }
  if (err) {
    status = 500;
    owt_buf_reset(&body);
  }
  int rc = owt_response_send(io, status, type, owt_buf_str(&body)) ? -1 : status;
  owt_buf_free(&body);
  return rc;
}
