/* owt_flight.h - one FastCGI request in flight, as its request thread and
 * the worker's watchdog both see it.
 *
 * The request thread owns the connection: it alone reads, writes and closes
 * it. The watchdog (the worker's supervising thread) may only look at the
 * clocks here and, when a deadline is past, take the request over: answer
 * it with a fixed response if nothing was written yet, and shut the
 * connection down so any I/O the thread is blocked in fails. After a
 * takeover the thread must not write to the connection again (the io layer
 * refuses) nor finish it through libfcgi (it would flush what it buffered). */
#ifndef OWT_FLIGHT_H
#define OWT_FLIGHT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "owt_err.h"

typedef struct {
  pthread_mutex_t io_lock; /* held by the request thread around every write/flush */
  pthread_mutex_t fd_lock; /* guards fd: never held across blocking calls */
  int fd;                  /* the connection; -1: none */
  unsigned request_id;     /* FastCGI request id (for a takeover reply) */
  int written;             /* a byte of the reply was handed to libfcgi */
  int taken_over;          /* the watchdog answered for it */
  int64_t io_since_us;     /* monotonic start (µs) of the blocking read/write under way; 0: none */
} owt_flight;

/* OWT_OK, or OWT_E_INTERNAL when its locks cannot be made. */
owt_err owt_flight_init(owt_flight *f);
void owt_flight_destroy(owt_flight *f);

/* The request thread starts a request on fd, and ends it with fd -1 before
 * it closes the connection (so a takeover never touches a reused fd). */
void owt_flight_bind(owt_flight *f, int fd, unsigned request_id);

/* The request thread, around one write or flush: begin returns OWT_E_IO
 * (and takes no lock) when the request was taken over, the write must not
 * happen; else OWT_OK, holding io_lock until end. */
owt_err owt_flight_write_begin(owt_flight *f);
void owt_flight_write_end(owt_flight *f);

/* The request thread, around one blocking read. */
void owt_flight_read_begin(owt_flight *f);
void owt_flight_read_end(owt_flight *f);

/* Seconds the current blocking I/O has lasted at time now (0: none). */
double owt_flight_io_age(const owt_flight *f, double now);

/* The watchdog: answer with cgi_response (a whole CGI-style response) when
 * nothing has been written yet, then shut the connection down. Returns 1
 * when the response was sent, 0 when the connection was only cut. */
int owt_flight_take_over(owt_flight *f, const char *cgi_response, size_t len);

/* The watchdog: shut the connection down (an I/O that stalls too long). */
void owt_flight_cut(owt_flight *f);

/* Whether the request was taken over (the thread asks when it is done). */
int owt_flight_taken_over(owt_flight *f);

#endif
