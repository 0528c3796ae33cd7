/* owt_limits.h - the bounds every parser in lib/ is given.
 *
 * One struct so the request, invocation and Python layers agree on them and
 * the command line sets them in one place. */
#ifndef OWT_LIMITS_H
#define OWT_LIMITS_H

#include <stddef.h>

typedef struct {
  size_t max_body;   /* request body bytes (--max-body); over it: 413 */
  size_t max_code;   /* decoded adaptor source bytes (--max-code); over it: 413 */
  size_t max_params; /* total bytes of FastCGI params / CGI environment; over it: 413 */
  size_t max_query;  /* QUERY_STRING bytes (--max-query), the GET limit; over it: 414 */
  size_t max_fields; /* query or form pairs; over it: 413 */
  size_t max_header; /* one header value we parse ourselves (Authorization); over it: 400/401 */
} owt_limits;

/* The GET limit every shipped front holds (docs/protocol.md, "Long requests"):
 * FastCGI clients (lighttpd, nginx, mod_fcgid) send all params in one record
 * of at most 64 KiB, holding the query twice (QUERY_STRING, REQUEST_URI);
 * 28 KiB leaves 8 KiB of that record for the other headers. */
#define OWT_LIMITS_MAX_QUERY (28u << 10)

#define OWT_LIMITS_DEFAULT                                                                         \
  ((owt_limits){.max_body = 16u << 20,                                                             \
                .max_code = 8u << 20,                                                              \
                .max_params = 256u << 10,                                                          \
                .max_query = OWT_LIMITS_MAX_QUERY,                                                 \
                .max_fields = 1024,                                                                \
                .max_header = 8u << 10})

#endif
