/* settings.c — from the validated INI to what camclass-mqtt uses (contract in settings.h).
 *
 * The INI has been checked by daemon/config.c already (the same validator the daemon runs), so
 * this only adds what needs the machine: the host name for the defaults and the password file,
 * which is read here once at start (a changed password takes a restart, like any key). */
#include "tools/mqtt/settings.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, f);
	int n = vasprintf(&s, f, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

static char *dup_or_null(const char *s)
{
	return *s ? strdup(s) : NULL;
}

char *mq_slug(const char *label)
{
	char *slug = strdup(label);
	if (!slug)
		return NULL;
	for (char *p = slug; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			*p = '_';
	}
	return slug;
}

/* The first line of the file: the password. Bounded; a file without a line is an error. */
static int read_password(const char *path, char **ret, char *err, size_t errlen)
{
	char buf[MQ_PASSWORD_MAX_BYTES + 2];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int r = -errno;
		snprintf(err, errlen, "[mqtt] password_file %s: cannot open: %s", path,
			 strerror(errno));
		return r;
	}
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;
			snprintf(err, errlen, "[mqtt] password_file %s: cannot read: %s", path,
				 strerror(errno));
			close(fd);
			return r;
		}
		if (n == 0 || len + (size_t)n == sizeof(buf) - 1) {
			len += (size_t)n;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	size_t line = strcspn(buf, "\r\n");
	if (line > MQ_PASSWORD_MAX_BYTES) {
		snprintf(err, errlen, "[mqtt] password_file %s: the password is longer than %d bytes",
			 path, MQ_PASSWORD_MAX_BYTES);
		return -EMSGSIZE;
	}
	if (line == 0 || memchr(buf, 0, line)) {
		snprintf(err, errlen, "[mqtt] password_file %s: %s", path,
			 line ? "NUL byte in the password" : "the first line is empty");
		return -EINVAL;
	}
	buf[line] = 0;
	char *pw = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	if (!pw) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*ret = pw;
	return 0;
}

int mq_settings_from_config(const struct config *c, const char *instance, const char *socket_path,
			    struct mq_settings *ret, char *err, size_t errlen)
{
	struct mq_settings s = { 0 };
	char host[256];
	int r;

	if (instance && (!*instance || instance[strcspn(instance, "/+# \t\r\n")] ||
			 strlen(instance) > 64)) {
		snprintf(err, errlen, "--instance '%s': must be 1..64 characters without '/', '+', "
			 "'#' or blanks", instance);
		return -EINVAL;
	}

	if (gethostname(host, sizeof(host)) < 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = 0;
	/* a host name is one topic level: keep it one (and free of wildcards) */
	for (char *p = host; *p; p++)
		if (*p == '/' || *p == '+' || *p == '#' || *p == ' ')
			*p = '_';

	s.port = c->mqtt.port;
	s.discovery = c->mqtt.discovery;
	s.qos = c->mqtt.qos;
	s.publish_results = c->mqtt.publish == CONFIG_MQTT_PUBLISH_RESULTS;
	s.max_rate = c->mqtt.max_rate;
	s.allow_commands = c->mqtt.allow_commands;
	if (socket_path)
		s.socket_path = strdup(socket_path);
	else if (instance)
		s.socket_path = fmt("/run/camclassd/%s.sock", instance);
	else
		s.socket_path = strdup(c->socket.path);
	s.host = strdup(c->mqtt.host);
	s.username = dup_or_null(c->mqtt.username);
	s.tls_ca = dup_or_null(c->mqtt.tls_ca);
	s.tls_cert = dup_or_null(c->mqtt.tls_cert);
	s.tls_key = dup_or_null(c->mqtt.tls_key);
	s.client_id = *c->mqtt.client_id ? strdup(c->mqtt.client_id)
		      : fmt("camclassd-%s%s%s", host, instance ? "-" : "", instance ? instance : "");
	s.prefix = *c->mqtt.topic_prefix ? strdup(c->mqtt.topic_prefix)
		   : fmt("camclassd/%s%s%s", host, instance ? "/" : "", instance ? instance : "");
	s.discovery_prefix = strdup(c->mqtt.discovery_prefix);
	if (!s.socket_path || !s.host || !s.client_id || !s.prefix || !s.discovery_prefix ||
	    (*c->mqtt.username && !s.username) || (*c->mqtt.tls_ca && !s.tls_ca) ||
	    (*c->mqtt.tls_cert && !s.tls_cert) || (*c->mqtt.tls_key && !s.tls_key))
		goto oom;
	s.t_availability = fmt("%s/availability", s.prefix);
	s.t_state = fmt("%s/state", s.prefix);
	s.t_attributes = fmt("%s/attributes", s.prefix);
	s.t_results = fmt("%s/results", s.prefix);
	s.t_status = fmt("%s/status", s.prefix);
	s.t_cmd = fmt("%s/cmd", s.prefix);
	s.t_reply = fmt("%s/reply", s.prefix);
	s.t_discovery_state = fmt("%s/sensor/%s/state/config", s.discovery_prefix, s.client_id);
	if (!s.t_availability || !s.t_state || !s.t_attributes || !s.t_results || !s.t_status ||
	    !s.t_cmd || !s.t_reply || !s.t_discovery_state)
		goto oom;
	char why[160];
	r = config_mqtt_split_labels(c->mqtt.binary_labels, s.binary_labels,
				     CONFIG_MQTT_MAX_BINARY_LABELS, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "[mqtt] binary_labels: %s", why);
		goto fail;
	}
	s.n_binary_labels = (size_t)r;
	if (*c->mqtt.password_file) {
		r = read_password(c->mqtt.password_file, &s.password, err, errlen);
		if (r < 0)
			goto fail;
	}
	*ret = s;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	r = -ENOMEM;
fail:
	mq_settings_free(&s);
	return r;
}

char *mq_settings_binary_topic(const struct mq_settings *s, size_t i)
{
	char *slug = mq_slug(s->binary_labels[i]);
	if (!slug)
		return NULL;
	char *t = fmt("%s/binary_sensor/%s/%s/config", s->discovery_prefix, s->client_id, slug);
	free(slug);
	return t;
}

void mq_settings_free(struct mq_settings *s)
{
	if (s->password)
		explicit_bzero(s->password, strlen(s->password));
	char *all[] = { s->socket_path, s->host, s->username, s->password, s->tls_ca,
			s->tls_cert, s->tls_key, s->client_id, s->prefix, s->discovery_prefix,
			s->t_availability, s->t_state, s->t_attributes, s->t_results, s->t_status,
			s->t_cmd, s->t_reply, s->t_discovery_state };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free(all[i]);
	memset(s, 0, sizeof(*s));
}
