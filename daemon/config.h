/* config.h — camclassd's INI configuration: one struct, its defaults, one loader.
 *
 * Contract
 * - config_defaults() fills a struct with every default (strings copied); config_load() starts
 *   from the defaults and applies the file. Both leave *ret untouched on failure.
 * - The struct owns its strings; config_free() releases them (safe on a zeroed struct).
 * - Errors: config_load() returns a negative errno code and fills err with one message:
 *   "FILE:LINE: [section] key: reason" for the first bad line (unknown section or key, bad or
 *   out-of-range number, bad choice, duplicate key, syntax error, line too long), or
 *   "FILE: reason" for problems with the file itself (missing, unreadable).
 * - The struct speaks the modules' vocabulary: capture's and inference's own enums, parsed with
 *   their own name tables (cap_format_from_name(), eng_backend_from_name(), …), so nothing
 *   translates between two enums of the same thing. Camera controls (`control.<name> = <int>`
 *   in [camera]) are capture's struct cap_control; their names are checked against the real
 *   device later, by capture.
 * - Not thread-safe by itself: main loads, then hands immutable copies to the threads. */
#ifndef CAMCLASS_DAEMON_CONFIG_H
#define CAMCLASS_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "capture/capture.h"
#include "daemon/model_io.h"
#include "daemon/roi.h"
#include "inference/engine.h"

#define CONFIG_ERR_MAX 512         /* a comfortable size for the err buffer */
#define CONFIG_MQTT_MAX_BINARY_LABELS 32
#define CONFIG_MQTT_LABEL_MAX 64   /* bytes of one binary_labels entry, NUL included */

/* [classify] mode: the daemon's own choice (capture and inference have no word for it). */
enum config_mode { CONFIG_MODE_CONTINUOUS, CONFIG_MODE_ON_DEMAND };
enum config_mqtt_publish { CONFIG_MQTT_PUBLISH_STATE, CONFIG_MQTT_PUBLISH_RESULTS };

/* [model] labels empty or absent: the labels file inside the model (TFLite metadata), else this. */
#define CONFIG_DEFAULT_LABELS_PATH "/etc/camclassd/labels.txt"

struct config {
	char *path; /* the file this came from; NULL for pure defaults */
	struct {
		enum cap_source_kind source;
		char *device;
		char *file; /* "" unless set; required when source = file */
		enum cap_pixfmt format;
		int width, height;
		int fps;          /* V4L2 request; file source replay rate */
		struct cap_control controls[CAP_MAX_CONTROLS]; /* handed to cap_open() as they are */
		size_t n_controls;
	} camera;
	struct {
		char *path;
		char *labels;      /* "" = the labels inside the model, else CONFIG_DEFAULT_LABELS_PATH */
		enum eng_backend backend;
		int threads;
		enum cap_resize resize;
		enum cap_crop crop;
		double input_mean, input_std; /* float inputs; NAN = unset (metadata, else 127.5/127.5) */
		enum model_output output;
		struct roi roi;   /* region classified, fractions of the frame, before crop */
	} model;
	struct {
		enum config_mode mode;
		double rate;      /* max classifications per second; 0 = every frame */
		int top_k;        /* the clients' default (srv_config.default_top_k) */
		double threshold; /* the clients' default: scores below are not reported */
		double smoothing; /* EMA weight of the previous scores; 0 = off */
		int debounce;     /* results that must agree before the state moves; 1 = off */
	} classify;
	struct {
		char *path;
		mode_t mode;
		char *group; /* "" = keep the daemon's group */
		int max_clients;
	} socket;
	struct {
		int level; /* LOG_DEBUG … LOG_ERR */
	} log;
	struct { /* read by camclass-mqtt only; the daemon just validates it */
		char *host;
		int port;
		char *username;         /* "" = none */
		char *password_file;    /* "" = none; the password is never in the INI */
		char *tls_ca, *tls_cert, *tls_key; /* "" = none; TLS when tls_ca is set */
		char *client_id;        /* "" = camclassd-<hostname> */
		char *topic_prefix;     /* "" = camclassd/<hostname> */
		int discovery;          /* 0/1 */
		char *discovery_prefix;
		int qos;
		enum config_mqtt_publish publish;
		double max_rate;        /* results per second with publish = results */
		char *binary_labels;    /* comma-separated labels; "" = none */
		int allow_commands;     /* 0/1 */
	} mqtt;
	struct {
		bool enabled;     /* the file has a [teach] key */
		char *dir;        /* samples and the trained model */
		char *base;       /* "" = [model] path */
		int max_samples_per_label;
		int max_disk_mb;
	} teach;
};

int config_defaults(struct config *ret);
int config_load(const char *path, struct config *ret, char *err, size_t errlen);
void config_free(struct config *c);

/* "continuous" | "on_demand"; the other choices are named by their modules (cap_format_name(),
 * eng_backend_name(), …). */
const char *config_mode_name(enum config_mode m);
const char *config_mqtt_publish_name(enum config_mqtt_publish p);

/* Split [mqtt] binary_labels ("a, b c,d") into trimmed entries: each at most
 * CONFIG_MQTT_LABEL_MAX-1 bytes, at most CONFIG_MQTT_MAX_BINARY_LABELS of them, none empty,
 * none with a quote, backslash, brace or control character (they end up inside Home Assistant
 * templates). Returns the count or -EINVAL (a reason in err). */
int config_mqtt_split_labels(const char *list, char out[][CONFIG_MQTT_LABEL_MAX], size_t max,
			     char *err, size_t errlen);

#endif
