#!/bin/bash
# suite-vm.sh — the real-V4L2 tests (vivid + v4l2loopback in QEMU); see scripts/test-vm.
exec "$(dirname "$0")/../scripts/test-vm"
