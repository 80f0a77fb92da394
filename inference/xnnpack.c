/* xnnpack.c — the XNNPACK backend (see xnnpack.h for the contract).
 *
 * Why this shape: XNNPACK's subgraph API does the fast work (packed weights, its own activation
 * workspace, operator fusion, pthreadpool threading), and a 2022 snapshot (Debian's) supports
 * exactly the ConvNet core we need — but not softmax on quantized tensors, not per-channel fully
 * connected, and no u8<->s8 conversion. So, like TFLite's delegate, we hand XNNPACK the maximal
 * runs of nodes it can take and run the rest with our own kernels in between. Runs are taken in
 * the planner's execution order, which for the linear ConvNets we target is the same as
 * partitioning the dataflow graph. The partition boundaries are XNNPACK external values bound
 * straight to the graph's tensor buffers, so no copies happen between segments.
 *
 * Which nodes XNNPACK can take, and how each is defined, is xnnpack_nodes.c's job; if
 * XNNPACK still refuses a run (say, a requantization scale outside its range), that run stays
 * on the builtin kernels. Coded against Debian's 2022 header, not against upstream.
 * A build without XNNPACK gets xnnpack_absent.c instead of the contents of this file.
 */
#include "inference/xnnpack.h"

#include <errno.h>
#include <stdio.h>

#ifdef CAMCLASS_HAVE_XNNPACK

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pthreadpool.h>
#include <xnnpack.h>

#include "inference/xnnpack_nodes.h"
#include "inference/xnnpack_pool.h"
#include "lib/log.h"

struct segment {
	int first_node, end_node;        /* [first_node, end_node) of the execution order */
	xnn_runtime_t runtime;
	size_t nexternal;
	struct xnn_external_value *externals; /* .data as last bound (NULL: not yet bound) */
	int *external_tensor;            /* graph tensor of each external value */
};

struct xnnpack_delegate {
	pthreadpool_t threadpool;        /* NULL for one thread: XNNPACK then runs on the caller */
	int nnodes;
	int nsegments;
	struct segment *segments;        /* only the XNNPACK segments */
	int *segment_at;                 /* per node: index of the segment starting there, or -1 */
	struct xnnpack_owned owned;      /* static data XNNPACK reads; must outlive the runtimes */
	int delegated_nodes;
	int ntensors;
	bool *internal;                  /* per tensor: lives only inside one runtime's workspace */
	char error[160];                 /* why the last xnnpack_delegate_run() failed */
};

/* Who produces and who last reads each tensor, in execution order. */
struct tensor_index {
	int *producer;                   /* execution index of the producer, or -1 */
	int *last_consumer;              /* last execution index reading it, or -1 */
	bool *is_graph_output;
};

/* Collects the boundary tensors of nodes [first, end): inputs made before the segment, and
 * outputs read after it or by the caller. Returns their count. */
static size_t collect_externals(const struct graph *g, const struct tensor_index *ix, int first, int end,
				int *tensors, uint32_t *flags)
{
	size_t k = 0;
	for (int i = first; i < end; i++) {
		const struct node *n = &g->nodes[i];
		for (int j = 0; j < n->ninputs; j++) {
			int t = n->inputs[j];
			if (t < 0 || g->tensors[t].is_const || ix->producer[t] >= first)
				continue;
			size_t m = 0;
			while (m < k && tensors[m] != t)
				m++;
			if (m == k) {
				tensors[k] = t;
				flags[k++] = XNN_VALUE_FLAG_EXTERNAL_INPUT;
			}
		}
		for (int j = 0; j < n->noutputs; j++) {
			int t = n->outputs[j];
			if (t >= 0 && (ix->last_consumer[t] >= end || ix->is_graph_output[t])) {
				tensors[k] = t;
				flags[k++] = XNN_VALUE_FLAG_EXTERNAL_OUTPUT;
			}
		}
	}
	return k;
}

static enum xnn_status bind_externals(struct segment *s, const struct graph *g)
{
	for (size_t k = 0; k < s->nexternal; k++) {
		s->externals[k].data = g->tensors[s->external_tensor[k]].data;
		if (!s->externals[k].data)
			return xnn_status_success; /* buffers not assigned yet: bind at first run */
	}
	return xnn_setup_runtime(s->runtime, s->nexternal, s->externals);
}

