/* test_ipc_protocol.c — ipc/protocol.c and ipc/base64.c: request parsing (every command, every
 * field, malformed and mistyped input, id echo of any JSON type) and the messages built from
 * results (filtering, label escaping, dropped counter). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipc/protocol.h"

static int parse(const char *line, struct proto_request *q, struct proto_error *err)
{
	return proto_parse_request(line, strlen(line), q, err);
}

static void every_command_parses(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		enum proto_cmd cmd;
	} cases[] = {
		{ "{\"cmd\":\"subscribe\"}", PROTO_SUBSCRIBE },
		{ "{\"cmd\":\"unsubscribe\"}", PROTO_UNSUBSCRIBE },
		{ "{\"cmd\":\"latest\"}", PROTO_LATEST },
		{ "{\"cmd\":\"classify\"}", PROTO_CLASSIFY },
		{ "{\"cmd\":\"status\"}", PROTO_STATUS },
		{ "{\"cmd\":\"snapshot\"}", PROTO_SNAPSHOT },
		{ " { \"cmd\" : \"ping\" , \"future_field\": [1,2] } ", PROTO_PING },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_request q;
		struct proto_error err;
		assert_int_equal(parse(cases[i].line, &q, &err), 0);
		assert_int_equal(q.cmd, cases[i].cmd);
		assert_string_equal(proto_cmd_name(q.cmd), proto_cmd_name(cases[i].cmd));
		assert_null(q.id);
		assert_false(q.has_top_k || q.has_threshold || q.has_on_change);
		proto_request_clear(&q);
	}
}

/* Live teaching's requests keep their whole object for the daemon's teach hook. */
static void teach_commands_keep_their_arguments(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		enum proto_cmd cmd;
	} cases[] = {
		{ "{\"cmd\":\"teach\",\"label\":\"gate_open\",\"count\":20}", PROTO_TEACH },
		{ "{\"cmd\":\"samples\"}", PROTO_SAMPLES },
		{ "{\"cmd\":\"forget\",\"label\":\"gate_open\",\"sample\":\"0000000000000003\"}", PROTO_FORGET },
		{ "{\"cmd\":\"train\"}", PROTO_TRAIN },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_request q;
		struct proto_error err;
		assert_int_equal(parse(cases[i].line, &q, &err), 0);
		assert_int_equal(q.cmd, cases[i].cmd);
		assert_non_null(q.args);
		assert_string_equal(json_string_value(json_object_get(q.args, "cmd")), proto_cmd_name(q.cmd));
		proto_request_clear(&q);
		assert_null(q.args);
	}
	struct proto_request q;
	struct proto_error err;
	assert_int_equal(parse("{\"cmd\":\"ping\"}", &q, &err), 0);
	assert_null(q.args); /* the other commands keep nothing */
	proto_request_clear(&q);
}

static void subscribe_fields_parse(void **state)
{
	(void)state;
	struct proto_request q;
	struct proto_error err;
	assert_int_equal(parse("{\"cmd\":\"subscribe\",\"top_k\":3,\"threshold\":0.25,"
			       "\"on_change\":true,\"id\":\"w1\"}", &q, &err), 0);
	assert_true(q.has_top_k && q.has_threshold && q.has_on_change);
	assert_int_equal(q.top_k, 3);
	assert_true(q.threshold == 0.25);
	assert_true(q.on_change);
	assert_string_equal(json_string_value(q.id), "w1");
	proto_request_clear(&q);

	/* threshold may be written as an integer; latest/classify take top_k and threshold */
	assert_int_equal(parse("{\"cmd\":\"latest\",\"threshold\":1,\"top_k\":20}", &q, &err), 0);
	assert_true(q.threshold == 1.0);
	assert_int_equal(q.top_k, WIRE_MAX_LABELS);
	proto_request_clear(&q);
}

static void id_of_any_json_type_is_kept(void **state)
{
	(void)state;
	static const char *ids[] = { "7", "-1.5", "\"abc\"", "null", "true", "[1,{\"a\":2}]",
				     "{\"x\":[]}", "\"\\u00e9\\n\"" };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char line[128];
		snprintf(line, sizeof(line), "{\"id\":%s,\"cmd\":\"ping\"}", ids[i]);
		json_t *want = json_loads(ids[i], JSON_DECODE_ANY, NULL);
		assert_non_null(want);
		struct proto_request q;
		struct proto_error err;
		assert_int_equal(parse(line, &q, &err), 0);
		assert_non_null(q.id);
		assert_true(json_equal(q.id, want));
		json_t *reply = proto_reply("pong", q.id);
		assert_true(json_equal(json_object_get(reply, "id"), want));
		json_decref(reply);
		proto_request_clear(&q);

		/* the id also comes back with errors */
		snprintf(line, sizeof(line), "{\"id\":%s,\"cmd\":\"nope\"}", ids[i]);
		assert_int_equal(parse(line, &q, &err), -EINVAL);
		assert_string_equal(err.code, "unknown_cmd");
		assert_true(json_equal(err.id, want));
		proto_error_clear(&err);
		json_decref(want);
	}
}

