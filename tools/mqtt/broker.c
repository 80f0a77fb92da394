/* broker.c — libmosquitto under the bridge's own loop (contract in broker.h).
 *
 * Why not mosquitto_loop_start(): its thread would call our callbacks concurrently with the
 * socket side, and its reconnect loop quits for good on some errors (TLS, auth). Driving
 * mosquitto_loop_read/write/misc from our poll() keeps everything on one thread and lets the
 * bridge decide the back-off and say clearly, once per attempt, why a connection failed:
 * refused by the broker (wrong password → "not authorised"), unreachable, or a TLS failure. */
#include "tools/mqtt/broker.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

#include "lib/clock.h"
#include "lib/log.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define MISC_PERIOD_MS 1000
#define STOP_FLUSH_MS 1000
#define MAX_PAYLOAD_BYTES 268435455u /* MQTT's remaining-length limit */

struct mq_broker {
	const struct mq_settings *s;
	struct mq_broker_callbacks cb;
	struct mosquitto *mosq;
	bool socket_open;       /* TCP (and TLS) up, CONNACK maybe pending */
	bool connected;         /* CONNACK accepted */
	bool stopping;
	bool host_set;          /* mosquitto_connect() ran once: reconnects reuse host/port */
	int backoff_ms;
	int64_t next_attempt_ms, next_misc_ms;
	unsigned pending;       /* QoS>0 publishes not yet acknowledged */
	struct mq_broker_stats stats;
};

static void schedule_retry(struct mq_broker *b)
{
	b->next_attempt_ms = mono_now_ms() + b->backoff_ms;
	b->backoff_ms = b->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b->backoff_ms * 2;
}

static void on_connect(struct mosquitto *mosq, void *userdata, int rc)
{
	(void)mosq;
	struct mq_broker *b = userdata;
	if (rc != 0) {
		log_error("MQTT broker %s:%d refused the connection: %s (check [mqtt] username "
			  "and password_file); retrying in %d s", b->s->host, b->s->port,
			  mosquitto_connack_string(rc), b->backoff_ms / 1000);
		schedule_retry(b);
		mosquitto_disconnect(b->mosq);
		return;
	}
	log_info("connected to MQTT broker %s:%d%s as %s", b->s->host, b->s->port,
		 b->s->tls_ca ? " (TLS)" : "", b->s->client_id);
	b->connected = true;
	b->backoff_ms = BACKOFF_MIN_MS;
	b->pending = 0;
	b->stats.connects++;
	if (b->cb.connected)
		b->cb.connected(b->cb.userdata);
}

static void on_disconnect(struct mosquitto *mosq, void *userdata, int rc)
{
	(void)mosq;
	struct mq_broker *b = userdata;
	bool was = b->connected;
	b->connected = false;
	b->socket_open = false;
	if (b->stopping)
		return;
	if (was) {
		log_warning("lost the connection to MQTT broker %s:%d (%s); reconnecting",
			    b->s->host, b->s->port, rc ? mosquitto_strerror(rc) : "closed");
		b->backoff_ms = BACKOFF_MIN_MS;
		schedule_retry(b);
	} else if (b->next_attempt_ms <= mono_now_ms()) {
		schedule_retry(b);
	}
}

static void on_publish(struct mosquitto *mosq, void *userdata, int mid)
{
	(void)mosq;
	(void)mid;
	struct mq_broker *b = userdata;
	if (b->pending)
		b->pending--;
}

static void on_message(struct mosquitto *mosq, void *userdata, const struct mosquitto_message *m)
{
	(void)mosq;
	struct mq_broker *b = userdata;
	if (b->cb.message)
		b->cb.message(b->cb.userdata, m->topic, m->payload, m->payloadlen > 0 ? (size_t)m->payloadlen : 0);
}

static void on_log(struct mosquitto *mosq, void *userdata, int level, const char *text)
{
	(void)mosq;
	(void)userdata;
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		log_warning("libmosquitto: %s", text);
}

