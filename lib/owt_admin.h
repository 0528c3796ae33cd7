/* owt_admin.h - the server's own pages under /_owt/ (PROTOCOL §1): the
 * dashboard (/_owt/, lib/owt_dashboard.h), health (200 "ok", no auth),
 * status (JSON), metrics (Prometheus text), history (JSON: the last
 * minutes), covering every worker on the scoreboard. */
#ifndef OWT_ADMIN_H
#define OWT_ADMIN_H

#include "owt_cache.h"
#include "owt_io.h"
#include "owt_scoreboard.h"
#include "owt_stats.h"
#include "owt_str.h"

/* 1 when path is under /_owt/ (the reserved prefix). */
int owt_admin_is_reserved(owt_str path);

/* 1 for the one page that never needs auth (/_owt/health). */
int owt_admin_is_public(owt_str path);

/* Answer a reserved path (the dashboard: /_owt/ and its redirect /_owt,
 * lib/owt_dashboard.h; for a scoreboard file, processes that died are swept
 * off it first). Returns what the answer said: OWT_OK for a page (200; the
 * redirect too), else the error it was answered with (its status is
 * owt_err_status's): OWT_E_NOT_FOUND for an unknown page, OWT_E_METHOD for a method but GET and
 * HEAD, OWT_E_INTERNAL when the page could not be built; OWT_E_IO when the
 * client went away. */
owt_err owt_admin_handle(owt_io *io, owt_str method, owt_str path, owt_scoreboard *board,
                         const char *python_version);

/* /_owt/cache: GET gives {"enabled","entries","bytes","max_bytes","ttl",
 * "hits","misses"} (entries and bytes from the directory, hits and misses
 * summed over the workers on board); DELETE purges every entry, or with
 * ?key=K every entry stored under the base key K (cache_key_override or
 * path, all kwargs and user variants), answering {"purged":N}. Returns what
 * the answer said, as owt_admin_handle: OWT_OK, OWT_E_METHOD,
 * OWT_E_CONFLICT (DELETE while the cache is off), OWT_E_BAD_REQUEST (a query
 * that does not parse), OWT_E_INTERNAL (the directory could not be read);
 * OWT_E_IO when the client went away. */
owt_err owt_admin_cache(owt_io *io, owt_str method, owt_str query, owt_cache *cache,
                        owt_scoreboard *board);

#endif