static void expect_error(const char *line, size_t len, const char *code, const char *in_message)
{
	struct proto_request q;
	struct proto_error err;
	if (proto_parse_request(line, len, &q, &err) != -EINVAL)
		fail_msg("accepted: %.*s", (int)len, line);
	assert_string_equal(err.code, code);
	if (in_message && !strstr(err.message, in_message))
		fail_msg("message \"%s\" lacks \"%s\" for %.*s", err.message, in_message, (int)len,
			 line);
	proto_error_clear(&err);
}

static void malformed_json_is_bad_request(void **state)
{
	(void)state;
	static const char *lines[] = {
		"{", "{\"cmd\":\"ping\"", "{\"cmd\":ping}", "{'cmd':'ping'}", "{\"cmd\":\"ping\"}}",
		"{\"cmd\":\"ping\"} {\"cmd\":\"ping\"}", "{\"cmd\":\"ping\",}", "nul",
		"{\"cmd\":\"ping\",\"cmd\":\"status\"}", /* duplicate key */
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		expect_error(lines[i], strlen(lines[i]), "bad_request", NULL);
	expect_error("{", 1, "bad_request", "column");
	/* invalid UTF-8, an embedded NUL, a lone surrogate */
	expect_error("{\"cmd\":\"p\xff\"}", 11, "bad_request", NULL);
	expect_error("{\"cmd\":\"p\0g\"}", 13, "bad_request", NULL);
	expect_error("{\"cmd\":\"\\ud800\"}", 16, "bad_request", NULL);
	expect_error("", 0, "bad_request", NULL);
}

/* Found by fuzz_request: jansson's error text quotes the input, here invalid UTF-8, and the
 * error reply could not be built (the server dropped the client instead of answering). */
static void error_messages_quoting_bad_bytes_still_make_a_reply(void **state)
{
	(void)state;
	static const char *lines[] = {
		"{\"cmd\":\"nope\",\"id\":\"\\u0\xd0\x9a\xc6\xdd\x82\xf5\xa4\xca]",
		"{\"cmd\":\"\xff\xfe\"}",
		/* a long valid non-ASCII command name, cut inside a character by the message size */
		"{\"cmd\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct proto_request q;
		struct proto_error err;
		assert_int_equal(parse(lines[i], &q, &err), -EINVAL);
		json_t *reply = proto_error_msg(err.code, err.message, err.id);
		if (!reply)
			fail_msg("no error reply for line %zu: message \"%s\"", i, err.message);
		json_decref(reply);
		proto_error_clear(&err);
	}
}

static void non_objects_are_bad_request(void **state)
{
	(void)state;
	static const char *lines[] = { "[]", "[{\"cmd\":\"ping\"}]", "\"ping\"", "42", "null",
				       "true" };
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		expect_error(lines[i], strlen(lines[i]), "bad_request", "object");
}

static void wrong_types_are_bad_request(void **state)
{
	(void)state;
	static const char *lines[] = {
		"{}", "{\"cmd\":7}", "{\"cmd\":null}", "{\"cmd\":[\"ping\"]}",
		"{\"cmd\":\"subscribe\",\"top_k\":\"3\"}", "{\"cmd\":\"subscribe\",\"top_k\":0}",
		"{\"cmd\":\"subscribe\",\"top_k\":21}", "{\"cmd\":\"subscribe\",\"top_k\":2.5}",
		"{\"cmd\":\"subscribe\",\"top_k\":-1}",
		"{\"cmd\":\"subscribe\",\"threshold\":\"0.5\"}",
		"{\"cmd\":\"subscribe\",\"threshold\":1.5}", "{\"cmd\":\"subscribe\",\"threshold\":-0.1}",
		"{\"cmd\":\"subscribe\",\"on_change\":1}", "{\"cmd\":\"subscribe\",\"on_change\":\"yes\"}",
		"{\"cmd\":\"latest\",\"on_change\":true}", "{\"cmd\":\"ping\",\"top_k\":2}",
		"{\"cmd\":\"status\",\"threshold\":0.5}",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		expect_error(lines[i], strlen(lines[i]), "bad_request", NULL);
}

static void unknown_commands_are_named(void **state)
{
	(void)state;
	expect_error("{\"cmd\":\"reboot\"}", 16, "unknown_cmd", "reboot");
	expect_error("{\"cmd\":\"PING\"}", 14, "unknown_cmd", "PING");
	expect_error("{\"cmd\":\"\"}", 10, "unknown_cmd", NULL);
}

static struct srv_result sample_result(void)
{
	struct srv_result r = { .seq = 12, .frame_ts_ns = 5000000000u, .result_ts_ns = 5040000000u,
				.n_labels = 4 };
	static const float scores[] = { 0.86f, 0.07f, 0.04f, 0.01f };
	static const uint32_t idx[] = { 2, 0, 3, 7 };
	for (int i = 0; i < 4; i++)
		r.labels[i] = (struct srv_label_score){ idx[i], scores[i] };
	r.latency_ms.capture_to_result = 40.0;
	r.latency_ms.inference = 31.5;
	return r;
}

static void results_are_filtered_and_escaped(void **state)
{
	(void)state;
	char *names[] = { "tabby", NULL, "say \"cat\"\\\n\t", "\xc3\xa9l\xc3\xa9phant" };
	struct proto_labels labels = { names, 4 };
	struct srv_result r = sample_result();
	struct proto_filter f = { .top_k = 3, .threshold = 0.05 };

	json_t *msg = proto_result(&r, &labels, &f, 1000.0, 0, NULL);
	assert_non_null(msg);
	size_t len;
	char *line = proto_serialize(msg, &len);
	assert_non_null(line);
	assert_int_equal(line[len - 1], '\n');
	assert_null(memchr(line, '\n', len - 1));
	json_t *back = json_loadb(line, len, 0, NULL);
	assert_true(json_equal(back, msg));
	json_t *arr = json_object_get(back, "labels");
	/* top_k 3 allows three, the threshold keeps 0.86 and 0.07 */
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "label")),
			    names[2]);
	assert_true(json_real_value(json_object_get(json_array_get(arr, 0), "score")) == 0.86);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "label")),
			    "tabby");
	assert_int_equal(json_integer_value(json_object_get(back, "seq")), 12);
	assert_true(json_real_value(json_object_get(back, "frame_ts")) == 1005.0);
	assert_true(json_real_value(json_object_get(back, "ts")) == 1005.04);
	assert_null(json_object_get(back, "dropped"));
	json_decref(back);
	free(line);
	json_decref(msg);

	/* index outside the table → null label; dropped shows when non-zero */
	f = (struct proto_filter){ .top_k = 20, .threshold = 0 };
	msg = proto_result(&r, &labels, &f, 0, 9, NULL);
	arr = json_object_get(msg, "labels");
	assert_int_equal(json_array_size(arr), 4);
	assert_true(json_is_null(json_object_get(json_array_get(arr, 3), "label")));
	assert_int_equal(json_integer_value(json_object_get(msg, "dropped")), 9);
	json_decref(msg);
}

