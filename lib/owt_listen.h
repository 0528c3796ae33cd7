/* owt_listen.h - the master's listening socket: "HOST:PORT", "[v6]:PORT"
 * or "unix:PATH", bound before any privilege drop or fork. */
#ifndef OWT_LISTEN_H
#define OWT_LISTEN_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
  int is_unix;
  char path[108];    /* unix socket path */
  char host[64];     /* numeric IPv4/IPv6 address */
  char port[8];
} owt_listen_addr;

/* Parse spec into addr. Returns 0, or -1 with a static message in *why. */
int owt_listen_parse(const char *spec, owt_listen_addr *addr, const char **why);

/* Bind and listen. For unix sockets a stale socket file is replaced and the
 * mode set to socket_mode (e.g. 0660) when it is not 0. Returns the fd, or -1
 * with a message in why. */
int owt_listen_open(const owt_listen_addr *addr, int backlog, unsigned socket_mode, char *why,
                    size_t why_len);

/* 1 when addr is a loopback address (127.0.0.0/8, ::1) or a unix socket. */
int owt_listen_is_local(const owt_listen_addr *addr);

#endif
