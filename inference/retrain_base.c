/* retrain_base.c — read a base model for retraining and find its embedding. See retrain.h.
 *
 * The head is found from the output backwards rather than by looking for a "last FC" anywhere:
 * what follows the classifier in the files we know is always a short chain of shape and
 * quantization ops (RESHAPE, SOFTMAX, QUANTIZE...), and walking that chain is what tells us the
 * layer found really is the one producing the scores. The TF1 MobileNets (and person_detect)
 * end in a 1x1 CONV_2D on the 1x1 output of a global pooling instead of a FULLY_CONNECTED; the
 * same walk accepts it when the convolution's input really is 1x1 (a 1x1 convolution over a
 * larger map is a feature layer, not a classifier). */
#include "inference/retrain_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inference/model.h"
#include "lib/errbuf.h"

#define RT_MAX_FILE_BYTES ((size_t)256 << 20)

static int read_file(const char *path, uint8_t **ret_buf, size_t *ret_len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_setf(err, errlen, -errno, "%s: cannot open: %s", path, strerror(errno));
	int r = 0;
	long size = -1;
	if (fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (size < 8 || (unsigned long)size > RT_MAX_FILE_BYTES || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return err_setf(err, errlen, -EBADMSG, "%s: %ld bytes is not a TFLite model size (limit %zu)", path,
			     size, RT_MAX_FILE_BYTES);
	}
	uint8_t *buf = malloc((size_t)size);
	if (!buf)
		r = err_setf(err, errlen, -ENOMEM, "%s: out of memory for %ld bytes", path, size);
	else if (fread(buf, 1, (size_t)size, f) != (size_t)size)
		r = err_setf(err, errlen, -EIO, "%s: read error", path);
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_buf = buf;
	*ret_len = (size_t)size;
	return 0;
}

static enum eng_dtype dtype_of(enum tensor_type t)
{
	return t == TT_INT8 ? ENG_INT8 : t == TT_UINT8 ? ENG_UINT8 : t == TT_INT32 ? ENG_INT32 : ENG_FLOAT32;
}

static bool is_passthrough(int op)
{
	return op == OP_SOFTMAX || op == OP_LOGISTIC || op == OP_RESHAPE || op == OP_SQUEEZE ||
	       op == OP_QUANTIZE || op == OP_DEQUANTIZE;
}

/* The classifier node found by walking back from the output, or -1 with err set. */
static int find_head(struct rt_base *b, char *err, size_t errlen)
{
	const struct graph *g = &b->g;
	int t = g->outputs[0];
	char chain[96] = "";
	for (int steps = 0; steps < g->nnodes; steps++) {
		int ni = b->producer[t];
		if (ni < 0)
			break;
		const struct node *n = &g->nodes[ni];
		if (n->op == OP_FULLY_CONNECTED)
			return ni;
		if (n->op == OP_CONV_2D && n->ninputs >= 2) {
			const struct tensor *in = &g->tensors[n->inputs[0]], *w = &g->tensors[n->inputs[1]];
			if (in->ndim == 4 && in->dims[1] == 1 && in->dims[2] == 1 && w->ndim == 4 &&
			    w->dims[1] == 1 && w->dims[2] == 1)
				return ni;
		}
		if (!is_passthrough(n->op) || n->ninputs < 1 || n->inputs[0] < 0) {
			err_setf(err, errlen, -ENOTSUP,
			      "%s: no recognisable classifier head: the output%s%s%s comes from %s (operator %d)%s; "
			      "expected a FULLY_CONNECTED, or a 1x1 CONV_2D on a pooled 1x1 tensor (name the "
			      "feature tensor with --embedding)",
			      b->path, chain[0] ? " (after " : "", chain, chain[0] ? ")" : "", builtin_op_name(n->op), n->index,
			      n->op == OP_CONV_2D ? " whose input is not 1x1" : "");
			return -1;
		}
		size_t used = strlen(chain);
		snprintf(chain + used, sizeof(chain) - used, "%s%s", used ? ", " : "", builtin_op_name(n->op));
		t = n->inputs[0];
	}
	err_setf(err, errlen, -ENOTSUP, "%s: no recognisable classifier head: the output '%s' is not computed by "
	      "any FULLY_CONNECTED or 1x1 CONV_2D", b->path, g->tensors[g->outputs[0]].name);
	return -1;
}

static int pick_named(struct rt_base *b, const char *name, char *err, size_t errlen)
{
	int found = -1, count = 0;
	for (int t = 0; t < b->g.ntensors; t++)
		if (strcmp(b->g.tensors[t].name, name) == 0) {
			found = t;
			count++;
		}
	if (count == 0)
		return err_setf(err, errlen, -EINVAL, "%s: no tensor named '%s'", b->path, name);
	if (count > 1)
		return err_setf(err, errlen, -EINVAL, "%s: %d tensors are named '%s'", b->path, count, name);
	if (b->producer[found] < 0)
		return err_setf(err, errlen, -EINVAL, "%s: tensor '%s' is %s, not computed by an operator", b->path, name,
			     b->g.tensors[found].is_const ? "a constant" : "the model input");
	snprintf(b->emb.head, sizeof(b->emb.head), "named by --embedding");
	return found;
}

static int choose(struct rt_base *b, const char *name, char *err, size_t errlen)
{
	const struct graph *g = &b->g;
	int t;
	if (name) {
		t = pick_named(b, name, err, errlen);
		if (t < 0)
			return t;
	} else {
		int ni = find_head(b, err, errlen);
		if (ni < 0)
			return -ENOTSUP;
		const struct node *n = &g->nodes[ni];
		const struct tensor *w = &g->tensors[n->inputs[1]];
		t = n->inputs[0];
		b->emb.base_classes = w->dims[0];
		snprintf(b->emb.head, sizeof(b->emb.head), "%s (operator %d), %d classes",
			 n->op == OP_FULLY_CONNECTED ? "FULLY_CONNECTED" : "1x1 CONV_2D", n->index, (int)w->dims[0]);
		for (int k = 0; k < g->ntensors; k++)
			if (k != t && strcmp(g->tensors[k].name, g->tensors[t].name) == 0)
				return err_setf(err, errlen, -ENOTSUP, "%s: the embedding tensor %d's name '%s' is not unique",
					     b->path, t, g->tensors[t].name);
	}
	const struct tensor *e = &g->tensors[t];
	if (e->type == TT_FLOAT32)
		return err_setf(err, errlen, -ENOTSUP,
			     "%s: the embedding '%s' is float32: the base is a float model; retrain needs a "
			     "full-integer (int8 or uint8) base", b->path, e->name);
	if (e->type != TT_INT8 && e->type != TT_UINT8)
		return err_setf(err, errlen, -ENOTSUP, "%s: the embedding '%s' is %s; int8 or uint8 needed", b->path,
			     e->name, tensor_type_name(e->type));
	if (e->nq != 1 || !(e->scale > 0))
		return err_setf(err, errlen, -ENOTSUP, "%s: the embedding '%s' has no per-tensor quantization", b->path,
			     e->name);
	int depth = tensor_num_elements(e);
	if (depth < 1 || depth > 32768)
		return err_setf(err, errlen, -ENOTSUP, "%s: the embedding '%s' has %d elements (1..32768 supported)",
			     b->path, e->name, depth);
	b->emb.tensor = t;
	b->emb.name = e->name;
	b->emb.depth = depth;
	b->emb.type = dtype_of(e->type);
	b->emb.scale = e->scale;
	b->emb.zero_point = e->zero_point;
	return 0;
}

/* Takes buf (malloc'd, len bytes) in every case. */
static int open_common(uint8_t *buf, size_t len, const char *path, const char *embedding, struct rt_base **ret_base,
		       char *err, size_t errlen)
{
	char msg[256];
	struct rt_base *b = calloc(1, sizeof(*b));
	int r;
	if (!b) {
		free(buf);
		return err_setf(err, errlen, -ENOMEM, "%s: out of memory", path);
	}
	b->buf = buf;
	b->len = len;
	b->path = strdup(path);
	if (!b->path) {
		r = err_setf(err, errlen, -ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	r = model_read(b->buf, b->len, &b->g, msg, sizeof(msg));
	if (r < 0) {
		err_setf(err, errlen, r, "%s: %s", path, msg);
		goto fail;
	}
	if (b->g.ninputs != 1 || b->g.noutputs != 1) {
		r = err_setf(err, errlen, -ENOTSUP, "%s: %d inputs and %d outputs; a classifier base has one of each",
			  path, b->g.ninputs, b->g.noutputs);
		goto fail;
	}
	b->producer = malloc(((size_t)b->g.ntensors + 1) * sizeof(int));
	if (!b->producer) {
		r = err_setf(err, errlen, -ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	for (int t = 0; t < b->g.ntensors; t++)
		b->producer[t] = -1;
	for (int i = 0; i < b->g.nnodes; i++)
		for (int k = 0; k < b->g.nodes[i].noutputs; k++)
			b->producer[b->g.nodes[i].outputs[k]] = i;
	r = choose(b, embedding, err, errlen);
	if (r < 0)
		goto fail;
	*ret_base = b;
	return 0;
fail:
	rt_base_free(b);
	return r;
}

int rt_base_open(const char *path, const char *embedding, struct rt_base **ret_base, char *err,
		 size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = read_file(path, &buf, &len, err, errlen);
	if (r < 0)
		return r;
	return open_common(buf, len, path, embedding, ret_base, err, errlen);
}

int rt_base_open_memory(const void *data, size_t len, const char *name, const char *embedding,
			struct rt_base **ret_base, char *err, size_t errlen)
{
	if (len < 8 || len > RT_MAX_FILE_BYTES)
		return err_setf(err, errlen, -EBADMSG, "%s: %zu bytes is not a TFLite model size", name, len);
	uint8_t *buf = malloc(len);
	if (!buf)
		return err_setf(err, errlen, -ENOMEM, "%s: out of memory", name);
	memcpy(buf, data, len);
	return open_common(buf, len, name, embedding, ret_base, err, errlen);
}

const struct rt_embedding *rt_base_embedding(const struct rt_base *b)
{
	return &b->emb;
}

void rt_base_free(struct rt_base *b)
{
	if (!b)
		return;
	model_free_graph(&b->g);
	free(b->producer);
	free(b->buf);
	free(b->path);
	free(b);
}
