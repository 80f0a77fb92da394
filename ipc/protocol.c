/* protocol.c — request parsing and message building for the JSON-lines protocol.
 *
 * Every value goes through jansson: requests are parsed strictly (RFC 8259, valid UTF-8, no
 * NUL in strings, duplicate keys rejected) and messages are built as json_t and dumped, so a
 * label from the user's label file can never break a line. Parsing is separate from the
 * server so it can be tested and fuzzed without sockets. Unknown request fields are ignored,
 * which lets newer clients talk to older daemons. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/protocol.h"
#include "lib/macros.h"

static const char *const cmd_names[] = {
	[PROTO_SUBSCRIBE] = "subscribe", [PROTO_UNSUBSCRIBE] = "unsubscribe",
	[PROTO_LATEST] = "latest",       [PROTO_CLASSIFY] = "classify",
	[PROTO_STATUS] = "status",       [PROTO_SNAPSHOT] = "snapshot",
	[PROTO_PING] = "ping",           [PROTO_TEACH] = "teach",
	[PROTO_SAMPLES] = "samples",     [PROTO_FORGET] = "forget",
	[PROTO_TRAIN] = "train",
};

/* Scores and latencies are rounded so lines stay short and readable; timestamps keep ms. */
#define SCORE_DECIMALS 1e6
#define LATENCY_DECIMALS 1e3
#define TS_DECIMALS 1e3
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

const char *proto_cmd_name(enum proto_cmd cmd)
{
	return cmd_names[cmd];
}

/* Messages quote the input (jansson's error text, the unknown command) and are cut to fit, so
 * they could hold invalid or truncated UTF-8, which jansson would then refuse to put in the
 * error reply: keep them printable ASCII. */
static void make_ascii(char *text)
{
	for (unsigned char *p = (unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			*p = '?';
}

static int fail(struct proto_error *err, const char *code, const char *fmt, const char *what)
{
	err->code = code;
	snprintf(err->message, sizeof(err->message), fmt, what);
	make_ascii(err->message);
	return -EINVAL;
}

void proto_request_clear(struct proto_request *req)
{
	json_decref(req->id);
	req->id = NULL;
	json_decref(req->args);
	req->args = NULL;
}

void proto_error_clear(struct proto_error *err)
{
	json_decref(err->id);
	err->id = NULL;
}

static int parse_fields(json_t *obj, struct proto_request *req, struct proto_error *err)
{
	json_t *v;

	v = json_object_get(obj, "top_k");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > WIRE_MAX_LABELS)
			return fail(err, "bad_request", "\"top_k\" must be an integer from 1 to %s",
				    "20");
		req->has_top_k = true;
		req->top_k = (unsigned)json_integer_value(v);
	}
	v = json_object_get(obj, "threshold");
	if (v) {
		double t = json_number_value(v);
		if (!json_is_number(v) || !(t >= 0.0 && t <= 1.0))
			return fail(err, "bad_request", "\"threshold\" must be a number from 0 to %s",
				    "1");
		req->has_threshold = true;
		req->threshold = t;
	}
	v = json_object_get(obj, "on_change");
	if (v) {
		if (!json_is_boolean(v))
			return fail(err, "bad_request", "\"on_change\" must be %s", "true or false");
		if (req->cmd != PROTO_SUBSCRIBE)
			return fail(err, "bad_request", "\"on_change\" is only valid with %s",
				    "subscribe");
		req->has_on_change = true;
		req->on_change = json_is_true(v);
	}
	if ((req->has_top_k || req->has_threshold) && req->cmd != PROTO_SUBSCRIBE &&
	    req->cmd != PROTO_LATEST && req->cmd != PROTO_CLASSIFY)
		return fail(err, "bad_request", "\"top_k\"/\"threshold\" are not valid with %s",
			    cmd_names[req->cmd]);
	return 0;
}

int proto_parse_request(const char *line, size_t len, struct proto_request *ret,
			struct proto_error *err)
{
	struct proto_request req = { 0 };
	json_error_t jerr;
	json_t *obj, *cmd;
	int r;

