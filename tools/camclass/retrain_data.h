/* retrain_data.h — the image folder of `camclass retrain` turned into embeddings.
 *
 * DIR/<label>/ holding *.jpg, *.jpeg, *.png, *.bmp: sorted folder names are the classes, sorted file names the
 * images. Each image goes through exactly the daemon's path (capture's still decoder, then
 * cap_preprocess() with the given crop/resize into the base's input tensor) and the base's
 * engine; its embedding is read through the engine's probe. Augmented views (mirror, crop/zoom
 * jitter, brightness) change the decoded image before the same cap_preprocess(). A split into
 * training and held-out images is made per class from the seed; held-out images keep their
 * input tensors, so the written model can be run on exactly what the base saw.
 * Images that cannot be read or decoded are reported on stderr and left out; a class left
 * with no image is an error. Memory: everything belongs to struct rt_data (rd_free()). */
#ifndef CAMCLASS_TOOLS_RETRAIN_DATA_H
#define CAMCLASS_TOOLS_RETRAIN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "inference/engine.h"
#include "inference/retrain.h"

#define RD_MAX_IMAGES 100000
#define RD_MAX_AUGMENT 32

struct rd_sample {
	int cls;
	int image;                /* index into paths */
	int held_out;             /* 1: held-out split (never augmented) */
	int view;                 /* 0 the image itself, 1.. augmented views */
};

struct rt_data {
	int classes;
	char **labels;            /* classes folder names */
	int n_images;
	char **paths;
	int *image_class;
	int *image_held_out;
	/* embeddings of every usable sample (train views, then held-out images) */
	size_t n;
	struct rd_sample *samples;
	float *x;                 /* n × depth, dequantized */
	int depth;
	/* the held-out images' input tensors, in samples' held-out order */
	size_t n_val;
	uint8_t *val_inputs;
	size_t input_bytes;
	int skipped;              /* images left out (unreadable) */
};

struct rd_options {
	const char *dir;
	double val_split;
	int augment;
	uint64_t seed;
	struct cap_prep prep;     /* crop/resize; target filled from the engine */
	int progress;             /* 1: report on stderr */
};

/* Lists the classes and images and makes the split (no decoding yet). */
int rd_scan(const struct rd_options *o, struct rt_data *ret, char *err, size_t errlen);
/* Embeds every image (and augmented views) with e, whose probe is the embedding. */
int rd_embed(const struct rd_options *o, struct engine *e, const struct rt_embedding *emb,
	     struct rt_data *d, char *err, size_t errlen);
void rd_free(struct rt_data *d);

/* The model input as capture's target (also used by `camclass classify`). */
int rd_target_of(const struct eng_tensor_info *in, struct cap_target *ret, char *err, size_t errlen);

#endif
