"""fashion_mnist.py — read Debian's Fashion-MNIST idx files and render them the way the demo shows them.

Shared by tools/train (training, held-out evaluation) and tools/demo_clip.py (the demo frames),
so the model is trained and measured on exactly what the demo camera path produces. Needs only
numpy and PIL (no torch), because `make demo-clip` must not need PyTorch.

The demo frame: the 28×28 item upscaled 16× (bilinear) to 448×448, centred on a black 640×480
frame (Fashion-MNIST's own background is black). The daemon centre-crops a frame to the model's
aspect ratio (480×480 here) and area-downscales it to the input size: `camera_view()` does that.
"""
import gzip
import os
import struct

import numpy as np
from PIL import Image

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
FRAME_W, FRAME_H = 640, 480
ITEM_SIDE = 448


def _open(path):
    if os.path.exists(path):
        return open(path, "rb")
    return gzip.open(path + ".gz", "rb")


def read_idx(path):
    """An idx file (optionally .gz) as a numpy uint8 array with its stored shape."""
    with _open(path) as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError(f"{path}: too short for an idx header")
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    count = int(np.prod(dims))
    body = data[4 + 4 * ndim:]
    if len(body) != count:
        raise ValueError(f"{path}: {len(body)} data bytes, header says {count}")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def load(directory=DEFAULT_DIR, split="train"):
    """(images N×28×28 uint8, labels N uint8) of split 'train' or 't10k'."""
    images = read_idx(os.path.join(directory, f"{split}-images-idx3-ubyte"))
    labels = read_idx(os.path.join(directory, f"{split}-labels-idx1-ubyte"))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{directory}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images, labels


def render_frame(item):
    """A 640×480 RGB PIL frame with the 28×28 item upscaled and centred on black."""
    big = Image.fromarray(item, "L").resize((ITEM_SIDE, ITEM_SIDE), Image.BILINEAR)
    frame = Image.new("L", (FRAME_W, FRAME_H), 0)
    frame.paste(big, ((FRAME_W - ITEM_SIDE) // 2, (FRAME_H - ITEM_SIDE) // 2))
    return frame.convert("RGB")


def camera_view(frame, size):
    """What the daemon feeds a size×size model: centre crop to a square, area downscale."""
    w, h = frame.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    return frame.crop((left, top, left + side, top + side)).resize((size, size), Image.BOX)
