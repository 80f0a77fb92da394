/* engine.h — load a TFLite image classifier (int8/uint8, float32, fp16 or dynamic-range weights)
 * and run it. The public face of inference/.
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
	/* An image input stored channels-first ([1, C, H, W] with C 1 or 3 and W not: PyTorch
	 * exports): height dims[2], width dims[3], channels dims[1]. */
	int channels_first;
};

struct eng_options {
	enum eng_backend backend; /* AUTO: XNNPACK when built in, else builtin (bit-exact) */
	int threads;              /* >= 1 */
	/* NULL, or the name of one more tensor to keep readable after each invoke (an embedding:
	 * the input of the model's classifier), see eng_probe(). It is kept like a second output
	 * (its memory is not reused, XNNPACK hands it out), so it costs its bytes and nothing else. */
	const char *probe_tensor;
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

/* The probe tensor named in eng_options (-ENOENT when none was asked for). Its bytes are valid
 * after each eng_invoke(), until the next invoke or eng_free(). */
int eng_probe_info(const struct engine *e, struct eng_tensor_info *ret_info);
const void *eng_probe(const struct engine *e);

/* Weights the engine turned into float32 at load: float16 constants (DEQUANTIZE folded) and
 * int8/uint8 weights of float ops (a dynamic-range model). For model-info. */
void eng_dequantized_weights(const struct engine *e, int *ret_fp16, int *ret_int8);
/* Whether the file's channels-first input was followed by a TRANSPOSE to NHWC that the engine
 * dropped: the input is then that TRANSPOSE's NHWC output (eng_input_info shows it). */
int eng_input_transpose_folded(const struct engine *e);

/* What the model's TFLite metadata says (model-info; labels and normalization for the caller).
 * Strings are "" when absent. norm_count: 0 without NormalizationOptions on the input, else 1
 * (one mean/std for all channels) or the number of channels (at most ENG_MAX_NORM). */
#define ENG_MAX_NORM 4
#define ENG_MAX_ASSOCIATED_FILE ((size_t)16 << 20)
struct eng_metadata {
	int present;                 /* TFLITE_METADATA found and read */
	char error[128];             /* why it was unreadable ("" if fine or absent) */
	char name[128], description[512], version[64], author[128];
	char labels_file[256];       /* the output's TENSOR_AXIS_LABELS associated file */
	int norm_count;
	float mean[ENG_MAX_NORM], std[ENG_MAX_NORM];
	char min_runtime_version[32];
};
const struct eng_metadata *eng_metadata(const struct engine *e);
/* Associated file `name` of the model (the zip appended by the metadata writer): a malloc'd,
 * NUL-terminated copy the caller frees. -ENOENT, -EFBIG, -EBADMSG or -ENOMEM, err set. */
int eng_associated_file(const struct engine *e, const char *name, char **ret_data, size_t *ret_len,
			char *err, size_t errlen);
/* Whether the output already holds probabilities: it comes from a SOFTMAX or LOGISTIC (through
 * reshapes and quantize/dequantize). Otherwise it holds logits (`[model] output = auto`). */
int eng_output_is_probabilities(const struct engine *e);

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
