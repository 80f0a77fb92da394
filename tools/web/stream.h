/* stream.h — the /stream.mjpg response of camclass-web.
 *
 * Contract: stream_response() registers one hub viewer and returns a libmicrohttpd response
 * (the caller adds headers, queues and destroys it); the viewer is removed when libmicrohttpd
 * frees the response (connection closed). The stream ends when *stopping becomes non-zero.
 * Call only from a connection thread of a MHD_USE_THREAD_PER_CONNECTION server: the content
 * callback blocks until a frame is ready. NULL on ENOMEM. */
#ifndef CAMCLASS_WEB_STREAM_H
#define CAMCLASS_WEB_STREAM_H

#include <microhttpd.h>
#include <stdatomic.h>

#include "tools/web/hub.h"

struct MHD_Response *stream_response(struct web_hub *hub, atomic_int *stopping);

#endif
