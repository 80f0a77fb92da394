/* settings.h — camclass-mqtt's resolved settings: the [mqtt] and [socket] sections of the
 * daemon's INI (checked by daemon/config.c) plus what depends on the machine.
 *
 * Contract
 * - mq_settings_from_config() copies what the bridge needs out of a loaded struct config,
 *   fills the hostname defaults (client_id camclassd-<hostname>, topic_prefix
 *   camclassd/<hostname>), builds every topic name, splits binary_labels and reads the
 *   password from password_file (first line, without its newline; at most
 *   MQ_PASSWORD_MAX_BYTES). The struct owns its strings; mq_settings_free() releases them.
 * - Errors: -errno with a sentence naming the file or key in err; *ret written only on success.
 * - Main thread only (it is read-only afterwards). */
#ifndef CAMCLASS_TOOLS_MQTT_SETTINGS_H
#define CAMCLASS_TOOLS_MQTT_SETTINGS_H

#include <stddef.h>

#include "daemon/config.h"

#define MQ_PASSWORD_MAX_BYTES 4096
#define MQ_STATUS_PERIOD_MS 30000

struct mq_settings {
	char *socket_path;
	char *host;
	int port;
	char *username, *password;   /* NULL = none */
	char *tls_ca, *tls_cert, *tls_key; /* NULL = none; TLS when tls_ca is set */
	char *client_id;
	char *prefix;                /* topic_prefix */
	int discovery;
	char *discovery_prefix;
	int qos;
	int publish_results;         /* publish = results */
	double max_rate;
	int allow_commands;
	char binary_labels[CONFIG_MQTT_MAX_BINARY_LABELS][CONFIG_MQTT_LABEL_MAX];
	size_t n_binary_labels;
	/* topics */
	char *t_availability, *t_state, *t_attributes, *t_results, *t_status, *t_cmd, *t_reply;
	char *t_discovery_state;     /* <discovery_prefix>/sensor/<client_id>/state/config */
};

/* instance: NULL, or the template unit's %i (camclass-mqtt@NAME): then the socket is
 * /run/camclassd/NAME.sock and the defaults become camclassd-<hostname>-NAME and
 * camclassd/<hostname>/NAME (one broker, many cameras). socket_path: NULL or an override. */
int mq_settings_from_config(const struct config *c, const char *instance, const char *socket_path,
			    struct mq_settings *ret, char *err, size_t errlen);
void mq_settings_free(struct mq_settings *s);

/* <discovery_prefix>/binary_sensor/<client_id>/<slug of label i>/config, malloc'd. */
char *mq_settings_binary_topic(const struct mq_settings *s, size_t i);
/* The label as an id part: lowercase a-z0-9, everything else '_' (malloc'd). */
char *mq_slug(const char *label);

#endif