static void base64_round_trips(void **state)
{
	(void)state;
	uint8_t data[300];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(data); len += 1 + len / 7) {
		size_t text_len, out_len;
		char *text = wire_base64_encode(data, len, &text_len);
		assert_int_equal(text_len, (len + 2) / 3 * 4);
		assert_int_equal(strlen(text), text_len);
		uint8_t *out;
		assert_int_equal(wire_base64_decode(text, text_len, &out, &out_len), 0);
		assert_int_equal(out_len, len);
		assert_memory_equal(out, data, len);
		free(out);
		free(text);
	}
	size_t n;
	char *text = wire_base64_encode((const uint8_t *)"Man", 3, &n);
	assert_string_equal(text, "TWFu");
	free(text);
	uint8_t *out;
	assert_int_equal(wire_base64_decode("TWE=", 4, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "Ma", 2);
	free(out);
	assert_int_equal(wire_base64_decode("TW=u", 4, &out, &n), -EINVAL);
	assert_int_equal(wire_base64_decode("TWF", 3, &out, &n), -EINVAL);
	assert_int_equal(wire_base64_decode("TW\nu", 4, &out, &n), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_command_parses),
		cmocka_unit_test(subscribe_fields_parse),
		cmocka_unit_test(teach_commands_keep_their_arguments),
		cmocka_unit_test(id_of_any_json_type_is_kept),
		cmocka_unit_test(malformed_json_is_bad_request),
		cmocka_unit_test(error_messages_quoting_bad_bytes_still_make_a_reply),
		cmocka_unit_test(non_objects_are_bad_request),
		cmocka_unit_test(wrong_types_are_bad_request),
		cmocka_unit_test(unknown_commands_are_named),
		cmocka_unit_test(results_are_filtered_and_escaped),
		cmocka_unit_test(base64_round_trips),
	};
	return cmocka_run_group_tests_name("ipc_protocol", tests, NULL, NULL);
}
