/* command.c — what the bridge lets through from <prefix>/cmd (contract in command.h).
 *
 * Why a fixed allow-list: anyone who may publish on the broker reaches the daemon through this
 * path, so only requests that answer once and change nothing about the bridge's own stream get
 * through. subscribe/unsubscribe would change what the bridge itself receives, snapshot replies
 * are megabytes of base64 that do not belong on a broker. Parsing is strict (jansson,
 * duplicate keys rejected) and bounded before parsing; the daemon validates the fields. */
#include "tools/mqtt/command.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const allowed_cmds[] = {
	"classify", "latest", "status", "ping", "teach", "samples", "forget", "train",
};

static int allowed(const char *cmd)
{
	for (size_t i = 0; i < sizeof(allowed_cmds) / sizeof(allowed_cmds[0]); i++)
		if (strcmp(cmd, allowed_cmds[i]) == 0)
			return 1;
	return 0;
}

int mq_cmd_parse(const void *payload, size_t len, json_t **ret_request, json_t **ret_user_id,
		 char *err, size_t errlen)
{
	json_error_t jerr;

	if (len > MQ_CMD_MAX_PAYLOAD_BYTES) {
		snprintf(err, errlen, "command payload of %zu bytes is larger than %u", len,
			 MQ_CMD_MAX_PAYLOAD_BYTES);
		return -EMSGSIZE;
	}
	json_t *req = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		snprintf(err, errlen, "command is not valid JSON: %s (at byte %d)", jerr.text,
			 jerr.position);
		return -EINVAL;
	}
	if (!json_is_object(req)) {
		json_decref(req);
		snprintf(err, errlen, "command must be a JSON object like {\"cmd\":\"classify\"}");
		return -EINVAL;
	}
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	if (!cmd) {
		json_decref(req);
		snprintf(err, errlen, "command needs \"cmd\" as a string");
		return -EINVAL;
	}
	if (!allowed(cmd)) {
		snprintf(err, errlen, "command \"%.64s\" is not forwarded over MQTT (allowed: "
			 "classify, latest, status, ping, teach, samples, forget, train)", cmd);
		json_decref(req);
		return -EPERM;
	}
	json_t *user_id = json_object_get(req, "id");
	json_incref(user_id);
	json_object_del(req, "id");
	*ret_request = req;
	*ret_user_id = user_id;
	return 0;
}

/* Length of the well-formed UTF-8 sequence at s (1-4), or 0 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
static int utf8_seq(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	int n = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3 :
		s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
		return 0;
	return n;
}

json_t *mq_cmd_error_reply(const char *code, const char *message, const json_t *user_id)
{
	/* The message may quote the payload (jansson's parse error, a cut command name): bytes
	 * that are not UTF-8 become '?', so the reply can always be built (jansson refuses such
	 * strings, and the caller would get no answer at all). */
	char clean[512];
	size_t o = 0;
	for (const unsigned char *s = (const unsigned char *)message; *s && o + 5 < sizeof(clean);) {
		int n = utf8_seq(s);
		if (n == 0) {
			clean[o++] = '?';
			s++;
		} else {
			memcpy(clean + o, s, (size_t)n);
			o += (size_t)n;
			s += n;
		}
	}
	clean[o] = 0;
	json_t *reply = json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "message",
				  clean);
	if (reply && user_id)
		json_object_set(reply, "id", (json_t *)user_id);
	return reply;
}

json_t *mq_cmd_reply(json_t *reply, const json_t *user_id)
{
	if (user_id)
		json_object_set(reply, "id", (json_t *)user_id);
	else
		json_object_del(reply, "id");
	return reply;
}
