/* plan.c — dataflow checks, execution order and arena placement. See plan.h.
 *
 * Ordering and placement are two calls because the XNNPACK backend sits between them: it
 * partitions the ordered graph, and the tensors that live only inside its runtimes need no
 * arena memory (XNNPACK keeps them in its own workspace).
 *
 * Why this shape: the file's operator order is almost always already topological, so it is kept
 * when it is (same order as TFLite runs it); otherwise Kahn's algorithm orders the nodes. Memory
 * placement is the classic greedy "largest tensor first, lowest offset that does not collide
 * with a time-overlapping tensor already placed" — near-optimal for chain-like ConvNets and
 * simple enough to check by reading. All sizes are bounded (model.h limits each tensor to
 * MODEL_MAX_TENSOR_BYTES; offsets are checked against max_arena_bytes), so no sum can wrap. */
#include "inference/plan.h"
#include "lib/errbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lifetime {
	int tensor;
	int first, last;          /* execution steps, inclusive */
	size_t size;              /* bytes rounded up to PLAN_ALIGN, at least PLAN_ALIGN */
	size_t offset;
	int placed;
};

struct planner {
	struct graph *g;
	char *err;
	size_t errlen;
	int *producer;            /* per tensor: node index (file order) or -1 */
	char *is_input;
	char *is_output;          /* plan_arena only */
	int *order;               /* execution order: node indices (plan_order only) */
};

static int failf(struct planner *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(struct planner *p, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vsetf(p->err, p->errlen, code, fmt, ap);
	va_end(ap);
	return code;
}

#define NODE_FMT "operator %d (%s)"
#define NODE_ARGS(n) (n)->index, builtin_op_name((n)->op)

static int check_dataflow(struct planner *p)
{
	struct graph *g = p->g;
	for (int t = 0; t < g->ntensors; t++)
		p->producer[t] = -1;
	for (int k = 0; k < g->ninputs; k++) {
		const struct tensor *t = &g->tensors[g->inputs[k]];
		if (t->is_const)
			return failf(p, -EINVAL, "graph input tensor %d '%s' is a constant", g->inputs[k], t->name);
		p->is_input[g->inputs[k]] = 1;
	}
	for (int i = 0; i < g->nnodes; i++) {
		const struct node *n = &g->nodes[i];
		for (int k = 0; k < n->noutputs; k++) {
			int t = n->outputs[k];
			const char *name = g->tensors[t].name;
			if (g->tensors[t].is_const)
				return failf(p, -EINVAL, NODE_FMT ": output tensor %d '%s' is a constant", NODE_ARGS(n), t, name);
			if (p->is_input[t])
				return failf(p, -EINVAL, NODE_FMT ": output tensor %d '%s' is a graph input", NODE_ARGS(n), t, name);
			if (p->producer[t] >= 0)
				return failf(p, -EINVAL, "tensor %d '%s' is written by operator %d and operator %d", t, name,
					     g->nodes[p->producer[t]].index, n->index);
			p->producer[t] = i;
		}
	}
	for (int i = 0; i < g->nnodes; i++) {
		const struct node *n = &g->nodes[i];
		for (int k = 0; k < n->ninputs; k++) {
			int t = n->inputs[k];
			if (t < 0 || g->tensors[t].is_const || p->is_input[t])
				continue;
			if (p->producer[t] < 0)
				return failf(p, -EINVAL, NODE_FMT ": input tensor %d '%s' is never written", NODE_ARGS(n), t,
					     g->tensors[t].name);
			if (p->producer[t] == i)
				return failf(p, -EINVAL, NODE_FMT ": reads its own output tensor %d '%s' (cycle)", NODE_ARGS(n),
					     t, g->tensors[t].name);
		}
	}
	for (int k = 0; k < g->noutputs; k++) {
		int t = g->outputs[k];
		if (p->producer[t] < 0 && !p->is_input[t])
			return failf(p, -EINVAL, "graph output tensor %d '%s' is never written", t, g->tensors[t].name);
	}
	return 0;
}

/* Execution order into p->order: file order if it is topological, else Kahn's algorithm. */
static int order_nodes(struct planner *p)
{
	struct graph *g = p->g;
	int n = g->nnodes, done = 0, head = 0;
	bool sorted = true;
	for (int i = 0; i < n && sorted; i++)
		for (int k = 0; k < g->nodes[i].ninputs; k++) {
			int t = g->nodes[i].inputs[k];
			if (t >= 0 && p->producer[t] > i)
				sorted = false;
		}
	if (sorted) {
		for (int i = 0; i < n; i++)
			p->order[i] = i;
		return 0;
	}
	/* pending[i]: inputs of node i whose producer has not run; waiting counts per tensor */
	int *pending = calloc((size_t)n, sizeof(int));
	if (!pending)
		return failf(p, -ENOMEM, "out of memory ordering %d operators", n);
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < g->nodes[i].ninputs; k++) {
			int t = g->nodes[i].inputs[k];
			if (t >= 0 && p->producer[t] >= 0)
				pending[i]++;
		}
		if (pending[i] == 0)
			p->order[done++] = i;
	}
	while (head < done) {
		const struct node *ready = &g->nodes[p->order[head++]];
		for (int k = 0; k < ready->noutputs; k++)
			for (int i = 0; i < n; i++)
				for (int j = 0; j < g->nodes[i].ninputs; j++)
					if (g->nodes[i].inputs[j] == ready->outputs[k] && --pending[i] == 0)
						p->order[done++] = i;
	}
	int stuck = -1;
	for (int i = 0; i < n && stuck < 0; i++)
		if (pending[i] > 0)
			stuck = i;
	free(pending);
	if (done < n)
		return failf(p, -EINVAL, NODE_FMT ": operators form a cycle through its inputs", NODE_ARGS(&g->nodes[stuck]));
	return 0;
}

