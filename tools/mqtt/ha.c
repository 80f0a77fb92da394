/* ha.c — the discovery documents (contract in ha.h).
 *
 * Both documents share one device block, so Home Assistant groups the sensor and the binary
 * sensors of one camera under one device named after the client id. The binary sensors read
 * the same state topic through a value template instead of topics of their own: one retained
 * state message drives all of them, and they can never disagree with the sensor. Labels inside
 * the template are safe: config_mqtt_split_labels() refuses quotes, backslashes and braces. */
#include "tools/mqtt/ha.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/version.h"

static json_t *device(const struct mq_settings *s, const char *model)
{
	return json_pack("{s:[s], s:s, s:s, s:s, s:s}", "identifiers", s->client_id, "name",
			 s->client_id, "manufacturer", "camclassd", "model",
			 model ? model : "camclassd", "sw_version", camclass_version());
}

static json_t *common(const struct mq_settings *s, const char *model, const char *name,
		      const char *unique_id)
{
	json_t *dev = device(s, model);
	if (!dev)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:o}", "name", name, "unique_id",
			 unique_id, "state_topic", s->t_state, "availability_topic",
			 s->t_availability, "payload_available", "online",
			 "payload_not_available", "offline", "qos", s->qos, "device", dev);
}

json_t *mq_ha_sensor(const struct mq_settings *s, const char *model)
{
	char unique_id[300];
	snprintf(unique_id, sizeof(unique_id), "%s_state", s->client_id);
	json_t *doc = common(s, model, "Classification", unique_id);
	if (!doc)
		return NULL;
	if (json_object_set_new(doc, "json_attributes_topic", json_string(s->t_attributes)) < 0 ||
	    json_object_set_new(doc, "icon", json_string("mdi:cctv")) < 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

json_t *mq_ha_binary(const struct mq_settings *s, size_t i, const char *model)
{
	const char *label = s->binary_labels[i];
	char *slug = mq_slug(label);
	char unique_id[300], tmpl[200];
	if (!slug)
		return NULL;
	snprintf(unique_id, sizeof(unique_id), "%s_%s", s->client_id, slug);
	free(slug);
	snprintf(tmpl, sizeof(tmpl), "{{ 'ON' if value == '%s' else 'OFF' }}", label);
	json_t *doc = common(s, model, label, unique_id);
	if (!doc)
		return NULL;
	if (json_object_set_new(doc, "value_template", json_string(tmpl)) < 0 ||
	    json_object_set_new(doc, "json_attributes_topic", json_string(s->t_attributes)) < 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}
