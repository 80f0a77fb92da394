/* bridge.c — the loop between camclassd's socket and the MQTT broker (contract in bridge.h).
 *
 * Why it is built this way:
 * - One thread, one poll(): the signalfd, the broker's socket and the daemon's socket. The two
 *   connections fail independently, so each has its own back-off; neither waits for the other.
 * - availability says whether the whole path works: "online" only while the broker is
 *   connected AND the daemon answers; the broker's last will covers the bridge dying.
 * - Everything retained (availability, discovery, state, attributes) is published again after
 *   every broker connect: a broker restarted without persistence has forgotten it.
 * - Nothing queues without bound: while the broker is away nothing is published (the retained
 *   topics are rebuilt on reconnect, results of that time are gone, as on a live feed); while
 *   it is slow, results and status are dropped past MQ_BROKER_MAX_PENDING; commands in flight
 *   to the daemon are capped at MAX_PENDING_CMDS. The daemon itself bounds what it queues for
 *   us (it drops our oldest results if we read slowly). */
#include "tools/mqtt/bridge.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "ipc/client.h"
#include "tools/mqtt/broker.h"
#include "tools/mqtt/command.h"
#include "tools/mqtt/ha.h"
#include "tools/mqtt/state.h"

#define DAEMON_BACKOFF_MIN_MS 1000
#define DAEMON_BACKOFF_MAX_MS 30000
#define MAX_PENDING_CMDS 16
#define STATUS_ID "mqtt-status"
#define CMD_ID_PREFIX "mqtt-cmd-"

struct pending_cmd {
	bool used;
	uint64_t tag;
	json_t *user_id;        /* NULL when the command had none */
};

struct bridge {
	const struct mq_settings *s;
	struct mq_broker *broker;
	struct cli_conn *daemon;
	bool daemon_ready;      /* hello seen, subscribed */
	int daemon_backoff_ms;
	int64_t daemon_next_ms;
	int daemon_failures;    /* attempts since the last success, for quieter logs */
	struct mq_state st;
	char *discovery_model;  /* model named in the discovery config last published */
	int availability;       /* last published: -1 none, 0 offline, 1 online */
	int64_t next_status_ms, last_result_ms;
	struct pending_cmd cmds[MAX_PENDING_CMDS];
	uint64_t next_tag;
};

/* ---- publishing ------------------------------------------------------------------------------ */

static void publish_json(struct bridge *br, const char *topic, json_t *doc, bool retain,
			 bool droppable)
{
	if (!doc)
		return;
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text) {
		log_error("out of memory for an MQTT message to %s", topic);
		return;
	}
	mq_broker_publish(br->broker, topic, text, strlen(text), retain, droppable);
	free(text);
}

static void publish_availability(struct bridge *br, bool force)
{
	int want = br->daemon_ready ? 1 : 0;
	if (!mq_broker_connected(br->broker) || (!force && want == br->availability))
		return;
	const char *text = want ? "online" : "offline";
	if (mq_broker_publish(br->broker, br->s->t_availability, text, strlen(text), true,
			      false) == 0)
		br->availability = want;
}

static void publish_discovery(struct bridge *br)
{
	if (!br->s->discovery || !mq_broker_connected(br->broker))
		return;
	publish_json(br, br->s->t_discovery_state, mq_ha_sensor(br->s, br->st.model), true, false);
	for (size_t i = 0; i < br->s->n_binary_labels; i++) {
		char *topic = mq_settings_binary_topic(br->s, i);
		if (!topic)
			continue;
		publish_json(br, topic, mq_ha_binary(br->s, i, br->st.model), true, false);
		free(topic);
	}
	free(br->discovery_model);
	br->discovery_model = br->st.model ? strdup(br->st.model) : NULL;
}

static void publish_state(struct bridge *br)
{
	if (!br->st.state)
		return;
	mq_broker_publish(br->broker, br->s->t_state, br->st.state, strlen(br->st.state), true,
			  false);
	publish_json(br, br->s->t_attributes, mq_state_attributes(&br->st), true, false);
}

static void broker_connected(void *userdata)
{
	struct bridge *br = userdata;
	publish_availability(br, true);
	publish_discovery(br);
	publish_state(br);
	if (br->s->allow_commands)
		mq_broker_subscribe(br->broker, br->s->t_cmd);
}

/* ---- the daemon's side ----------------------------------------------------------------------- */

static void reply_cmd(struct bridge *br, json_t *reply)
{
	publish_json(br, br->s->t_reply, reply, false, false);
}

static void daemon_lost(struct bridge *br, const char *why)
{
	log_warning("camclassd at %s went away (%s): availability offline, reconnecting",
		    br->s->socket_path, why);
	cli_close(br->daemon);
	br->daemon = NULL;
	br->daemon_ready = false;
	br->daemon_backoff_ms = DAEMON_BACKOFF_MIN_MS;
	br->daemon_next_ms = mono_now_ms() + br->daemon_backoff_ms;
	for (size_t i = 0; i < MAX_PENDING_CMDS; i++) {
		struct pending_cmd *pc = &br->cmds[i];
		if (!pc->used)
			continue;
		reply_cmd(br, mq_cmd_error_reply("unavailable", "camclassd went away before "
						 "answering", pc->user_id));
		json_decref(pc->user_id);
		memset(pc, 0, sizeof(*pc));
	}
	publish_availability(br, false);
}

