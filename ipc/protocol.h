/* protocol.h — internal to ipc/: parse request lines and build the protocol's messages.
 *
 * Pure functions over jansson values, no sockets and no server state, so the request parser can
 * be unit-tested and fuzzed alone. Message builders return a new reference (NULL on ENOMEM);
 * proto_serialize turns one into a malloc'd '\n'-terminated line. Field names here are the
 * public API documented in README.md ("Socket protocol"). */
#ifndef CAMCLASS_IPC_PROTOCOL_H
#define CAMCLASS_IPC_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ipc/server.h"

enum proto_cmd {
	PROTO_SUBSCRIBE,
	PROTO_UNSUBSCRIBE,
	PROTO_LATEST,
	PROTO_CLASSIFY,
	PROTO_STATUS,
	PROTO_SNAPSHOT,
	PROTO_PING,
	PROTO_TEACH,            /* live teaching (daemon/teach*.c through the teach hook) */
	PROTO_SAMPLES,
	PROTO_FORGET,
	PROTO_TRAIN,
};

struct proto_request {
	enum proto_cmd cmd;
	json_t *id;             /* owned reference or NULL; proto_request_clear drops it */
	bool has_top_k, has_threshold, has_on_change;
	unsigned top_k;         /* 1..WIRE_MAX_LABELS */
	double threshold;       /* 0..1 */
	bool on_change;
	json_t *args;           /* teach/samples/forget/train: the request object (owned) */
};

struct proto_error {
	const char *code;       /* "bad_request" | "unknown_cmd" */
	char message[192];
	json_t *id;             /* owned reference or NULL: the request's id, when it had one */
};

/* Parse one request line (without its '\n'; need not be NUL-terminated). 0 and *ret filled, or
 * -EINVAL and *err filled (err->id set if the line was an object with an "id"). */
int proto_parse_request(const char *line, size_t len, struct proto_request *ret,
			struct proto_error *err);
void proto_request_clear(struct proto_request *req);
void proto_error_clear(struct proto_error *err);
const char *proto_cmd_name(enum proto_cmd cmd);

/* A subscriber's or request's view of a result. */
struct proto_filter {
	unsigned top_k;
	double threshold;
};

/* Label table: names[i] for index i (NULL entries allowed). */
struct proto_labels {
	char **names;
	size_t n;
};

/* Converts CLOCK_MONOTONIC ns to Unix seconds: unix = mono + offset. */
double proto_unix_seconds(uint64_t mono_ns, double mono_to_unix_offset_s);

json_t *proto_hello(const struct srv_hello *hello);     /* hello NULL: version only */
json_t *proto_result(const struct srv_result *r, const struct proto_labels *labels,
		     const struct proto_filter *filter, double mono_to_unix_offset_s,
		     uint64_t dropped, json_t *id);
json_t *proto_status(const struct srv_status *st, unsigned clients, unsigned subscribers,
		     json_t *id);
json_t *proto_snapshot(const uint8_t *jpeg, size_t len, uint64_t seq, json_t *id);
json_t *proto_error_msg(const char *code, const char *message, json_t *id);
json_t *proto_reply(const char *type, json_t *id);      /* {"type":T[,"id":…]} */
json_t *proto_event(const char *name, json_t *extra);   /* extra borrowed */

/* Compact one-line form plus '\n'; malloc'd, or NULL on ENOMEM. */
char *proto_serialize(const json_t *msg, size_t *ret_len);

#endif
