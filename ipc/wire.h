/* wire.h — what a client of the camclassd socket needs to know, and nothing else.
 *
 * The protocol itself (JSON lines; requests, replies, results, events) is described in
 * README.md "Socket protocol". This header holds the facts a client program (camclass, the
 * companions camclass-mqtt and camclass-web, tests) must share with the server: the protocol
 * version the hello line carries, the default socket path, the limits, and the base64 decoding
 * of snapshot frames. It includes no jansson and no server internals, so a companion can use it
 * with any JSON library.
 * Contract: constants only, plus two pure functions; any thread; the base64 functions return
 * malloc'd buffers the caller frees. */
#ifndef CAMCLASS_IPC_WIRE_H
#define CAMCLASS_IPC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_PROTOCOL_VERSION 1                      /* "version" of the hello line */
#define WIRE_DEFAULT_SOCKET "/run/camclassd/camclassd.sock"
#define WIRE_MAX_REQUEST_BYTES (64u * 1024u)         /* a request line, '\n' excluded */
#define WIRE_MAX_MESSAGE_BYTES (64u * 1024u * 1024u) /* a line from the server (snapshots) */
#define WIRE_MAX_LABELS 20                           /* labels per result; the top_k maximum */

/* Standard base64 (RFC 4648, with padding), as snapshot "data" is sent.
 * encode: a malloc'd NUL-terminated string (length in *ret_len), or NULL when out of memory.
 * decode: 0 and malloc'd bytes, -EINVAL on a character outside the alphabet, bad padding or a
 * length that is not a multiple of 4, -ENOMEM. Strict, because its input comes from a socket. */
char *wire_base64_encode(const uint8_t *data, size_t len, size_t *ret_len);
int wire_base64_decode(const char *text, size_t len, uint8_t **ret_data, size_t *ret_len);

#endif
