/* loop_a32.S — scripts/bench-arm --self-check's armhf guest (A32 instructions): the same shape
 * as loop_a64.S, so the same counts: 2 * LOOPS + 8 in all, 2 * LOOPS + 3 between the marks. */
	.text
	.arm
	.global _start
	.global mark
_start:
	bl	mark
	mov	r0, #LOOPS
1:	subs	r0, r0, #1
	bne	1b
	bl	mark
	mov	r0, #0
	mov	r7, #1		/* exit */
	svc	#0
mark:
	bx	lr
