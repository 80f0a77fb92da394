/* engine.h — load a quantized TFLite classifier and run it. The public face of inference/.
 *
 * One engine per model; no global state. eng_load() reads, validates, plans and prepares
 * everything (all allocation happens here); eng_invoke() only computes and allocates nothing.
 * Memory: the engine owns the input and output buffers returned by eng_input()/eng_output();
 * they stay valid until eng_free(). The model file is mmapped read-only for the engine's life.
 * Threads: an engine is used by one thread at a time; different engines are independent.
 * Errors: negative errno-style codes; on failure eng_load() fills err with a message naming what
 * and where ("model.tflite: operator 12 (CONV_2D v3): filter has 3 dims, expected 4"). */
#ifndef CAMCLASS_INFERENCE_ENGINE_H
#define CAMCLASS_INFERENCE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#define ENG_MAX_DIMS 6

enum eng_dtype { ENG_UINT8, ENG_INT8, ENG_INT32, ENG_FLOAT32 };
enum eng_backend { ENG_BACKEND_AUTO, ENG_BACKEND_BUILTIN, ENG_BACKEND_XNNPACK };

struct eng_tensor_info {
	enum eng_dtype type;
	int ndim;
	int dims[ENG_MAX_DIMS];   /* NHWC for images: dims[1]=height, dims[2]=width, dims[3]=channels */
	size_t bytes;
	float scale;              /* 0 when not quantized */
	int32_t zero_point;
	const char *name;
	/* The 8-bit quantization the model's integer body expects here. For a uint8/int8 tensor:
	 * its own type, scale and zero point. For a float32 model input read by exactly one
	 * operator, a QUANTIZE to per-tensor int8/uint8 (what the TFLite converter's default
	 * full-integer recipe emits): that QUANTIZE's output type and parameters, so that a caller
	 * writing scale·(q − zero point) as floats has the model turn them back into exactly q.
	 * Otherwise (float without such a QUANTIZE, int32): ENG_FLOAT32 and scale 0. */
	enum eng_dtype quantized_type;
	float quantized_scale;
	int32_t quantized_zero_point;
};

struct eng_options {
	enum eng_backend backend; /* AUTO: XNNPACK when built in, else builtin (bit-exact) */
	int threads;              /* >= 1 */
};

struct engine;

int eng_load(const char *path, const struct eng_options *opt, struct engine **ret_engine,
	     char *err, size_t errlen);
void eng_free(struct engine *e);

int eng_input_info(const struct engine *e, struct eng_tensor_info *ret_info);
int eng_output_info(const struct engine *e, struct eng_tensor_info *ret_info);
void *eng_input(struct engine *e);             /* write the input tensor here */
const void *eng_output(const struct engine *e); /* read the output tensor here after invoke */

/* Runs the model on the input buffer. 0, or -EIO when a backend failed at run time; then
 * eng_invoke_error() says which operators and why. Logs nothing: the caller decides. */
int eng_invoke(struct engine *e);
const char *eng_invoke_error(const struct engine *e); /* "" when no invoke has failed */

size_t eng_arena_bytes(const struct engine *e);
enum eng_backend eng_backend_used(const struct engine *e);
const char *eng_backend_name(enum eng_backend b);   /* "auto", "builtin", "xnnpack" */
int eng_backend_from_name(const char *name);        /* -EINVAL if unknown */
const char *eng_dtype_name(enum eng_dtype t);

/* Same as eng_load() for a model already in memory (copied: buf need not outlive the call).
 * name is used in messages in place of the path. Used by the fuzzer and by tests. */
int eng_load_memory(const void *buf, size_t len, const char *name, const struct eng_options *opt,
		    struct engine **ret_engine, char *err, size_t errlen);

/* Facts for `camclass model-info`: operators in execution order, tensor count, threads. */
int eng_op_count(const struct engine *e);
int eng_op_info(const struct engine *e, int i, const char **ret_name, int *ret_version);
int eng_tensor_count(const struct engine *e);
int eng_threads(const struct engine *e);

/* Profiling for `camclass bench --per-op` (inference/engine_profile.c): eng_invoke() that adds
 * each step's wall time in ms to ms_per_op[i] (eng_op_count() entries, execution order). A step
 * is one builtin operator, or a run of operators XNNPACK executes as one subgraph: its time goes
 * to its first operator. ret_step_end[i] (eng_op_count() entries) becomes the index after the
 * step that starts at i, or 0 where no step starts. Returns as eng_invoke(). */
int eng_invoke_profiled(struct engine *e, double *ms_per_op, int *ret_step_end);
/* Operator i's first two input shapes and its output shape, "[1,7,7,320]x[1280,1,1,320]->[1,7,7,1280]",
 * into buf (truncated to len). 0, or -EINVAL for a bad index or len 0. */
int eng_op_shapes(const struct engine *e, int i, char *buf, size_t len);

/* Dequantized value of output element i (scale × (q − zero point); the value itself for float). */
float eng_output_value(const struct engine *e, size_t i);
size_t eng_output_count(const struct engine *e);

#endif