/* An encrypted tls_key would make OpenSSL prompt on the terminal: refuse instead. */
static int no_key_password(char *buf, int size, int rwflag, void *userdata)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)userdata;
	return 0;
}

int mq_broker_new(const struct mq_settings *s, const struct mq_broker_callbacks *cb,
		  struct mq_broker **ret)
{
	int rc;
	mosquitto_lib_init();
	struct mq_broker *b = calloc(1, sizeof(*b));
	if (!b)
		return log_errno(LOG_ERR, ENOMEM, "MQTT client");
	b->s = s;
	b->cb = *cb;
	b->backoff_ms = BACKOFF_MIN_MS;
	b->mosq = mosquitto_new(s->client_id, true, b);
	if (!b->mosq) {
		free(b);
		return log_errno(LOG_ERR, errno ? errno : ENOMEM, "mosquitto_new");
	}
	mosquitto_connect_callback_set(b->mosq, on_connect);
	mosquitto_disconnect_callback_set(b->mosq, on_disconnect);
	mosquitto_publish_callback_set(b->mosq, on_publish);
	mosquitto_message_callback_set(b->mosq, on_message);
	mosquitto_log_callback_set(b->mosq, on_log);
	rc = mosquitto_will_set(b->mosq, s->t_availability, 7, "offline", s->qos, true);
	if (rc == MOSQ_ERR_SUCCESS && s->username)
		rc = mosquitto_username_pw_set(b->mosq, s->username, s->password);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_error("MQTT client setup: %s", mosquitto_strerror(rc));
		goto fail;
	}
	if (s->tls_ca) {
		rc = mosquitto_tls_set(b->mosq, s->tls_ca, NULL, s->tls_cert, s->tls_key,
				       no_key_password);
		if (rc != MOSQ_ERR_SUCCESS) {
			log_error("[mqtt] tls_ca %s / tls_cert %s / tls_key %s: cannot use them: %s",
				  s->tls_ca, s->tls_cert ? s->tls_cert : "-",
				  s->tls_key ? s->tls_key : "-", mosquitto_strerror(rc));
			goto fail;
		}
	}
	*ret = b;
	return 0;
fail:
	mosquitto_destroy(b->mosq);
	free(b);
	return -EINVAL;
}

void mq_broker_free(struct mq_broker *b)
{
	if (!b)
		return;
	mosquitto_destroy(b->mosq);
	free(b);
	mosquitto_lib_cleanup();
}

int mq_broker_fd(const struct mq_broker *b)
{
	return b->socket_open ? mosquitto_socket(b->mosq) : -1;
}

bool mq_broker_want_write(const struct mq_broker *b)
{
	return b->socket_open && mosquitto_want_write(b->mosq);
}

bool mq_broker_connected(const struct mq_broker *b)
{
	return b->connected;
}

/* A connection attempt failed, in mosquitto_connect() or later in its non-blocking TLS
 * handshake or CONNECT exchange: say why, then retry after the back-off. */
static void connect_failed(struct mq_broker *b, int rc)
{
	const char *why = rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
	if (rc == MOSQ_ERR_TLS)
		why = "TLS handshake failed (does [mqtt] tls_ca sign the broker's certificate, and "
		      "does its name match [mqtt] host?)";
	log_error("cannot connect to MQTT broker %s:%d: %s; retrying in %d s", b->s->host,
		  b->s->port, why, b->backoff_ms / 1000);
	schedule_retry(b);
}

/* A loop call failed: the connection is gone (on_disconnect may already have run). */
static void loop_failed(struct mq_broker *b, int rc)
{
	if (rc == MOSQ_ERR_SUCCESS || !b->socket_open)
		return;
	if (b->connected) {
		on_disconnect(b->mosq, b, rc);
	} else {
		b->socket_open = false;
		if (b->next_attempt_ms <= mono_now_ms())
			connect_failed(b, rc);
	}
}

