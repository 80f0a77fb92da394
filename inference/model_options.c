/* model_options.c — builtin options of the ops the engine knows, parsed into union op_options.
 *
 * Field ids and union type numbers are those of tensorflow/lite/schema/schema.fbs (v3). Absent
 * fields take the schema defaults, except that absent strides, filter sizes and the depth
 * multiplier read as 1 (graph.h's contract; the converter always writes them). Values that
 * would make a kernel divide by zero or index out of range (stride, dilation or filter size
 * below 1, unknown padding or activation) are refused here, so kernels can rely on them. */
#include "inference/model_options.h"
#include "lib/errbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

/* BuiltinOptions union type numbers. */
enum {
	BO_NONE = 0,
	BO_CONV2D = 1,
	BO_DEPTHWISE_CONV2D = 2,
	BO_POOL2D = 5,
	BO_FULLY_CONNECTED = 8,
	BO_SOFTMAX = 9,
	BO_CONCATENATION = 10,
	BO_ADD = 11,
	BO_RESHAPE = 17,
	BO_MUL = 21,
	BO_REDUCER = 27,
	BO_SUB = 28,
	BO_SQUEEZE = 30,
	BO_STRIDED_SLICE = 32,
	BO_BATCH_MATMUL = 101,
};

struct ctx {
	struct fbs *fb;
	const struct node *n;
	char *err;
	size_t errlen;
};

