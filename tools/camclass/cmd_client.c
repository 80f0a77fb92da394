/* cmd_client.c — camclass as a client of camclassd: status, latest, watch, classify, snapshot,
 * ping over the Unix socket (ipc/client.h).
 *
 * Human-readable output by default, one line per result ("seq 12  Egyptian cat 0.86, tabby
 * 0.07"); --json prints the daemon's lines as they are, for scripts. Exit codes follow
 * commands.h: 0 ok, 1 the daemon answered with an error (or closed the connection), 2 cannot
 * connect or usage error — with a message that names the path and the likely cause, because
 * "permission denied" on a socket usually means a missing group membership. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/client.h"
#include "ipc/wire.h"
#include "lib/clock.h"
#include "lib/macros.h"
#include "tools/camclass/commands.h"

#define REQUEST_TIMEOUT_MS 10000
#define CLASSIFY_TIMEOUT_MS 20000       /* the daemon gives up first (its own timeout) */
#define WATCH_RECONNECT_MAX_MS 5000u    /* watch: longest pause between reconnect attempts */

enum { EXIT_OK = 0, EXIT_DAEMON = 1, EXIT_CONNECT = 2, EXIT_USAGE = 2 };

struct options {
	bool json, on_change, once;
	int top_k;                      /* 0: daemon default */
	double threshold;               /* < 0: daemon default */
	const char *output;
};

static int usage(const char *cmd)
{
	fprintf(stderr, "camclass: usage: camclass [--socket PATH] %s\n"
			"  status | latest | ping | classify [--json]\n"
			"  watch [--top-k K] [--threshold T] [--on-change] [--once] [--json]\n"
			"  snapshot -o FILE\n", cmd);
	return EXIT_USAGE;
}

static int connect_error(const char *path, int r)
{
	const char *why;
	switch (-r) {
	case ENOENT:
		why = "no socket there: camclassd is not running (systemctl status camclassd), "
		      "or the path is wrong (--socket)";
		break;
	case ECONNREFUSED:
		why = "nobody is listening: camclassd is not running (a stale socket file)";
		break;
	case EACCES:
	case EPERM:
		why = "permission denied: add your user to the socket's group "
		      "(see ls -l on the socket) and log in again";
		break;
	case ENAMETOOLONG:
		why = "the path is too long for a Unix socket";
		break;
	default:
		why = strerror(-r);
	}
	fprintf(stderr, "camclass: cannot connect to %s: %s\n", path, why);
	return EXIT_CONNECT;
}

static const char *str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "-";
}

static double num(const json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

/* Returns true if msg is an error (printed). */
static bool print_if_error(const json_t *msg)
{
	if (strcmp(str(msg, "type"), "error") != 0)
		return false;
	fprintf(stderr, "camclass: camclassd: %s: %s\n", str(msg, "code"), str(msg, "message"));
	return true;
}

static void print_json(const json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(15));
	if (text)
		printf("%s\n", text);
	free(text);
}

static void print_result(const json_t *msg)
{
	json_t *labels = json_object_get(msg, "labels"), *e;
	size_t i;
	printf("seq %" JSON_INTEGER_FORMAT " ", json_integer_value(json_object_get(msg, "seq")));
	json_array_foreach(labels, i, e) {
		const char *name = json_string_value(json_object_get(e, "label"));
		if (name)
			printf("%s %s %.2f", i ? "," : "", name, num(e, "score"));
		else
			printf("%s #%" JSON_INTEGER_FORMAT " %.2f", i ? "," : "",
			       json_integer_value(json_object_get(e, "index")), num(e, "score"));
	}
	if (!json_array_size(labels))
		printf(" (no label above the threshold)");
	if (json_integer_value(json_object_get(msg, "dropped")))
		printf("  [%" JSON_INTEGER_FORMAT " dropped]",
		       json_integer_value(json_object_get(msg, "dropped")));
	printf("\n");
}

static void print_status(const json_t *st)
{
	json_t *lat = json_object_get(st, "latency_ms");
	printf("camera      %s (%s, %s)\n", str(st, "camera"), str(st, "device"), str(st, "format"));
	printf("fps         in %.1f, out %.1f\n", num(st, "fps_in"), num(st, "fps_out"));
	printf("frames      skipped %" JSON_INTEGER_FORMAT ", corrupt %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(st, "frames_skipped")),
	       json_integer_value(json_object_get(st, "frames_corrupt")));
	json_int_t threads = json_integer_value(json_object_get(st, "threads"));
	printf("model       %s (backend %s, %" JSON_INTEGER_FORMAT " thread%s)\n", str(st, "model"),
	       str(st, "backend"), threads, threads == 1 ? "" : "s");
	static const char *stages[] = { "capture_to_result", "decode", "preprocess", "inference" };
	printf("latency ms  p50/p99:");
	for (size_t i = 0; i < ARRAY_SIZE(stages); i++) {
		json_t *s = json_object_get(lat, stages[i]);
		printf("%s %s %.1f/%.1f", i ? "," : "", stages[i], num(s, "p50"), num(s, "p99"));
	}
	printf("\nclients     %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT " subscribed)\n",
	       json_integer_value(json_object_get(st, "clients")),
	       json_integer_value(json_object_get(st, "subscribers")));
	printf("uptime      %.0f s\n", num(st, "uptime_s"));
}

