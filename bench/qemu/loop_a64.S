/* loop_a64.S — scripts/bench-arm --self-check's arm64 guest: a known number of instructions.
 * mark (a bare ret) is called twice around a loop of LOOPS iterations of two instructions, then
 * the program exits. Executed: _start's bl (1), mark's ret (1), mov (1), loop (2 * LOOPS),
 * bl (1), ret (1), then mov, mov, svc (3): 2 * LOOPS + 8 in all; between the two entries of
 * mark: ret, mov, the loop, bl = 2 * LOOPS + 3. */
	.text
	.global _start
	.global mark
_start:
	bl	mark
	mov	x0, #LOOPS
1:	subs	x0, x0, #1
	b.ne	1b
	bl	mark
	mov	x0, #0
	mov	x8, #93		/* exit */
	svc	#0
mark:
	ret
