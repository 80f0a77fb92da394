/* broker.h — camclass-mqtt's connection to the MQTT broker (libmosquitto), driven by the
 * bridge's own poll loop.
 *
 * Contract
 * - One thread: every function and every callback runs on the bridge's main thread (the
 *   callbacks from inside mq_broker_io/mq_broker_tick). No libmosquitto thread is started.
 * - mq_broker_new() sets up client id, last will (<prefix>/availability = "offline", retained),
 *   credentials and TLS; it does not connect. mq_broker_tick() connects when due and
 *   reconnects after a loss with back-off (1 s doubling to 30 s), logging each failure with
 *   its cause once per attempt. callbacks.connected runs after every accepted CONNACK (the
 *   bridge republishes its retained topics then: a broker without persistence forgets them).
 * - Poll: mq_broker_fd() (-1 while not connected) with POLLIN, plus POLLOUT when
 *   mq_broker_want_write(); hand the revents to mq_broker_io(). mq_broker_timeout_ms() says
 *   how long the loop may sleep before the next mq_broker_tick().
 * - Bounded: publish only while connected (-ENOTCONN otherwise: retained topics are
 *   republished on connect, results are not kept). Droppable publishes (results, status) are
 *   refused with -ENOBUFS while MQ_BROKER_MAX_PENDING QoS>0 messages await their ack.
 * - mq_broker_stop() publishes "offline" (retained), waits up to a second for it to leave,
 *   and disconnects cleanly (no last will then). Errors: 0 or negative errno.
 * - Memory: settings are borrowed for the broker's lifetime; payloads are copied. */
#ifndef CAMCLASS_TOOLS_MQTT_BROKER_H
#define CAMCLASS_TOOLS_MQTT_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/mqtt/settings.h"

#define MQ_BROKER_MAX_PENDING 64
#define MQ_BROKER_KEEPALIVE_S 30

struct mq_broker;

struct mq_broker_callbacks {
	void *userdata;
	void (*connected)(void *userdata);
	void (*message)(void *userdata, const char *topic, const void *payload, size_t len);
};

int mq_broker_new(const struct mq_settings *s, const struct mq_broker_callbacks *cb,
		  struct mq_broker **ret);
void mq_broker_free(struct mq_broker *b);

int mq_broker_fd(const struct mq_broker *b);
bool mq_broker_want_write(const struct mq_broker *b);
bool mq_broker_connected(const struct mq_broker *b);
void mq_broker_io(struct mq_broker *b, short revents);
void mq_broker_tick(struct mq_broker *b, int64_t now_ms);
int mq_broker_timeout_ms(const struct mq_broker *b, int64_t now_ms);

int mq_broker_publish(struct mq_broker *b, const char *topic, const void *payload, size_t len,
		      bool retain, bool droppable);
int mq_broker_subscribe(struct mq_broker *b, const char *topic);
void mq_broker_stop(struct mq_broker *b);

/* Counters for the status line and the benchmark. */
struct mq_broker_stats {
	uint64_t published, dropped, connects;
};
void mq_broker_get_stats(const struct mq_broker *b, struct mq_broker_stats *ret);

#endif
