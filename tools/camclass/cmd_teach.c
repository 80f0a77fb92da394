/* cmd_teach.c — `camclass teach LABEL [--count N]`, `samples`, `forget LABEL [--id ID]`, `train`:
 * live teaching through camclassd (docs/teach.md).
 *
 * teach and train start work that ends later; the daemon answers at once and then publishes
 * events to every client ("teach_progress"/"teach_done", "teach_trained"/"teach_error"), so
 * these commands stay connected and print those events until theirs is over. --json prints the
 * daemon's lines as they are. Exit codes as commands.h: 0 ok, 1 the daemon said no (or
 * training failed), 2 cannot connect or usage. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/client.h"
#include "tools/camclass/commands.h"

#define REQUEST_TIMEOUT_MS 10000
#define TEACH_EVENT_TIMEOUT_MS 120000  /* no frame for 2 minutes: the camera is not delivering */
#define TRAIN_TIMEOUT_MS 900000        /* a large training run on a slow board */

static int usage(void)
{
	fprintf(stderr, "usage: camclass [--socket PATH] teach LABEL [--count N] [--json]\n"
			"       camclass [--socket PATH] samples [--json]\n"
			"       camclass [--socket PATH] forget LABEL [--id ID] [--json]\n"
			"       camclass [--socket PATH] train [--json]\n");
	return 2;
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static long num(const json_t *o, const char *k)
{
	return (long)json_integer_value(json_object_get(o, k));
}

static bool is_error(const json_t *msg)
{
	if (strcmp(str(msg, "type"), "error") != 0)
		return false;
	fprintf(stderr, "camclass: %s: %s\n", str(msg, "code"), str(msg, "message"));
	return true;
}

static void print_line(const json_t *msg, bool json)
{
	char *s = json ? json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (s)
		printf("%s\n", s);
	free(s);
}

/* Prints events until one of `done` (or teach_error) arrives. */
static int follow(struct cli_conn *conn, const char *progress, const char *done, int timeout_ms, bool json)
{
	for (;;) {
		json_t *msg;
		int r = cli_read_msg(conn, timeout_ms, &msg, NULL, NULL);
		if (r < 0) {
			fprintf(stderr, "camclass: %s\n", r == -ETIMEDOUT ? "no progress from camclassd in time"
								 : "camclassd closed the connection");
			return 1;
		}
		const char *ev = strcmp(str(msg, "type"), "event") == 0 ? str(msg, "event") : "";
		int status = -1;
		if (strcmp(ev, "teach_error") == 0) {
			fprintf(stderr, "camclass: %s%s%s\n", str(msg, "label"), *str(msg, "label") ? ": " : "",
				str(msg, "message"));
			status = 1;
		} else if (strcmp(ev, progress) == 0 || strcmp(ev, done) == 0) {
			if (json)
				print_line(msg, true);
			else if (strcmp(ev, "teach_trained") == 0 && num(msg, "val") == 0)
				printf("trained: %ld labels, %ld samples (none held out for measuring: teach at least 5 "
				       "per label); model %s loaded\n", num(msg, "labels"), num(msg, "samples"), str(msg, "model"));
			else if (strcmp(ev, "teach_trained") == 0)
				printf("trained: %ld labels, %ld samples; held-out accuracy %.1f %% (%ld samples); "
				       "model %s loaded\n", num(msg, "labels"), num(msg, "samples"),
				       100 * json_real_value(json_object_get(msg, "accuracy")), num(msg, "val"),
				       str(msg, "model"));
			else
				printf("%s: %ld samples stored, %ld frames to go\n", str(msg, "label"), num(msg, "stored"),
				       num(msg, "left"));
			if (strcmp(ev, done) == 0)
				status = 0;
		}
		json_decref(msg);
		if (status >= 0)
			return status;
	}
}

int cmd_teach_client(const char *socket_path, int argc, char **argv)
{
	const char *cmd = argv[0], *label = NULL, *id = NULL;
	long count = 1;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			char *end;
			count = strtol(argv[++i], &end, 10);
			if (*end || count < 1)
				return usage();
		} else if (strcmp(argv[i], "--id") == 0 && i + 1 < argc) {
			id = argv[++i];
		} else if (argv[i][0] != '-' && !label) {
			label = argv[i];
		} else {
			return usage();
		}
	}
	bool needs_label = strcmp(cmd, "teach") == 0 || strcmp(cmd, "forget") == 0;
	if (needs_label != (label != NULL) || (id && strcmp(cmd, "forget") != 0))
		return usage();

	struct cli_conn *conn;
	json_t *hello, *reply, *fields = json_object();
	int r = cli_connect(socket_path, &conn);
	if (r < 0) {
		fprintf(stderr, "camclass: cannot connect to %s: %s\n", socket_path, strerror(-r));
		json_decref(fields);
		return 2;
	}
	if (!fields || cli_read_msg(conn, REQUEST_TIMEOUT_MS, &hello, NULL, NULL) < 0) {
		fprintf(stderr, "camclass: no hello from camclassd\n");
		json_decref(fields);
		cli_close(conn);
		return 1;
	}
	bool refused = is_error(hello);
	json_decref(hello);
	if (label)
		json_object_set_new(fields, "label", json_string(label));
	if (strcmp(cmd, "teach") == 0)
		json_object_set_new(fields, "count", json_integer(count));
	if (id)
		json_object_set_new(fields, "sample", json_string(id));
	r = refused ? -EPERM : cli_request(conn, cmd, fields, REQUEST_TIMEOUT_MS, &reply);
	json_decref(fields);
	if (r < 0) {
		if (!refused)
			fprintf(stderr, "camclass: no answer from camclassd\n");
		cli_close(conn);
		return 1;
	}
	int status = 0;
	if (is_error(reply)) {
		status = 1;
	} else if (json) {
		print_line(reply, true);
	} else if (strcmp(cmd, "samples") == 0) {
		json_t *labels = json_object_get(reply, "labels"), *l;
		size_t i;
		json_array_foreach(labels, i, l)
			printf("%-20s %ld\n", str(l, "label"), num(l, "samples"));
		printf("disk: %ld of %ld bytes%s\n", num(reply, "disk_bytes"), num(reply, "max_disk_bytes"),
		       json_is_true(json_object_get(reply, "training")) ? " (training)" : "");
	} else if (strcmp(cmd, "forget") == 0) {
		printf("%s: %ld sample%s removed\n", str(reply, "label"), num(reply, "removed"),
		       num(reply, "removed") == 1 ? "" : "s");
	} else if (strcmp(cmd, "teach") == 0) {
		printf("teaching '%s': storing the next %ld classified frames (%ld samples so far)\n", label, count,
		       num(reply, "samples"));
	} else {
		printf("training on %ld samples of %ld labels...\n", num(reply, "samples"), num(reply, "labels"));
	}
	json_decref(reply);
	if (status == 0 && strcmp(cmd, "teach") == 0)
		status = follow(conn, "teach_progress", "teach_done", TEACH_EVENT_TIMEOUT_MS, json);
	else if (status == 0 && strcmp(cmd, "train") == 0)
		status = follow(conn, "", "teach_trained", TRAIN_TIMEOUT_MS, json);
	cli_close(conn);
	return status;
}
