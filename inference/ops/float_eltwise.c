/* float_eltwise.c — element-wise ops on float32: the unary activations (RELU, RELU6,
 * RELU_N1_TO_1, HARD_SWISH, LOGISTIC, TANH) and the broadcasting binary ops (ADD, SUB, MUL,
 * MAXIMUM, MINIMUM; numpy broadcasting via ku_broadcast, fused activation clamp after), with
 * TFLite 2.8's reference float formulas:
 *   HARD_SWISH x · min(max(x + 3, 0), 6) / 6,  LOGISTIC 1 / (1 + e^−x). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inference/ops/fast/fbinary.h"
#include "inference/ops/float_util.h"
#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"

struct funary_params {
	size_t count;
};

static int funary_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	int r = ku_check_arity(n, 1, 1, err, errlen);
	if (r < 0)
		return r;
	struct tensor *in = ku_in(g, n, 0), *out = ku_out(g, n, 0);
	if (!in || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	if ((r = fu_check_f32(n, in, "input", err, errlen)) < 0 || (r = fu_check_f32(n, out, "output", err, errlen)) < 0 ||
	    (r = ku_check_out_shape(n, out, in->ndim, in->dims, err, errlen)) < 0)
		return r;
	struct funary_params *p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->count = (size_t)tensor_num_elements(in);
	free(n->params);
	n->params = p;
	return 0;
}

static float hard_swish(float x)
{
	return x * fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f;
}

static void funary_invoke(struct graph *g, const struct node *n)
{
	const struct funary_params *p = n->params;
	const float *x = fu_data(&g->tensors[n->inputs[0]]);
	float *y = fu_data(&g->tensors[n->outputs[0]]);
	switch (n->op) {
	case OP_RELU:
		for (size_t i = 0; i < p->count; i++)
			y[i] = fmaxf(x[i], 0.0f);
		break;
	case OP_RELU6:
		for (size_t i = 0; i < p->count; i++)
			y[i] = fu_clamp(x[i], 0.0f, 6.0f);
		break;
	case OP_RELU_N1_TO_1:
		for (size_t i = 0; i < p->count; i++)
			y[i] = fu_clamp(x[i], -1.0f, 1.0f);
		break;
	case OP_HARD_SWISH:
		for (size_t i = 0; i < p->count; i++)
			y[i] = hard_swish(x[i]);
		break;
	case OP_LOGISTIC:
		for (size_t i = 0; i < p->count; i++)
			y[i] = 1.0f / (1.0f + expf(-x[i]));
		break;
	case OP_TANH:
		for (size_t i = 0; i < p->count; i++)
			y[i] = tanhf(x[i]);
		break;
	default:
		break;
	}
}

struct fbinary_params {
	struct ku_bcast bc;
	size_t count;
	float act_min, act_max;
	bool avx2;  /* same-shape ADD/SUB/MUL through fbinary_same_avx2 */
};

static enum activation binary_activation(const struct node *n)
{
	return n->op == OP_ADD || n->op == OP_MUL || n->op == OP_SUB ? n->opt.add.activation : ACT_NONE;
}

static int fbinary_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	int r = ku_check_arity(n, 2, 2, err, errlen);
	if (r < 0)
		return r;
	struct tensor *a = ku_in(g, n, 0), *b = ku_in(g, n, 1), *out = ku_out(g, n, 0);
	if (!a || !b || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	if ((r = fu_check_f32(n, a, "input 0", err, errlen)) < 0 || (r = fu_check_f32(n, b, "input 1", err, errlen)) < 0 ||
	    (r = fu_check_f32(n, out, "output", err, errlen)) < 0)
		return r;
	struct fbinary_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (ku_broadcast(a, b, &p->bc) < 0) {
		free(p);
		return ku_fail(err, errlen, n, "input shapes cannot be broadcast together");
	}
	if ((r = ku_check_out_shape(n, out, p->bc.ndim, p->bc.dims, err, errlen)) < 0 ||
	    (r = fu_activation_range(n, binary_activation(n), &p->act_min, &p->act_max, err, errlen)) < 0) {
		free(p);
		return r;
	}
	p->count = (size_t)tensor_num_elements(out);
	p->avx2 = fbinary_have_avx2();
	free(n->params);
	n->params = p;
	return 0;
}

static float binary(int op, float a, float b)
{
	switch (op) {
	case OP_ADD: return a + b;
	case OP_SUB: return a - b;
	case OP_MUL: return a * b;
	case OP_MAXIMUM: return a > b ? a : b;
	case OP_MINIMUM: return a < b ? a : b;
	default: return 0.0f;
	}
}

