/* reshape.c — RESHAPE and SQUEEZE: the bytes do not change, only the dims, so invoke copies the
 * input into the output (memmove; a planner that aliases the two tensors makes it a no-op).
 *
 * prepare checks what TFLite's Prepare would compute: RESHAPE's new shape comes from the option
 * or, failing that, from a constant int32 shape tensor, with at most one -1 inferred from the
 * element count; SQUEEZE drops the listed size-1 dims (all size-1 dims when none are listed).
 * The output tensor's stored dims must equal the result. Types and quantization must match:
 * neither op rescales. */
#include <errno.h>
#include <string.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"

static int check_same_quant(const struct node *n, const struct tensor *in, const struct tensor *out,
			    char *err, size_t errlen)
{
	int r = ku_check_same_type(n, in, "input", out, "output", err, errlen);
	if (r < 0)
		return r;
	if (in->nq > 0 && out->nq > 0 &&
	    (in->scale != out->scale || in->zero_point != out->zero_point))
		return ku_fail(err, errlen, n, "input quantization (%g, %d) differs from output (%g, %d)",
			       (double)in->scale, (int)in->zero_point, (double)out->scale,
			       (int)out->zero_point);
	if (in->bytes != out->bytes)
		return ku_fail(err, errlen, n, "input has %zu bytes, output %zu", in->bytes, out->bytes);
	return 0;
}

static int reshape_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *in, *out;
	int r = ku_take_io(g, n, 1, 2, &in, &out, err, errlen);
	if (r < 0)
		return r;
	struct tensor *shape = ku_in(g, n, 1);
	int32_t want[GRAPH_MAX_DIMS];
	int want_ndim;
	/* Like TFLite's GetOutputShape: a 1-D shape input wins over the option. */
	if (shape && shape->ndim == 1) {
		if (shape->type != TT_INT32)
			return ku_fail(err, errlen, n, "shape input has type %s, expected INT32",
				       tensor_type_name(shape->type));
		if ((r = ku_check_const(n, shape, "shape input", err, errlen)) < 0)
			return r;
		want_ndim = shape->dims[0];
		if (want_ndim < 0 || want_ndim > GRAPH_MAX_DIMS)
			return ku_fail(err, errlen, n, "new shape has %d dims, at most %d", want_ndim,
				       GRAPH_MAX_DIMS);
		memcpy(want, shape->data, (size_t)want_ndim * sizeof(int32_t));
	} else if (n->opt.reshape.n >= 0) {
		want_ndim = n->opt.reshape.n;
		if (want_ndim > GRAPH_MAX_DIMS)
			return ku_fail(err, errlen, n, "new shape has %d dims, at most %d", want_ndim,
				       GRAPH_MAX_DIMS);
		memcpy(want, n->opt.reshape.new_shape, (size_t)want_ndim * sizeof(int32_t));
	} else {
		return ku_fail(err, errlen, n, "no new shape (neither option nor shape input)");
	}
	int infer = -1;
	long long known = 1;
	for (int i = 0; i < want_ndim; i++) {
		if (want[i] == -1) {
			if (infer >= 0)
				return ku_fail(err, errlen, n, "new shape has more than one -1");
			infer = i;
		} else if (want[i] < 0) {
			return ku_fail(err, errlen, n, "new shape dim %d is %d", i, (int)want[i]);
		} else {
			known *= want[i];
		}
	}
	const long long count = tensor_num_elements(in);
	if (infer >= 0) {
		if (known == 0 || count % known != 0)
			return ku_fail(err, errlen, n, "cannot infer dim %d: %lld elements over %lld",
				       infer, count, known);
		want[infer] = (int32_t)(count / known);
		known = count;
	}
	if (known != count)
		return ku_fail(err, errlen, n, "new shape has %lld elements, input %lld", known, count);
	if ((r = ku_check_out_shape(n, out, want_ndim, want, err, errlen)) < 0)
		return r;
	return check_same_quant(n, in, out, err, errlen);
}

static int squeeze_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *in, *out;
	int r = ku_take_io(g, n, 1, 1, &in, &out, err, errlen);
	if (r < 0)
		return r;
	bool drop[GRAPH_MAX_DIMS] = { false };
	if (n->opt.squeeze.n < 0 || n->opt.squeeze.n > GRAPH_MAX_DIMS)
		return ku_fail(err, errlen, n, "%d squeeze dims", n->opt.squeeze.n);
	for (int i = 0; i < n->opt.squeeze.n; i++) {
		int d = n->opt.squeeze.dims[i];
		if (d < -in->ndim || d >= in->ndim)
			return ku_fail(err, errlen, n, "squeeze dim %d out of range for %d dims", d,
				       in->ndim);
		d = d < 0 ? d + in->ndim : d;
		if (in->dims[d] != 1)
			return ku_fail(err, errlen, n, "squeeze dim %d has size %d, expected 1", d,
				       (int)in->dims[d]);
		drop[d] = true;
	}
	int32_t want[GRAPH_MAX_DIMS];
	int want_ndim = 0;
	for (int d = 0; d < in->ndim; d++) {
		bool gone = n->opt.squeeze.n == 0 ? in->dims[d] == 1 : drop[d];
		if (!gone)
			want[want_ndim++] = in->dims[d];
	}
	if ((r = ku_check_out_shape(n, out, want_ndim, want, err, errlen)) < 0)
		return r;
	return check_same_quant(n, in, out, err, errlen);
}

static void copy_invoke(struct graph *g, const struct node *n)
{
	const struct tensor *in = &g->tensors[n->inputs[0]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	if (out->data != in->data)
		memmove(out->data, in->data, out->bytes);
}

const struct op_kernel op_reshape = {
	.op = OP_RESHAPE,
	.name = "RESHAPE",
	.max_version = 1,
	.prepare = reshape_prepare,
	.invoke = copy_invoke,
};

const struct op_kernel op_squeeze = {
	.op = OP_SQUEEZE,
	.name = "SQUEEZE",
	.max_version = 1,
	.prepare = squeeze_prepare,
	.invoke = copy_invoke,
};