static int parse_options(int argc, char **argv, struct options *o)
{
	*o = (struct options){ .threshold = -1 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;
		if (strcmp(a, "--json") == 0) {
			o->json = true;
		} else if (strcmp(a, "--on-change") == 0 && strcmp(argv[0], "watch") == 0) {
			o->on_change = true;
		} else if (strcmp(a, "--once") == 0 && strcmp(argv[0], "watch") == 0) {
			o->once = true;
		} else if (strcmp(a, "--top-k") == 0 && i + 1 < argc) {
			long k = strtol(argv[++i], &end, 10);
			if (*end || k < 1 || k > WIRE_MAX_LABELS) {
				fprintf(stderr, "camclass: --top-k must be 1..%d\n", WIRE_MAX_LABELS);
				return -EINVAL;
			}
			o->top_k = (int)k;
		} else if (strcmp(a, "--threshold") == 0 && i + 1 < argc) {
			o->threshold = strtod(argv[++i], &end);
			if (*end || !(o->threshold >= 0 && o->threshold <= 1)) {
				fprintf(stderr, "camclass: --threshold must be a number from 0 to 1\n");
				return -EINVAL;
			}
		} else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
			o->output = argv[++i];
		} else {
			fprintf(stderr, "camclass: %s: unexpected argument '%s'\n", argv[0], a);
			return -EINVAL;
		}
	}
	return 0;
}

/* The filter fields of a request, from the options. */
static json_t *filter_fields(const struct options *o)
{
	json_t *f = json_object();
	if (f && o->top_k)
		json_object_set_new(f, "top_k", json_integer(o->top_k));
	if (f && o->threshold >= 0)
		json_object_set_new(f, "threshold", json_real(o->threshold));
	if (f && o->on_change)
		json_object_set_new(f, "on_change", json_true());
	return f;
}

static int daemon_gone(int r)
{
	if (r == -ECONNRESET)
		fprintf(stderr, "camclass: camclassd closed the connection\n");
	else if (r == -ETIMEDOUT)
		fprintf(stderr, "camclass: no answer from camclassd in time\n");
	else
		fprintf(stderr, "camclass: reading from camclassd: %s\n", strerror(-r));
	return EXIT_DAEMON;
}

static int watch_once(struct cli_conn *conn, const struct options *o);

/* After the daemon went away (a restart, an upgrade): connect again, 1 s, 2 s, … 5 s apart,
 * until a daemon answers with its hello. Never gives up: watch runs until interrupted. */
static struct cli_conn *reconnect(const char *path)
{
	unsigned delay_ms = 1000;
	for (;;) {
		struct timespec pause = { delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L };
		nanosleep(&pause, NULL);
		delay_ms = delay_ms * 2 > WATCH_RECONNECT_MAX_MS ? WATCH_RECONNECT_MAX_MS : delay_ms * 2;
		struct cli_conn *conn;
		json_t *hello;
		if (cli_connect(path, &conn) < 0)
			continue;
		if (cli_read_msg(conn, REQUEST_TIMEOUT_MS, &hello, NULL, NULL) == 0) {
			bool busy = strcmp(str(hello, "type"), "error") == 0;
			json_decref(hello);
			if (!busy)
				return conn;
		}
		cli_close(conn);
	}
}

/* Subscribes and prints until the daemon goes away; then, unless --once, waits for it to come
 * back and subscribes again (saying so on stderr). *conn is replaced on a reconnect. */
static int watch(struct cli_conn **conn, const struct options *o, const char *path)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		int r = watch_once(*conn, o);
		if (r != -ECONNRESET && r != -EPIPE && r != -ETIMEDOUT)
			return r < 0 ? daemon_gone(r) : r;
		if (o->once)
			return daemon_gone(r);
		fprintf(stderr, "camclass: camclassd went away; waiting for it to come back "
				"(--once exits instead)\n");
		cli_close(*conn);
		*conn = reconnect(path);
		fprintf(stderr, "camclass: reconnected to %s, subscribed again\n", path);
	}
}

