/* config.c — parse camclassd.ini with inih into struct config (contract in config.h).
 *
 * Why it is built this way:
 * - One table lists every section/key with its type, range and place in the struct, so the
 *   parser, the duplicate check and the defaults cannot drift apart; the defaults live in
 *   config_defaults() next to the table and are documented in etc/camclassd.ini and README.md.
 * - Debian's inih does not pass line numbers to the handler (INI_HANDLER_LINENO is 0), so we
 *   feed it through ini_parse_stream() with our own line reader that counts lines. The reader
 *   also strips leading blanks (inih would otherwise treat indented lines as multi-line
 *   continuations, which would read as a confusing "duplicate key"), rejects lines longer than
 *   inih's buffer instead of letting it split them, and reports unknown or empty [section]
 *   headers, which inih never passes to the handler. It takes '\n', "\r\n" and a lone '\r' as
 *   line ends, refuses inih's "key: value" form (the documented one is "key = value"), never
 *   reads past a refused line (a NUL byte, an overlong line: /dev/zero ends at once) and never
 *   takes a read error for the end of the file.
 * - Choices are the modules' own enums, read with their own name tables (config.h); one value
 *   becomes one field in config_values.c, strictly (whole string, no overflow, finite); only
 *   the first error is kept, because later ones are often consequences of it. */
#include "daemon/config.h"

#include <errno.h>
#include <math.h>
#include <ini.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config_internal.h"
#include "ipc/wire.h"
#include "lib/log.h"
#include "lib/macros.h"

#define DEFAULT_DEVICE "/dev/video0"
#define DEFAULT_WIDTH 640
#define DEFAULT_HEIGHT 480
#define DEFAULT_FPS 15
#define DEFAULT_MODEL_PATH "/etc/camclassd/model.tflite"
#define DEFAULT_THREADS 1 /* the least CPU per frame (docs/engine.md#threads) */
#define DEFAULT_TOP_K 5
#define DEFAULT_THRESHOLD 0.1
#define DEFAULT_SOCKET_MODE 0660
#define DEFAULT_MAX_CLIENTS 64
#define DEFAULT_TEACH_DIR "/var/lib/camclassd/teach"
#define DEFAULT_TEACH_MAX_SAMPLES 200
#define DEFAULT_TEACH_MAX_DISK_MB 200
#define DEFAULT_DEBOUNCE 3
#define DEFAULT_MQTT_HOST "localhost"
#define DEFAULT_MQTT_PORT 1883
#define DEFAULT_MQTT_QOS 1
#define DEFAULT_MQTT_MAX_RATE 2.0
#define DEFAULT_MQTT_DISCOVERY_PREFIX "homeassistant"

static const char *const mode_names[] = { [CONFIG_MODE_CONTINUOUS] = "continuous",
					  [CONFIG_MODE_ON_DEMAND] = "on_demand" };

