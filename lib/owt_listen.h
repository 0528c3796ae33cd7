/* owt_listen.h - the master's listening socket: "HOST:PORT", "[v6]:PORT"
 * or "unix:PATH", bound before any privilege drop or fork.
 *
 * HOST is a numeric address; the one name accepted is "localhost". Nothing
 * here asks DNS, and whether the socket is loopback-only (which decides if
 * the master may run code without auth) is read from the resolved addresses,
 * never from how the text looks: "127.attacker.example" is not an address. */
#ifndef OWT_LISTEN_H
#define OWT_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "owt_err.h"

typedef struct {
  int is_unix;
  int loopback;      /* set by owt_listen_parse: every address host stands for is loopback */
  char path[108];    /* unix socket path */
  char host[64];     /* numeric IPv4/IPv6 address, or "localhost" */
  char port[8];
} owt_listen_addr;

/* Parse spec into addr. The host must be a numeric IPv4 or IPv6 address
 * (getaddrinfo with AI_NUMERICHOST; inside [...] IPv6 only) or "localhost"
 * (looked up: hosts file or resolver). OWT_OK, or OWT_E_BAD_REQUEST with a
 * static message in *why: a name other than localhost is refused, not
 * resolved. */
owt_err owt_listen_parse(const char *spec, owt_listen_addr *addr, const char **why);

/* Bind and listen. For unix sockets a stale socket file is replaced and the
 * mode set to socket_mode (e.g. 0660) when it is not 0. OWT_OK and the
 * socket in *fd, or OWT_E_INTERNAL (the socket could not be made, bound or
 * given its mode) with a message in why. */
owt_err owt_listen_open(const owt_listen_addr *addr, int backlog, unsigned socket_mode, int *fd, char *why,
                        size_t why_len);

/* 1 when addr is a unix socket, or when every address its host resolved to
 * in owt_listen_parse is loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104);
 * 0 otherwise, including for an addr that did not come from owt_listen_parse. */
int owt_listen_is_local(const owt_listen_addr *addr);

/* 1 when sa is a loopback address (as above), 0 for anything else. */
int owt_listen_sockaddr_is_loopback(const struct sockaddr *sa);

#endif