static int daemon_request(struct bridge *br, json_t *req)
{
	int r = cli_send(br->daemon, req);
	json_decref(req);
	if (r < 0)
		daemon_lost(br, strerror(-r));
	return r;
}

static void daemon_connect(struct bridge *br)
{
	int r = cli_connect(br->s->socket_path, &br->daemon);
	if (r < 0) {
		br->daemon = NULL;
		/* loud the first time, then quieter: the daemon may just be restarting */
		log_msg(br->daemon_failures++ ? LOG_INFO : LOG_WARNING,
			"cannot connect to camclassd at %s: %s; retrying in %d s",
			br->s->socket_path, strerror(-r), br->daemon_backoff_ms / 1000);
		br->daemon_next_ms = mono_now_ms() + br->daemon_backoff_ms;
		br->daemon_backoff_ms = br->daemon_backoff_ms * 2 > DAEMON_BACKOFF_MAX_MS
						? DAEMON_BACKOFF_MAX_MS
						: br->daemon_backoff_ms * 2;
		return;
	}
	br->daemon_failures = 0;
	br->daemon_backoff_ms = DAEMON_BACKOFF_MIN_MS;
}

static void on_hello(struct bridge *br)
{
	log_info("connected to camclassd at %s (model %s)", br->s->socket_path,
		 br->st.model ? br->st.model : "unknown");
	json_t *sub = json_pack("{s:s, s:s, s:b}", "cmd", "subscribe", "id", "mqtt-sub",
				"on_change", !br->s->publish_results);
	if (!sub || daemon_request(br, sub) < 0)
		return;
	br->daemon_ready = true;
	br->next_status_ms = mono_now_ms(); /* the first status at once */
	if (!br->discovery_model || !br->st.model || strcmp(br->discovery_model, br->st.model))
		publish_discovery(br);
	publish_availability(br, false);
}

static void on_tagged_reply(struct bridge *br, json_t *msg, const char *id)
{
	if (strcmp(id, STATUS_ID) == 0) {
		json_object_del(msg, "id");
		publish_json(br, br->s->t_status, json_incref(msg), false, true);
		return;
	}
	if (strncmp(id, CMD_ID_PREFIX, strlen(CMD_ID_PREFIX)) != 0)
		return;
	uint64_t tag = strtoull(id + strlen(CMD_ID_PREFIX), NULL, 10);
	for (size_t i = 0; i < MAX_PENDING_CMDS; i++) {
		struct pending_cmd *pc = &br->cmds[i];
		if (!pc->used || pc->tag != tag)
			continue;
		reply_cmd(br, mq_cmd_reply(json_incref(msg), pc->user_id));
		json_decref(pc->user_id);
		memset(pc, 0, sizeof(*pc));
		return;
	}
}

static void on_daemon_line(struct bridge *br, const char *line, size_t len)
{
	json_t *msg = json_loadb(line, len, 0, NULL);
	if (!json_is_object(msg)) {
		json_decref(msg);
		log_warning("camclassd sent a line that is not a JSON object; ignored");
		return;
	}
	const char *type = json_string_value(json_object_get(msg, "type"));
	const char *id = json_string_value(json_object_get(msg, "id"));
	int changed = mq_state_feed(&br->st, msg);
	if (changed < 0)
		log_error("out of memory following the daemon's state");
	if (changed > 0) {
		log_debug("state %s (score %.3f)", br->st.state, br->st.score);
		publish_state(br);
	}
	if (!type)
		type = "";
	if (strcmp(type, "hello") == 0) {
		on_hello(br);
	} else if (id) {
		on_tagged_reply(br, msg, id);
	} else if (strcmp(type, "result") == 0 && br->s->publish_results) {
		int64_t now = mono_now_ms();
		if (now - br->last_result_ms >= (int64_t)(1000.0 / br->s->max_rate)) {
			br->last_result_ms = now;
			mq_broker_publish(br->broker, br->s->t_results, line, len, false, true);
		}
	} else if (strcmp(type, "event") == 0) {
		const char *event = json_string_value(json_object_get(msg, "event"));
		log_info("camclassd event %s", event ? event : "?");
		if (event && strcmp(event, "model_reloaded") == 0)
			publish_discovery(br);
	} else if (strcmp(type, "error") == 0) {
		const char *msgtext = json_string_value(json_object_get(msg, "message"));
		log_warning("camclassd: %s", msgtext ? msgtext : "error");
	}
	json_decref(msg);
}

