/* state.h — what the bridge knows about the daemon's classification state, fed with the
 * daemon's messages, and the <prefix>/attributes document made from it.
 *
 * Contract
 * - The daemon decides the state (results carry "state"/"state_since", "state_changed" events
 *   carry state/previous/score/since); this module only follows it. A daemon without state
 *   fields (protocol before issue #19) is followed by the top label of each result, "unknown"
 *   when no label is reported (the subscription's threshold hides them).
 * - mq_state_feed() returns 1 when the state label changed (publish state + attributes), 0
 *   otherwise, -ENOMEM. Messages of other types are ignored. Main thread only.
 * - Memory: the struct owns everything; mq_state_free() releases it. */
#ifndef CAMCLASS_TOOLS_MQTT_STATE_H
#define CAMCLASS_TOOLS_MQTT_STATE_H

#include <jansson.h>

struct mq_state {
	char *model;        /* from hello / model_reloaded; NULL until known */
	char *state;        /* NULL until the first result */
	double score;       /* of the state label in the result that set it */
	double since;       /* Unix time the state began */
	json_int_t seq;     /* latest result seen */
	json_t *labels;     /* latest result's labels (array) */
};

int mq_state_feed(struct mq_state *st, const json_t *msg);
/* {"state","score","since","seq","labels":[...],"model"}; NULL on ENOMEM or before a state. */
json_t *mq_state_attributes(const struct mq_state *st);
void mq_state_free(struct mq_state *st);

#endif