static int mode_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (strcmp(mode_names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}

static const char *source_name(int v) { return cap_source_kind_name((enum cap_source_kind)v); }
static const char *format_name(int v) { return cap_format_name((enum cap_pixfmt)v); }
static const char *backend_name(int v) { return eng_backend_name((enum eng_backend)v); }
static const char *resize_name(int v) { return cap_resize_name((enum cap_resize)v); }
static const char *crop_name(int v) { return cap_crop_name((enum cap_crop)v); }
static const char *mode_name(int v) { return config_mode_name((enum config_mode)v); }
static const char *output_name(int v) { return model_output_name((enum model_output)v); }

static const struct choice_set source_choices = { cap_source_kind_from_name, source_name,
						  CAP_SOURCE_FILE + 1 };
static const struct choice_set format_choices = { cap_format_from_name, format_name,
						  CAP_FMT_NV12 + 1 };
static const struct choice_set backend_choices = { eng_backend_from_name, backend_name,
						   ENG_BACKEND_XNNPACK + 1 };
static const struct choice_set resize_choices = { cap_resize_from_name, resize_name,
						  CAP_RESIZE_BILINEAR + 1 };
static const struct choice_set crop_choices = { cap_crop_from_name, crop_name, CAP_CROP_FULL + 1 };
static const struct choice_set mode_choices = { mode_from_name, mode_name, CONFIG_MODE_ON_DEMAND + 1 };
static const struct choice_set output_choices = { model_output_from_name, output_name,
						  MODEL_OUTPUT_LOGITS + 1 };

#define OFF(member) offsetof(struct config, member)

static const struct key_def keys[] = {
	{ "camera", "source", K_CHOICE, OFF(camera.source), 0, 0, 0, 0, &source_choices },
	{ "camera", "device", K_PATH, OFF(camera.device), 0, 0, 0, 0, NULL },
	{ "camera", "file", K_PATH, OFF(camera.file), 0, 0, 0, 0, NULL },
	{ "camera", "format", K_CHOICE, OFF(camera.format), 0, 0, 0, 0, &format_choices },
	{ "camera", "width", K_INT, OFF(camera.width), 16, 8192, 0, 0, NULL },
	{ "camera", "height", K_INT, OFF(camera.height), 16, 8192, 0, 0, NULL },
	{ "camera", "fps", K_INT, OFF(camera.fps), 1, 240, 0, 0, NULL },
	{ "model", "path", K_PATH, OFF(model.path), 0, 0, 0, 0, NULL },
	{ "model", "labels", K_STRING, OFF(model.labels), 0, 0, 0, 0, NULL }, /* "" = from the model */
	{ "model", "backend", K_CHOICE, OFF(model.backend), 0, 0, 0, 0, &backend_choices },
	{ "model", "threads", K_INT, OFF(model.threads), 1, 64, 0, 0, NULL },
	{ "model", "resize", K_CHOICE, OFF(model.resize), 0, 0, 0, 0, &resize_choices },
	{ "model", "crop", K_CHOICE, OFF(model.crop), 0, 0, 0, 0, &crop_choices },
	{ "model", "input_mean", K_DOUBLE, OFF(model.input_mean), -65536, 65536, false, false, NULL },
	{ "model", "input_std", K_DOUBLE, OFF(model.input_std), 0, 65536, true, false, NULL },
	{ "model", "output", K_CHOICE, OFF(model.output), 0, 0, 0, 0, &output_choices },
	{ "model", "roi", K_ROI, OFF(model.roi), 0, 0, 0, 0, NULL },
	{ "classify", "mode", K_CHOICE, OFF(classify.mode), 0, 0, 0, 0, &mode_choices },
	{ "classify", "rate", K_DOUBLE, OFF(classify.rate), 0, 1000, false, false, NULL },
	{ "classify", "top_k", K_INT, OFF(classify.top_k), 1, WIRE_MAX_LABELS, 0, 0, NULL },
	{ "classify", "threshold", K_DOUBLE, OFF(classify.threshold), 0, 1, false, false, NULL },
	{ "classify", "smoothing", K_DOUBLE, OFF(classify.smoothing), 0, 1, false, true, NULL },
	{ "classify", "debounce", K_INT, OFF(classify.debounce), 1, 1000, 0, 0, NULL },
	{ "socket", "path", K_SOCKET_PATH, OFF(socket.path), 0, 0, 0, 0, NULL },
	{ "socket", "mode", K_OCTAL, OFF(socket.mode), 0, 0777, 0, 0, NULL },
	{ "socket", "group", K_STRING, OFF(socket.group), 0, 0, 0, 0, NULL },
	{ "socket", "max_clients", K_INT, OFF(socket.max_clients), 1, 4096, 0, 0, NULL },
	{ "log", "level", K_LEVEL, OFF(log.level), 0, 0, 0, 0, NULL },
	{ "teach", "dir", K_PATH, OFF(teach.dir), 0, 0, 0, 0, NULL },
	{ "teach", "base", K_PATH, OFF(teach.base), 0, 0, 0, 0, NULL },
	{ "teach", "max_samples_per_label", K_INT, OFF(teach.max_samples_per_label), 2, 10000, 0, 0, NULL },
	{ "teach", "max_disk_mb", K_INT, OFF(teach.max_disk_mb), 1, 100000, 0, 0, NULL },
	{ "web", "listen", K_STRING, OFF(web.listen), 0, 0, 0, 0, NULL },
	{ "web", "auth", K_CHOICE, OFF(web.auth), 0, 0, 0, 0, &cfg_web_auth_choices },
	{ "web", "auth_file", K_PATH, OFF(web.auth_file), 0, 0, 0, 0, NULL },
	{ "web", "allow_teach", K_CHOICE, OFF(web.allow_teach), 0, 0, 0, 0, &cfg_yes_no_choices },
	{ "web", "max_connections", K_INT, OFF(web.max_connections), 1, 1024, 0, 0, NULL },
	{ "web", "stream_fps", K_INT, OFF(web.stream_fps), 1, 30, 0, 0, NULL },
	{ "mqtt", "host", K_NAME, OFF(mqtt.host), 1, 0, 0, 0, NULL },
	{ "mqtt", "port", K_INT, OFF(mqtt.port), 1, 65535, 0, 0, NULL },
	{ "mqtt", "username", K_NAME, OFF(mqtt.username), 0, 0, 0, 0, NULL },
	{ "mqtt", "password_file", K_PATH, OFF(mqtt.password_file), 0, 0, 0, 0, NULL },
	{ "mqtt", "tls_ca", K_PATH, OFF(mqtt.tls_ca), 0, 0, 0, 0, NULL },
	{ "mqtt", "tls_cert", K_PATH, OFF(mqtt.tls_cert), 0, 0, 0, 0, NULL },
	{ "mqtt", "tls_key", K_PATH, OFF(mqtt.tls_key), 0, 0, 0, 0, NULL },
	{ "mqtt", "client_id", K_NAME, OFF(mqtt.client_id), 0, 0, 0, 0, NULL },
	{ "mqtt", "topic_prefix", K_TOPIC, OFF(mqtt.topic_prefix), 0, 0, 0, 0, NULL },
	{ "mqtt", "discovery", K_CHOICE, OFF(mqtt.discovery), 0, 0, 0, 0, &cfg_yes_no_choices },
	{ "mqtt", "discovery_prefix", K_TOPIC, OFF(mqtt.discovery_prefix), 1, 0, 0, 0, NULL },
	{ "mqtt", "qos", K_INT, OFF(mqtt.qos), 0, 2, 0, 0, NULL },
	{ "mqtt", "publish", K_CHOICE, OFF(mqtt.publish), 0, 0, 0, 0, &cfg_mqtt_publish_choices },
	{ "mqtt", "max_rate", K_DOUBLE, OFF(mqtt.max_rate), 0, 100, true, false, NULL },
	{ "mqtt", "binary_labels", K_LABELS, OFF(mqtt.binary_labels), 0, 0, 0, 0, NULL },
	{ "mqtt", "allow_commands", K_CHOICE, OFF(mqtt.allow_commands), 0, 0, 0, 0,
	  &cfg_yes_no_choices },
};
#define N_KEYS ARRAY_SIZE(keys)

static int handle_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;

	if (ctx->err_line)
		return 1; /* keep only the first error; inih goes on to the end */
	if (!*section) {
		cfg_set_error(ctx, ctx->lineno, NULL, NULL, "%s: key outside of any [section]", name);
		return 0;
	}
	if (!cfg_section_known(section))
		return 1; /* reported by read_line when the header was read */
	if (strcmp(section, "camera") == 0 &&
	    strncmp(name, CONTROL_PREFIX, strlen(CONTROL_PREFIX)) == 0)
		return cfg_handle_control(ctx, name, value);
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].section, section) != 0 || strcmp(keys[i].name, name) != 0)
			continue;
		if (ctx->seen_line[i]) {
			cfg_set_error(ctx, ctx->lineno, section, name,
				  "duplicate key (first set on line %d)", ctx->seen_line[i]);
			return 0;
		}
		ctx->seen_line[i] = ctx->lineno;
		return cfg_apply_key(ctx, &keys[i], value);
	}
	cfg_set_error(ctx, ctx->lineno, section, name, "unknown key");
	return 0;
}

