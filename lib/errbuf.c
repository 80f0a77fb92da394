/* errbuf.c — err_setf()/err_vsetf(); see errbuf.h. One copy instead of a static failf() in every
 * module that reports errors through a caller's buffer. */
#include "lib/errbuf.h"

#include <stdio.h>

int err_vsetf(char *err, size_t errlen, int code, const char *fmt, va_list ap)
{
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	return code;
}

int err_setf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vsetf(err, errlen, code, fmt, ap);
	va_end(ap);
	return code;
}
