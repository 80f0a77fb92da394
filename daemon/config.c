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
 *   headers, which inih never passes to the handler.
 * - Numbers are parsed strictly (whole string, no overflow, finite); only the first error is
 *   kept, because later ones are often consequences of it. */
#include "daemon/config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ipc/server.h"
#include "lib/log.h"
#include "lib/macros.h"

#define DEFAULT_DEVICE "/dev/video0"
#define DEFAULT_WIDTH 640
#define DEFAULT_HEIGHT 480
#define DEFAULT_FPS 15
#define DEFAULT_MODEL_PATH "/etc/camclassd/model.tflite"
#define DEFAULT_LABELS_PATH "/etc/camclassd/labels.txt"
#define DEFAULT_THREADS 2
#define DEFAULT_TOP_K 5
#define DEFAULT_THRESHOLD 0.1
#define DEFAULT_SOCKET_MODE 0660
#define DEFAULT_MAX_CLIENTS 64
#define DEFAULT_WEB_LISTEN "127.0.0.1:8080"
#define DEFAULT_WEB_MAX_CONNECTIONS 128
#define DEFAULT_WEB_STREAM_FPS 5

enum key_type { K_STRING, K_PATH, K_SOCKET_PATH, K_INT, K_DOUBLE, K_CHOICE, K_OCTAL, K_LEVEL };

struct choice {
	const char *name;
	int value;
};

struct key_def {
	const char *section, *name;
	enum key_type type;
	size_t offset;
	double min, max;               /* K_INT, K_DOUBLE, K_OCTAL */
	bool min_open, max_open;       /* exclusive bounds */
	const struct choice *choices;  /* K_CHOICE, NULL-terminated */
};

static const struct choice source_choices[] = {
	{ "v4l2", CONFIG_SOURCE_V4L2 }, { "file", CONFIG_SOURCE_FILE }, { NULL, 0 } };
static const struct choice format_choices[] = {
	{ "auto", CONFIG_FORMAT_AUTO }, { "mjpeg", CONFIG_FORMAT_MJPEG },
	{ "yuyv", CONFIG_FORMAT_YUYV }, { "grey", CONFIG_FORMAT_GREY },
	{ "rgb24", CONFIG_FORMAT_RGB24 }, { "nv12", CONFIG_FORMAT_NV12 }, { NULL, 0 } };
static const struct choice backend_choices[] = {
	{ "auto", CONFIG_BACKEND_AUTO }, { "builtin", CONFIG_BACKEND_BUILTIN },
	{ "xnnpack", CONFIG_BACKEND_XNNPACK }, { NULL, 0 } };
static const struct choice resize_choices[] = {
	{ "area", CONFIG_RESIZE_AREA }, { "bilinear", CONFIG_RESIZE_BILINEAR }, { NULL, 0 } };
static const struct choice crop_choices[] = {
	{ "center", CONFIG_CROP_CENTER }, { "full", CONFIG_CROP_FULL }, { NULL, 0 } };
static const struct choice mode_choices[] = {
	{ "continuous", CONFIG_MODE_CONTINUOUS }, { "on_demand", CONFIG_MODE_ON_DEMAND },
	{ NULL, 0 } };
static const struct choice web_auth_choices[] = {
	{ "none", CONFIG_WEB_AUTH_NONE }, { "token", CONFIG_WEB_AUTH_TOKEN },
	{ "htpasswd", CONFIG_WEB_AUTH_HTPASSWD }, { NULL, 0 } };
static const struct choice bool_choices[] = { { "yes", 1 }, { "no", 0 }, { NULL, 0 } };

#define OFF(member) offsetof(struct config, member)