	err->id = NULL;
	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!obj) {
		err->code = "bad_request";
		snprintf(err->message, sizeof(err->message), "invalid JSON at column %d: %s",
			 jerr.column, jerr.text);
		make_ascii(err->message);
		return -EINVAL;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		return fail(err, "bad_request", "a request must be a JSON %s", "object");
	}
	err->id = json_incref(json_object_get(obj, "id"));
	cmd = json_object_get(obj, "cmd");
	if (!json_is_string(cmd)) {
		r = fail(err, "bad_request", "\"cmd\" must be %s", "a string");
		goto out;
	}
	r = fail(err, "unknown_cmd", "unknown command \"%s\"", json_string_value(cmd));
	for (size_t i = 0; i < ARRAY_SIZE(cmd_names); i++)
		if (strcmp(json_string_value(cmd), cmd_names[i]) == 0) {
			req.cmd = (enum proto_cmd)i;
			r = 0;
		}
	if (r < 0)
		goto out;
	r = parse_fields(obj, &req, err);
	if (r < 0)
		goto out;
	if (req.cmd >= PROTO_TEACH)
		req.args = json_incref(obj);
	req.id = err->id;
	err->id = NULL;
	*ret = req;
out:
	json_decref(obj);
	return r;
}

double proto_unix_seconds(uint64_t mono_ns, double mono_to_unix_offset_s)
{
	double s = (double)mono_ns / 1e9 + mono_to_unix_offset_s;
	return round(s * TS_DECIMALS) / TS_DECIMALS;
}

static json_t *with_id(json_t *msg, json_t *id)
{
	if (msg && id && json_object_set(msg, "id", id) < 0) {
		json_decref(msg);
		return NULL;
	}
	return msg;
}

/* json_pack with "s?" keeps NULL strings out as null; "f" needs finite values. */
static double finite_or_zero(double v)
{
	return isfinite(v) ? v : 0.0;
}

json_t *proto_hello(const struct srv_hello *h)
{
	json_t *msg = json_pack("{s:s, s:i}", "type", "hello", "version", WIRE_PROTOCOL_VERSION);
	if (!msg || !h)
		return msg;
	json_t *shape = json_array();
	for (unsigned i = 0; shape && i < h->input_dims && i < 4; i++)
		if (json_array_append_new(shape, json_integer(h->input_shape[i])) < 0) {
			json_decref(shape);
			shape = NULL;
		}
	if (json_object_set_new(msg, "model", h->model ? json_string(h->model) : json_null()) < 0 ||
	    !shape || json_object_set_new(msg, "input_shape", shape) < 0 ||
	    json_object_set_new(msg, "labels", json_integer(h->label_count)) < 0 ||
	    json_object_set_new(msg, "camera", h->camera_state ? json_string(h->camera_state)
							       : json_null()) < 0) {
		json_decref(msg);
		return NULL;
	}
	return msg;
}

