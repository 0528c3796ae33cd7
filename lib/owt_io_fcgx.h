/* owt_io_fcgx.h - owt_io over a libfcgi request. */
#ifndef OWT_IO_FCGX_H
#define OWT_IO_FCGX_H

#include <fcgiapp.h>

#include "owt_io.h"

/* Point io at req's streams and params; valid until FCGX_Finish_r(req). */
void owt_io_fcgx_bind(owt_io *io, FCGX_Request *req);

#endif
