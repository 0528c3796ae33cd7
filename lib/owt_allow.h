/* owt_allow.h - which peers may talk FastCGI to us over TCP (--allow-from,
 * FCGI_WEB_SERVER_ADDRS). A FastCGI socket accepts code to run: on a TCP
 * address only the web servers should reach it. Unix sockets are governed
 * by file permissions instead and always pass. */
#ifndef OWT_ALLOW_H
#define OWT_ALLOW_H

#include <stddef.h>
#include <sys/socket.h>

#include "owt_err.h"

#define OWT_ALLOW_MAX 64

typedef struct {
  int family;              /* AF_INET or AF_INET6 */
  unsigned char addr[16];  /* network address */
  unsigned prefix;         /* prefix length in bits */
} owt_allow_rule;

typedef struct {
  owt_allow_rule rules[OWT_ALLOW_MAX];
  size_t n;
} owt_allow;

/* Add comma- or space-separated addresses or CIDR blocks ("10.0.0.0/8",
 * "::1", "192.0.2.7"). OWT_OK, or OWT_E_BAD_REQUEST with a static message
 * in *why. */
owt_err owt_allow_add(owt_allow *a, const char *list, const char **why);

/* 1 when the list is empty, the peer is not IPv4/IPv6 (a unix socket), or
 * it matches a rule; IPv4-mapped IPv6 peers match IPv4 rules. */
int owt_allow_check(const owt_allow *a, const struct sockaddr *peer, socklen_t len);

/* 1 when the fd's peer passes owt_allow_check (getpeername). */
int owt_allow_check_fd(const owt_allow *a, int fd);

#endif