static int key_index(const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Rules that involve more than one key, reported at the line of the key that asks for more. */
static void check_combinations(struct parse_ctx *ctx)
{
	const struct config *c = ctx->cfg;
	if (c->camera.source == CAP_SOURCE_FILE && !*c->camera.file)
		cfg_set_error(ctx, ctx->seen_line[key_index("camera", "source")], "camera", "source",
			  "source = file needs [camera] file = PATH");
	/* teaching is on when the file has a [teach] key */
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, "teach") == 0 && ctx->seen_line[i])
			ctx->cfg->teach.enabled = true;
	cfg_check_web(ctx, ctx->seen_line[key_index("web", "listen")],
		      ctx->seen_line[key_index("web", "auth")]);
	if (*c->mqtt.password_file && !*c->mqtt.username)
		cfg_set_error(ctx, ctx->seen_line[key_index("mqtt", "password_file")], "mqtt",
			      "password_file", "needs [mqtt] username");
	if (!*c->mqtt.tls_cert != !*c->mqtt.tls_key) {
		const char *key = *c->mqtt.tls_cert ? "tls_cert" : "tls_key";
		cfg_set_error(ctx, ctx->seen_line[key_index("mqtt", key)], "mqtt", key,
			      "tls_cert and tls_key go together");
	}
	if (*c->mqtt.tls_cert && !*c->mqtt.tls_ca)
		cfg_set_error(ctx, ctx->seen_line[key_index("mqtt", "tls_cert")], "mqtt", "tls_cert",
			      "needs [mqtt] tls_ca (TLS is on when tls_ca is set)");
}

