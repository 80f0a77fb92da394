/* engine_check.c — the refusals eng_load() makes after reading a model and before planning it,
 * each in one message that tells the user everything at once:
 *   - a model that is not an image classifier: several inputs or outputs, sequence ops (LSTM,
 *     RNN, SVDF, embeddings), int16 activations (the 16x8 quantization recipe);
 *   - every operator no kernel runs, by name, version and count:
 *     "unsupported: TRANSPOSE v2 ×1, GATHER v1 ×2" (a fix-one-find-the-next loop otherwise).
 * Kept apart from engine.c so that the list of what counts as "not a classifier" is one place. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "inference/engine_state.h"
#include "inference/model.h"
#include "inference/ops/ops.h"
#include "lib/errbuf.h"

#define MAX_KINDS 32

static bool is_sequence_op(int op)
{
	switch (op) {
	case 7:   /* EMBEDDING_LOOKUP */
	case 16:  /* LSTM */
	case 24:  /* RNN */
	case 27:  /* SVDF */
	case 35:  /* UNIDIRECTIONAL_SEQUENCE_RNN */
	case 44:  /* UNIDIRECTIONAL_SEQUENCE_LSTM */
	case 46:  /* BIDIRECTIONAL_SEQUENCE_RNN */
	case 52:  /* BIDIRECTIONAL_SEQUENCE_LSTM */
		return true;
	default:
		return false;
	}
}

int eng_check_classifier(const struct graph *g, const char *name, char *err, size_t errlen)
{
	static const char what[] = "not an image classifier camclassd can run";
	if (g->ninputs != 1 || g->noutputs != 1)
		return err_setf(err, errlen, -ENOTSUP, "%s: %s: it has %d inputs and %d outputs (an image classifier has "
			     "one image input and one scores output)", name, what, g->ninputs, g->noutputs);
	for (int i = 0; i < g->nnodes; i++)
		if (is_sequence_op(g->nodes[i].op))
			return err_setf(err, errlen, -ENOTSUP, "%s: %s: operator %d is %s, a sequence/text model op", name,
				     what, g->nodes[i].index, model_op_name(g->nodes[i].op));
	for (int t = 0; t < g->ntensors; t++)
		if (g->tensors[t].type == TT_INT16 && !g->tensors[t].is_const)
			return err_setf(err, errlen, -ENOTSUP, "%s: int16 activations (tensor %d '%s', the 16x8 quantization "
				     "recipe) are not supported; convert with int8 full-integer quantization or keep float32",
				     name, t, g->tensors[t].name);
	return 0;
}

struct kind {
	int op, version;
	int count;
	bool too_new, float_only;
};

int eng_check_ops(const struct graph *g, const char *name, char *err, size_t errlen)
{
	struct kind kinds[MAX_KINDS];
	int nkinds = 0, more = 0;
	for (int i = 0; i < g->nnodes; i++) {
		const struct node *n = &g->nodes[i];
		const struct op_kernel *k = ops_find_for(g, n);
		if (k && n->version <= k->max_version)
			continue;
		int j = 0;
		while (j < nkinds && (kinds[j].op != n->op || kinds[j].version != n->version))
			j++;
		if (j == nkinds) {
			if (nkinds == MAX_KINDS) {
				more++;
				continue;
			}
			kinds[nkinds++] = (struct kind){ .op = n->op, .version = n->version, .too_new = k != NULL,
							 .float_only = !k && ops_find(n->op) != NULL };
		}
		kinds[j].count++;
	}
	if (nkinds == 0)
		return 0;
	size_t used = 0;
	int r = snprintf(err, errlen, "%s: unsupported:", name);
	used = r > 0 ? (size_t)r : 0;
	for (int j = 0; j < nkinds && used < errlen; j++) {
		const char *op_name = model_op_name(kinds[j].op);
		char code[32];
		if (!op_name) {
			snprintf(code, sizeof(code), "builtin code %d", kinds[j].op);
			op_name = code;
		}
		r = snprintf(err + used, errlen - used, "%s %s v%d ×%d%s", j ? "," : "", op_name, kinds[j].version,
			     kinds[j].count,
			     kinds[j].too_new ? " (newer than this engine implements)" :
			     kinds[j].float_only ? " (on float32 tensors)" : "");
		used += r > 0 ? (size_t)r : 0;
	}
	if (more && used < errlen)
		snprintf(err + used, errlen - used, " and %d more", more);
	return -ENOTSUP;
}
