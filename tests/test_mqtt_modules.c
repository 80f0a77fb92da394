/* test_mqtt_modules.c — camclass-mqtt's pure modules (tools/mqtt/): command payloads, following
 * the daemon's state from its messages (with and without the state fields), the attributes and
 * Home Assistant discovery documents, and settings (hostname defaults, topics, password file);
 * and the built binary's --version (the build's one version string, lib/version.h).
 * The broker side is tested end to end by tests/suite-mqtt.sh against a real mosquitto. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/version.h"
#include "tests/daemon_util.h"
#include "tests/testutil.h"
#include "tools/mqtt/command.h"
#include "tools/mqtt/ha.h"
#include "tools/mqtt/settings.h"
#include "tools/mqtt/state.h"

static int parse(const char *text, json_t **req, json_t **id, char *err, size_t errlen)
{
	return mq_cmd_parse(text, strlen(text), req, id, err, errlen);
}

static void allowed_commands_pass_with_fields_and_id_taken_out(void **state)
{
	(void)state;
	json_t *req, *id;
	char err[256];
	assert_int_equal(parse("{\"cmd\":\"classify\",\"top_k\":2,\"id\":[1,\"x\"]}", &req, &id,
			       err, sizeof(err)),
			 0);
	assert_string_equal(json_string_value(json_object_get(req, "cmd")), "classify");
	assert_int_equal(json_integer_value(json_object_get(req, "top_k")), 2);
	assert_null(json_object_get(req, "id"));
	assert_true(json_is_array(id));
	json_t *reply = mq_cmd_reply(json_pack("{s:s,s:s}", "type", "result", "id", "mqtt-cmd-3"), id);
	assert_true(json_equal(json_object_get(reply, "id"), id));
	json_decref(reply);
	json_decref(req);
	json_decref(id);
	assert_int_equal(parse("{\"cmd\":\"teach\",\"label\":\"cat\"}", &req, &id, err,
			       sizeof(err)),
			 0);
	assert_null(id);
	reply = mq_cmd_reply(json_pack("{s:s,s:s}", "type", "ok", "id", "mqtt-cmd-4"), NULL);
	assert_null(json_object_get(reply, "id")); /* the bridge's own id never leaks */
	json_decref(reply);
	json_decref(req);
}