int config_defaults(struct config *ret)
{
	struct config c = {
		.camera = { .source = CAP_SOURCE_V4L2, .format = CAP_FMT_AUTO,
			    .width = DEFAULT_WIDTH, .height = DEFAULT_HEIGHT, .fps = DEFAULT_FPS },
		.model = { .backend = ENG_BACKEND_AUTO, .threads = DEFAULT_THREADS,
			   .resize = CAP_RESIZE_AREA, .crop = CAP_CROP_CENTER, .roi = ROI_FULL, .input_mean = NAN,
			   .input_std = NAN, .output = MODEL_OUTPUT_AUTO },
		.classify = { .mode = CONFIG_MODE_CONTINUOUS, .rate = 0, .top_k = DEFAULT_TOP_K,
			      .threshold = DEFAULT_THRESHOLD, .smoothing = 0,
			      .debounce = DEFAULT_DEBOUNCE },
		.socket = { .mode = DEFAULT_SOCKET_MODE, .max_clients = DEFAULT_MAX_CLIENTS },
		.log = { .level = LOG_INFO },
		.web = { .auth = CONFIG_WEB_AUTH_NONE, .max_connections = CFG_WEB_MAX_CONNECTIONS,
			 .stream_fps = CFG_WEB_STREAM_FPS },
		.mqtt = { .port = DEFAULT_MQTT_PORT, .discovery = 1, .qos = DEFAULT_MQTT_QOS,
			  .publish = CONFIG_MQTT_PUBLISH_STATE, .max_rate = DEFAULT_MQTT_MAX_RATE },
		.teach = { .max_samples_per_label = DEFAULT_TEACH_MAX_SAMPLES, .max_disk_mb = DEFAULT_TEACH_MAX_DISK_MB },
	};
	c.camera.device = strdup(DEFAULT_DEVICE);
	c.camera.file = strdup("");
	c.model.path = strdup(DEFAULT_MODEL_PATH);
	c.model.labels = strdup("");
	c.socket.path = strdup(WIRE_DEFAULT_SOCKET);
	c.socket.group = strdup("");
	c.teach.dir = strdup(DEFAULT_TEACH_DIR);
	c.teach.base = strdup("");
	c.web.listen = strdup(CFG_WEB_LISTEN);
	c.web.auth_file = strdup("");
	c.mqtt.host = strdup(DEFAULT_MQTT_HOST);
	c.mqtt.discovery_prefix = strdup(DEFAULT_MQTT_DISCOVERY_PREFIX);
	char **empty[] = { &c.mqtt.username, &c.mqtt.password_file, &c.mqtt.tls_ca,
			   &c.mqtt.tls_cert, &c.mqtt.tls_key, &c.mqtt.client_id,
			   &c.mqtt.topic_prefix, &c.mqtt.binary_labels };
	bool mqtt_ok = c.mqtt.host && c.mqtt.discovery_prefix;
	for (size_t i = 0; i < ARRAY_SIZE(empty); i++)
		mqtt_ok = (*empty[i] = strdup("")) && mqtt_ok;
	if (!c.camera.device || !c.camera.file || !c.model.path || !c.model.labels ||
	    !c.socket.path || !c.socket.group || !mqtt_ok || !c.teach.dir || !c.teach.base ||
	    !c.web.listen || !c.web.auth_file) {
		config_free(&c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

int config_load(const char *path, struct config *ret, char *err, size_t errlen)
{
	int seen_line[N_KEYS] = { 0 };
	struct parse_ctx ctx = { .path = path, .err = err, .errlen = errlen, .seen_line = seen_line };
	struct config c;
	int r;

	if (errlen)
		err[0] = 0;
	r = config_defaults(&c);
	if (r < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		return r;
	}
	ctx.cfg = &c;
	c.path = strdup(path);
	if (!c.path) {
		snprintf(err, errlen, "%s: out of memory", path);
		r = -ENOMEM;
		goto fail;
	}
	ctx.f = fopen(path, "re");
	if (!ctx.f) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	r = ini_parse_stream(cfg_read_line, &ctx, handle_key, &ctx);
	if (ctx.read_errno) {
		r = -ctx.read_errno;
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(ctx.read_errno));
		goto fail;
	}
	if (r > 0 && (!ctx.err_line || r < ctx.err_line)) {
		ctx.err_line = 0; /* an earlier syntax error wins */
		cfg_set_error(&ctx, r, NULL, NULL,
			  "syntax error (expected '[section]', 'key = value' or a comment)");
	} else if (r < 0) {
		snprintf(err, errlen, "%s: out of memory while parsing", path);
		r = -ENOMEM;
		goto fail;
	}
	if (!ctx.err_line)
		check_combinations(&ctx);
	if (ctx.err_line) {
		r = -EINVAL;
		goto fail;
	}
	fclose(ctx.f);
	free(ctx.line);
	*ret = c;
	return 0;
fail:
	if (ctx.f)
		fclose(ctx.f);
	free(ctx.line);
	config_free(&c);
	return r;
}

void config_free(struct config *c)
{
	free(c->path);
	free(c->camera.device);
	free(c->camera.file);
	free(c->model.path);
	free(c->model.labels);
	free(c->socket.path);
	free(c->socket.group);
	free(c->teach.dir);
	free(c->teach.base);
	c->teach.dir = c->teach.base = NULL;
	c->path = c->camera.device = c->camera.file = NULL;
	c->model.path = c->model.labels = c->socket.path = c->socket.group = NULL;
	free(c->web.listen);
	free(c->web.auth_file);
	c->web.listen = c->web.auth_file = NULL;
	char **mqtt[] = { &c->mqtt.host, &c->mqtt.username, &c->mqtt.password_file,
			  &c->mqtt.tls_ca, &c->mqtt.tls_cert, &c->mqtt.tls_key,
			  &c->mqtt.client_id, &c->mqtt.topic_prefix, &c->mqtt.discovery_prefix,
			  &c->mqtt.binary_labels };
	for (size_t i = 0; i < ARRAY_SIZE(mqtt); i++) {
		free(*mqtt[i]);
		*mqtt[i] = NULL;
	}
}

const char *config_mode_name(enum config_mode m)
{
	return (unsigned)m < ARRAY_SIZE(mode_names) ? mode_names[m] : "?";
}
