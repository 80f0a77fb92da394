/* config_mqtt.c — the [mqtt] section's own kinds of values (the keys are in config.c's table):
 * one-word names, topic prefixes, yes/no, the publish choice, and binary_labels.
 *
 * binary_labels is split here for both sides: config.c rejects a bad list at its FILE:LINE,
 * and camclass-mqtt splits the same string the same way when it publishes one Home Assistant
 * binary_sensor per entry. Entries land inside HA value templates, so quotes, backslashes,
 * braces and control characters are refused here rather than escaped there. Topic prefixes
 * refuse MQTT's wildcards and empty levels, which would make every topic of the bridge invalid
 * at the broker instead of at start. */
#include "daemon/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config_internal.h"

static const char *const yes_no_names[] = { "no", "yes" };
static const char *const publish_names[] = { [CONFIG_MQTT_PUBLISH_STATE] = "state",
					     [CONFIG_MQTT_PUBLISH_RESULTS] = "results" };

static int index_of(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -EINVAL;
}

static int yes_no_from_name(const char *name) { return index_of(yes_no_names, 2, name); }
static const char *yes_no_name(int v) { return v >= 0 && v < 2 ? yes_no_names[v] : "?"; }
static int publish_from_name(const char *name) { return index_of(publish_names, 2, name); }
static const char *publish_name(int v) { return config_mqtt_publish_name((enum config_mqtt_publish)v); }

const struct choice_set cfg_yes_no_choices = { yes_no_from_name, yes_no_name, 2 };
const struct choice_set cfg_mqtt_publish_choices = { publish_from_name, publish_name, 2 };

const char *config_mqtt_publish_name(enum config_mqtt_publish p)
{
	return (unsigned)p < 2 ? publish_names[p] : "?";
}

static int set_text(struct parse_ctx *ctx, const struct key_def *k, const char *value)
{
	char **slot = (char **)((char *)ctx->cfg + k->offset);
	char *copy = strdup(value);
	if (!copy) {
		cfg_set_error(ctx, ctx->lineno, k->section, k->name, "out of memory");
		return 0;
	}
	free(*slot);
	*slot = copy;
	return 1;
}

int cfg_apply_mqtt_value(struct parse_ctx *ctx, const struct key_def *k, const char *value)
{
	size_t len = strlen(value);
	if (!len && k->min == 0 && k->type != K_LABELS)
		return set_text(ctx, k, value); /* empty: the documented default */
	switch (k->type) {
	case K_NAME:
		if (!len || value[strcspn(value, " \t\r\n\v\f")]) {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name,
				      "must be one word (not empty, no blanks)");
			return 0;
		}
		return set_text(ctx, k, value);
	case K_TOPIC:
		if (!len || value[strcspn(value, "+# \t\r\n\v\f")] || value[0] == '/' ||
		    value[len - 1] == '/' || strstr(value, "//")) {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name,
				      "'%s' is not a topic prefix (like camclassd/front: no blanks, "
				      "'+' or '#', no empty level)", value);
			return 0;
		}
		return set_text(ctx, k, value);
	case K_LABELS: {
		char why[160];
		char(*labels)[CONFIG_MQTT_LABEL_MAX] =
			malloc(CONFIG_MQTT_MAX_BINARY_LABELS * sizeof(*labels));
		if (!labels) {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name, "out of memory");
			return 0;
		}
		int r = config_mqtt_split_labels(value, labels, CONFIG_MQTT_MAX_BINARY_LABELS, why,
						 sizeof(why));
		free(labels);
		if (r < 0) {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name, "%s", why);
			return 0;
		}
		return set_text(ctx, k, value);
	}
	default:
		return 0;
	}
}

int config_mqtt_split_labels(const char *list, char out[][CONFIG_MQTT_LABEL_MAX], size_t max,
			     char *err, size_t errlen)
{
	size_t n = 0;
	const char *p = list;
	while (*p) {
		const char *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		const char *a = p, *b = end;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		size_t len = (size_t)(b - a);
		if (len == 0) {
			snprintf(err, errlen, "empty entry in the list (write labels separated by ',')");
			return -EINVAL;
		}
		if (len >= CONFIG_MQTT_LABEL_MAX) {
			snprintf(err, errlen, "label %zu is longer than %d bytes", n + 1,
				 CONFIG_MQTT_LABEL_MAX - 1);
			return -EINVAL;
		}
		for (const char *q = a; q < b; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f || strchr("\"'\\{}", *q)) {
				snprintf(err, errlen, "label %zu has a quote, backslash, brace or "
					 "control character", n + 1);
				return -EINVAL;
			}
		if (n >= max) {
			snprintf(err, errlen, "more than %zu labels", max);
			return -EINVAL;
		}
		memcpy(out[n], a, len);
		out[n][len] = 0;
		n++;
		p = *end ? end + 1 : end;
		if (*end && !*p) {
			snprintf(err, errlen, "empty entry in the list (write labels separated by ',')");
			return -EINVAL;
		}
	}
	return (int)n;
}