static json_t *label_array(const struct srv_result *r, const struct proto_labels *labels,
			   const struct proto_filter *f)
{
	json_t *arr = json_array();
	unsigned n = r->n_labels < WIRE_MAX_LABELS ? r->n_labels : WIRE_MAX_LABELS;

	for (unsigned i = 0; arr && i < n && i < f->top_k; i++) {
		const struct srv_label_score *ls = &r->labels[i];
		if (!(ls->score >= f->threshold))
			break;  /* sorted: nothing after this passes either */
		const char *name = ls->index < labels->n ? labels->names[ls->index] : NULL;
		json_t *e = json_pack("{s:I, s:o, s:f}", "index", (json_int_t)ls->index,
				      "label", name ? json_string(name) : json_null(),
				      "score", round(finite_or_zero(ls->score) * SCORE_DECIMALS) /
						       SCORE_DECIMALS);
		if (!e || json_array_append_new(arr, e) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static double ms(double v)
{
	return round(finite_or_zero(v) * LATENCY_DECIMALS) / LATENCY_DECIMALS;
}

json_t *proto_result(const struct srv_result *r, const struct proto_labels *labels,
		     const struct proto_filter *filter, double offset_s, uint64_t dropped,
		     json_t *id)
{
	json_t *arr = label_array(r, labels, filter);
	if (!arr)
		return NULL;
	json_t *msg = json_pack("{s:s, s:I, s:f, s:f, s:o, s:{s:f, s:f, s:f, s:f}}",
				"type", "result", "seq", (json_int_t)r->seq,
				"frame_ts", proto_unix_seconds(r->frame_ts_ns, offset_s),
				"ts", proto_unix_seconds(r->result_ts_ns, offset_s),
				"labels", arr, "latency_ms",
				"capture_to_result", ms(r->latency_ms.capture_to_result),
				"decode", ms(r->latency_ms.decode),
				"preprocess", ms(r->latency_ms.preprocess),
				"inference", ms(r->latency_ms.inference));
	if (msg && dropped && json_object_set_new(msg, "dropped", json_integer((json_int_t)dropped)) < 0) {
		json_decref(msg);
		return NULL;
	}
	if (msg && r->has_state) {
		const char *state = r->state < 0 ? "unknown"
				    : (size_t)r->state < labels->n ? labels->names[r->state] : NULL;
		if (json_object_set_new(msg, "state", state ? json_string(state) : json_null()) < 0 ||
		    json_object_set_new(msg, "state_since",
					json_real(proto_unix_seconds(r->state_since_ns, offset_s))) < 0) {
			json_decref(msg);
			return NULL;
		}
	}
	return with_id(msg, id);
}

static json_t *latency(const struct srv_latency_stat *l)
{
	return json_pack("{s:f, s:f}", "p50", ms(l->p50_ms), "p99", ms(l->p99_ms));
}

json_t *proto_status(const struct srv_status *st, unsigned clients, unsigned subscribers,
		     json_t *id)
{
	json_t *msg = json_pack(
		"{s:s, s:s?, s:s?, s:s?, s:f, s:f, s:I, s:I, s:s?, s:s?, s:i,"
		" s:{s:o?, s:o?, s:o?, s:o?}, s:i, s:i, s:f}",
		"type", "status", "camera", st->camera_state, "device", st->device,
		"format", st->format, "fps_in", ms(st->fps_in), "fps_out", ms(st->fps_out),
		"frames_skipped", (json_int_t)st->frames_skipped,
		"frames_corrupt", (json_int_t)st->frames_corrupt,
		"model", st->model, "backend", st->backend, "threads", (int)st->threads,
		"latency_ms", "capture_to_result", latency(&st->capture_to_result),
		"decode", latency(&st->decode), "preprocess", latency(&st->preprocess),
		"inference", latency(&st->inference),
		"clients", (int)clients, "subscribers", (int)subscribers,
		"uptime_s", ms(st->uptime_s));
	if (msg && st->health && json_object_set_new(msg, "health", json_string(st->health)) < 0) {
		json_decref(msg);
		msg = NULL;
	}
	if (msg && (json_object_set_new(msg, "frames_rate_limited",
					json_integer((json_int_t)st->frames_rate_limited)) < 0 ||
		    json_object_set_new(msg, "roi", json_pack("[f,f,f,f]", st->roi[0], st->roi[1],
								st->roi[2], st->roi[3])) < 0 ||
		    (st->state && (json_object_set_new(msg, "state", json_string(st->state)) < 0 ||
				   json_object_set_new(msg, "state_since",
						       json_real(round(st->state_since * TS_DECIMALS) /
								 TS_DECIMALS)) < 0)))) {
		json_decref(msg);
		msg = NULL;
	}
	return with_id(msg, id);
}

json_t *proto_snapshot(const uint8_t *jpeg, size_t len, uint64_t seq, json_t *id)
{
	size_t b64_len;
	char *b64 = wire_base64_encode(jpeg, len, &b64_len);
	if (!b64)
		return NULL;
	json_t *msg = json_pack("{s:s, s:I, s:s, s:I, s:s%}", "type", "snapshot",
				"seq", (json_int_t)seq, "format", "jpeg", "bytes", (json_int_t)len,
				"data", b64, b64_len);
	free(b64);
	return with_id(msg, id);
}

json_t *proto_error_msg(const char *code, const char *message, json_t *id)
{
	return with_id(json_pack("{s:s, s:s, s:s}", "type", "error", "code", code,
				 "message", message),
		       id);
}

json_t *proto_reply(const char *type, json_t *id)
{
	return with_id(json_pack("{s:s}", "type", type), id);
}

json_t *proto_event(const char *name, json_t *extra)
{
	json_t *msg = json_object();
	if (!msg)
		return NULL;
	if (extra && json_is_object(extra) && json_object_update(msg, extra) < 0)
		goto fail;
	if (json_object_set_new(msg, "type", json_string("event")) < 0 ||
	    json_object_set_new(msg, "event", json_string(name)) < 0)
		goto fail;
	return msg;
fail:
	json_decref(msg);
	return NULL;
}

char *proto_serialize(const json_t *msg, size_t *ret_len)
{
	size_t len = json_dumpb(msg, NULL, 0, DUMP_FLAGS);
	if (len == 0)
		return NULL;
	char *buf = malloc(len + 1);
	if (!buf)
		return NULL;
	if (json_dumpb(msg, buf, len, DUMP_FLAGS) != len) {
		free(buf);
		return NULL;
	}
	buf[len] = '\n';
	*ret_len = len + 1;
	return buf;
}
