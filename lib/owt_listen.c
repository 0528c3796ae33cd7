/* owt_listen.c - parse and bind the --listen address, and say whether it is loopback.
 *
 * The loopback decision guards running code without auth, so it is made from
 * the addresses getaddrinfo returns, with AI_NUMERICHOST for everything but
 * "localhost": a text check ("starts with 127.") let 127.attacker.example pass,
 * and bind() then asked DNS where that name points. */
#include "owt_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef IN_LOOPBACK /* linux/in.h has it; glibc's netinet/in.h has only IN_LOOPBACKNET */
#define IN_LOOPBACK(a) ((((uint32_t)(a)) >> IN_CLASSA_NSHIFT) == IN_LOOPBACKNET)
#endif

static int is_localhost(const char *host) { return strcasecmp(host, "localhost") == 0; }

static owt_err refuse(const char **why, const char *message) {
  *why = message;
  return OWT_E_BAD_REQUEST;
}

/* The addresses addr's host stands for: numeric only, except "localhost".
 * family narrows the answer (AF_INET6 for a bracketed host). Returns
 * getaddrinfo's code; *res is the caller's to free on 0. */
static int resolve(const owt_listen_addr *addr, int family, int passive, struct addrinfo **res) {
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  if (!is_localhost(addr->host)) hints.ai_flags |= AI_NUMERICHOST;
  return getaddrinfo(addr->host, addr->port, &hints, res);
}

int owt_listen_sockaddr_is_loopback(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET) {
    struct sockaddr_in in4;
    memcpy(&in4, sa, sizeof in4);
    return IN_LOOPBACK(ntohl(in4.sin_addr.s_addr)) ? 1 : 0;
  }
  if (sa->sa_family == AF_INET6) {
    struct sockaddr_in6 in6;
    memcpy(&in6, sa, sizeof in6);
    if (IN6_IS_ADDR_LOOPBACK(&in6.sin6_addr)) return 1;
    if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
      uint32_t v4;
      memcpy(&v4, in6.sin6_addr.s6_addr + 12, sizeof v4);
      return IN_LOOPBACK(ntohl(v4)) ? 1 : 0;
    }
  }
  return 0;
}

/* Resolve the host as owt_listen_open will, and record whether every address is loopback. */
static owt_err check_host(owt_listen_addr *addr, int bracketed, const char **why) {
  struct addrinfo *res = NULL;
  if (bracketed && is_localhost(addr->host)) return refuse(why, "[...] holds a numeric IPv6 address");
  int rc = resolve(addr, bracketed ? AF_INET6 : AF_UNSPEC, 1, &res);
  if (rc != 0) {
    if (bracketed) *why = "[...] holds a numeric IPv6 address";
    else if (is_localhost(addr->host)) *why = "localhost does not resolve to an address";
    else *why = "the host must be a numeric IPv4 or IPv6 address, or localhost (names are not looked up)";
    return OWT_E_BAD_REQUEST;
  }
  addr->loopback = 1;
  for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
    if (!owt_listen_sockaddr_is_loopback(ai->ai_addr)) addr->loopback = 0;
  freeaddrinfo(res);
  return OWT_OK;
}

owt_err owt_listen_parse(const char *spec, owt_listen_addr *addr, const char **why) {
  memset(addr, 0, sizeof *addr);
  if (strncmp(spec, "unix:", 5) == 0) {
    size_t len = strlen(spec + 5);
    if (len == 0 || len >= sizeof addr->path) return refuse(why, "unix socket path is empty or too long");
    addr->is_unix = 1;
    memcpy(addr->path, spec + 5, len + 1);
    return OWT_OK;
  }
  const char *host = spec, *colon;
  size_t host_len;
  int bracketed = spec[0] == '[';
  if (bracketed) {
    const char *close = strchr(spec, ']');
    if (!close || close[1] != ':') return refuse(why, "IPv6 addresses look like [::1]:PORT");
    host = spec + 1;
    host_len = (size_t)(close - host);
    colon = close + 1;
  } else {
    colon = strrchr(spec, ':');
    if (!colon) return refuse(why, "want HOST:PORT, [IPv6]:PORT or unix:PATH");
    host_len = (size_t)(colon - spec);
  }
  const char *port = colon + 1;
  size_t port_len = strlen(port);
  if (port_len == 0 || port_len > 5 || strspn(port, "0123456789") != port_len ||
      strtoul(port, NULL, 10) > 65535)
    return refuse(why, "the port must be a number from 0 to 65535");
  if (host_len == 0 || host_len >= sizeof addr->host) return refuse(why, "the host is empty or too long");
  memcpy(addr->host, host, host_len);
  memcpy(addr->port, port, port_len + 1);
  return check_host(addr, bracketed, why);
}

int owt_listen_is_local(const owt_listen_addr *addr) { return addr->is_unix || addr->loopback; }

static owt_err failed(int fd, char *why, size_t len, const char *what, const char *name) {
  snprintf(why, len, "%s%s: %s", what, name, strerror(errno));
  if (fd >= 0) close(fd);
  return OWT_E_INTERNAL;
}

static owt_err open_unix(const owt_listen_addr *addr, int backlog, unsigned mode, int *out, char *why,
                         size_t len) {
  struct sockaddr_un sun;
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, addr->path, strlen(addr->path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed(fd, why, len, "socket", "");
  struct stat st;
  if (lstat(addr->path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(addr->path); /* stale */
  if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(fd, backlog) < 0)
    return failed(fd, why, len, "cannot listen on unix:", addr->path);
  if (mode && chmod(addr->path, mode) < 0) return failed(fd, why, len, "chmod ", addr->path);
  *out = fd;
  return OWT_OK;
}

static owt_err open_tcp(const owt_listen_addr *addr, int backlog, int *out, char *why, size_t len) {
  struct addrinfo *res = NULL;
  int rc = resolve(addr, AF_UNSPEC, 1, &res);
  if (rc != 0) {
    snprintf(why, len, "%s: %s", addr->host, gai_strerror(rc));
    return OWT_E_INTERNAL;
  }
  owt_err err = OWT_OK;
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0) {
    err = failed(fd, why, len, "socket", "");
    goto done;
  }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (res->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
    snprintf(why, len, "cannot listen on %s port %s: %s", addr->host, addr->port, strerror(errno));
    close(fd);
    err = OWT_E_INTERNAL;
    goto done;
  }
  *out = fd;
done:
  freeaddrinfo(res);
  return err;
}

owt_err owt_listen_open(const owt_listen_addr *addr, int backlog, unsigned socket_mode, int *fd, char *why,
                        size_t why_len) {
  *fd = -1;
  return addr->is_unix ? open_unix(addr, backlog, socket_mode, fd, why, why_len)
                       : open_tcp(addr, backlog, fd, why, why_len);
}
