/* engine_probe.c — read one intermediate tensor after an invoke (eng_options.probe_tensor).
 *
 * Head retraining and live teaching need the embedding (the input of the model's classifier)
 * of the very frame the model classified. Rather than a second engine on a cut-down model, the
 * probe tensor is appended to the graph's outputs before planning: the planner then keeps its
 * memory alive to the end of the run and XNNPACK treats it as an external value it writes
 * back, exactly as for the real output. eng_output() and everything else still mean the first
 * output, so callers that never ask for a probe see no difference. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inference/engine.h"
#include "inference/engine_state.h"

int eng_probe_attach(struct engine *e, const char *probe_name, const char *name, char *err, size_t errlen)
{
	struct graph *g = &e->g;
	int found = -1, count = 0;
	for (int t = 0; t < g->ntensors; t++)
		if (strcmp(g->tensors[t].name, probe_name) == 0) {
			found = t;
			count++;
		}
	if (count != 1) {
		snprintf(err, errlen, "%s: probe tensor '%s': %s", name, probe_name,
			 count ? "several tensors have that name" : "no tensor has that name");
		return -ENOENT;
	}
	if (g->tensors[found].is_const || found == e->input) {
		snprintf(err, errlen, "%s: probe tensor '%s' is %s, not computed by the model", name, probe_name,
			 found == e->input ? "the input" : "a constant");
		return -EINVAL;
	}
	e->probe = found;
	if (found == e->output)
		return 0;
	int *outs = realloc(g->outputs, ((size_t)g->noutputs + 1) * sizeof(int));
	if (!outs) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	outs[g->noutputs++] = found;
	g->outputs = outs;
	return 0;
}

int eng_probe_info(const struct engine *e, struct eng_tensor_info *ret_info)
{
	if (e->probe < 0)
		return -ENOENT;
	const struct tensor *t = &e->g.tensors[e->probe];
	struct eng_tensor_info info = { 0 };
	switch (t->type) {
	case TT_UINT8: info.type = ENG_UINT8; break;
	case TT_INT8: info.type = ENG_INT8; break;
	case TT_INT32: info.type = ENG_INT32; break;
	case TT_FLOAT32: info.type = ENG_FLOAT32; break;
	default: return -ENOTSUP;
	}
	info.ndim = t->ndim;
	for (int d = 0; d < t->ndim && d < ENG_MAX_DIMS; d++)
		info.dims[d] = t->dims[d];
	info.bytes = t->bytes;
	info.scale = t->scale;
	info.zero_point = t->zero_point;
	info.name = t->name;
	info.quantized_type = info.type;
	info.quantized_scale = t->scale;
	info.quantized_zero_point = t->zero_point;
	*ret_info = info;
	return 0;
}

const void *eng_probe(const struct engine *e)
{
	return e->probe >= 0 ? e->g.tensors[e->probe].data : NULL;
}