static void daemon_readable(struct bridge *br)
{
	for (;;) {
		const char *line;
		size_t len;
		int r = cli_read_line(br->daemon, 0, &line, &len);
		if (r == -ETIMEDOUT)
			return;
		if (r < 0) {
			daemon_lost(br, r == -ECONNRESET ? "connection closed" : strerror(-r));
			return;
		}
		on_daemon_line(br, line, len);
		if (!br->daemon)
			return;
	}
}

/* ---- commands from the broker ---------------------------------------------------------------- */

static void broker_message(void *userdata, const char *topic, const void *payload, size_t len)
{
	struct bridge *br = userdata;
	char err[256];
	json_t *req, *user_id;

	if (!br->s->allow_commands || strcmp(topic, br->s->t_cmd) != 0)
		return;
	int r = mq_cmd_parse(payload, len, &req, &user_id, err, sizeof(err));
	if (r < 0) {
		log_info("MQTT command refused: %s", err);
		reply_cmd(br, mq_cmd_error_reply(r == -EPERM ? "not_allowed" : "bad_request", err,
						 NULL));
		return;
	}
	struct pending_cmd *slot = NULL;
	for (size_t i = 0; i < MAX_PENDING_CMDS && !slot; i++)
		if (!br->cmds[i].used)
			slot = &br->cmds[i];
	if (!br->daemon_ready || !slot) {
		reply_cmd(br, mq_cmd_error_reply(slot ? "unavailable" : "busy",
						 slot ? "camclassd is not connected"
						      : "too many commands waiting for camclassd",
						 user_id));
		json_decref(user_id);
		json_decref(req);
		return;
	}
	char id[64];
	snprintf(id, sizeof(id), CMD_ID_PREFIX "%" PRIu64, ++br->next_tag);
	if (json_object_set_new(req, "id", json_string(id)) < 0) {
		json_decref(user_id);
		json_decref(req);
		return;
	}
	*slot = (struct pending_cmd){ .used = true, .tag = br->next_tag, .user_id = user_id };
	daemon_request(br, req);
}

/* ---- the loop -------------------------------------------------------------------------------- */

static int open_signals(void)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	int fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? log_errno(LOG_ERR, errno, "signalfd") : fd;
}

static int min_timeout(int a, int64_t due, int64_t now)
{
	int64_t left = due - now;
	if (left < 0)
		left = 0;
	return left < a ? (int)left : a;
}

int mq_bridge_run(const struct mq_settings *s)
{
	struct bridge br = { .s = s, .availability = -1, .daemon_backoff_ms = DAEMON_BACKOFF_MIN_MS };
	struct mq_broker_callbacks cb = { .userdata = &br, .connected = broker_connected,
					  .message = broker_message };
	int sig_fd = open_signals();
	if (sig_fd < 0)
		return sig_fd;
	int r = mq_broker_new(s, &cb, &br.broker);
	if (r < 0) {
		close(sig_fd);
		return r;
	}
	log_info("camclass-mqtt: %s:%d%s, topics %s/..., socket %s", s->host, s->port,
		 s->tls_ca ? " (TLS)" : "", s->prefix, s->socket_path);
	for (bool running = true; running;) {
		int64_t now = mono_now_ms();
		mq_broker_tick(br.broker, now);
		if (!br.daemon && now >= br.daemon_next_ms)
			daemon_connect(&br);
		if (br.daemon_ready && now >= br.next_status_ms) {
			br.next_status_ms = now + MQ_STATUS_PERIOD_MS;
			json_t *req = json_pack("{s:s, s:s}", "cmd", "status", "id", STATUS_ID);
			if (req)
				daemon_request(&br, req);
		}

		struct pollfd p[3] = { { .fd = sig_fd, .events = POLLIN },
				       { .fd = mq_broker_fd(br.broker), .events = POLLIN },
				       { .fd = br.daemon ? cli_fd(br.daemon) : -1, .events = POLLIN } };
		if (mq_broker_want_write(br.broker))
			p[1].events |= POLLOUT;
		now = mono_now_ms();
		int timeout = mq_broker_timeout_ms(br.broker, now);
		if (!br.daemon)
			timeout = min_timeout(timeout, br.daemon_next_ms, now);
		if (br.daemon_ready)
			timeout = min_timeout(timeout, br.next_status_ms, now);
		if (poll(p, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			r = log_errno(LOG_ERR, errno, "poll");
			break;
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;
			if (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				log_info("signal %u: publishing offline and stopping", si.ssi_signo);
				running = false;
			}
		}
		if (p[1].fd >= 0 && p[1].revents)
			mq_broker_io(br.broker, p[1].revents);
		if (br.daemon && p[2].fd >= 0 && p[2].revents)
			daemon_readable(&br);
		r = 0;
	}
	mq_broker_stop(br.broker);
	mq_broker_free(br.broker);
	cli_close(br.daemon);
	for (size_t i = 0; i < MAX_PENDING_CMDS; i++)
		json_decref(br.cmds[i].user_id);
	mq_state_free(&br.st);
	free(br.discovery_model);
	close(sig_fd);
	return r;
}
