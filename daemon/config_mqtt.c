/* config_mqtt.c — the one [mqtt] value with structure of its own: binary_labels.
 *
 * Kept apart from config.c's table because both sides use it: config.c rejects a bad list at
 * its FILE:LINE, and camclass-mqtt splits the same string the same way when it publishes one
 * Home Assistant binary_sensor per entry. Entries land inside HA value templates, so quotes,
 * backslashes, braces and control characters are refused here rather than escaped there. */
#include "daemon/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