/* Same-shape inputs, the common case (residual adds): with AVX2 the loop of fbinary_avx2.c;
 * else blocks of EW_BLOCK elements go through local arrays, which cannot alias (y may be a or
 * b), with the op chosen once per block, so the compiler vectorizes the block's loops (ResNet8
 * float's 32×32×16 ADD: 2.4× faster with SSE). Either way one IEEE operation per element, as
 * the plain loop. */
#define EW_BLOCK 16
static void same_shape(int op, const float *a, const float *b, float *y, size_t count, float lo,
		       float hi, bool avx2)
{
	size_t i0 = 0;
#if defined(__x86_64__)
	if (avx2)
		i0 = fbinary_same_avx2(op, a, b, y, count, lo, hi);
#else
	(void)avx2;
#endif
	for (; i0 + EW_BLOCK <= count; i0 += EW_BLOCK) {
		float ta[EW_BLOCK], tb[EW_BLOCK], ty[EW_BLOCK];
		memcpy(ta, a + i0, sizeof(ta));
		memcpy(tb, b + i0, sizeof(tb));
		switch (op) {
		case OP_ADD:
			for (int j = 0; j < EW_BLOCK; j++)
				ty[j] = ta[j] + tb[j];
			break;
		case OP_SUB:
			for (int j = 0; j < EW_BLOCK; j++)
				ty[j] = ta[j] - tb[j];
			break;
		case OP_MUL:
			for (int j = 0; j < EW_BLOCK; j++)
				ty[j] = ta[j] * tb[j];
			break;
		default:
			for (int j = 0; j < EW_BLOCK; j++)
				ty[j] = binary(op, ta[j], tb[j]);
		}
		/* fu_clamp in two one-sided steps, the form the compiler vectorizes (same result,
		 * NaN included: both comparisons are false and keep it) */
		for (int j = 0; j < EW_BLOCK; j++)
			ty[j] = ty[j] < lo ? lo : ty[j];
		for (int j = 0; j < EW_BLOCK; j++)
			ty[j] = ty[j] > hi ? hi : ty[j];
		memcpy(y + i0, ty, sizeof(ty));
	}
	for (size_t i = i0; i < count; i++)
		y[i] = fu_clamp(binary(op, a[i], b[i]), lo, hi);
}

static void fbinary_invoke(struct graph *g, const struct node *n)
{
	const struct fbinary_params *p = n->params;
	const float *a = fu_data(&g->tensors[n->inputs[0]]), *b = fu_data(&g->tensors[n->inputs[1]]);
	float *y = fu_data(&g->tensors[n->outputs[0]]);
	if (p->bc.same_shape) {
		same_shape(n->op, a, b, y, p->count, p->act_min, p->act_max, p->avx2);
		return;
	}
	int idx[GRAPH_MAX_DIMS] = { 0 };
	size_t ia = 0, ib = 0;
	for (size_t i = 0; i < p->count; i++) {
		y[i] = fu_clamp(binary(n->op, a[ia], b[ib]), p->act_min, p->act_max);
		ku_bcast_next(&p->bc, idx, &ia, &ib);
	}
}

#define UNARY(sym, code, str, ver)                                                                     \
	const struct op_kernel sym = { .op = code, .name = str, .max_version = ver,                    \
				       .prepare = funary_prepare, .invoke = funary_invoke }
#define BINARY(sym, code, str, ver)                                                                    \
	const struct op_kernel sym = { .op = code, .name = str, .max_version = ver,                    \
				       .prepare = fbinary_prepare, .invoke = fbinary_invoke }

UNARY(op_float_relu, OP_RELU, "RELU", 3);
UNARY(op_float_relu6, OP_RELU6, "RELU6", 3);
UNARY(op_float_relu_n1_to_1, OP_RELU_N1_TO_1, "RELU_N1_TO_1", 2);
UNARY(op_float_hard_swish, OP_HARD_SWISH, "HARD_SWISH", 1);
UNARY(op_float_logistic, OP_LOGISTIC, "LOGISTIC", 3);
UNARY(op_float_tanh, OP_TANH, "TANH", 3);
BINARY(op_float_add, OP_ADD, "ADD", 5);
BINARY(op_float_sub, OP_SUB, "SUB", 5);
BINARY(op_float_mul, OP_MUL, "MUL", 7);
BINARY(op_float_maximum, OP_MAXIMUM, "MAXIMUM", 4);
BINARY(op_float_minimum, OP_MINIMUM, "MINIMUM", 4);
