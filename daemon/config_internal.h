/* config_internal.h — what config.c (the key table, the INI walk), config_lines.c (the line
 * reader) and config_values.c (turning one value into a struct field, with its range and error
 * text) share. Nothing outside
 * daemon/config*.c includes it. */
#ifndef CAMCLASS_DAEMON_CONFIG_INTERNAL_H
#define CAMCLASS_DAEMON_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "daemon/config.h"

#define CONTROL_PREFIX "control."

enum key_type {
	K_STRING, K_PATH, K_SOCKET_PATH, K_INT, K_DOUBLE, K_CHOICE, K_OCTAL, K_LEVEL,
	/* [mqtt] values, checked by config_mqtt.c; K_NAME and K_TOPIC with min = 1 must not be
	 * empty, with min = 0 empty means the default */
	K_NAME,   /* one word: no blanks or control characters (host, client id, user) */
	K_TOPIC,  /* an MQTT topic prefix: no '+', '#', blanks, empty levels */
	K_LABELS, /* config_mqtt_split_labels() */
	K_ROI,    /* [model] roi: roi_parse() */
};

/* A choice key's values are a module's own enum, 0..count-1, read with that module's name
 * table (capture/names.c, inference/engine_info.c); wrappers give them one signature. */
struct choice_set {
	int (*from_name)(const char *name);   /* the value, or < 0 */
	const char *(*name_of)(int value);
	int count;
};

struct key_def {
	const char *section, *name;
	enum key_type type;
	size_t offset;
	double min, max;               /* K_INT, K_DOUBLE, K_OCTAL */
	bool min_open, max_open;       /* exclusive bounds */
	const struct choice_set *choices; /* K_CHOICE */
};

struct parse_ctx {
	const char *path;
	FILE *f;
	char *line;          /* getline buffer */
	size_t line_cap;
	int lineno;          /* line most recently handed to inih */
	int err_line;        /* line of the first error; 0 = none yet */
	char *err;
	size_t errlen;
	int read_errno;
	int *seen_line;       /* per key of the table: line it was set on, 0 = not yet */
	struct config *cfg;
};

/* Keeps the first error only: "FILE:LINE: [section] key: reason" (key/section may be NULL). */
void cfg_set_error(struct parse_ctx *ctx, int line, const char *section, const char *key,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Set the key's field from value: 1, or 0 with the error set (inih's handler convention). */
int cfg_apply_key(struct parse_ctx *ctx, const struct key_def *k, const char *value);
/* K_NAME, K_TOPIC, K_LABELS (config_mqtt.c): 1, or 0 with the error set. */
int cfg_apply_mqtt_value(struct parse_ctx *ctx, const struct key_def *k, const char *value);
/* The yes/no and publish choices of [mqtt] (config_mqtt.c). */
extern const struct choice_set cfg_yes_no_choices, cfg_mqtt_publish_choices;
/* A `control.<name> = <int>` line of [camera]: 1, or 0 with the error set. */
int cfg_handle_control(struct parse_ctx *ctx, const char *name, const char *value);

/* config_web.c: [web] (read by camclass-web, checked here like every section) */
#define CFG_WEB_LISTEN "127.0.0.1:8080"
#define CFG_WEB_MAX_CONNECTIONS 128
#define CFG_WEB_STREAM_FPS 5
extern const struct choice_set cfg_web_auth_choices;
/* listen must parse, auth other than none needs auth_file; reported at those keys' lines. */
void cfg_check_web(struct parse_ctx *ctx, int listen_line, int auth_line);

/* config_lines.c: whether [name] is one of the file's sections, and inih's reader callback
 * (stream is the struct parse_ctx; one counted line per call, NULL at the end or an error). */
bool cfg_section_known(const char *name);
char *cfg_read_line(char *str, int num, void *stream);

#endif