static int cmp_size_desc(const void *a, const void *b)
{
	const struct lifetime *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return x->tensor - y->tensor;
}

static int cmp_offset(const void *a, const void *b)
{
	const struct lifetime *x = *(const struct lifetime *const *)a, *y = *(const struct lifetime *const *)b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Greedy placement; returns the arena size or fails with -E2BIG. */
static int place(struct planner *p, struct lifetime *lt, int nlt, size_t max_bytes, size_t *ret_total)
{
	const struct lifetime **live = malloc((size_t)(nlt ? nlt : 1) * sizeof(*live));
	size_t total = 0;
	if (!live)
		return failf(p, -ENOMEM, "out of memory planning %d tensors", nlt);
	qsort(lt, (size_t)nlt, sizeof(*lt), cmp_size_desc);
	for (int i = 0; i < nlt; i++) {
		int nlive = 0;
		size_t offset = 0;
		for (int j = 0; j < i; j++)
			if (lt[j].first <= lt[i].last && lt[i].first <= lt[j].last)
				live[nlive++] = &lt[j];
		qsort(live, (size_t)nlive, sizeof(*live), cmp_offset);
		for (int j = 0; j < nlive; j++) {
			if (live[j]->offset >= offset + lt[i].size)
				break; /* fits in the gap before this one */
			if (live[j]->offset + live[j]->size > offset)
				offset = live[j]->offset + live[j]->size;
		}
		if (offset > max_bytes || lt[i].size > max_bytes - offset) {
			free(live);
			return failf(p, -E2BIG, "activation arena would exceed %zu bytes (tensor %d '%s' needs %zu)",
				     max_bytes, lt[i].tensor, p->g->tensors[lt[i].tensor].name, lt[i].size);
		}
		lt[i].offset = offset;
		if (offset + lt[i].size > total)
			total = offset + lt[i].size;
	}
	free(live);
	*ret_total = total;
	return 0;
}

/* Lifetimes in the (already topological) node order: node i runs at step i. */
static int layout(struct planner *p, const bool *skip_tensor, size_t max_bytes, void **ret_arena,
		  size_t *ret_bytes)
{
	struct graph *g = p->g;
	int last_step = g->nnodes > 0 ? g->nnodes - 1 : 0, nlt = 0, rc;
	struct lifetime *lt = calloc((size_t)(g->ntensors ? g->ntensors : 1), sizeof(*lt));
	int *slot = malloc((size_t)(g->ntensors ? g->ntensors : 1) * sizeof(int));
	size_t total = 0;
	uint8_t *arena = NULL;
	if (!lt || !slot) {
		rc = failf(p, -ENOMEM, "out of memory planning %d tensors", g->ntensors);
		goto out;
	}
	for (int k = 0; k < g->noutputs; k++)
		p->is_output[g->outputs[k]] = 1;
	for (int t = 0; t < g->ntensors; t++) {
		slot[t] = -1;
		if (g->tensors[t].is_const || (p->producer[t] < 0 && !p->is_input[t]))
			continue;
		if (skip_tensor && skip_tensor[t] && !p->is_input[t] && !p->is_output[t]) {
			g->tensors[t].data = NULL;
			continue;
		}
		slot[t] = nlt;
		lt[nlt].tensor = t;
		lt[nlt].first = p->is_input[t] ? 0 : p->producer[t];
		lt[nlt].last = p->is_input[t] ? last_step : lt[nlt].first;
		lt[nlt].size = (g->tensors[t].bytes + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN;
		if (lt[nlt].size == 0)
			lt[nlt].size = PLAN_ALIGN;
		nlt++;
	}
	for (int s = 0; s < g->nnodes; s++) {
		const struct node *n = &g->nodes[s];
		for (int k = 0; k < n->ninputs; k++)
			if (n->inputs[k] >= 0 && slot[n->inputs[k]] >= 0 && lt[slot[n->inputs[k]]].last < s)
				lt[slot[n->inputs[k]]].last = s;
	}
	for (int k = 0; k < g->noutputs; k++)
		lt[slot[g->outputs[k]]].last = last_step;
	rc = place(p, lt, nlt, max_bytes, &total);
	if (rc < 0)
		goto out;
	arena = aligned_alloc(PLAN_ALIGN, total + PLAN_TAIL_BYTES);
	if (!arena) {
		rc = failf(p, -ENOMEM, "out of memory for a %zu-byte activation arena", total);
		goto out;
	}
	memset(arena, 0, total + PLAN_TAIL_BYTES);
	for (int i = 0; i < nlt; i++)
		g->tensors[lt[i].tensor].data = arena + lt[i].offset;
	*ret_arena = arena;
	*ret_bytes = total;
out:
	free(lt);
	free(slot);
	return rc;
}

int plan_order(struct graph *g, char *err, size_t errlen)
{
	size_t nt = (size_t)(g->ntensors ? g->ntensors : 1), nn = (size_t)(g->nnodes ? g->nnodes : 1);
	struct planner p = {
		.g = g, .err = err, .errlen = errlen,
		.producer = malloc(nt * sizeof(int)),
		.is_input = calloc(nt, 1),
		.order = malloc(nn * sizeof(int)),
	};
	struct node *sorted = malloc(nn * sizeof(struct node));
	int rc;
	if (!p.producer || !p.is_input || !p.order || !sorted) {
		rc = failf(&p, -ENOMEM, "out of memory planning %d operators", g->nnodes);
		goto out;
	}
	rc = check_dataflow(&p);
	if (rc < 0)
		goto out;
	rc = order_nodes(&p);
	if (rc < 0)
		goto out;
	for (int s = 0; s < g->nnodes; s++)
		sorted[s] = g->nodes[p.order[s]];
	memcpy(g->nodes, sorted, (size_t)g->nnodes * sizeof(struct node));
out:
	free(sorted);
	free(p.producer);
	free(p.is_input);
	free(p.order);
	return rc;
}

int plan_arena(struct graph *g, const bool *skip_tensor, size_t max_arena_bytes, void **ret_arena,
	       size_t *ret_arena_bytes, char *err, size_t errlen)
{
	size_t nt = (size_t)(g->ntensors ? g->ntensors : 1);
	struct planner p = {
		.g = g, .err = err, .errlen = errlen,
		.producer = malloc(nt * sizeof(int)),
		.is_input = calloc(nt, 1),
		.is_output = calloc(nt, 1),
	};
	int rc;
	if (!p.producer || !p.is_input || !p.is_output) {
		rc = failf(&p, -ENOMEM, "out of memory planning %d tensors", g->ntensors);
		goto out;
	}
	for (int t = 0; t < g->ntensors; t++)
		p.producer[t] = -1;
	for (int k = 0; k < g->ninputs; k++)
		p.is_input[g->inputs[k]] = 1;
	for (int i = 0; i < g->nnodes; i++)
		for (int k = 0; k < g->nodes[i].noutputs; k++)
			if (g->nodes[i].outputs[k] >= 0)
				p.producer[g->nodes[i].outputs[k]] = i;
	rc = layout(&p, skip_tensor, max_arena_bytes, ret_arena, ret_arena_bytes);
out:
	free(p.producer);
	free(p.is_input);
	free(p.is_output);
	return rc;
}

int plan_graph(struct graph *g, size_t max_arena_bytes, void **ret_arena, size_t *ret_arena_bytes,
	       char *err, size_t errlen)
{
	int rc = plan_order(g, err, errlen);
	if (rc < 0)
		return rc;
	return plan_arena(g, NULL, max_arena_bytes, ret_arena, ret_arena_bytes, err, errlen);
}
