/* tflite_write.c — the base model up to its embedding plus a new head, as a TFLite flatbuffer.
 * See retrain.h for what is written and retrain_internal.h for the entry point.
 *
 * The base's own parts are written from the parsed graph (model.c: shapes, types, names,
 * quantization, constant data) plus the raw operator options read again from the file and copied
 * field by field (tflite_options.c); the head's numbers come from retrain_quant.c.
 * Only what the embedding needs is kept: operators reached backwards from it, their tensors,
 * their buffers. Indices are renumbered in the file's order, so the kept graph reads exactly
 * like the base's front part. Field ids are those of tensorflow/lite/schema/schema.fbs v3 (a
 * union takes two ids: its type then its value), the same numbers model.c reads. */
#include "inference/retrain_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inference/fbb.h"
#include "inference/fbs.h"
#include "lib/errbuf.h"

#define MAX_OPCODES 64
#define BUFFER_ALIGN 16 /* what the TFLite converter gives constant buffers */

enum { BO_FULLY_CONNECTED = 8, BO_SOFTMAX = 9 };

struct writer {
	const struct rt_base *b;
	const struct rt_head *h;
	struct fbb fb;
	char *err;
	size_t errlen;
	struct fbs raw;
	struct fbs_vec raw_ops;
	bool *keep;               /* per node */
	int *new_index;           /* per base tensor: index in the new file, or -1 */
	int nkept;                /* base tensors kept */
	int codes[MAX_OPCODES][2];/* op, version */
	int ncodes;
};

