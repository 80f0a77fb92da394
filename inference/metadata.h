/* metadata.h — what a TFLite model says about itself: the `metadata` entries of the model
 * flatbuffer ("TFLITE_METADATA": a ModelMetadata flatbuffer of tensorflow/lite/schema/
 * metadata_schema.fbs, identifier "M001"; "min_runtime_version": a version string) and the
 * associated files (labels) in the zip archive the metadata writer appends to the file.
 *
 * Internal to inference/ (the engine fills one at load; callers read it through engine.h's
 * eng_metadata() and eng_associated_file()). Metadata is advisory: TFLite itself never needs
 * it, so a corrupt or odd metadata block does not make a model unloadable — md_read() records
 * why in ret->error and leaves the rest empty. Everything is bounds-checked (fbs.h) and copied
 * into fixed-size fields (truncated if longer); nothing points into the model buffer.
 * Threads: plain data; md_associated_file() is reentrant (its own libzip handle per call). */
#ifndef CAMCLASS_INFERENCE_METADATA_H
#define CAMCLASS_INFERENCE_METADATA_H

#include <stddef.h>
#include <stdint.h>

#include "inference/engine.h"

/* Fills *ret from the model flatbuffer buf[0..len) (already known to be a TFL3 file). Always
 * succeeds; ret->present says whether TFLITE_METADATA was there and readable. */
void md_read(const uint8_t *buf, size_t len, struct eng_metadata *ret);

/* The associated file `name` from the zip appended to the model (buf, len: the whole file).
 * On success *ret_data is a malloc'd, NUL-terminated copy (the NUL not counted in *ret_len).
 * -ENOENT: no archive or no such member; -EFBIG: larger than ENG_MAX_ASSOCIATED_FILE;
 * -EBADMSG: the archive is corrupt; -ENOMEM. err says which, naming the file. */
int md_associated_file(const uint8_t *buf, size_t len, const char *name, char **ret_data,
		       size_t *ret_len, char *err, size_t errlen);

#endif