static const struct key_def keys[] = {
	{ "camera", "source", K_CHOICE, OFF(camera.source), 0, 0, 0, 0, source_choices },
	{ "camera", "device", K_PATH, OFF(camera.device), 0, 0, 0, 0, NULL },
	{ "camera", "file", K_PATH, OFF(camera.file), 0, 0, 0, 0, NULL },
	{ "camera", "format", K_CHOICE, OFF(camera.format), 0, 0, 0, 0, format_choices },
	{ "camera", "width", K_INT, OFF(camera.width), 16, 8192, 0, 0, NULL },
	{ "camera", "height", K_INT, OFF(camera.height), 16, 8192, 0, 0, NULL },
	{ "camera", "fps", K_INT, OFF(camera.fps), 1, 240, 0, 0, NULL },
	{ "model", "path", K_PATH, OFF(model.path), 0, 0, 0, 0, NULL },
	{ "model", "labels", K_PATH, OFF(model.labels), 0, 0, 0, 0, NULL },
	{ "model", "backend", K_CHOICE, OFF(model.backend), 0, 0, 0, 0, backend_choices },
	{ "model", "threads", K_INT, OFF(model.threads), 1, 64, 0, 0, NULL },
	{ "model", "resize", K_CHOICE, OFF(model.resize), 0, 0, 0, 0, resize_choices },
	{ "model", "crop", K_CHOICE, OFF(model.crop), 0, 0, 0, 0, crop_choices },
	{ "classify", "mode", K_CHOICE, OFF(classify.mode), 0, 0, 0, 0, mode_choices },
	{ "classify", "rate", K_DOUBLE, OFF(classify.rate), 0, 1000, false, false, NULL },
	{ "classify", "top_k", K_INT, OFF(classify.top_k), 1, SRV_RESULT_MAX_LABELS, 0, 0, NULL },
	{ "classify", "threshold", K_DOUBLE, OFF(classify.threshold), 0, 1, false, false, NULL },
	{ "classify", "smoothing", K_DOUBLE, OFF(classify.smoothing), 0, 1, false, true, NULL },
	{ "socket", "path", K_SOCKET_PATH, OFF(socket.path), 0, 0, 0, 0, NULL },
	{ "socket", "mode", K_OCTAL, OFF(socket.mode), 0, 0777, 0, 0, NULL },
	{ "socket", "group", K_STRING, OFF(socket.group), 0, 0, 0, 0, NULL },
	{ "socket", "max_clients", K_INT, OFF(socket.max_clients), 1, 4096, 0, 0, NULL },
	{ "log", "level", K_LEVEL, OFF(log.level), 0, 0, 0, 0, NULL },
	{ "web", "listen", K_STRING, OFF(web.listen), 0, 0, 0, 0, NULL },
	{ "web", "auth", K_CHOICE, OFF(web.auth), 0, 0, 0, 0, web_auth_choices },
	{ "web", "auth_file", K_PATH, OFF(web.auth_file), 0, 0, 0, 0, NULL },
	{ "web", "allow_teach", K_CHOICE, OFF(web.allow_teach), 0, 0, 0, 0, bool_choices },
	{ "web", "max_connections", K_INT, OFF(web.max_connections), 1, 1024, 0, 0, NULL },
	{ "web", "stream_fps", K_INT, OFF(web.stream_fps), 1, 30, 0, 0, NULL },
};
#define N_KEYS ARRAY_SIZE(keys)

static const char *const sections[] = { "camera", "model", "classify", "socket", "log", "web" };
#define CONTROL_PREFIX "control."

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
	int seen_line[N_KEYS];
	struct config *cfg;
};

static bool section_known(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if (strcmp(sections[i], name) == 0)
			return true;
	return false;
}

