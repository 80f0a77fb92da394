/* logistic.c — LOGISTIC (sigmoid) on int8/uint8 through a 256-entry table, as TFLite 2.8's
 * builtin and reference resolvers both do for 8-bit types (activations.cc PopulateLookupTable):
 * for every possible input byte, dequantize in float, 1 / (1 + expf(-x)), divide by the output
 * scale, round half away from zero, add the zero point, clamp. The output scale must be 1/256
 * (TFLite's requirement). Building the table at prepare makes invoke a pure lookup. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/quant.h"

struct logistic_params {
	int count;
	uint8_t table[256]; /* indexed by the input byte (int8 as its two's-complement byte) */
};

static int logistic_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *in, *out;
	int r = ku_prepare_unary(g, n, &in, &out, err, errlen);
	if (r < 0)
		return r;
	if (out->scale != 1.0f / 256)
		return ku_fail(err, errlen, n, "output scale %g, expected 1/256", (double)out->scale);
	struct logistic_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int32_t qmin, qmax;
	q_type_range(in->type, &qmin, &qmax);
	const float inverse_scale = 1.0f / out->scale;
	for (int32_t v = qmin; v <= qmax; v++) {
		const float x = in->scale * (float)(v - in->zero_point);
		const float y = 1.0f / (1.0f + expf(-x));
		const float rescaled = q_round_f(y * inverse_scale);
		const int32_t q = q_clamp((int32_t)(rescaled + (float)out->zero_point), qmin, qmax);
		p->table[(uint8_t)v] = (uint8_t)q;
	}
	p->count = tensor_num_elements(in);
	free(n->params);
	n->params = p;
	return 0;
}

static void logistic_invoke(struct graph *g, const struct node *n)
{
	const struct logistic_params *p = n->params;
	const uint8_t *src = g->tensors[n->inputs[0]].data;
	uint8_t *dst = g->tensors[n->outputs[0]].data;
	for (int i = 0; i < p->count; i++)
		dst[i] = p->table[src[i]];
}

const struct op_kernel op_logistic = {
	.op = OP_LOGISTIC,
	.name = "LOGISTIC",
	.max_version = 3,
	.prepare = logistic_prepare,
	.invoke = logistic_invoke,
};