static void refused_payloads_say_why(void **state)
{
	(void)state;
	json_t *req = NULL, *id = NULL;
	char err[256];
	assert_int_equal(parse("{\"cmd\":\"subscribe\"}", &req, &id, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "\"subscribe\" is not forwarded"));
	assert_int_equal(parse("{\"cmd\":\"snapshot\"}", &req, &id, err, sizeof(err)), -EPERM);
	assert_int_equal(parse("{\"cmd\":", &req, &id, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not valid JSON"));
	assert_int_equal(parse("[\"classify\"]", &req, &id, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "JSON object"));
	assert_int_equal(parse("{\"cmd\":7}", &req, &id, err, sizeof(err)), -EINVAL);
	assert_int_equal(parse("{\"cmd\":\"ping\",\"cmd\":\"ping\"}", &req, &id, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(mq_cmd_parse("{\"cmd\":\"ping\"}\0x", 16, &req, &id, err, sizeof(err)),
			 -EINVAL);
	char *big = malloc(MQ_CMD_MAX_PAYLOAD_BYTES + 2);
	assert_non_null(big);
	memset(big, ' ', MQ_CMD_MAX_PAYLOAD_BYTES + 1);
	assert_int_equal(mq_cmd_parse(big, MQ_CMD_MAX_PAYLOAD_BYTES + 1, &req, &id, err,
				      sizeof(err)),
			 -EMSGSIZE);
	free(big);
	assert_null(req);
	assert_null(id);
	json_t *e = mq_cmd_error_reply("busy", "too many", NULL);
	assert_string_equal(json_string_value(json_object_get(e, "code")), "busy");
	json_decref(e);

	/* A payload whose parse error quotes bytes that are not UTF-8 (found by fuzz_mqtt_cmd),
	 * and a long command name cut in the middle of a character, still get an error reply. */
	static const unsigned char bad[] = { 0x7b, 0x22, 0x5c, 0xc2, 0x9b, 0x92, 0xdd, 0xdd, 0x9c,
					     0xdd, 0x82 };
	assert_true(mq_cmd_parse(bad, sizeof(bad), &req, &id, err, sizeof(err)) < 0);
	e = mq_cmd_error_reply("bad_request", err, NULL);
	assert_non_null(e);
	json_decref(e);
	char cut[200] = "{\"cmd\":\"";
	for (int i = 0; i < 40; i++)
		strcat(cut, "\u00e9"); /* é: two bytes each, so 64 bytes end inside none; add one */
	strcat(cut, "x\u00e9\u00e9\"}");
	assert_true(mq_cmd_parse(cut, strlen(cut), &req, &id, err, sizeof(err)) < 0);
	e = mq_cmd_error_reply("not_allowed", err, NULL);
	assert_non_null(e);
	json_decref(e);
	e = mq_cmd_error_reply("bad_request", "\xff\xc3 bad \xed\xa0\x80 end \xc3\xa9", NULL);
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "message")), "?? bad ??? end \xc3\xa9");
	json_decref(e);
}

static int feed(struct mq_state *st, const char *text)
{
	json_t *msg = json_loads(text, 0, NULL);
	assert_non_null(msg);
	int r = mq_state_feed(st, msg);
	json_decref(msg);
	return r;
}

static void state_follows_the_daemons_state_fields(void **state)
{
	(void)state;
	struct mq_state st = { 0 };
	assert_int_equal(feed(&st, "{\"type\":\"hello\",\"version\":1,\"model\":\"fashion\"}"), 0);
	assert_int_equal(feed(&st, "{\"type\":\"result\",\"seq\":5,\"ts\":100.5,\"state\":\"unknown\","
				   "\"state_since\":99,\"labels\":[{\"index\":1,\"label\":\"Trouser\","
				   "\"score\":0.9}]}"),
			 1);
	assert_string_equal(st.state, "unknown");
	assert_true(st.since == 99);
	/* the daemon's debounce decides, not the top label */
	assert_int_equal(feed(&st, "{\"type\":\"result\",\"seq\":6,\"ts\":101,\"state\":\"unknown\","
				   "\"state_since\":99,\"labels\":[{\"index\":1,\"label\":\"Trouser\","
				   "\"score\":0.9}]}"),
			 0);
	assert_int_equal(feed(&st, "{\"type\":\"event\",\"event\":\"state_changed\",\"state\":"
				   "\"Trouser\",\"previous\":\"unknown\",\"score\":0.875,\"since\":102}"),
			 1);
	assert_string_equal(st.state, "Trouser");
	assert_true(st.score == 0.875);
	/* the result announcing the same change changes nothing more */
	assert_int_equal(feed(&st, "{\"type\":\"result\",\"seq\":7,\"ts\":102,\"state\":\"Trouser\","
				   "\"state_since\":102,\"labels\":[]}"),
			 0);
	json_t *a = mq_state_attributes(&st);
	assert_string_equal(json_string_value(json_object_get(a, "state")), "Trouser");
	assert_string_equal(json_string_value(json_object_get(a, "model")), "fashion");
	assert_int_equal(json_integer_value(json_object_get(a, "seq")), 7);
	assert_true(json_is_array(json_object_get(a, "labels")));
	assert_true(json_number_value(json_object_get(a, "since")) == 102);
	json_decref(a);
	assert_int_equal(feed(&st, "{\"type\":\"event\",\"event\":\"model_reloaded\",\"model\":\"m2\"}"), 0);
	assert_string_equal(st.model, "m2");
	mq_state_free(&st);
}

static void state_without_state_fields_is_the_top_label(void **state)
{
	(void)state;
	struct mq_state st = { 0 };
	assert_null(mq_state_attributes(&st));
	assert_int_equal(feed(&st, "{\"type\":\"result\",\"seq\":1,\"ts\":10,\"labels\":[{\"index\":3,"
				   "\"label\":\"Dress\",\"score\":0.6},{\"index\":1,\"label\":\"Coat\","
				   "\"score\":0.3}]}"),
			 1);
	assert_string_equal(st.state, "Dress");
	assert_true(st.score == 0.6);
	assert_int_equal(feed(&st, "{\"type\":\"result\",\"seq\":2,\"ts\":11,\"labels\":[]}"), 1);
	assert_string_equal(st.state, "unknown");
	assert_int_equal(feed(&st, "{\"type\":\"status\",\"state\":\"x\"}"), 0);
	assert_int_equal(feed(&st, "{\"no_type\":1}"), 0);
	mq_state_free(&st);
}

static struct config cfg_with(const char *client_id, const char *prefix, const char *labels)
{
	struct config c;
	assert_int_equal(config_defaults(&c), 0);
	free(c.mqtt.client_id);
	free(c.mqtt.topic_prefix);
	free(c.mqtt.binary_labels);
	c.mqtt.client_id = strdup(client_id);
	c.mqtt.topic_prefix = strdup(prefix);
	c.mqtt.binary_labels = strdup(labels);
	return c;
}

static void settings_fill_hostname_defaults_and_topics(void **state)
{
	(void)state;
	struct config c = cfg_with("", "", "");
	struct mq_settings s;
	char err[256], host[256], want[300];
	assert_int_equal(mq_settings_from_config(&c, NULL, NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	snprintf(want, sizeof(want), "camclassd-%s", host);
	assert_string_equal(s.client_id, want);
	snprintf(want, sizeof(want), "camclassd/%s/availability", host);
	assert_string_equal(s.t_availability, want);
	snprintf(want, sizeof(want), "homeassistant/sensor/camclassd-%s/state/config", host);
	assert_string_equal(s.t_discovery_state, want);
	assert_null(s.password);
	assert_int_equal(s.port, 1883);
	assert_string_equal(s.socket_path, "/run/camclassd/camclassd.sock");
	mq_settings_free(&s);
	/* a template instance names the camera in the defaults and finds its socket */
	assert_int_equal(mq_settings_from_config(&c, "garden", NULL, &s, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "camclassd-%s-garden", host);
	assert_string_equal(s.client_id, want);
	snprintf(want, sizeof(want), "camclassd/%s/garden/state", host);
	assert_string_equal(s.t_state, want);
	assert_string_equal(s.socket_path, "/run/camclassd/garden.sock");
	mq_settings_free(&s);
	assert_int_equal(mq_settings_from_config(&c, "a/b", NULL, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--instance"));
	assert_int_equal(mq_settings_from_config(&c, "x", "/tmp/s.sock", &s, err, sizeof(err)), 0);
	assert_string_equal(s.socket_path, "/tmp/s.sock");
	mq_settings_free(&s);
	config_free(&c);
}

static void password_comes_from_the_first_line_of_the_file(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), path[4200], err[256];
	snprintf(path, sizeof(path), "%s/pass", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("s3cret word\nsecond line\n", f);
	fclose(f);
	struct config c = cfg_with("cam", "a/b", "");
	free(c.mqtt.password_file);
	c.mqtt.password_file = strdup(path);
	struct mq_settings s;
	assert_int_equal(mq_settings_from_config(&c, NULL, NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s.password, "s3cret word");
	assert_string_equal(s.t_cmd, "a/b/cmd");
	mq_settings_free(&s);
	f = fopen(path, "w");
	fputs("\n", f);
	fclose(f);
	assert_int_equal(mq_settings_from_config(&c, NULL, NULL, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "first line is empty"));
	unlink(path);
	assert_int_equal(mq_settings_from_config(&c, NULL, NULL, &s, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot open"));
	assert_non_null(strstr(err, path));
	config_free(&c);
	tu_rm_rf(dir);
	free(dir);
}

static void discovery_documents_carry_what_home_assistant_needs(void **state)
{
	(void)state;
	struct config c = cfg_with("cam1", "house/cam1", "Ankle boot, person");
	struct mq_settings s;
	char err[256];
	assert_int_equal(mq_settings_from_config(&c, NULL, NULL, &s, err, sizeof(err)), 0);
	json_t *d = mq_ha_sensor(&s, "fashion");
	assert_string_equal(json_string_value(json_object_get(d, "state_topic")), "house/cam1/state");
	assert_string_equal(json_string_value(json_object_get(d, "json_attributes_topic")),
			    "house/cam1/attributes");
	assert_string_equal(json_string_value(json_object_get(d, "availability_topic")),
			    "house/cam1/availability");
	assert_string_equal(json_string_value(json_object_get(d, "unique_id")), "cam1_state");
	json_t *dev = json_object_get(d, "device");
	assert_string_equal(json_string_value(json_object_get(dev, "model")), "fashion");
	assert_string_equal(json_string_value(json_object_get(dev, "sw_version")), camclass_version());
	json_decref(d);
	assert_int_equal(s.n_binary_labels, 2);
	char *topic = mq_settings_binary_topic(&s, 0);
	assert_string_equal(topic, "homeassistant/binary_sensor/cam1/ankle_boot/config");
	free(topic);
	d = mq_ha_binary(&s, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(d, "value_template")),
			    "{{ 'ON' if value == 'Ankle boot' else 'OFF' }}");
	assert_string_equal(json_string_value(json_object_get(d, "unique_id")), "cam1_ankle_boot");
	json_decref(d);
	mq_settings_free(&s);
	config_free(&c);
}

/* `camclass-mqtt --version` prints "camclass-mqtt <version>", the same string as camclassd's */
static void the_binary_prints_the_builds_version(void **state)
{
	(void)state;
	du_expect_version("camclass-mqtt");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allowed_commands_pass_with_fields_and_id_taken_out),
		cmocka_unit_test(refused_payloads_say_why),
		cmocka_unit_test(state_follows_the_daemons_state_fields),
		cmocka_unit_test(state_without_state_fields_is_the_top_label),
		cmocka_unit_test(settings_fill_hostname_defaults_and_topics),
		cmocka_unit_test(password_comes_from_the_first_line_of_the_file),
		cmocka_unit_test(discovery_documents_carry_what_home_assistant_needs),
		cmocka_unit_test(the_binary_prints_the_builds_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