static void set_error(struct parse_ctx *ctx, int line, const char *section, const char *key,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void set_error(struct parse_ctx *ctx, int line, const char *section, const char *key,
		      const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	if (ctx->err_line)
		return;
	ctx->err_line = line;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (key)
		snprintf(ctx->err, ctx->errlen, "%s:%d: [%s] %s: %s", ctx->path, line, section, key,
			 reason);
	else if (section)
		snprintf(ctx->err, ctx->errlen, "%s:%d: [%s]: %s", ctx->path, line, section, reason);
	else
		snprintf(ctx->err, ctx->errlen, "%s:%d: %s", ctx->path, line, reason);
}

/* inih's reader callback: one line per call, counted; see the comment at the top. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	errno = 0;
	ssize_t n = getline(&ctx->line, &ctx->line_cap, ctx->f);
	if (n < 0) {
		if (ferror(ctx->f))
			ctx->read_errno = errno ? errno : EIO;
		return NULL;
	}
	ctx->lineno++;
	const char *p = ctx->line;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t len = strlen(p);
	if ((size_t)n != (size_t)(p - ctx->line) + len) {
		set_error(ctx, ctx->lineno, NULL, NULL, "NUL byte in line");
		p = "\n";
		len = 1;
	} else if (len + 1 > (size_t)num) {
		set_error(ctx, ctx->lineno, NULL, NULL, "line too long (at most %d characters)",
			  num - 2);
		p = "\n";
		len = 1;
	} else if (*p == '[') {
		const char *end = strchr(p, ']');
		if (end) {
			char name[64];
			size_t nlen = (size_t)(end - p - 1);
			if (nlen >= sizeof(name))
				nlen = sizeof(name) - 1;
			memcpy(name, p + 1, nlen);
			name[nlen] = 0;
			if (!section_known(name))
				set_error(ctx, ctx->lineno, name, NULL, "unknown section");
		}
	}
	memcpy(str, p, len + 1);
	return str;
}

static int parse_long(const char *s, long *ret)
{
	char *end;
	if (!*s)
		return -EINVAL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end || end == s)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_double(const char *s, double *ret)
{
	char *end;
	if (!*s)
		return -EINVAL;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || end == s || !isfinite(v))
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*ret = v;
	return 0;
}

static bool in_range(const struct key_def *k, double v)
{
	if (k->min_open ? v <= k->min : v < k->min)
		return false;
	if (k->max_open ? v >= k->max : v > k->max)
		return false;
	return true;
}

static void range_text(const struct key_def *k, char *buf, size_t len)
{
	if (k->type == K_OCTAL)
		snprintf(buf, len, "%04o..%04o", (unsigned)k->min, (unsigned)k->max);
	else
		snprintf(buf, len, "%s%g..%g%s", k->min_open ? "(" : "", k->min, k->max,
			 k->max_open ? ")" : "");
}

static int set_string(char **slot, const char *value)
{
	char *copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

static int handle_control(struct parse_ctx *ctx, const char *name, const char *value)
{
	struct config *c = ctx->cfg;
	const char *cname = name + strlen(CONTROL_PREFIX);
	size_t len = strlen(cname);
	char *end;

	if (len == 0 || len >= CONFIG_CONTROL_NAME_MAX ||
	    strspn(cname, "abcdefghijklmnopqrstuvwxyz0123456789_") != len) {
		set_error(ctx, ctx->lineno, "camera", name,
			  "control name must be 1..%d characters of a-z, 0-9 and _",
			  CONFIG_CONTROL_NAME_MAX - 1);
		return 0;
	}
	for (size_t i = 0; i < c->camera.n_controls; i++)
		if (strcmp(c->camera.controls[i].name, cname) == 0) {
			set_error(ctx, ctx->lineno, "camera", name, "duplicate key");
			return 0;
		}
	if (c->camera.n_controls >= CONFIG_MAX_CONTROLS) {
		set_error(ctx, ctx->lineno, "camera", name, "too many controls (at most %d)",
			  CONFIG_MAX_CONTROLS);
		return 0;
	}
	errno = 0;
	long long v = *value ? strtoll(value, &end, 10) : 0;
	if (!*value || *end || errno == ERANGE) {
		set_error(ctx, ctx->lineno, "camera", name, "'%s' is not an integer", value);
		return 0;
	}
	struct config_control *ctl = &c->camera.controls[c->camera.n_controls++];
	memcpy(ctl->name, cname, len + 1);
	ctl->value = v;
	return 1;
}

static int apply_key(struct parse_ctx *ctx, const struct key_def *k, const char *value)
{
	void *slot = (char *)ctx->cfg + k->offset;
	char range[64];
	long lv;
	double dv;
	int r;

	switch (k->type) {
	case K_SOCKET_PATH:
		if (value[0] != '/') {
			set_error(ctx, ctx->lineno, k->section, k->name, "must be an absolute path");
			return 0;
		}
		if (strlen(value) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			set_error(ctx, ctx->lineno, k->section, k->name,
				  "too long for a Unix socket (at most %zu bytes)",
				  sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
			return 0;
		}
		/* fall through */
	case K_PATH:
		if (!*value) {
			set_error(ctx, ctx->lineno, k->section, k->name, "must not be empty");
			return 0;
		}
		/* fall through */
	case K_STRING:
		if (set_string(slot, value) < 0) {
			set_error(ctx, ctx->lineno, k->section, k->name, "out of memory");
			return 0;
		}
		return 1;
	case K_INT:
		r = parse_long(value, &lv);
		if (r == -EINVAL) {
			set_error(ctx, ctx->lineno, k->section, k->name, "'%s' is not an integer", value);
			return 0;
		}
		if (r < 0 || !in_range(k, (double)lv)) {
			range_text(k, range, sizeof(range));
			set_error(ctx, ctx->lineno, k->section, k->name, "%s is out of range (%s)",
				  value, range);
			return 0;
		}
		*(int *)slot = (int)lv;
		return 1;
	case K_DOUBLE:
		r = parse_double(value, &dv);
		if (r == -EINVAL) {
			set_error(ctx, ctx->lineno, k->section, k->name, "'%s' is not a number", value);
			return 0;
		}
		if (r < 0 || !in_range(k, dv)) {
			range_text(k, range, sizeof(range));
			set_error(ctx, ctx->lineno, k->section, k->name, "%s is out of range (%s)",
				  value, range);
			return 0;
		}
		*(double *)slot = dv;
		return 1;
	case K_OCTAL: {
		char *end;
		size_t len = strlen(value);
		if (len == 0 || strspn(value, "01234567") != len) {
			set_error(ctx, ctx->lineno, k->section, k->name,
				  "'%s' is not an octal number (like 0660)", value);
			return 0;
		}
		errno = 0;
		lv = strtol(value, &end, 8);
		if (errno == ERANGE || !in_range(k, (double)lv)) {
			range_text(k, range, sizeof(range));
			set_error(ctx, ctx->lineno, k->section, k->name, "%s is out of range (%s)",
				  value, range);
			return 0;
		}
		/* The daemon itself must be able to use its socket: a mode without owner read
		 * and write would be replaced or unusable, so it is refused here. */
		if ((lv & 0600) != 0600) {
			set_error(ctx, ctx->lineno, k->section, k->name,
				  "%s does not give the owner read and write (use e.g. 0600 or 0660)",
				  value);
			return 0;
		}
		*(mode_t *)slot = (mode_t)lv;
		return 1;
	}
	case K_CHOICE:
		for (const struct choice *ch = k->choices; ch->name; ch++)
			if (strcmp(ch->name, value) == 0) {
				*(int *)slot = ch->value;
				return 1;
			}
		{
			char names[128] = "";
			for (const struct choice *ch = k->choices; ch->name; ch++) {
				if (names[0])
					strncat(names, "|", sizeof(names) - strlen(names) - 1);
				strncat(names, ch->name, sizeof(names) - strlen(names) - 1);
			}
			set_error(ctx, ctx->lineno, k->section, k->name, "'%s' is not one of %s",
				  value, names);
		}
		return 0;
	case K_LEVEL:
		r = log_level_from_name(value);
		if (r < 0 || r == LOG_NOTICE || strcmp(value, log_level_name(r)) != 0) {
			set_error(ctx, ctx->lineno, k->section, k->name,
				  "'%s' is not one of debug|info|warning|error", value);
			return 0;
		}
		*(int *)slot = r;
		return 1;
	}
	return 0;
}

