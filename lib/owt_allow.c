/* owt_allow.c - CIDR allow-list for FastCGI peers. */
#include "owt_allow.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static owt_err refuse(const char **why, const char *message) {
  *why = message;
  return OWT_E_BAD_REQUEST;
}

static owt_err add_one(owt_allow *a, const char *item, size_t len, const char **why) {
  char text[64];
  if (len == 0) return OWT_OK;
  if (len >= sizeof text) return refuse(why, "an --allow-from entry is too long");
  if (a->n >= OWT_ALLOW_MAX) return refuse(why, "too many --allow-from entries (at most 64)");
  memcpy(text, item, len);
  text[len] = '\0';
  owt_allow_rule r;
  memset(&r, 0, sizeof r);
  char *slash = strchr(text, '/');
  if (slash) *slash = '\0';
  if (inet_pton(AF_INET, text, r.addr) == 1) {
    r.family = AF_INET;
    r.prefix = 32;
  } else if (inet_pton(AF_INET6, text, r.addr) == 1) {
    r.family = AF_INET6;
    r.prefix = 128;
  } else {
    return refuse(why, "an --allow-from entry is not a numeric IPv4/IPv6 address or CIDR block");
  }
  if (slash) {
    char *end = NULL;
    unsigned long p = strtoul(slash + 1, &end, 10);
    if (!slash[1] || *end || p > r.prefix) return refuse(why, "bad CIDR prefix length");
    r.prefix = (unsigned)p;
  }
  a->rules[a->n++] = r;
  return OWT_OK;
}

owt_err owt_allow_add(owt_allow *a, const char *list, const char **why) {
  while (*list) {
    size_t len = strcspn(list, ", \t");
    owt_err err = add_one(a, list, len, why);
    if (err) return err;
    list += len;
    list += strspn(list, ", \t");
  }
  return OWT_OK;
}

static int prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits) {
  unsigned bytes = bits / 8, rest = bits % 8;
  if (memcmp(a, b, bytes) != 0) return 0;
  if (!rest) return 1;
  unsigned char mask = (unsigned char)(0xFF << (8 - rest));
  return (a[bytes] & mask) == (b[bytes] & mask);
}

int owt_allow_check(const owt_allow *a, const struct sockaddr *peer, socklen_t len) {
  unsigned char v4[4], v6[16];
  int has4 = 0, has6 = 0;
  if (a->n == 0) return 1;
  if (peer->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    memcpy(v4, &((const struct sockaddr_in *)peer)->sin_addr, 4);
    has4 = 1;
  } else if (peer->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
    const struct in6_addr *in6 = &((const struct sockaddr_in6 *)peer)->sin6_addr;
    memcpy(v6, in6, 16);
    has6 = 1;
    if (IN6_IS_ADDR_V4MAPPED(in6)) {
      memcpy(v4, v6 + 12, 4);
      has4 = 1;
    }
  } else {
    return 1; /* unix socket: file permissions decide */
  }
  for (size_t i = 0; i < a->n; i++) {
    const owt_allow_rule *r = &a->rules[i];
    if (r->family == AF_INET && has4 && prefix_match(r->addr, v4, r->prefix)) return 1;
    if (r->family == AF_INET6 && has6 && prefix_match(r->addr, v6, r->prefix)) return 1;
  }
  return 0;
}

int owt_allow_check_fd(const owt_allow *a, int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (a->n == 0) return 1;
  if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) return 0;
  return owt_allow_check(a, (struct sockaddr *)&ss, len);
}
