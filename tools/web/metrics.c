/* metrics.c — status JSON → Prometheus text (contract in metrics.h).
 *
 * Why it is built this way: camclass-web is a client of the socket, so /metrics says what the
 * daemon's `status` says, renamed to Prometheus conventions (base units: seconds; counters end
 * in _total; text in labels of an _info gauge). One table maps status fields to metrics, so a
 * field the daemon adds later is one line here. The p50/p99 the daemon reports become the
 * quantiles of a summary. Label values are escaped as the format requires (\\ " \n). */
#include "tools/web/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { COUNTER, GAUGE };

static const struct {
	const char *field;  /* top-level number in status */
	const char *metric;
	enum kind kind;
	const char *help;
} numbers[] = {
	{ "frames_in", "camclass_frames_in_total", COUNTER, "Frames captured from the camera." },
	{ "frames_out", "camclass_frames_out_total", COUNTER, "Frames classified." },
	{ "frames_skipped", "camclass_frames_skipped_total", COUNTER,
	  "Frames not classified because the engine was busy (newest frame wins)." },
	{ "frames_rate_limited", "camclass_frames_rate_limited_total", COUNTER,
	  "Frames not classified because of [classify] rate." },
	{ "frames_corrupt", "camclass_frames_corrupt_total", COUNTER,
	  "Frames that failed to decode." },
	{ "camera_reconnects", "camclass_camera_reconnects_total", COUNTER,
	  "Times the camera was opened again after a failure." },
	{ "reconnects", "camclass_camera_reconnects_total", COUNTER,
	  "Times the camera was opened again after a failure." },
	{ "fps_in", "camclass_capture_fps", GAUGE, "Frames per second captured." },
	{ "fps_out", "camclass_classify_fps", GAUGE, "Frames per second classified." },
	{ "clients", "camclass_clients", GAUGE, "Clients connected to the daemon's socket." },
	{ "subscribers", "camclass_subscribers", GAUGE, "Clients subscribed to results." },
	{ "threads", "camclass_model_threads", GAUGE, "Inference engine threads." },
	{ "uptime_s", "camclass_uptime_seconds", GAUGE, "Seconds since the daemon started." },
};

static const char *const stages[] = { "capture_to_result", "decode", "preprocess", "inference" };

static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void header(FILE *f, const char *metric, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

static const char *str_or(const json_t *obj, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : fallback;
}

static void info_gauge(FILE *f, const json_t *st, const char *metric, const char *help,
		       const char *const *fields, size_t n)
{
	header(f, metric, "gauge", help);
	fprintf(f, "%s{", metric);
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_object_get(st, fields[i]);
		fprintf(f, "%s%s=\"", i ? "," : "", fields[i]);
		if (json_is_string(v))
			label_value(f, json_string_value(v));
		else if (json_is_integer(v))
			fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		fputc('"', f);
	}
	fputs("} 1\n", f);
}

static void daemon_metrics(FILE *f, const json_t *st)
{
	const char *done = NULL; /* reconnects may come under either name: print once */
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		const json_t *v = json_object_get(st, numbers[i].field);
		if (!json_is_number(v) || (done && strcmp(done, numbers[i].metric) == 0))
			continue;
		double d = json_number_value(v);
		if (!isfinite(d))
			continue;
		header(f, numbers[i].metric, numbers[i].kind == COUNTER ? "counter" : "gauge",
		       numbers[i].help);
		fprintf(f, "%s %.10g\n", numbers[i].metric, d);
		if (numbers[i].kind == COUNTER)
			done = numbers[i].metric;
	}
	const json_t *lat = json_object_get(st, "latency_ms");
	if (json_is_object(lat)) {
		header(f, "camclass_latency_seconds", "summary",
		       "Per-frame latency of each stage over the daemon's recent frames.");
		for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
			const json_t *s = json_object_get(lat, stages[i]);
			const char *q[2] = { "p50", "p99" }, *qv[2] = { "0.5", "0.99" };
			for (int k = 0; k < 2; k++) {
				const json_t *v = json_object_get(s, q[k]);
				if (json_is_number(v) && isfinite(json_number_value(v)))
					fprintf(f, "camclass_latency_seconds{stage=\"%s\",quantile=\"%s\"}"
						" %.9g\n", stages[i], qv[k], json_number_value(v) / 1e3);
			}
		}
	}
	const char *camera = str_or(st, "camera", "unknown");
	header(f, "camclass_camera_streaming", "gauge", "1 while the camera delivers frames.");
	fprintf(f, "camclass_camera_streaming %d\n", strcmp(camera, "streaming") == 0);
	static const char *const camera_fields[] = { "camera", "device", "format" };
	info_gauge(f, st, "camclass_camera_info", "Camera state, device and format (value 1).",
		   camera_fields, 3);
	static const char *const model_fields[] = { "model", "backend" };
	info_gauge(f, st, "camclass_model_info", "Loaded model and inference backend (value 1).",
		   model_fields, 2);
	const json_t *state = json_object_get(st, "state");
	if (json_is_string(state)) {
		static const char *const state_fields[] = { "state" };
		info_gauge(f, st, "camclass_state_info", "Debounced state (value 1).", state_fields, 1);
	}
}

int metrics_render(const json_t *status, const struct web_hub_stats *web, char **ret_text,
		   size_t *ret_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	header(f, "camclass_up", "gauge", "1 if camclass-web got the daemon's status.");
	fprintf(f, "camclass_up %d\n", status != NULL);
	if (status)
		daemon_metrics(f, status);
	header(f, "camclass_web_stream_viewers", "gauge", "Open /stream.mjpg connections.");
	fprintf(f, "camclass_web_stream_viewers %u\n", web->viewers);
	header(f, "camclass_web_stream_frames_total", "counter",
	       "Preview frames camclass-web received from the daemon.");
	fprintf(f, "camclass_web_stream_frames_total %llu\n", (unsigned long long)web->frames_in);
	header(f, "camclass_web_stream_frames_skipped_total", "counter",
	       "Frames /stream.mjpg viewers skipped because they read slower than the feed.");
	fprintf(f, "camclass_web_stream_frames_skipped_total %llu\n",
		(unsigned long long)web->frames_skipped_slow);
	if (ferror(f) | fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	*ret_text = text;
	*ret_len = len;
	return 0;
}