static int handle_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;

	if (ctx->err_line)
		return 1; /* keep only the first error; inih goes on to the end */
	if (!*section) {
		set_error(ctx, ctx->lineno, NULL, NULL, "%s: key outside of any [section]", name);
		return 0;
	}
	if (!section_known(section))
		return 1; /* reported by read_line when the header was read */
	if (strcmp(section, "camera") == 0 &&
	    strncmp(name, CONTROL_PREFIX, strlen(CONTROL_PREFIX)) == 0)
		return handle_control(ctx, name, value);
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].section, section) != 0 || strcmp(keys[i].name, name) != 0)
			continue;
		if (ctx->seen_line[i]) {
			set_error(ctx, ctx->lineno, section, name,
				  "duplicate key (first set on line %d)", ctx->seen_line[i]);
			return 0;
		}
		ctx->seen_line[i] = ctx->lineno;
		return apply_key(ctx, &keys[i], value);
	}
	set_error(ctx, ctx->lineno, section, name, "unknown key");
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
	if (c->camera.source == CONFIG_SOURCE_FILE && !*c->camera.file)
		set_error(ctx, ctx->seen_line[key_index("camera", "source")], "camera", "source",
			  "source = file needs [camera] file = PATH");
	struct sockaddr_storage sa;
	unsigned sa_len;
	if (config_parse_listen(c->web.listen, &sa, &sa_len) < 0)
		set_error(ctx, ctx->seen_line[key_index("web", "listen")], "web", "listen",
			  "'%s' is not ADDRESS:PORT (numeric IPv4 or [IPv6] address, port 0..65535)",
			  c->web.listen);
	if (c->web.auth != CONFIG_WEB_AUTH_NONE && !*c->web.auth_file)
		set_error(ctx, ctx->seen_line[key_index("web", "auth")], "web", "auth",
			  "auth = %s needs [web] auth_file = PATH", config_web_auth_name(c->web.auth));
}

