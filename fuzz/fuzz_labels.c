/* fuzz_labels.c — libFuzzer target for the label-file parser (daemon/labels_text.c): arbitrary
 * bytes as a label file (BOM, CRLF, INDEX NAME forms, NUL bytes, huge counts); it must parse
 * into count names that are NUL-terminated C strings, or fail with a message. Seeds:
 * fuzz/seeds-labels/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/labels_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct labels l;
	char err[256];
	err[0] = 0;
	if (labels_parse_text("fuzz.txt", (const char *)data, size, &l, err, sizeof(err)) == 0) {
		if (l.count == 0 || l.count > LABELS_TEXT_MAX)
			abort();
		for (size_t i = 0; i < l.count; i++)
			if (!l.names[i] || strlen(l.names[i]) > size)
				abort();
		labels_free(&l);
	} else if (!err[0]) {
		abort();
	}
	return 0;
}
