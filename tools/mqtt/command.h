/* command.h — MQTT command payloads (<prefix>/cmd) → camclassd socket requests, and the
 * replies back (<prefix>/reply).
 *
 * Contract
 * - Pure functions on bytes and jansson values: no I/O, no globals, any thread.
 * - mq_cmd_parse() accepts one JSON object of at most MQ_CMD_MAX_PAYLOAD_BYTES whose "cmd" is
 *   one of the allowed commands (classify, latest, status, ping and the teach requests teach,
 *   samples, forget, train). Everything else in the object is passed on to the daemon, which
 *   checks it; "id" is taken out (the bridge tags requests with its own ids) and handed back
 *   so the reply can carry it again.
 * - Errors: -EMSGSIZE payload too large, -EINVAL not a JSON object / bad "cmd",
 *   -EPERM a command the bridge does not forward (subscribe, snapshot, ...); err gets a
 *   sentence naming the problem. *ret_* written only on success (new references).
 * - mq_cmd_error_reply() builds {"type":"error","code":..,"message":..[,"id":..]} for problems
 *   the bridge answers itself; mq_cmd_reply() gives a daemon reply the user's id back. */
#ifndef CAMCLASS_TOOLS_MQTT_COMMAND_H
#define CAMCLASS_TOOLS_MQTT_COMMAND_H

#include <stddef.h>

#include <jansson.h>

#define MQ_CMD_MAX_PAYLOAD_BYTES 65536u

int mq_cmd_parse(const void *payload, size_t len, json_t **ret_request, json_t **ret_user_id,
		 char *err, size_t errlen);

/* code: "bad_request" | "not_allowed" | "unavailable" | "busy"; user_id borrowed, may be NULL. */
json_t *mq_cmd_error_reply(const char *code, const char *message, const json_t *user_id);

/* Replaces the reply's "id" with user_id (borrowed; NULL removes it). Returns the reply. */
json_t *mq_cmd_reply(json_t *reply, const json_t *user_id);

#endif
