/* version.c — holds the build's version string (see version.h for where it comes from).
 *
 * Only this file is compiled with -DCAMCLASS_VERSION=..., so a changed version rebuilds this one
 * object and relinks; every other object stays as it was. */
#include "lib/version.h"

#ifndef CAMCLASS_VERSION
#define CAMCLASS_VERSION "unknown"
#endif

const char *camclass_version(void)
{
	return CAMCLASS_VERSION;
}

void camclass_print_version(FILE *f, const char *program)
{
	fprintf(f, "%s %s\n", program, CAMCLASS_VERSION);
}
