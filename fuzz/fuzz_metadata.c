/* fuzz_metadata.c — libFuzzer target for the TFLite metadata reader and the associated-file
 * (zip, libzip) path of inference/metadata.c: arbitrary bytes as a model file; md_read() must
 * always come back (error recorded or fields filled, strings NUL-terminated), and reading the
 * labels file it names (or a fixed name) must succeed or fail with a message. Seeds: the shared
 * MobileNet with metadata and labels zip (fuzz/seed_metadata copies it). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inference/metadata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eng_metadata m;
	char err[256], *file = NULL;
	size_t len = 0;
	err[0] = 0;
	md_read(data, size, &m);
	if (strnlen(m.labels_file, sizeof(m.labels_file)) == sizeof(m.labels_file) ||
	    strnlen(m.description, sizeof(m.description)) == sizeof(m.description) ||
	    m.norm_count < 0 || m.norm_count > ENG_MAX_NORM)
		abort();
	const char *name = m.labels_file[0] ? m.labels_file : "imagenet_labels.txt";
	if (md_associated_file(data, size, name, &file, &len, err, sizeof(err)) == 0) {
		if (file[len] != 0)
			abort();
		free(file);
	} else if (!err[0]) {
		abort();
	}
	return 0;
}
