/* state.c — following the daemon's state from its messages (contract in state.h).
 *
 * Both a result carrying the new "state" and the "state_changed" event announce one change;
 * whichever arrives first changes the label here and the other then changes nothing, so a
 * change is published exactly once. */
#include "tools/mqtt/state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int set_text(char **slot, const char *text)
{
	char *copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

static double score_of(const json_t *labels, const char *label)
{
	size_t i;
	json_t *entry;
	json_array_foreach(labels, i, entry) {
		const char *name = json_string_value(json_object_get(entry, "label"));
		if (name && strcmp(name, label) == 0)
			return json_number_value(json_object_get(entry, "score"));
	}
	return 0;
}

/* Returns 1 when the label changed. */
static int change(struct mq_state *st, const char *label, double score, double since)
{
	if (st->state && strcmp(st->state, label) == 0)
		return 0;
	if (set_text(&st->state, label) < 0)
		return -ENOMEM;
	st->score = score;
	st->since = since;
	return 1;
}

static int feed_result(struct mq_state *st, const json_t *msg)
{
	json_t *labels = json_object_get(msg, "labels");
	if (!json_is_array(labels))
		return 0;
	json_decref(st->labels);
	st->labels = json_incref(labels);
	if (json_is_integer(json_object_get(msg, "seq")))
		st->seq = json_integer_value(json_object_get(msg, "seq"));
	double ts = json_number_value(json_object_get(msg, "ts"));
	const char *state = json_string_value(json_object_get(msg, "state"));
	if (state) {
		json_t *since = json_object_get(msg, "state_since");
		return change(st, state, score_of(labels, state),
			      json_is_number(since) ? json_number_value(since) : ts);
	}
	/* a daemon without state semantics: the top label is the state */
	json_t *top = json_array_get(labels, 0);
	const char *label = json_string_value(json_object_get(top, "label"));
	if (!label)
		return change(st, "unknown", 0, ts);
	return change(st, label, json_number_value(json_object_get(top, "score")), ts);
}

int mq_state_feed(struct mq_state *st, const json_t *msg)
{
	const char *type = json_string_value(json_object_get(msg, "type"));
	if (!type)
		return 0;
	if (strcmp(type, "result") == 0)
		return feed_result(st, msg);
	if (strcmp(type, "hello") == 0 || strcmp(type, "event") == 0) {
		const char *event = json_string_value(json_object_get(msg, "event"));
		const char *model = json_string_value(json_object_get(msg, "model"));
		if (model && (!event || strcmp(event, "model_reloaded") == 0) &&
		    set_text(&st->model, model) < 0)
			return -ENOMEM;
		if (event && strcmp(event, "state_changed") == 0) {
			const char *state = json_string_value(json_object_get(msg, "state"));
			if (state)
				return change(st, state,
					      json_number_value(json_object_get(msg, "score")),
					      json_number_value(json_object_get(msg, "since")));
		}
	}
	return 0;
}

json_t *mq_state_attributes(const struct mq_state *st)
{
	if (!st->state)
		return NULL;
	json_t *labels = st->labels ? json_incref(st->labels) : json_array();
	if (!labels)
		return NULL;
	return json_pack("{s:s, s:f, s:f, s:I, s:o, s:s?}", "state", st->state, "score",
			 st->score, "since", st->since, "seq", st->seq, "labels", labels, "model",
			 st->model);
}

void mq_state_free(struct mq_state *st)
{
	free(st->model);
	free(st->state);
	json_decref(st->labels);
	memset(st, 0, sizeof(*st));
}