/* One connection's subscription: an exit code, or <0 when the connection broke. */
static int watch_once(struct cli_conn *conn, const struct options *o)
{
	json_t *fields = filter_fields(o), *reply;
	int r = cli_request(conn, "subscribe", fields, REQUEST_TIMEOUT_MS, &reply);
	json_decref(fields);
	if (r < 0)
		return r;
	bool failed = print_if_error(reply);
	json_decref(reply);
	if (failed)
		return EXIT_DAEMON;
	for (;;) {
		const char *line;
		size_t len;
		json_t *msg;
		r = cli_read_msg(conn, -1, &msg, &line, &len);
		if (r < 0)
			return r;
		if (print_if_error(msg)) {
			json_decref(msg);
			return EXIT_DAEMON;
		}
		if (o->json)
			printf("%.*s\n", (int)len, line);
		else if (strcmp(str(msg, "type"), "result") == 0)
			print_result(msg);
		else if (strcmp(str(msg, "type"), "event") == 0)
			printf("event %s\n", str(msg, "event"));
		json_decref(msg);
	}
}

static int write_snapshot(const json_t *reply, const char *path)
{
	json_t *data = json_object_get(reply, "data");
	uint8_t *jpeg;
	size_t len;
	if (!json_is_string(data) ||
	    wire_base64_decode(json_string_value(data), json_string_length(data), &jpeg, &len) < 0) {
		fprintf(stderr, "camclass: the snapshot reply has no valid base64 data\n");
		return EXIT_DAEMON;
	}
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(jpeg, 1, len, f) == len;
	if (f && fclose(f) != 0)
		ok = false;
	free(jpeg);
	if (!ok) {
		fprintf(stderr, "camclass: cannot write %s: %s\n", path, strerror(errno));
		return EXIT_DAEMON;
	}
	printf("wrote %zu bytes (frame of result %" JSON_INTEGER_FORMAT ") to %s\n", len,
	       json_integer_value(json_object_get(reply, "seq")), path);
	return EXIT_OK;
}

/* status, latest, classify, snapshot, ping: one request, one reply. */
static int one_request(struct cli_conn *conn, const char *cmd, const struct options *o,
		       const char *socket_path)
{
	bool filtered = strcmp(cmd, "latest") == 0 || strcmp(cmd, "classify") == 0;
	json_t *fields = filtered ? filter_fields(o) : NULL, *reply;
	uint64_t start_ns = mono_now_ns();
	int r = cli_request(conn, cmd, fields,
			    strcmp(cmd, "classify") == 0 ? CLASSIFY_TIMEOUT_MS : REQUEST_TIMEOUT_MS,
			    &reply);
	json_decref(fields);
	if (r < 0)
		return daemon_gone(r);
	if (print_if_error(reply)) {
		json_decref(reply);
		return EXIT_DAEMON;
	}
	r = EXIT_OK;
	if (strcmp(cmd, "snapshot") == 0)
		r = write_snapshot(reply, o->output);
	else if (o->json)
		print_json(reply);
	else if (strcmp(cmd, "status") == 0)
		print_status(reply);
	else if (strcmp(cmd, "ping") == 0)
		printf("pong from %s in %.2f ms\n", socket_path, (double)(mono_now_ns() - start_ns) / 1e6);
	else
		print_result(reply);
	json_decref(reply);
	return r;
}

int cmd_client(const char *socket_path, int argc, char **argv)
{
	static const char *const commands[] = { "status", "latest", "watch", "classify",
						"snapshot", "ping" };
	const char *cmd = argv[0];
	struct options o;
	bool known = false;

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		known = known || strcmp(cmd, commands[i]) == 0;
	if (!known) {
		fprintf(stderr, "camclass: unknown command '%s'\n", cmd);
		return usage("COMMAND");
	}
	if (parse_options(argc, argv, &o) < 0)
		return usage(cmd);
	if (strcmp(cmd, "watch") != 0 && (o.top_k || o.threshold >= 0) &&
	    strcmp(cmd, "latest") != 0 && strcmp(cmd, "classify") != 0)
		return usage(cmd);
	if (strcmp(cmd, "snapshot") == 0 && !o.output) {
		fprintf(stderr, "camclass: snapshot needs -o FILE\n");
		return usage(cmd);
	}

	struct cli_conn *conn;
	int r = cli_connect(socket_path, &conn);
	if (r < 0)
		return connect_error(socket_path, r);
	json_t *hello;
	r = cli_read_msg(conn, REQUEST_TIMEOUT_MS, &hello, NULL, NULL);
	if (r < 0) {
		cli_close(conn);
		return daemon_gone(r);
	}
	bool refused = print_if_error(hello); /* "busy": too many clients */
	json_decref(hello);
	if (refused) {
		cli_close(conn);
		return EXIT_DAEMON;
	}
	r = strcmp(cmd, "watch") == 0 ? watch(&conn, &o, socket_path)
				      : one_request(conn, cmd, &o, socket_path);
	cli_close(conn);
	return r;
}
