/* owt_listen.c - parse and bind the --listen address. */
#include "owt_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int owt_listen_parse(const char *spec, owt_listen_addr *addr, const char **why) {
  memset(addr, 0, sizeof *addr);
  if (strncmp(spec, "unix:", 5) == 0) {
    size_t len = strlen(spec + 5);
    if (len == 0 || len >= sizeof addr->path) return (*why = "unix socket path is empty or too long"), -1;
    addr->is_unix = 1;
    memcpy(addr->path, spec + 5, len + 1);
    return 0;
  }
  const char *host = spec, *colon;
  size_t host_len;
  if (spec[0] == '[') {
    const char *close = strchr(spec, ']');
    if (!close || close[1] != ':') return (*why = "IPv6 addresses look like [::1]:PORT"), -1;
    host = spec + 1;
    host_len = (size_t)(close - host);
    colon = close + 1;
  } else {
    colon = strrchr(spec, ':');
    if (!colon) return (*why = "want HOST:PORT, [IPv6]:PORT or unix:PATH"), -1;
    host_len = (size_t)(colon - spec);
  }
  const char *port = colon + 1;
  size_t port_len = strlen(port);
  if (port_len == 0 || port_len > 5 || strspn(port, "0123456789") != port_len ||
      strtoul(port, NULL, 10) > 65535)
    return (*why = "the port must be a number from 0 to 65535"), -1;
  if (host_len == 0 || host_len >= sizeof addr->host) return (*why = "the host is empty or too long"), -1;
  memcpy(addr->host, host, host_len);
  memcpy(addr->port, port, port_len + 1);
  return 0;
}

int owt_listen_is_local(const owt_listen_addr *addr) {
  if (addr->is_unix) return 1;
  if (strcmp(addr->host, "localhost") == 0 || strcmp(addr->host, "::1") == 0) return 1;
  return strncmp(addr->host, "127.", 4) == 0;
}

static int open_unix(const owt_listen_addr *addr, int backlog, unsigned mode, char *why, size_t len) {
  struct sockaddr_un sun;
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, addr->path, strlen(addr->path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return snprintf(why, len, "socket: %s", strerror(errno)), -1;
  struct stat st;
  if (lstat(addr->path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(addr->path); /* stale */
  if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(fd, backlog) < 0) {
    snprintf(why, len, "cannot listen on unix:%s: %s", addr->path, strerror(errno));
    close(fd);
    return -1;
  }
  if (mode && chmod(addr->path, mode) < 0) {
    snprintf(why, len, "chmod %s: %s", addr->path, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

static int open_tcp(const owt_listen_addr *addr, int backlog, char *why, size_t len) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int rc = getaddrinfo(addr->host, addr->port, &hints, &res);
  if (rc != 0) return snprintf(why, len, "%s: %s", addr->host, gai_strerror(rc)), -1;
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0) {
    snprintf(why, len, "socket: %s", strerror(errno));
    goto done;
  }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (res->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
    snprintf(why, len, "cannot listen on %s port %s: %s", addr->host, addr->port, strerror(errno));
    close(fd);
    fd = -1;
  }
done:
  freeaddrinfo(res);
  return fd;
}

int owt_listen_open(const owt_listen_addr *addr, int backlog, unsigned socket_mode, char *why,
                    size_t why_len) {
  return addr->is_unix ? open_unix(addr, backlog, socket_mode, why, why_len)
                       : open_tcp(addr, backlog, why, why_len);
}