static int failf(struct ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(struct ctx *c, int code, const char *fmt, ...)
{
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_setf(c->err, c->errlen, code, "%soperator %d (%s): %s", code == -EBADMSG ? "corrupt model: " : "",
			c->n->index, builtin_op_name(c->n->op), what);
}

static int fb_fail(struct ctx *c, const char *field)
{
	return failf(c, -EBADMSG, "options field %s: %s (byte %zu)", field, c->fb->why ? c->fb->why : "invalid",
		     c->fb->why_pos);
}

#define GET(call, field)                           \
	do {                                       \
		if ((call) < 0)                    \
			return fb_fail(c, field);  \
	} while (0)

static int get_act(struct ctx *c, const struct fbs_table *t, int id, enum activation *ret)
{
	int8_t v;
	GET(fbs_i8(t, id, ACT_NONE, &v), "fused_activation_function");
	if (v < ACT_NONE || v > ACT_SIGN_BIT)
		return failf(c, -EBADMSG, "fused activation %d unknown", v);
	*ret = (enum activation)v;
	return 0;
}

static int get_padding(struct ctx *c, const struct fbs_table *t, int id, enum padding *ret)
{
	int8_t v;
	GET(fbs_i8(t, id, PAD_SAME, &v), "padding");
	if (v != PAD_SAME && v != PAD_VALID)
		return failf(c, -EBADMSG, "padding %d unknown", v);
	*ret = (enum padding)v;
	return 0;
}

/* A window parameter (stride, dilation, filter size) that must be at least 1. */
static int get_pos(struct ctx *c, const struct fbs_table *t, int id, const char *field, int *ret)
{
	int32_t v;
	GET(fbs_i32(t, id, 1, &v), field);
	if (v < 1)
		return failf(c, -EBADMSG, "%s is %d, must be at least 1", field, (int)v);
	*ret = v;
	return 0;
}

static int get_dims(struct ctx *c, const struct fbs_table *t, const char *field, int *ret_n, int32_t *dims)
{
	struct fbs_vec v;
	GET(fbs_vector(t, 0, 4, &v), field);
	if (v.n > GRAPH_MAX_DIMS)
		return failf(c, -ENOTSUP, "%s has %u entries, at most %d supported", field, v.n, GRAPH_MAX_DIMS);
	for (uint32_t i = 0; i < v.n; i++)
		dims[i] = fbs_vec_i32(&v, i);
	*ret_n = v.present ? (int)v.n : -1;
	return 0;
}

#define TRY(call)                  \
	do {                       \
		int rc_ = (call);  \
		if (rc_ < 0)       \
			return rc_; \
	} while (0)

static int parse(struct ctx *c, const struct fbs_table *t, union op_options *o)
{
	int32_t v;
	switch (c->n->op) {
	case OP_CONV_2D:
		TRY(get_padding(c, t, 0, &o->conv.padding));
		TRY(get_pos(c, t, 1, "stride_w", &o->conv.stride_w));
		TRY(get_pos(c, t, 2, "stride_h", &o->conv.stride_h));
		TRY(get_act(c, t, 3, &o->conv.activation));
		TRY(get_pos(c, t, 4, "dilation_w_factor", &o->conv.dilation_w));
		TRY(get_pos(c, t, 5, "dilation_h_factor", &o->conv.dilation_h));
		return 0;
	case OP_DEPTHWISE_CONV_2D:
		TRY(get_padding(c, t, 0, &o->depthwise.padding));
		TRY(get_pos(c, t, 1, "stride_w", &o->depthwise.stride_w));
		TRY(get_pos(c, t, 2, "stride_h", &o->depthwise.stride_h));
		/* redundant with the shapes since TF 2.0; the kernel checks it against them */
		GET(fbs_i32(t, 3, 1, &v), "depth_multiplier");
		o->depthwise.depth_multiplier = v;
		TRY(get_act(c, t, 4, &o->depthwise.activation));
		TRY(get_pos(c, t, 5, "dilation_w_factor", &o->depthwise.dilation_w));
		TRY(get_pos(c, t, 6, "dilation_h_factor", &o->depthwise.dilation_h));
		return 0;
	case OP_FULLY_CONNECTED: {
		int8_t wf;
		TRY(get_act(c, t, 0, &o->fc.activation));
		GET(fbs_i8(t, 1, 0, &wf), "weights_format");
		o->fc.weights_format = wf;
		GET(fbs_bool(t, 2, false, &o->fc.keep_num_dims), "keep_num_dims");
		GET(fbs_bool(t, 3, false, &o->fc.asymmetric_quantize_inputs), "asymmetric_quantize_inputs");
		return 0;
	}
	case OP_AVERAGE_POOL_2D:
	case OP_MAX_POOL_2D:
		TRY(get_padding(c, t, 0, &o->pool.padding));
		TRY(get_pos(c, t, 1, "stride_w", &o->pool.stride_w));
		TRY(get_pos(c, t, 2, "stride_h", &o->pool.stride_h));
		TRY(get_pos(c, t, 3, "filter_width", &o->pool.filter_w));
		TRY(get_pos(c, t, 4, "filter_height", &o->pool.filter_h));
		TRY(get_act(c, t, 5, &o->pool.activation));
		return 0;
	case OP_ADD:
		TRY(get_act(c, t, 0, &o->add.activation));
		GET(fbs_bool(t, 1, true, &o->add.pot_scale_int16), "pot_scale_int16");
		return 0;
	case OP_MUL:
		TRY(get_act(c, t, 0, &o->add.activation));
		o->add.pot_scale_int16 = true;
		return 0;
	case OP_SUB:
		TRY(get_act(c, t, 0, &o->add.activation));
		GET(fbs_bool(t, 1, true, &o->add.pot_scale_int16), "pot_scale_int16");
		return 0;
	case OP_MEAN:
		GET(fbs_bool(t, 0, false, &o->reducer.keep_dims), "keep_dims");
		return 0;
	case OP_RESHAPE:
		return get_dims(c, t, "new_shape", &o->reshape.n, o->reshape.new_shape);
	case OP_SQUEEZE:
		TRY(get_dims(c, t, "squeeze_dims", &o->squeeze.n, o->squeeze.dims));
		if (o->squeeze.n < 0)
			o->squeeze.n = 0;
		return 0;
	case OP_SOFTMAX:
		GET(fbs_f32(t, 0, 0.0f, &o->softmax.beta), "beta");
		return 0;
	case OP_STRIDED_SLICE:
		GET(fbs_i32(t, 0, 0, &o->strided_slice.begin_mask), "begin_mask");
		GET(fbs_i32(t, 1, 0, &o->strided_slice.end_mask), "end_mask");
		GET(fbs_i32(t, 2, 0, &o->strided_slice.ellipsis_mask), "ellipsis_mask");
		GET(fbs_i32(t, 3, 0, &o->strided_slice.new_axis_mask), "new_axis_mask");
		GET(fbs_i32(t, 4, 0, &o->strided_slice.shrink_axis_mask), "shrink_axis_mask");
		GET(fbs_bool(t, 5, false, &o->strided_slice.offset), "offset");
		return 0;
	case OP_BATCH_MATMUL:
		GET(fbs_bool(t, 0, false, &o->batch_matmul.adj_x), "adj_x");
		GET(fbs_bool(t, 1, false, &o->batch_matmul.adj_y), "adj_y");
		GET(fbs_bool(t, 2, false, &o->batch_matmul.asymmetric_quantize_inputs), "asymmetric_quantize_inputs");
		return 0;
	case OP_CONCATENATION:
		GET(fbs_i32(t, 0, 0, &v), "axis");
		o->concat.axis = v;
		TRY(get_act(c, t, 1, &o->concat.activation));
		return 0;
	default:
		return 0;
	}
}

static int expected_type(int op)
{
	switch (op) {
	case OP_CONV_2D: return BO_CONV2D;
	case OP_DEPTHWISE_CONV_2D: return BO_DEPTHWISE_CONV2D;
	case OP_FULLY_CONNECTED: return BO_FULLY_CONNECTED;
	case OP_AVERAGE_POOL_2D:
	case OP_MAX_POOL_2D: return BO_POOL2D;
	case OP_ADD: return BO_ADD;
	case OP_MUL: return BO_MUL;
	case OP_SUB: return BO_SUB;
	case OP_STRIDED_SLICE: return BO_STRIDED_SLICE;
	case OP_BATCH_MATMUL: return BO_BATCH_MATMUL;
	case OP_MEAN: return BO_REDUCER;
	case OP_RESHAPE: return BO_RESHAPE;
	case OP_SQUEEZE: return BO_SQUEEZE;
	case OP_SOFTMAX: return BO_SOFTMAX;
	case OP_CONCATENATION: return BO_CONCATENATION;
	default: return BO_NONE;
	}
}

int model_read_options(struct fbs *fb, const struct fbs_table *op_table, struct node *n, char *err,
		       size_t errlen)
{
	struct ctx ctx = { .fb = fb, .n = n, .err = err, .errlen = errlen }, *c = &ctx;
	struct fbs_table empty = *op_table, opts;
	uint8_t type;
	bool present = false;
	int want = expected_type(n->op);

	GET(fbs_u8(op_table, 3, BO_NONE, &type), "builtin_options_type");
	if (want == BO_NONE)
		return 0; /* no options, or an op the engine does not know (refused later by name) */
	if (type != BO_NONE && type != want)
		return failf(c, -EBADMSG, "builtin options of union type %u, expected %d", type, want);
	if (type == want)
		GET(fbs_table(op_table, 4, &opts, &present), "builtin_options");
	/* An absent table reads every field as its default: a table without vtable entries. */
	empty.vt_len = 4;
	return parse(c, present ? &opts : &empty, &n->opt);
}
