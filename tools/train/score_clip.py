#!/usr/bin/python3
"""score_clip.py — top-1 accuracy of `camclass classify --json` on demo-clip frames.

    build/camclass classify --model M --labels L --json build/demo-clip/*.jpg | tools/train/score_clip.py

Frames made by tools/demo_clip.py are named NNNNN_<true class index>.jpg; each JSON line's first
label is the prediction. Prints `classify top-1: A (correct/total)`; exit 1 if a line is unusable.
"""
import json
import os
import re
import sys


def main():
    total = correct = 0
    for n, line in enumerate(sys.stdin, 1):
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
            truth = int(re.match(r"\d+_(\d+)\.jpe?g$", os.path.basename(rec["image"])).group(1))
            pred = int(rec["labels"][0]["index"])
        except (ValueError, KeyError, IndexError, AttributeError, TypeError) as e:
            print(f"score_clip: line {n}: unusable ({e}): {line[:120]}", file=sys.stderr)
            return 1
        total += 1
        correct += pred == truth
    if not total:
        print("score_clip: no results on stdin", file=sys.stderr)
        return 1
    print(f"classify top-1: {correct / total:.4f} ({correct}/{total})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