static int failf(struct writer *w, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(struct writer *w, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vsetf(w->err, w->errlen, code, fmt, ap);
	va_end(ap);
	return code;
}

static int opcode_index(struct writer *w, int op, int version)
{
	for (int i = 0; i < w->ncodes; i++)
		if (w->codes[i][0] == op && w->codes[i][1] == version)
			return i;
	if (w->ncodes == MAX_OPCODES)
		return failf(w, -ENOTSUP, "more than %d operator codes", MAX_OPCODES);
	w->codes[w->ncodes][0] = op;
	w->codes[w->ncodes][1] = version;
	return w->ncodes++;
}

/* Marks the nodes the embedding depends on, and numbers their tensors. */
static int select_nodes(struct writer *w)
{
	const struct graph *g = &w->b->g;
	int *stack = malloc(((size_t)g->ntensors + 1) * sizeof(int));
	bool *seen = calloc((size_t)g->ntensors + 1, sizeof(bool));
	int sp = 0;
	if (!stack || !seen) {
		free(stack);
		free(seen);
		return failf(w, -ENOMEM, "out of memory");
	}
	stack[sp++] = w->b->emb.tensor;
	seen[w->b->emb.tensor] = true;
	while (sp > 0) {
		int ni = w->b->producer[stack[--sp]];
		if (ni < 0 || w->keep[ni])
			continue;
		w->keep[ni] = true;
		const struct node *n = &g->nodes[ni];
		for (int k = 0; k < n->ninputs; k++) {
			int t = n->inputs[k];
			if (t >= 0 && !seen[t]) {
				seen[t] = true;
				stack[sp++] = t;
			}
		}
	}
	int input = g->inputs[0];
	bool uses_input = seen[input];
	free(stack);
	free(seen);
	if (!uses_input)
		return failf(w, -ENOTSUP, "the embedding '%s' does not depend on the model input", w->b->emb.name);
	for (int t = 0; t < g->ntensors; t++)
		w->new_index[t] = -1;
	w->new_index[input] = 0; /* placeholder, renumbered below in file order */
	for (int i = 0; i < g->nnodes; i++) {
		if (!w->keep[i])
			continue;
		const struct node *n = &g->nodes[i];
		for (int k = 0; k < n->ninputs + n->noutputs; k++) {
			int t = k < n->ninputs ? n->inputs[k] : n->outputs[k - n->ninputs];
			if (t >= 0)
				w->new_index[t] = 0;
		}
	}
	w->nkept = 0;
	for (int t = 0; t < g->ntensors; t++)
		if (w->new_index[t] == 0)
			w->new_index[t] = w->nkept++;
		else
			w->new_index[t] = -1;
	return 0;
}

static struct fbb_ref quant_table(struct writer *w, int n, const float *scales, const int64_t *zps, int axis)
{
	struct fbb_ref s = fbb_vector(&w->fb, scales, (size_t)n, 4, 4);
	struct fbb_ref z = fbb_vector(&w->fb, zps, (size_t)n, 8, 8);
	fbb_table_start(&w->fb);
	fbb_add_ref(&w->fb, 2, s);
	fbb_add_ref(&w->fb, 3, z);
	fbb_add_i32(&w->fb, 6, axis, 0);
	return fbb_table_end(&w->fb);
}

static struct fbb_ref tensor_table(struct writer *w, const char *name, enum tensor_type type, int ndim,
				   const int32_t *dims, uint32_t buffer, struct fbb_ref quant)
{
	struct fbb_ref shape = fbb_vector_i32(&w->fb, dims, (size_t)ndim);
	struct fbb_ref nm = fbb_string(&w->fb, name, strlen(name));
	fbb_table_start(&w->fb);
	fbb_add_ref(&w->fb, 0, shape);
	fbb_add_i8(&w->fb, 1, (int8_t)type, 0);
	fbb_add_u32(&w->fb, 2, buffer, 0);
	fbb_add_ref(&w->fb, 3, nm);
	fbb_add_ref(&w->fb, 4, quant);
	return fbb_table_end(&w->fb);
}

static struct fbb_ref base_tensor(struct writer *w, const struct tensor *t, uint32_t buffer)
{
	struct fbb_ref q = { 0 };
	if (t->nq > 0) {
		int64_t *zps = malloc((size_t)t->nq * sizeof(int64_t));
		if (!zps) {
			failf(w, -ENOMEM, "out of memory");
			return q;
		}
		for (int c = 0; c < t->nq; c++)
			zps[c] = t->zero_points[c];
		q = quant_table(w, t->nq, t->scales, zps, t->quant_axis);
		free(zps);
	}
	return tensor_table(w, t->name, t->type, t->ndim, t->dims, buffer, q);
}

static struct fbb_ref operator_table(struct writer *w, int opcode, const int32_t *in, int nin, const int32_t *out,
				     int nout, uint8_t opt_type, struct fbb_ref opts)
{
	struct fbb_ref vi = fbb_vector_i32(&w->fb, in, (size_t)nin), vo = fbb_vector_i32(&w->fb, out, (size_t)nout);
	fbb_table_start(&w->fb);
	fbb_add_u32(&w->fb, 0, (uint32_t)opcode, 0);
	fbb_add_ref(&w->fb, 1, vi);
	fbb_add_ref(&w->fb, 2, vo);
	fbb_add_u8(&w->fb, 3, opt_type, 0);
	fbb_add_ref(&w->fb, 4, opts);
	return fbb_table_end(&w->fb);
}


static struct fbb_ref buffer_table(struct writer *w, const void *data, size_t len)
{
	struct fbb_ref v = { 0 };
	if (len)
		v = fbb_vector(&w->fb, data, len, 1, BUFFER_ALIGN);
	fbb_table_start(&w->fb);
	fbb_add_ref(&w->fb, 0, v);
	return fbb_table_end(&w->fb);
}

static struct fbb_ref per_tensor_quant(struct writer *w, float scale, int32_t zp)
{
	int64_t z = zp;
	return quant_table(w, 1, &scale, &z, 0);
}

/* Head tensors after the kept ones: weights, bias, logits, probabilities, [converted output]. */
enum { H_WEIGHTS, H_BIAS, H_LOGITS, H_PROBS, H_OUT, H_COUNT };

static int write_head_tensors(struct writer *w, const struct tflite_head_q *q, uint32_t first_buffer,
			      enum tensor_type out_type, struct fbb_ref *refs)
{
	const struct rt_head *h = w->h;
	const int32_t wdims[2] = { h->classes, h->depth }, bdims[1] = { h->classes }, odims[2] = { 1, h->classes };
	const bool s8 = q->type == TT_INT8;
	refs[H_WEIGHTS] = tensor_table(w, "retrain/weights", q->type, 2, wdims, first_buffer,
				       per_tensor_quant(w, q->w_scale, q->w_zp));
	refs[H_BIAS] = tensor_table(w, "retrain/bias", TT_INT32, 1, bdims, first_buffer + 1,
				    per_tensor_quant(w, w->b->emb.scale * q->w_scale, 0));
	refs[H_LOGITS] = tensor_table(w, "retrain/logits", q->type, 2, odims, 0,
				      per_tensor_quant(w, q->out_scale, q->out_zp));
	refs[H_PROBS] = tensor_table(w, "retrain/probabilities", q->type, 2, odims, 0,
				     per_tensor_quant(w, 1.0f / 256, s8 ? -128 : 0));
	if (out_type == q->type)
		return 0;
	struct fbb_ref oq = { 0 };
	if (out_type == TT_INT8 || out_type == TT_UINT8)
		oq = per_tensor_quant(w, 1.0f / 256, out_type == TT_INT8 ? -128 : 0);
	refs[H_OUT] = tensor_table(w, "retrain/output", out_type, 2, odims, 0, oq);
	return 0;
}

static int write_head_ops(struct writer *w, const struct tflite_head_q *q, enum tensor_type out_type, int first,
			  struct fbb_ref *ops, int *nops)
{
	const bool s8 = q->type == TT_INT8;
	int fc = opcode_index(w, OP_FULLY_CONNECTED, s8 ? 4 : 1), sm = opcode_index(w, OP_SOFTMAX, s8 ? 2 : 1);
	if (fc < 0 || sm < 0)
		return fc < 0 ? fc : sm;
	const int32_t fc_in[3] = { w->new_index[w->b->emb.tensor], first + H_WEIGHTS, first + H_BIAS };
	const int32_t fc_out[1] = { first + H_LOGITS }, sm_in[1] = { first + H_LOGITS };
	const int32_t sm_out[1] = { first + H_PROBS }, cv_out[1] = { first + H_OUT };
	fbb_table_start(&w->fb); /* FullyConnectedOptions: all defaults (no activation, DEFAULT weights) */
	struct fbb_ref fco = fbb_table_end(&w->fb);
	ops[(*nops)++] = operator_table(w, fc, fc_in, 3, fc_out, 1, BO_FULLY_CONNECTED, fco);
	fbb_table_start(&w->fb);
	fbb_add_f32(&w->fb, 0, 1.0f, 0.0f);
	struct fbb_ref smo = fbb_table_end(&w->fb);
	ops[(*nops)++] = operator_table(w, sm, sm_in, 1, sm_out, 1, BO_SOFTMAX, smo);
	if (out_type == q->type)
		return 0;
	/* back to the base's output type as the converter does it: QUANTIZE v1 between the 8-bit
	 * types (tf2_mobilenet_v2_1.0_224_ptq's own int8 -> uint8 output), DEQUANTIZE to float32 (v2
	 * from int8, v1 from uint8) */
	int cv = out_type == TT_FLOAT32 ? opcode_index(w, OP_DEQUANTIZE, s8 ? 2 : 1) : opcode_index(w, OP_QUANTIZE, 1);
	if (cv < 0)
		return cv;
	ops[(*nops)++] = operator_table(w, cv, sm_out, 1, cv_out, 1, 0, (struct fbb_ref){ 0 });
	return 0;
}

static struct fbb_ref opcode_table(struct writer *w, int op, int version)
{
	fbb_table_start(&w->fb);
	fbb_add_i8(&w->fb, 0, (int8_t)(op < 127 ? op : 127), 0);
	fbb_add_i32(&w->fb, 2, version, 1);
	fbb_add_i32(&w->fb, 3, op, 0);
	return fbb_table_end(&w->fb);
}

static int write_model(struct writer *w, const uint8_t *meta, size_t meta_len, uint8_t **ret_buf, size_t *ret_len)
{
	const struct graph *g = &w->b->g;
	enum tensor_type out_type = g->tensors[g->outputs[0]].type;
	struct tflite_head_q q = { 0 };
	struct fbb_ref *bufs = NULL, *tens = NULL, *ops = NULL;
	uint32_t *tbuf = NULL;
	int nbuf = 0, nops = 0, r;
	int nt = w->nkept + H_COUNT;

	r = tflite_quantize_head(w->h, &w->b->emb, &q, w->err, w->errlen);
	if (r >= 0 && out_type != TT_INT8 && out_type != TT_UINT8 && out_type != TT_FLOAT32)
		r = failf(w, -ENOTSUP, "base output type %s cannot be kept", tensor_type_name(out_type));
	if (r < 0)
		goto out;
	bufs = calloc((size_t)nt + 2, sizeof(*bufs));
	tens = calloc((size_t)nt, sizeof(*tens));
	ops = calloc((size_t)g->nnodes + 3, sizeof(*ops));
	tbuf = calloc((size_t)w->nkept + 1, sizeof(*tbuf));
	if (!bufs || !tens || !ops || !tbuf) {
		r = failf(w, -ENOMEM, "out of memory");
		goto out;
	}
	bufs[nbuf++] = buffer_table(w, NULL, 0); /* buffer 0: empty, by convention */
	for (int t = 0; t < g->ntensors; t++)
		if (w->new_index[t] >= 0 && g->tensors[t].is_const) {
			tbuf[w->new_index[t]] = (uint32_t)nbuf;
			bufs[nbuf++] = buffer_table(w, g->tensors[t].data, g->tensors[t].bytes);
		}
	uint32_t head_buffer = (uint32_t)nbuf;
	bufs[nbuf++] = buffer_table(w, q.weights, (size_t)w->h->classes * (size_t)w->h->depth);
	bufs[nbuf++] = buffer_table(w, q.bias, (size_t)w->h->classes * sizeof(int32_t));
	uint32_t meta_buffer = (uint32_t)nbuf;
	if (meta)
		bufs[nbuf++] = buffer_table(w, meta, meta_len);

	for (int t = 0; t < g->ntensors; t++)
		if (w->new_index[t] >= 0)
			tens[w->new_index[t]] = base_tensor(w, &g->tensors[t], tbuf[w->new_index[t]]);
	r = write_head_tensors(w, &q, head_buffer, out_type, tens + w->nkept);
	if (r < 0)
		goto out;
	if (out_type == q.type)
		nt--; /* no conversion at the end */

	for (int i = 0; i < g->nnodes; i++) {
		const struct node *n = &g->nodes[i];
		int32_t in[GRAPH_MAX_NODE_INPUTS], outs[GRAPH_MAX_NODE_OUTPUTS];
		uint8_t opt_type = 0;
		struct fbb_ref opts = { 0 };
		if (!w->keep[i])
			continue;
		int code = opcode_index(w, n->op, n->version);
		if (code < 0) {
			r = code;
			goto out;
		}
		for (int k = 0; k < n->ninputs; k++)
			in[k] = n->inputs[k] < 0 ? -1 : w->new_index[n->inputs[k]];
		for (int k = 0; k < n->noutputs; k++)
			outs[k] = w->new_index[n->outputs[k]];
		r = tflite_copy_options(&w->fb, &w->raw_ops, n, &opt_type, &opts, w->err, w->errlen);
		if (r < 0)
			goto out;
		ops[nops++] = operator_table(w, code, in, n->ninputs, outs, n->noutputs, opt_type, opts);
	}
	r = write_head_ops(w, &q, out_type, w->nkept, ops, &nops);
	if (r < 0)
		goto out;

	const int32_t sg_in[1] = { w->new_index[g->inputs[0]] }, sg_out[1] = { nt - 1 };
	struct fbb_ref tv = fbb_vector_refs(&w->fb, tens, (size_t)nt);
	struct fbb_ref iv = fbb_vector_i32(&w->fb, sg_in, 1), ov = fbb_vector_i32(&w->fb, sg_out, 1);
	struct fbb_ref opv = fbb_vector_refs(&w->fb, ops, (size_t)nops);
	struct fbb_ref sgname = fbb_string(&w->fb, "main", 4);
	fbb_table_start(&w->fb);
	fbb_add_ref(&w->fb, 0, tv);
	fbb_add_ref(&w->fb, 1, iv);
	fbb_add_ref(&w->fb, 2, ov);
	fbb_add_ref(&w->fb, 3, opv);
	fbb_add_ref(&w->fb, 4, sgname);
	struct fbb_ref sg = fbb_table_end(&w->fb);
	struct fbb_ref sgv = fbb_vector_refs(&w->fb, &sg, 1);

	struct fbb_ref codes[MAX_OPCODES];
	for (int i = 0; i < w->ncodes; i++)
		codes[i] = opcode_table(w, w->codes[i][0], w->codes[i][1]);
	struct fbb_ref cv = fbb_vector_refs(&w->fb, codes, (size_t)w->ncodes);
	struct fbb_ref bv = fbb_vector_refs(&w->fb, bufs, (size_t)nbuf);
	struct fbb_ref mv = { 0 };
	if (meta) {
		struct fbb_ref mname = fbb_string(&w->fb, TFLITE_METADATA_NAME, strlen(TFLITE_METADATA_NAME));
		fbb_table_start(&w->fb);
		fbb_add_ref(&w->fb, 0, mname);
		fbb_add_u32(&w->fb, 1, meta_buffer, 0);
		struct fbb_ref m = fbb_table_end(&w->fb);
		mv = fbb_vector_refs(&w->fb, &m, 1);
	}
	static const char desc[] = "camclass retrain: base features, new softmax-regression head";
	struct fbb_ref dv = fbb_string(&w->fb, desc, sizeof(desc) - 1);
	fbb_table_start(&w->fb);
	fbb_add_u32(&w->fb, 0, 3, 0);
	fbb_add_ref(&w->fb, 1, cv);
	fbb_add_ref(&w->fb, 2, sgv);
	fbb_add_ref(&w->fb, 3, dv);
	fbb_add_ref(&w->fb, 4, bv);
	fbb_add_ref(&w->fb, 6, mv);
	struct fbb_ref root = fbb_table_end(&w->fb);
	r = fbb_finish(&w->fb, root, "TFL3", ret_buf, ret_len);
	if (r < 0)
		failf(w, r, "cannot build the model: %s", strerror(-r));
out:
	tflite_head_q_free(&q);
	free(bufs);
	free(tens);
	free(ops);
	free(tbuf);
	return r;
}

static int raw_operators(struct writer *w)
{
	struct fbs_table model, sg;
	struct fbs_vec subgraphs;
	w->raw = (struct fbs){ .buf = w->b->buf, .len = w->b->len };
	if (fbs_root(&w->raw, "TFL3", &model) < 0 || fbs_vector(&model, 2, 4, &subgraphs) < 0 || subgraphs.n != 1 ||
	    fbs_vec_table(&subgraphs, 0, &sg) < 0 || fbs_vector(&sg, 3, 4, &w->raw_ops) < 0 ||
	    w->raw_ops.n != (uint32_t)w->b->g.nnodes)
		return failf(w, -EBADMSG, "base file changed shape while reading it again");
	return 0;
}

int tflite_write_model(const struct rt_base *b, const struct rt_head *h, const uint8_t *metadata_buf,
		       size_t metadata_len, uint8_t **ret_buf, size_t *ret_len, char *err, size_t errlen)
{
	struct writer w = { .b = b, .h = h, .err = err, .errlen = errlen };
	int r;
	fbb_init(&w.fb);
	w.keep = calloc((size_t)b->g.nnodes + 1, sizeof(bool));
	w.new_index = malloc(((size_t)b->g.ntensors + 1) * sizeof(int));
	if (!w.keep || !w.new_index)
		r = failf(&w, -ENOMEM, "out of memory");
	else
		r = raw_operators(&w);
	if (r >= 0)
		r = select_nodes(&w);
	if (r >= 0)
		r = write_model(&w, metadata_buf, metadata_len, ret_buf, ret_len);
	fbb_free(&w.fb);
	free(w.keep);
	free(w.new_index);
	return r;
}
