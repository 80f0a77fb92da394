/* engine_profile.c — eng_invoke with a clock around each step, and the operators' shapes, for
 * `camclass bench --per-op`: which operator takes the time. Kept apart from engine.c so that
 * eng_invoke() itself stays the bare loop (no clock reads on the daemon's path). */
#include "inference/engine.h"
#include "inference/engine_state.h"

#include <errno.h>
#include <stdio.h>

#include "lib/clock.h"
#include "inference/ops/fast/workers.h"
#include "inference/ops/ops.h"
#include "inference/xnnpack.h"

static double now_ms(void)
{
	return (double)mono_now_ns() / 1e6;
}

int eng_invoke_profiled(struct engine *e, double *ms_per_op, int *ret_step_end)
{
	for (int i = 0; i < e->g.nnodes; i++)
		ret_step_end[i] = 0;
	for (int i = 0; i < e->g.nnodes;) {
		int next = i + 1;
		const double t0 = now_ms();
		int rc = xnnpack_delegate_run(e->xnn, &e->g, i, &next);
		if (rc < 0)
			return rc;
		if (rc == 0)
			e->kernels[i]->invoke(&e->g, &e->g.nodes[i]);
		ms_per_op[i] += now_ms() - t0;
		ret_step_end[i] = next;
		i = next;
	}
	workers_idle(e->workers);
	return 0;
}

static size_t put_dims(char *buf, size_t len, const struct tensor *t)
{
	size_t n = (size_t)snprintf(buf, len, "[");
	for (int d = 0; d < t->ndim && n < len; d++)
		n += (size_t)snprintf(buf + n, len - n, "%s%d", d ? "," : "", (int)t->dims[d]);
	if (n < len)
		n += (size_t)snprintf(buf + n, len - n, "]");
	return n;
}

int eng_op_shapes(const struct engine *e, int i, char *buf, size_t len)
{
	if (i < 0 || i >= e->g.nnodes || len == 0)
		return -EINVAL;
	const struct node *n = &e->g.nodes[i];
	size_t at = 0;
	buf[0] = 0;
	for (int k = 0; k < n->ninputs && k < 2 && at < len; k++) {
		if (n->inputs[k] < 0)
			continue;
		if (k && at < len)
			at += (size_t)snprintf(buf + at, len - at, "x");
		if (at < len)
			at += put_dims(buf + at, len - at, &e->g.tensors[n->inputs[k]]);
	}
	if (n->noutputs > 0 && n->outputs[0] >= 0 && at < len) {
		at += (size_t)snprintf(buf + at, len - at, "->");
		if (at < len)
			put_dims(buf + at, len - at, &e->g.tensors[n->outputs[0]]);
	}
	return 0;
}