/* Builds the XNNPACK runtime of nodes [first, end) into s. A status other than success means
 * XNNPACK refused it (or memory ran out): the caller keeps these nodes on the builtin kernels. */
static enum xnn_status build_segment(struct xnnpack_delegate *d, struct xnnpack_builder *b,
				     const struct tensor_index *ix, int first, int end, struct segment *s)
{
	const struct graph *g = b->g;
	size_t cap = 0, k;
	uint32_t *flags = NULL;
	xnn_runtime_t rt = NULL;
	enum xnn_status st = xnn_status_out_of_memory;

	for (int i = first; i < end; i++)
		cap += (size_t)(g->nodes[i].ninputs + g->nodes[i].noutputs);
	memset(s, 0, sizeof(*s));
	s->externals = calloc(cap, sizeof(*s->externals));
	s->external_tensor = calloc(cap, sizeof(int));
	flags = calloc(cap, sizeof(uint32_t));
	if (!s->externals || !s->external_tensor || !flags)
		goto fail;
	k = collect_externals(g, ix, first, end, s->external_tensor, flags);

	for (int t = 0; t < g->ntensors; t++)
		b->value_of[t] = XNN_INVALID_VALUE_ID;
	b->sg = NULL;
	st = xnn_create_subgraph((uint32_t)k, 0, &b->sg);
	for (size_t e = 0; e < k && st == xnn_status_success; e++) {
		st = xnnpack_define_activation(b, s->external_tensor[e], (uint32_t)e, flags[e]);
		s->externals[e].id = (uint32_t)e;
	}
	for (int i = first; i < end && st == xnn_status_success; i++)
		st = xnnpack_define_node(b, &g->nodes[i]);
	if (st == xnn_status_success)
		/* XNNPACK then passes PTHREADPOOL_FLAG_YIELD_WORKERS with a runtime's last operator,
		 * and the pool (xnnpack_pool.c) sleeps until the next frame instead of polling through
		 * the gap (with Debian's pthreadpool, whose workers spin up to 1M polls, that gap cost
		 * 51 % of a core for MobileNetV2 at 15 fps on 2 threads against 10 % on 1). */
		st = xnn_create_runtime_v2(b->sg, d->threadpool, XNN_FLAG_YIELD_WORKERS, &rt);
	if (b->sg)
		xnn_delete_subgraph(b->sg);
	b->sg = NULL;
	if (st != xnn_status_success)
		goto fail;
	s->first_node = first;
	s->end_node = end;
	s->runtime = rt;
	s->nexternal = k;
	st = bind_externals(s, g);
	if (st != xnn_status_success)
		goto fail;
	for (int i = first; i < end; i++) {
		const struct node *n = &g->nodes[i];
		for (int j = 0; j < n->noutputs; j++) {
			int t = n->outputs[j];
			bool external = false;
			for (size_t e = 0; e < k && !external; e++)
				external = s->external_tensor[e] == t;
			if (t >= 0 && !external)
				d->internal[t] = true;
		}
	}
	free(flags);
	return xnn_status_success;
fail:
	if (rt)
		xnn_delete_runtime(rt);
	free(s->externals);
	free(s->external_tensor);
	free(flags);
	memset(s, 0, sizeof(*s));
	return st;
}

static int index_tensors(const struct graph *g, struct tensor_index *ix)
{
	for (int t = 0; t < g->ntensors; t++) {
		ix->producer[t] = -1;
		ix->last_consumer[t] = -1;
		ix->is_graph_output[t] = false;
	}
	for (int i = 0; i < g->noutputs; i++) {
		if (g->outputs[i] < 0 || g->outputs[i] >= g->ntensors)
			return -EINVAL;
		ix->is_graph_output[g->outputs[i]] = true;
	}
	for (int i = 0; i < g->nnodes; i++) {
		const struct node *n = &g->nodes[i];
		for (int j = 0; j < n->ninputs; j++)
			if (n->inputs[j] >= 0 && n->inputs[j] < g->ntensors)
				ix->last_consumer[n->inputs[j]] = i;
		for (int j = 0; j < n->noutputs; j++)
			if (n->outputs[j] >= 0 && n->outputs[j] < g->ntensors)
				ix->producer[n->outputs[j]] = i;
	}
	return 0;
}

