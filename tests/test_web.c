/* test_web.c — the HTTP-free parts of camclass-web: routes, query numbers, POST bodies, token
 * and htpasswd checks (hashes made here with crypt(3), never hard-coded), and the Prometheus
 * text made from a status reply, read back line by line; and the built binary's --version (the
 * build's one version string, lib/version.h). */
#include <crypt.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipc/wire.h"
#include "tests/daemon_util.h"
#include "tests/testutil.h"
#include "tools/web/auth.h"
#include "tools/web/metrics.h"
#include "tools/web/request.h"

static void every_endpoint_has_its_route_and_method(void **state)
{
	(void)state;
	static const struct { const char *path; enum web_route route; bool post; const char *cmd; } want[] = {
		{ "/stream.mjpg", WEB_ROUTE_STREAM, false, NULL },
		{ "/snapshot.jpg", WEB_ROUTE_SNAPSHOT, false, "snapshot" },
		{ "/api/status", WEB_ROUTE_STATUS, false, "status" },
		{ "/api/latest", WEB_ROUTE_LATEST, false, "latest" },
		{ "/api/teach", WEB_ROUTE_TEACH, true, "teach" },
		{ "/api/samples", WEB_ROUTE_SAMPLES, true, "samples" },
		{ "/api/train", WEB_ROUTE_TRAIN, true, "train" },
		{ "/metrics", WEB_ROUTE_METRICS, false, "status" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct web_route_info ri = web_route(want[i].path, false);
		assert_int_equal(ri.route, want[i].route);
		assert_int_equal(ri.post, want[i].post);
		if (want[i].cmd)
			assert_string_equal(ri.daemon_cmd, want[i].cmd);
		assert_int_equal(web_method_allowed(&ri, "POST"), want[i].post);
		assert_int_equal(web_method_allowed(&ri, "GET"), !want[i].post);
		assert_false(web_method_allowed(&ri, "PUT"));
	}
	assert_int_equal(web_route("/", true).route, WEB_ROUTE_ASSET);
	assert_int_equal(web_route("/x.js", false).route, WEB_ROUTE_NOT_FOUND);
	assert_int_equal(web_route("/api/status/", false).route, WEB_ROUTE_NOT_FOUND);
	assert_int_equal(web_route("/METRICS", false).route, WEB_ROUTE_NOT_FOUND);
}

static void query_numbers_are_strict(void **state)
{
	(void)state;
	unsigned v = 7;
	assert_int_equal(web_query_uint("320", 16, 8192, &v), 0);
	assert_int_equal(v, 320);
	assert_int_equal(web_query_uint("16", 16, 8192, &v), 0);
	assert_int_equal(web_query_uint("8192", 16, 8192, &v), 0);
	const char *bad[] = { "", "-1", "+5", " 5", "5 ", "0x10", "1e3", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		assert_true(web_query_uint(bad[i], 0, 100000, &v) < 0);
		assert_int_equal(v, 7);
	}
	assert_int_equal(web_query_uint("15", 16, 8192, &v), -ERANGE);
	assert_int_equal(web_query_uint("8193", 16, 8192, &v), -ERANGE);
	assert_int_equal(web_query_uint(NULL, 0, 1, &v), -EINVAL);
}

static void bodies_become_request_fields(void **state)
{
	(void)state;
	char err[256];
	json_t *f = NULL;
	assert_int_equal(web_body_fields("", 0, &f, err, sizeof(err)), 0);
	assert_int_equal(json_object_size(f), 0);
	json_decref(f);
	assert_int_equal(web_body_fields(" \n", 2, &f, err, sizeof(err)), 0);
	json_decref(f);
	const char *ok = "{\"label\":\"cat\",\"count\":5}";
	assert_int_equal(web_body_fields(ok, strlen(ok), &f, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(f, "label")), "cat");
	assert_int_equal(json_integer_value(json_object_get(f, "count")), 5);
	json_decref(f);
	const char *bad[] = { "[1]", "{\"a\":1,\"a\":2}", "{\"cmd\":\"x\"}", "{\"id\":1}", "{", "nul" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = NULL;
		assert_int_equal(web_body_fields(bad[i], strlen(bad[i]), &f, err, sizeof(err)), -EINVAL);
		assert_null(f);
		assert_true(strlen(err) > 0);
	}
	const char nul_inside[] = "{\"a\":\"x\0y\"}";
	assert_int_equal(web_body_fields(nul_inside, sizeof(nul_inside) - 1, &f, err, sizeof(err)), -EINVAL);
	char *big = malloc(WEB_BODY_MAX_BYTES + 2);
	assert_non_null(big);
	memset(big, ' ', WEB_BODY_MAX_BYTES + 1);
	assert_int_equal(web_body_fields(big, WEB_BODY_MAX_BYTES + 1, &f, err, sizeof(err)), -EMSGSIZE);
	free(big);
}

static void token_must_match_whole(void **state)
{
	(void)state;
	char err[256];
	struct web_auth *a;
	const char *tok = "0123456789abcdef0123";
	assert_int_equal(web_auth_parse(CONFIG_WEB_AUTH_TOKEN, "t", "0123456789abcdef0123\n", 21, &a,
					err, sizeof(err)),
			 0);
	assert_true(web_auth_check(a, NULL, tok));
	assert_true(web_auth_check(a, "Bearer 0123456789abcdef0123", NULL));
	assert_true(web_auth_check(a, "bearer 0123456789abcdef0123", NULL));
	assert_false(web_auth_check(a, NULL, NULL));
	assert_false(web_auth_check(a, NULL, ""));
	assert_false(web_auth_check(a, NULL, "0123456789abcdef012"));
	assert_false(web_auth_check(a, NULL, "0123456789abcdef01234"));
	assert_false(web_auth_check(a, "Basic 0123456789abcdef0123", NULL));
	assert_false(web_auth_check(a, "Bearer", NULL));
	web_auth_free(a);
	assert_int_equal(web_auth_parse(CONFIG_WEB_AUTH_TOKEN, "t", "short", 5, &a, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "t: the token is too short"));
	assert_int_equal(web_auth_parse(CONFIG_WEB_AUTH_TOKEN, "t", "0123456789 abcdef0123", 21, &a,
					err, sizeof(err)),
			 -EINVAL);
}

static char *basic(const char *user_pass)
{
	size_t n;
	char *b64 = wire_base64_encode((const uint8_t *)user_pass, strlen(user_pass), &n);
	char *h = NULL;
	assert_non_null(b64);
	assert_true(asprintf(&h, "Basic %s", b64) > 0);
	free(b64);
	return h;
}

static void htpasswd_checks_crypt_hashes(void **state)
{
	(void)state;
	char err[512], text[1024], salt[64];
	struct web_auth *a;
	/* hashes made now by the system's crypt(3): sha512 and bcrypt */
	assert_non_null(crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof(salt)));
	char *h1 = strdup(crypt("s3cret pass", salt));
	assert_non_null(crypt_gensalt_rn("$2b$", 5, NULL, 0, salt, sizeof(salt)));
	char *h2 = strdup(crypt("other", salt));
	snprintf(text, sizeof(text), "# users\nalice:%s\n\r\nbob:%s\r\n", h1, h2);
	assert_int_equal(web_auth_parse(CONFIG_WEB_AUTH_HTPASSWD, "pw", text, strlen(text), &a, err,
					sizeof(err)),
			 0);
	char *ok1 = basic("alice:s3cret pass"), *ok2 = basic("bob:other");
	char *wrong = basic("alice:s3cret pas"), *swapped = basic("bob:s3cret pass");
	char *nouser = basic("carol:other"), *nocolon = basic("alice");
	assert_true(web_auth_check(a, ok1, NULL));
	assert_true(web_auth_check(a, ok2, NULL));
	assert_false(web_auth_check(a, wrong, NULL));
	assert_false(web_auth_check(a, swapped, NULL));
	assert_false(web_auth_check(a, nouser, NULL));
	assert_false(web_auth_check(a, nocolon, NULL));
	assert_false(web_auth_check(a, NULL, "s3cret pass"));
	assert_false(web_auth_check(a, "Basic !!!!", NULL));
	free(ok1), free(ok2), free(wrong), free(swapped), free(nouser), free(nocolon);
	web_auth_free(a);

	static const struct { const char *text; const char *msg; } bad[] = {
		{ "alice\n", "pw:1: expected user:hash" },
		{ "\n\nalice:$apr1$abc$def\n", "pw:3: user alice: hash format not supported" },
		{ "alice:{SHA}abc=\n", "pw:1: user alice: hash format not supported" },
		{ "alice:plain\n", "pw:1: user alice: hash format not supported" },
		{ "alice:$9$nonsense\n", "pw:1: user alice: the hash is not a crypt(3) hash" },
		{ "# only a comment\n", "pw: no users" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(web_auth_parse(CONFIG_WEB_AUTH_HTPASSWD, "pw", bad[i].text,
						strlen(bad[i].text), &a, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("'%s' lacks '%s'", err, bad[i].msg);
	}
	snprintf(text, sizeof(text), "alice:%s\nalice:%s\n", h1, h2);
	assert_int_equal(web_auth_parse(CONFIG_WEB_AUTH_HTPASSWD, "pw", text, strlen(text), &a, err,
					sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "pw:2: user alice appears twice"));
	free(h1);
	free(h2);
}

/* The value of a sample line "name{labels} value" (labels as written), or NAN. */
static double sample(const char *text, const char *name_and_labels)
{
	char want[256];
	snprintf(want, sizeof(want), "\n%s ", name_and_labels);
	const char *p = strstr(text, want);
	return p ? strtod(p + strlen(want), NULL) : -1.0;
}

static void metrics_say_what_status_says(void **state)
{
	(void)state;
	const char *status_text =
		"{\"type\":\"status\",\"camera\":\"streaming\",\"device\":\"/dev/video0\","
		"\"format\":\"MJPG 640x480\",\"fps_in\":30.0,\"fps_out\":14.5,\"frames_skipped\":5213,"
		"\"frames_corrupt\":2,\"model\":\"mobile \\\"net\\\"\\n2\",\"backend\":\"xnnpack\","
		"\"threads\":4,\"latency_ms\":{\"capture_to_result\":{\"p50\":48.9,\"p99\":71.3},"
		"\"decode\":{\"p50\":5.8,\"p99\":9.2},\"preprocess\":{\"p50\":1.7,\"p99\":2.6},"
		"\"inference\":{\"p50\":37.9,\"p99\":55.1}},\"clients\":2,\"subscribers\":1,"
		"\"uptime_s\":3620.5}";
	json_t *st = json_loads(status_text, 0, NULL);
	struct web_hub_stats hs = { .viewers = 3, .frames_in = 10, .frames_skipped_slow = 4 };
	char *text;
	size_t len;
	assert_non_null(st);
	assert_int_equal(metrics_render(st, &hs, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_true(sample(text, "camclass_up") == 1);
	assert_true(sample(text, "camclass_frames_skipped_total") == 5213);
	assert_true(sample(text, "camclass_frames_corrupt_total") == 2);
	assert_true(sample(text, "camclass_capture_fps") == 30.0);
	assert_true(sample(text, "camclass_clients") == 2);
	assert_true(sample(text, "camclass_uptime_seconds") == 3620.5);
	assert_true(sample(text, "camclass_latency_seconds{stage=\"inference\",quantile=\"0.99\"}") ==
		    55.1 / 1e3);
	assert_true(sample(text, "camclass_camera_streaming") == 1);
	assert_true(sample(text, "camclass_model_info{model=\"mobile \\\"net\\\"\\n2\",backend=\"xnnpack\"}") == 1);
	assert_true(sample(text, "camclass_web_stream_viewers") == 3);
	assert_true(sample(text, "camclass_web_stream_frames_skipped_total") == 4);
	assert_non_null(strstr(text, "# TYPE camclass_frames_skipped_total counter\n"));
	assert_non_null(strstr(text, "# TYPE camclass_latency_seconds summary\n"));
	/* not in this status: not invented */
	assert_null(strstr(text, "camclass_frames_in_total"));
	assert_null(strstr(text, "camclass_state_info"));
	free(text);
	json_decref(st);

	assert_int_equal(metrics_render(NULL, &hs, &text, &len), 0);
	assert_true(sample(text, "camclass_up") == 0);
	assert_null(strstr(text, "camclass_clients"));
	free(text);
}

/* `camclass-web --version` prints "camclass-web <version>", the same string as camclassd's */
static void the_binary_prints_the_builds_version(void **state)
{
	(void)state;
	du_expect_version("camclass-web");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_endpoint_has_its_route_and_method),
		cmocka_unit_test(query_numbers_are_strict),
		cmocka_unit_test(bodies_become_request_fields),
		cmocka_unit_test(token_must_match_whole),
		cmocka_unit_test(htpasswd_checks_crypt_hashes),
		cmocka_unit_test(metrics_say_what_status_says),
		cmocka_unit_test(the_binary_prints_the_builds_version),
	};
	return cmocka_run_group_tests_name("web", tests, NULL, NULL);
}
