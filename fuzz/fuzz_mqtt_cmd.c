/* fuzz_mqtt_cmd.c — libFuzzer target for camclass-mqtt's command payloads (tools/mqtt/command.c):
 * what anyone allowed to publish on <prefix>/cmd sends. Each input is one MQTT payload. A parse
 * that succeeds must give an object with an allowed string "cmd" and no "id", which serializes
 * to one JSON line (what the bridge sends to the daemon); the replies the bridge builds from
 * either outcome must serialize too and carry the caller's id unchanged. Seeds:
 * fuzz/seeds-mqtt_cmd/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/mqtt/command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_serialize(json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	if (!text || strchr(text, '\n'))
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *req = NULL, *user_id = NULL;
	char err[256];
	int r = mq_cmd_parse(data, size, &req, &user_id, err, sizeof(err));
	if (r < 0) {
		if (strlen(err) >= sizeof(err))
			abort();
		json_t *reply = mq_cmd_error_reply("bad_request", err, NULL);
		if (!reply)
			abort();
		must_serialize(reply);
		json_decref(reply);
		return 0;
	}
	if (!json_is_object(req) || !json_is_string(json_object_get(req, "cmd")) ||
	    json_object_get(req, "id"))
		abort();
	must_serialize(req);
	json_t *reply = mq_cmd_reply(json_pack("{s:s, s:s}", "type", "pong", "id", "mqtt-cmd-1"),
				     user_id);
	if (!reply || (user_id && !json_equal(json_object_get(reply, "id"), user_id)) ||
	    (!user_id && json_object_get(reply, "id")))
		abort();
	must_serialize(reply);
	json_decref(reply);
	json_decref(req);
	json_decref(user_id);
	return 0;
}
