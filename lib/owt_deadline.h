/* owt_deadline.h - the per-request time limit (--timeout) and its backstop.
 *
 * Two stages on one ITIMER_REAL: at the soft deadline a callback runs in the
 * SIGALRM handler (the Python layer asks the interpreter to raise Timeout at
 * the next bytecode; sleeps and reads get EINTR); if the request is still not
 * done grace seconds later the worker is stuck in C code, so it logs and ends
 * itself, and its process manager starts a fresh one. */
#ifndef OWT_DEADLINE_H
#define OWT_DEADLINE_H

#include <signal.h>
#include <stddef.h>

/* Install the SIGALRM handler. on_soft must be async-signal-safe. */
void owt_deadline_install(void (*on_soft)(void));

/* Start the clock for one request; soft <= 0 means no limit. */
void owt_deadline_arm(double soft, double grace);

/* CGI mode: what the hard stage writes to fd before the process ends, when
 * *started is still 0 (no byte of the response sent yet), so the client gets
 * a 504 instead of a broken response. resp must stay valid. */
void owt_deadline_set_fallback(int fd, const char *resp, size_t len, volatile sig_atomic_t *started);

/* Stop the clock. Returns 1 when the soft deadline fired since arm. */
int owt_deadline_disarm(void);

/* 1 when the soft deadline has fired for the request under way. */
int owt_deadline_fired(void);

#endif
