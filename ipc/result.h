/* result.h — one classification result as the daemon hands it to the server
 * (srv_publish_result) and as the pipeline keeps its latest one.
 *
 * Apart from server.h so that code producing results (postprocessing, the pipeline, tests)
 * need not pull in jansson or the server's API. The timestamps are CLOCK_MONOTONIC
 * (lib/clock.h); the server turns them into Unix seconds when it publishes.
 * The labels are the best scores of the frame, sorted by score descending, ties by lower class
 * index; up to WIRE_MAX_LABELS of them, the most any client may ask for. Each client's top_k and
 * threshold are applied by the server when it sends the result. */
#ifndef CAMCLASS_IPC_RESULT_H
#define CAMCLASS_IPC_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc/wire.h"

struct srv_label_score {
	uint32_t index;                 /* into the label table */
	float score;                    /* dequantized: scale * (q - zero_point) */
};

struct srv_result {
	uint64_t seq;
	uint64_t frame_ts_ns;           /* CLOCK_MONOTONIC capture time of the frame */
	uint64_t result_ts_ns;          /* CLOCK_MONOTONIC when the scores were ready */
	unsigned n_labels;              /* ≤ WIRE_MAX_LABELS, sorted by score descending */
	struct srv_label_score labels[WIRE_MAX_LABELS];
	struct {
		double capture_to_result, decode, preprocess, inference;
	} latency_ms;
	/* The debounced state ([classify] debounce), shown as "state"/"state_since" when has_state:
	 * a label index, or -1 for "unknown"; since = CLOCK_MONOTONIC start of the state. */
	bool has_state;
	int32_t state;
	uint64_t state_since_ns;
};

#endif