int config_parse_listen(const char *text, struct sockaddr_storage *ret, unsigned *ret_len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *host_start = text, *host_end;
	long port;

	if (text[0] == '[') {
		host_end = strchr(text, ']');
		if (!host_end || host_end[1] != ':')
			return -EINVAL;
		host_start = text + 1;
		colon = host_end + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -EINVAL;
		host_end = colon;
	}
	size_t host_len = (size_t)(host_end - host_start);
	if (host_len == 0 || host_len >= sizeof(host) || parse_long(colon + 1, &port) < 0 ||
	    port < 0 || port > 65535 || colon[1] == '+' || colon[1] == '-')
		return -EINVAL;
	memcpy(host, host_start, host_len);
	host[host_len] = 0;
	struct sockaddr_storage sa = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
	if (text[0] != '[' && inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*ret_len = sizeof(*in4);
	} else if (text[0] == '[' && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*ret_len = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	*ret = sa;
	return 0;
}

int config_defaults(struct config *ret)
{
	struct config c = {
		.camera = { .source = CONFIG_SOURCE_V4L2, .format = CONFIG_FORMAT_AUTO,
			    .width = DEFAULT_WIDTH, .height = DEFAULT_HEIGHT, .fps = DEFAULT_FPS },
		.model = { .backend = CONFIG_BACKEND_AUTO, .threads = DEFAULT_THREADS,
			   .resize = CONFIG_RESIZE_AREA, .crop = CONFIG_CROP_CENTER },
		.classify = { .mode = CONFIG_MODE_CONTINUOUS, .rate = 0, .top_k = DEFAULT_TOP_K,
			      .threshold = DEFAULT_THRESHOLD, .smoothing = 0 },
		.socket = { .mode = DEFAULT_SOCKET_MODE, .max_clients = DEFAULT_MAX_CLIENTS },
		.log = { .level = LOG_INFO },
		.web = { .auth = CONFIG_WEB_AUTH_NONE, .max_connections = DEFAULT_WEB_MAX_CONNECTIONS,
			 .stream_fps = DEFAULT_WEB_STREAM_FPS },
	};
	c.camera.device = strdup(DEFAULT_DEVICE);
	c.camera.file = strdup("");
	c.model.path = strdup(DEFAULT_MODEL_PATH);
	c.model.labels = strdup(DEFAULT_LABELS_PATH);
	c.socket.path = strdup(SRV_DEFAULT_SOCKET);
	c.socket.group = strdup("");
	c.web.listen = strdup(DEFAULT_WEB_LISTEN);
	c.web.auth_file = strdup("");
	if (!c.camera.device || !c.camera.file || !c.model.path || !c.model.labels ||
	    !c.socket.path || !c.socket.group || !c.web.listen || !c.web.auth_file) {
		config_free(&c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

int config_load(const char *path, struct config *ret, char *err, size_t errlen)
{
	struct parse_ctx ctx = { .path = path, .err = err, .errlen = errlen };
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
	r = ini_parse_stream(read_line, &ctx, handle_key, &ctx);
	if (ctx.read_errno) {
		r = -ctx.read_errno;
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(ctx.read_errno));
		goto fail;
	}
	if (r > 0 && (!ctx.err_line || r < ctx.err_line)) {
		ctx.err_line = 0; /* an earlier syntax error wins */
		set_error(&ctx, r, NULL, NULL,
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
	free(c->web.listen);
	free(c->web.auth_file);
	c->web.listen = c->web.auth_file = NULL;
	c->path = c->camera.device = c->camera.file = NULL;
	c->model.path = c->model.labels = c->socket.path = c->socket.group = NULL;
}

static const char *choice_name(const struct choice *choices, int value)
{
	for (const struct choice *ch = choices; ch->name; ch++)
		if (ch->value == value)
			return ch->name;
	return "?";
}

const char *config_source_name(enum config_source s) { return choice_name(source_choices, s); }
const char *config_format_name(enum config_format f) { return choice_name(format_choices, f); }
const char *config_backend_name(enum config_backend b) { return choice_name(backend_choices, b); }
const char *config_resize_name(enum config_resize r) { return choice_name(resize_choices, r); }
const char *config_crop_name(enum config_crop c) { return choice_name(crop_choices, c); }
const char *config_mode_name(enum config_mode m) { return choice_name(mode_choices, m); }
const char *config_web_auth_name(enum config_web_auth a) { return choice_name(web_auth_choices, a); }