/* Cuts the execution order into maximal runs of supported nodes and builds a runtime for each
 * run that computes something. Returns 0 or -ENOMEM. */
static int partition(struct xnnpack_delegate *d, struct xnnpack_builder *b, const struct tensor_index *ix)
{
	const struct graph *g = b->g;
	for (int i = 0; i < g->nnodes; i++)
		d->segment_at[i] = -1;
	for (int i = 0; i < g->nnodes;) {
		int end = i;
		bool computes = false;
		while (end < g->nnodes && xnnpack_node_supported(g, &g->nodes[end])) {
			computes = computes || xnnpack_node_computes(&g->nodes[end]);
			end++;
		}
		if (end == i) {
			i++;
			continue;
		}
		if (computes) {
			enum xnn_status st = build_segment(d, b, ix, i, end, &d->segments[d->nsegments]);
			if (st == xnn_status_success) {
				d->segment_at[i] = d->nsegments++;
				d->delegated_nodes += end - i;
			} else if (st == xnn_status_out_of_memory) {
				return -ENOMEM;
			} else {
				log_debug("xnnpack: operators %d..%d stay on the builtin kernels (XNNPACK status %d)",
					  g->nodes[i].index, g->nodes[end - 1].index, (int)st);
			}
		}
		i = end;
	}
	return 0;
}

bool xnnpack_available(void)
{
	return true;
}

int xnnpack_delegate_create(struct graph *g, int threads, struct xnnpack_delegate **ret_delegate,
			    char *err, size_t errlen)
{
	struct xnnpack_delegate *d = NULL;
	size_t nt = (size_t)g->ntensors + 1;
	struct tensor_index ix = {
		.producer = calloc(nt, sizeof(int)),
		.last_consumer = calloc(nt, sizeof(int)),
		.is_graph_output = calloc(nt, sizeof(bool)),
	};
	struct xnnpack_builder b = { .g = g, .producer = ix.producer, .value_of = calloc(nt, sizeof(uint32_t)) };
	enum xnn_status st;
	int r = -ENOMEM;

	if (threads < 1) {
		r = -EINVAL;
		snprintf(err, errlen, "xnnpack: threads must be at least 1, not %d", threads);
		goto fail;
	}
	st = xnn_initialize(NULL);
	if (st != xnn_status_success) {
		r = -ENOTSUP;
		snprintf(err, errlen, "xnnpack: cannot initialize (status %d%s)", (int)st,
			 st == xnn_status_unsupported_hardware ? ", unsupported CPU" : "");
		goto fail;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !ix.producer || !ix.last_consumer || !ix.is_graph_output || !b.value_of)
		goto fail;
	d->nnodes = g->nnodes;
	d->ntensors = g->ntensors;
	d->internal = calloc(nt, sizeof(bool));
	d->segments = calloc((size_t)g->nnodes + 1, sizeof(*d->segments));
	d->segment_at = malloc(((size_t)g->nnodes + 1) * sizeof(int));
	d->owned.cap = 2 * g->nnodes + 1; /* at most a bias and its per-channel scales per node */
	d->owned.ptr = calloc((size_t)d->owned.cap, sizeof(void *));
	b.owned = &d->owned;
	if (!d->internal || !d->segments || !d->segment_at || !d->owned.ptr)
		goto fail;
	if (threads > 1) {
		/* the builtin workers pool behind the pthreadpool API (xnnpack_pool.c) */
		if (xnnpack_pool_create(threads, &d->threadpool) < 0) {
			d->threadpool = NULL;
			goto fail;
		}
	}
	if (index_tensors(g, &ix) < 0) {
		r = -EINVAL;
		snprintf(err, errlen, "xnnpack: graph output index out of range");
		goto fail;
	}
	r = partition(d, &b, &ix);
	if (r < 0)
		goto fail;
	log_debug("xnnpack: %d of %d operators in %d XNNPACK subgraph(s), %d thread(s)", d->delegated_nodes,
		  g->nnodes, d->nsegments, threads);
	free(ix.producer);
	free(ix.last_consumer);
	free(ix.is_graph_output);
	free(b.value_of);
	*ret_delegate = d;
	return 0;
fail:
	if (r == -ENOMEM)
		snprintf(err, errlen, "xnnpack: out of memory");
	free(ix.producer);
	free(ix.last_consumer);
	free(ix.is_graph_output);
	free(b.value_of);
	xnnpack_delegate_free(d);
	return r;
}

