#!/bin/bash
# suite-arm64 — part of `make test`: the inference tests cross-built for arm64 and run under
# qemu-aarch64 as Cortex-A53 and Cortex-A76 (see scripts/test-arm64 for what and why). Prints
# cmocka summary lines only.
exec "$(dirname "$0")/../scripts/test-arm64"
