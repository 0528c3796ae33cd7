/* owt_flight.c - the shared state of a request in flight. */
#include "owt_flight.h"

#include <string.h>
#include <sys/socket.h>

#include "owt_reject.h"
#include "owt_stats.h"

static int64_t now_us(void) {
  int64_t us = (int64_t)(owt_monotonic() * 1e6);
  return us > 0 ? us : 1;
}

owt_err owt_flight_init(owt_flight *f) {
  memset(f, 0, sizeof *f);
  f->fd = -1;
  if (pthread_mutex_init(&f->io_lock, NULL) != 0) return OWT_E_INTERNAL;
  if (pthread_mutex_init(&f->fd_lock, NULL) != 0) {
    pthread_mutex_destroy(&f->io_lock);
    return OWT_E_INTERNAL;
  }
  return OWT_OK;
}

void owt_flight_destroy(owt_flight *f) {
  pthread_mutex_destroy(&f->io_lock);
  pthread_mutex_destroy(&f->fd_lock);
}

void owt_flight_bind(owt_flight *f, int fd, unsigned request_id) {
  pthread_mutex_lock(&f->fd_lock);
  pthread_mutex_lock(&f->io_lock);
  f->fd = fd;
  f->request_id = request_id;
  f->written = 0;
  __atomic_store_n(&f->taken_over, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&f->io_since_us, 0, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&f->io_lock);
  pthread_mutex_unlock(&f->fd_lock);
}

owt_err owt_flight_write_begin(owt_flight *f) {
  pthread_mutex_lock(&f->io_lock);
  if (f->taken_over) {
    pthread_mutex_unlock(&f->io_lock);
    return OWT_E_IO;
  }
  f->written = 1;
  __atomic_store_n(&f->io_since_us, now_us(), __ATOMIC_RELEASE);
  return OWT_OK;
}

void owt_flight_write_end(owt_flight *f) {
  __atomic_store_n(&f->io_since_us, 0, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&f->io_lock);
}

void owt_flight_read_begin(owt_flight *f) {
  __atomic_store_n(&f->io_since_us, now_us(), __ATOMIC_RELEASE);
}

void owt_flight_read_end(owt_flight *f) { __atomic_store_n(&f->io_since_us, 0, __ATOMIC_RELEASE); }

double owt_flight_io_age(const owt_flight *f, double now) {
  int64_t since = __atomic_load_n(&f->io_since_us, __ATOMIC_ACQUIRE);
  return since > 0 ? now - (double)since / 1e6 : 0;
}

int owt_flight_take_over(owt_flight *f, const char *resp, size_t len) {
  int sent = 0;
  pthread_mutex_lock(&f->fd_lock); /* the fd cannot be closed and reused meanwhile */
  if (pthread_mutex_trylock(&f->io_lock) == 0) {
    /* The thread is not writing: nothing of ours is on the wire unless
     * `written` says so, and nothing it buffered will ever be flushed. */
    if (f->fd >= 0 && !f->taken_over && !f->written)
      sent = owt_reject_reply(f->fd, f->request_id, resp, len) == OWT_OK;
    __atomic_store_n(&f->taken_over, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&f->io_lock);
  } else {
    /* The thread is blocked writing (a peer that does not read): cutting
     * the connection fails that write. */
    __atomic_store_n(&f->taken_over, 1, __ATOMIC_RELEASE);
  }
  /* shutdown() is safe while another thread uses the fd, and keeps a kept
   * connection from being handed another request. */
  if (f->fd >= 0) shutdown(f->fd, SHUT_RDWR);
  pthread_mutex_unlock(&f->fd_lock);
  return sent;
}

void owt_flight_cut(owt_flight *f) {
  pthread_mutex_lock(&f->fd_lock);
  if (f->fd >= 0) shutdown(f->fd, SHUT_RDWR);
  pthread_mutex_unlock(&f->fd_lock);
}

int owt_flight_taken_over(owt_flight *f) { return __atomic_load_n(&f->taken_over, __ATOMIC_ACQUIRE); }
