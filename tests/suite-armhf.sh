#!/bin/bash
# suite-armhf — part of `make test`: the inference tests cross-built for 32-bit ARM (armhf) and run
# under qemu-arm as Cortex-A7 (NEON kernels) and Cortex-R5F (no NEON: the portable C kernels); see
# scripts/test-armhf for what and why. Prints cmocka summary lines only.
exec "$(dirname "$0")/../scripts/test-armhf"
