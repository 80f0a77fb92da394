/* model_options.h — internal to the model reader: builtin options of one operator → node->opt.
 * Split from model.c only to keep each file readable; nothing else includes it. */
#ifndef CAMCLASS_INFERENCE_MODEL_OPTIONS_H
#define CAMCLASS_INFERENCE_MODEL_OPTIONS_H

#include <stddef.h>

#include "inference/fbs.h"
#include "inference/graph.h"

/* Reads the Operator table's builtin_options for n->op (already set) into n->opt, with schema
 * defaults for absent fields. Returns 0, -EBADMSG (corrupt) or -ENOTSUP, with err filled. */
int model_read_options(struct fbs *fb, const struct fbs_table *op_table, struct node *n, char *err,
		       size_t errlen);

#endif
