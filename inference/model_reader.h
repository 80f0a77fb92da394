/* model_reader.h — internal to the model reader (model.c, model_tensor.c): the reader's state,
 * its error helpers and the tensor step. Split from model.c only to keep each file readable;
 * nothing else includes it (model_options.c has its own error context). */
#ifndef CAMCLASS_INFERENCE_MODEL_READER_H
#define CAMCLASS_INFERENCE_MODEL_READER_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "inference/fbs.h"
#include "inference/graph.h"
#include "lib/errbuf.h"

struct buffer_ref {
	const uint8_t *data;
	size_t len;
};

struct opcode {
	int op;
	int version;
	const char *custom_name; /* into the file; NULL for builtins */
};

struct reader {
	struct fbs fb;
	char *err;
	size_t errlen;
	struct buffer_ref *buffers;
	uint32_t nbuffers;
	struct opcode *opcodes;
	uint32_t nopcodes;
	struct graph g;
};

static inline int failf(struct reader *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline int failf(struct reader *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vsetf(r->err, r->errlen, code, fmt, ap);
	va_end(ap);
	return code;
}

/* A failed fbs_* call: "corrupt model: <where>: <why> (byte N)". */
static inline int corrupt(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int corrupt(struct reader *r, const char *fmt, ...)
{
	char where[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(where, sizeof(where), fmt, ap);
	va_end(ap);
	return failf(r, -EBADMSG, "corrupt model: %s: %s (byte %zu)", where,
		     r->fb.why ? r->fb.why : "invalid", r->fb.why_pos);
}

#define FB(call, ...)                                    \
	do {                                             \
		if ((call) < 0)                          \
			return corrupt(r, __VA_ARGS__);  \
	} while (0)

/* model_tensor.c: the Tensor table i (tt) into t — name, type, shape, quantization, constant
 * data from its buffer — validated. Returns 0, -EBADMSG, -ENOTSUP or -ENOMEM, with r->err set. */
int model_read_tensor(struct reader *r, int i, const struct fbs_table *tt, struct tensor *t);

#endif
