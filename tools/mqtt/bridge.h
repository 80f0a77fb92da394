/* bridge.h — camclass-mqtt's main loop: the daemon's socket on one side, the broker on the
 * other, each reconnected on its own with back-off.
 *
 * Contract
 * - mq_bridge_run() owns the process until SIGTERM/SIGINT (handled through a signalfd; the
 *   caller blocks them first): then it publishes "offline", disconnects cleanly and returns 0.
 *   It returns <0 only when it cannot start (broker setup, signalfd); everything that goes wrong
 *   later (broker or daemon away, refused, restarted) is logged and retried.
 * - Topics and payloads: docs/mqtt.md. Settings are borrowed. Main thread only. */
#ifndef CAMCLASS_TOOLS_MQTT_BRIDGE_H
#define CAMCLASS_TOOLS_MQTT_BRIDGE_H

#include "tools/mqtt/settings.h"

int mq_bridge_run(const struct mq_settings *s);

#endif
