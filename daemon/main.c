/* placeholder until the foundation lands (issue 2) */
#include <stdio.h>
int main(void) { fprintf(stderr, "camclassd: not built yet\n"); return 1; }
