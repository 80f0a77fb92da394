#!/usr/bin/python3
"""demo_clip.py — make the demo clip: Fashion-MNIST test images as 640×480 JPEG camera frames.

    tools/demo_clip.py [--out build/demo-clip] [--count 200] [--start 0] [--data DIR] [--quality 90]

Made at build time from Debian's dataset-fashion-mnist (never committed). Each frame is one test
item upscaled 16× and centred on black (tools/train/fashion_mnist.py: the same rendering the demo
model was trained and measured on). Frames are named NNNNN_<label index>.jpg (test-set index,
true class), so a run can be scored against the truth; the directory holds nothing else, since
the daemon's file source replays every file in it.
Needs only Debian's python3, numpy and PIL.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "train"))
import fashion_mnist  # noqa: E402


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="build/demo-clip")
    p.add_argument("--count", type=int, default=200, help="frames (default 200; 10000 = the whole test set)")
    p.add_argument("--start", type=int, default=0, help="first test-set index")
    p.add_argument("--data", default=fashion_mnist.DEFAULT_DIR)
    p.add_argument("--quality", type=int, default=90)
    a = p.parse_args(argv)
    try:
        items, labels = fashion_mnist.load(a.data, "t10k")
    except (OSError, ValueError) as e:
        print(f"demo_clip: {e} (install: scripts/install-deps demo)", file=sys.stderr)
        return 1
    end = min(len(labels), a.start + a.count)
    os.makedirs(a.out, exist_ok=True)
    for i in range(a.start, end):
        name = f"{i:05d}_{labels[i]}.jpg"
        fashion_mnist.render_frame(items[i]).save(os.path.join(a.out, name), quality=a.quality)
    print(f"demo_clip: {max(0, end - a.start)} frames in {a.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
