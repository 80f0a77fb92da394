/* fuzz_request.c — libFuzzer target for the request parser of the socket protocol
 * (ipc/protocol.c). The input is treated as what a client writes: a stream of '\n'-separated
 * lines, each handed to proto_parse_request the way the server does (a trailing '\r' removed,
 * empty lines skipped, lines over WIRE_MAX_REQUEST_BYTES refused). Every reply the server would
 * build from the outcome is built and serialized too, and must come out as one valid JSON
 * line — so ids of any shape and error messages quoting the input are covered. The base64
 * decoder (snapshot data read by camclass) gets each line as well. Seeds: fuzz/seeds-request/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/protocol.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reply must be exactly one line of valid JSON equal to what was built. */
static void check_line(json_t *msg)
{
	size_t len;
	if (!msg)
		abort();
	char *line = proto_serialize(msg, &len);
	if (!line || len < 2 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
		abort();
	json_t *back = json_loadb(line, len - 1, 0, NULL);
	if (!back || !json_equal(back, msg))
		abort();
	json_decref(back);
	free(line);
	json_decref(msg);
}

static void one_line(const char *line, size_t len)
{
	struct proto_request q;
	struct proto_error err;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0 || len > WIRE_MAX_REQUEST_BYTES)
		return;
	if (proto_parse_request(line, len, &q, &err) == 0) {
		if (q.has_top_k && (q.top_k < 1 || q.top_k > WIRE_MAX_LABELS))
			abort();
		if (q.has_threshold && !(q.threshold >= 0 && q.threshold <= 1))
			abort();
		check_line(proto_reply(proto_cmd_name(q.cmd), q.id));
		proto_request_clear(&q);
	} else {
		if (!err.code || !err.message[0])
			abort();
		check_line(proto_error_msg(err.code, err.message, err.id));
		proto_error_clear(&err);
	}
	uint8_t *bytes;
	size_t n;
	if (wire_base64_decode(line, len, &bytes, &n) == 0) {
		if (n > len / 4 * 3)
			abort();
		free(bytes);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	log_set_level(LOG_CRIT);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		one_line(p, len);
		p += len + 1;
	}
	return 0;
}