int xnnpack_delegate_run(struct xnnpack_delegate *d, struct graph *g, int node, int *ret_next_node)
{
	struct segment *s;
	bool moved = false;
	enum xnn_status st;

	if (!d || node < 0 || node >= d->nnodes || d->segment_at[node] < 0)
		return 0;
	s = &d->segments[d->segment_at[node]];
	for (size_t k = 0; k < s->nexternal; k++) {
		void *data = g->tensors[s->external_tensor[k]].data;
		if (s->externals[k].data != data) {
			s->externals[k].data = data;
			moved = true;
		}
	}
	if (moved) {
		st = xnn_setup_runtime(s->runtime, s->nexternal, s->externals);
		if (st != xnn_status_success) {
			snprintf(d->error, sizeof(d->error),
				 "xnnpack: cannot bind the buffers of nodes %d..%d (status %d)",
				 g->nodes[s->first_node].index, g->nodes[s->end_node - 1].index, (int)st);
			return -EIO;
		}
	}
	st = xnn_invoke_runtime(s->runtime);
	if (st != xnn_status_success) {
		snprintf(d->error, sizeof(d->error), "xnnpack: running nodes %d..%d failed (status %d)",
			 g->nodes[s->first_node].index, g->nodes[s->end_node - 1].index, (int)st);
		return -EIO;
	}
	*ret_next_node = s->end_node;
	return 1;
}

int xnnpack_delegate_pool_parked(const struct xnnpack_delegate *d)
{
	return d && d->threadpool ? xnnpack_pool_parked(d->threadpool) : 0;
}

const char *xnnpack_delegate_error(const struct xnnpack_delegate *d)
{
	return d && d->error[0] ? d->error : NULL;
}

int xnnpack_delegate_bind(struct xnnpack_delegate *d, const struct graph *g, char *err, size_t errlen)
{
	for (int i = 0; d && i < d->nsegments; i++) {
		struct segment *s = &d->segments[i];
		bool complete = true;
		for (size_t k = 0; k < s->nexternal; k++) {
			s->externals[k].data = g->tensors[s->external_tensor[k]].data;
			complete = complete && s->externals[k].data;
		}
		enum xnn_status st = complete ? xnn_setup_runtime(s->runtime, s->nexternal, s->externals) :
						xnn_status_invalid_state;
		if (st != xnn_status_success) {
			snprintf(err, errlen, "xnnpack: cannot bind the buffers of operators %d..%d (status %d)",
				 g->nodes[s->first_node].index, g->nodes[s->end_node - 1].index, (int)st);
			return -EINVAL;
		}
	}
	return 0;
}

bool xnnpack_delegate_tensor_internal(const struct xnnpack_delegate *d, int tensor)
{
	return d && tensor >= 0 && tensor < d->ntensors && d->internal[tensor];
}

bool xnnpack_delegate_covers(const struct xnnpack_delegate *d, int node)
{
	if (!d)
		return false;
	for (int i = 0; i < d->nsegments; i++)
		if (node >= d->segments[i].first_node && node < d->segments[i].end_node)
			return true;
	return false;
}

void xnnpack_delegate_stats(const struct xnnpack_delegate *d, int *ret_delegated_nodes,
			    int *ret_runtimes)
{
	*ret_delegated_nodes = d ? d->delegated_nodes : 0;
	*ret_runtimes = d ? d->nsegments : 0;
}

void xnnpack_delegate_free(struct xnnpack_delegate *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->nsegments; i++) {
		xnn_delete_runtime(d->segments[i].runtime);
		free(d->segments[i].externals);
		free(d->segments[i].external_tensor);
	}
	for (int i = 0; i < d->owned.n; i++)
		free(d->owned.ptr[i]);
	if (d->threadpool)
		xnnpack_pool_destroy(d->threadpool);
	free(d->owned.ptr);
	free(d->internal);
	free(d->segments);
	free(d->segment_at);
	free(d);
}

#endif /* CAMCLASS_HAVE_XNNPACK */
