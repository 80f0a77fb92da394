/* ha.h — Home Assistant MQTT discovery documents for the bridge's topics.
 *
 * Contract
 * - mq_ha_sensor() is the retained config for <discovery_prefix>/sensor/<client_id>/state/config:
 *   a sensor whose state is the label on <prefix>/state, attributes from <prefix>/attributes,
 *   availability from <prefix>/availability, unique_id, and a device block (model name from the
 *   daemon, sw_version = camclass_version()). mq_ha_binary() is the config of binary_labels entry i: ON while the
 *   state is that label. model may be NULL (not known yet). New references; NULL on ENOMEM.
 * - Pure: any thread. */
#ifndef CAMCLASS_TOOLS_MQTT_HA_H
#define CAMCLASS_TOOLS_MQTT_HA_H

#include <stddef.h>

#include <jansson.h>

#include "tools/mqtt/settings.h"

json_t *mq_ha_sensor(const struct mq_settings *s, const char *model);
json_t *mq_ha_binary(const struct mq_settings *s, size_t i, const char *model);

#endif
