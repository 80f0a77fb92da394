/* macros.h — the few small macros every module wants, defined once instead of per file.
 * Header only; no state. Arguments of MIN/MAX/CLAMP may be evaluated twice: pass plain values. */
#ifndef CAMCLASS_LIB_MACROS_H
#define CAMCLASS_LIB_MACROS_H

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#ifndef MIN /* <sys/param.h> has the same two */
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
#define CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))

#endif