void mq_broker_io(struct mq_broker *b, short revents)
{
	int rc = MOSQ_ERR_SUCCESS;
	if (!b->socket_open)
		return;
	if (revents & (POLLIN | POLLERR | POLLHUP))
		rc = mosquitto_loop_read(b->mosq, 16);
	if (rc == MOSQ_ERR_SUCCESS && b->socket_open && (revents & POLLOUT))
		rc = mosquitto_loop_write(b->mosq, 16);
	loop_failed(b, rc);
}

static void try_connect(struct mq_broker *b)
{
	int rc = b->host_set ? mosquitto_reconnect(b->mosq)
			     : mosquitto_connect(b->mosq, b->s->host, b->s->port, MQ_BROKER_KEEPALIVE_S);
	b->host_set = b->host_set || rc != MOSQ_ERR_INVAL;
	if (rc == MOSQ_ERR_SUCCESS) {
		b->socket_open = true;
		b->next_misc_ms = mono_now_ms() + MISC_PERIOD_MS;
		return;
	}
	connect_failed(b, rc);
}

void mq_broker_tick(struct mq_broker *b, int64_t now_ms)
{
	if (b->stopping)
		return;
	if (!b->socket_open) {
		if (now_ms >= b->next_attempt_ms)
			try_connect(b);
		return;
	}
	if (now_ms >= b->next_misc_ms) {
		b->next_misc_ms = now_ms + MISC_PERIOD_MS;
		loop_failed(b, mosquitto_loop_misc(b->mosq));
	}
}

int mq_broker_timeout_ms(const struct mq_broker *b, int64_t now_ms)
{
	int64_t due = b->socket_open ? b->next_misc_ms : b->next_attempt_ms;
	int64_t left = due - now_ms;
	return left < 0 ? 0 : left > MISC_PERIOD_MS ? MISC_PERIOD_MS : (int)left;
}

int mq_broker_publish(struct mq_broker *b, const char *topic, const void *payload, size_t len,
		      bool retain, bool droppable)
{
	if (!b->connected)
		return -ENOTCONN;
	if (droppable && b->pending >= MQ_BROKER_MAX_PENDING) {
		b->stats.dropped++;
		return -ENOBUFS;
	}
	if (len > (size_t)MAX_PAYLOAD_BYTES)
		return -EMSGSIZE;
	int rc = mosquitto_publish(b->mosq, NULL, topic, (int)len, payload, b->s->qos, retain);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_warning("MQTT publish to %s failed: %s", topic, mosquitto_strerror(rc));
		return rc == MOSQ_ERR_NOMEM ? -ENOMEM : -EIO;
	}
	if (b->s->qos > 0)
		b->pending++;
	b->stats.published++;
	return 0;
}

int mq_broker_subscribe(struct mq_broker *b, const char *topic)
{
	int rc = mosquitto_subscribe(b->mosq, NULL, topic, b->s->qos);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_warning("MQTT subscribe to %s failed: %s", topic, mosquitto_strerror(rc));
		return -EIO;
	}
	return 0;
}

void mq_broker_stop(struct mq_broker *b)
{
	if (b->connected) {
		mq_broker_publish(b, b->s->t_availability, "offline", 7, true, false);
		int64_t end = mono_now_ms() + STOP_FLUSH_MS;
		while (b->connected && (b->pending || mosquitto_want_write(b->mosq)) &&
		       mono_now_ms() < end) {
			struct pollfd p = { .fd = mosquitto_socket(b->mosq), .events = POLLIN };
			if (mosquitto_want_write(b->mosq))
				p.events |= POLLOUT;
			if (poll(&p, 1, 100) > 0)
				mq_broker_io(b, p.revents);
		}
	}
	b->stopping = true;
	if (b->socket_open)
		mosquitto_disconnect(b->mosq);
	b->connected = b->socket_open = false;
}

void mq_broker_get_stats(const struct mq_broker *b, struct mq_broker_stats *ret)
{
	*ret = b->stats;
}
