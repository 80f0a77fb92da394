"""model.py — the small MobileNet-style ConvNet that tools/train trains and exports.

Built so that every layer maps one-to-one onto a TFLite builtin op: a 3×3 stride-2 first conv,
depthwise-separable blocks (3×3 depthwise + 1×1 pointwise, each with BatchNorm and ReLU6, so
quantization can fold BN into the weights and fuse ReLU6 as the activation clamp), a global
average pool, and a fully connected classifier. Padding is TensorFlow's SAME (for stride 2 on an
even size: 0 before, 1 after), not PyTorch's symmetric padding, so the float model computes what
the exported .tflite computes.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def same_pads(size, kernel, stride):
    """TensorFlow SAME padding for one spatial axis: (before, after, output size)."""
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out


class ConvBN(nn.Module):
    """Conv (regular or depthwise) + BatchNorm + optional ReLU6, with TF SAME padding."""

    def __init__(self, cin, cout, kernel, stride, depthwise=False, relu6=True):
        super().__init__()
        self.kernel, self.stride, self.depthwise, self.relu6 = kernel, stride, depthwise, relu6
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding=0,
                              groups=cin if depthwise else 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        pt, pb, _ = same_pads(x.shape[2], self.kernel, self.stride)
        pl, pr, _ = same_pads(x.shape[3], self.kernel, self.stride)
        if pt or pb or pl or pr:
            x = F.pad(x, (pl, pr, pt, pb))
        x = self.bn(self.conv(x))
        return torch.clamp(x, 0.0, 6.0) if self.relu6 else x


def block_plan(width_mult):
    """(output channels, stride) of the first conv and of each depthwise-separable block."""
    def ch(c):
        return max(8, int(round(c * width_mult / 8.0)) * 8)
    first = (ch(16), 2)
    blocks = [(ch(32), 1), (ch(64), 2), (ch(64), 1), (ch(128), 2), (ch(128), 1)]
    return first, blocks


class SmallMobileNet(nn.Module):
    def __init__(self, num_classes, in_channels=3, width_mult=1.0):
        super().__init__()
        (c0, s0), blocks = block_plan(width_mult)
        self.first = ConvBN(in_channels, c0, 3, s0)
        layers = []
        cin = c0
        for cout, stride in blocks:
            layers.append(ConvBN(cin, cin, 3, stride, depthwise=True))
            layers.append(ConvBN(cin, cout, 1, 1))
            cin = cout
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, num_classes)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.width_mult = width_mult

    def features(self, x):
        return self.blocks(self.first(x))

    def forward(self, x):
        """x: float NCHW in [0, 1] (pixel / 255). Returns logits."""
        return self.fc(self.features(x).mean(dim=(2, 3)))

    def conv_layers(self):
        return [self.first] + list(self.blocks)
