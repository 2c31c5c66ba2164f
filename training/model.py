"""Conditional U-Net generator and mask/keypoint-conditioned discriminator.

Only ops that OpenCV 4.6's ONNX importer handles are used in G: Conv, ConvTranspose,
BatchNormalization, LeakyRelu/Relu, Concat, Gemm, Reshape, Mul, Add, Tanh.
Code runs on torch 1.13 and 2.x.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def _down(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))


def _conv(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))


class ZMod(nn.Module):
    """Per-channel modulation by z: x * (1 + s(z)) + b(z)."""

    def __init__(self, zdim, ch):
        super().__init__()
        self.fc = nn.Linear(zdim, 2 * ch)
        nn.init.normal_(self.fc.weight, std=0.5 / math.sqrt(zdim))
        nn.init.zeros_(self.fc.bias)
        self.ch = ch

    def forward(self, x, z):
        sb = self.fc(z)
        s = sb[:, : self.ch].reshape(-1, self.ch, 1, 1)
        b = sb[:, self.ch :].reshape(-1, self.ch, 1, 1)
        return x * (s + 1.0) + b


class Generator(nn.Module):
    """U-Net. condition [N, 4+K, R, R], z [N, Z] -> image [N, 3, R, R] in [-1, 1] (raw, not composited).

    channels: list per level, level 0 at full resolution; len(channels)-1 downsamplings.
    """

    def __init__(self, num_kp=6, zdim=64, channels=(32, 64, 128, 192, 256), zmap_ch=64, mod_levels=3):
        super().__init__()
        self.zdim = zdim
        self.num_kp = num_kp
        cin = 4 + num_kp
        ch = list(channels)
        self.stem = _conv(cin, ch[0])
        self.downs = nn.ModuleList([_down(ch[i], ch[i + 1]) for i in range(len(ch) - 1)])
        self.zmap_ch = zmap_ch
        self.z_fc = nn.Linear(zdim, zmap_ch * 16)  # 4x4 map when the bottleneck is 4x4 (R = 4 * 2**depth)
        self.mid = _conv(ch[-1] + zmap_ch, ch[-1])
        self.ups = nn.ModuleList()
        self.fuse = nn.ModuleList()
        self.mods = nn.ModuleList()
        for i in range(len(ch) - 1, 0, -1):
            self.ups.append(nn.Sequential(nn.ConvTranspose2d(ch[i], ch[i - 1], 4, 2, 1, bias=False),
                                          nn.BatchNorm2d(ch[i - 1]), nn.ReLU()))
            self.fuse.append(_conv(2 * ch[i - 1], ch[i - 1]))
            level_from_bottom = len(ch) - 1 - i
            self.mods.append(ZMod(zdim, ch[i - 1]) if level_from_bottom < mod_levels else None)
        self.out = nn.Conv2d(ch[0], 3, 3, 1, 1)

    def forward(self, cond, z):
        x = self.stem(cond)
        skips = [x]
        for d in self.downs:
            x = d(x)
            skips.append(x)
        zm = self.z_fc(z).reshape(-1, self.zmap_ch, 4, 4)
        x = self.mid(torch.cat([x, zm], 1))
        for j, (up, fuse) in enumerate(zip(self.ups, self.fuse)):
            x = up(x)
            x = fuse(torch.cat([x, skips[-2 - j]], 1))
            if self.mods[j] is not None:
                x = self.mods[j](x, z)
        return torch.tanh(self.out(x))


def _sn(m):
    return nn.utils.spectral_norm(m)


class MinibatchStd(nn.Module):
    def __init__(self, group=4):
        super().__init__()
        self.group = group

    def forward(self, x):
        n, c, h, w = x.shape
        g = min(self.group, n)
        if n % g != 0:
            g = 1
        y = x.reshape(g, -1, c, h, w)
        y = (y.var(0, unbiased=False) + 1e-8).sqrt().mean(dim=[1, 2, 3])  # [n/g]
        y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], 1)


class Discriminator(nn.Module):
    """Input: image (3) + mask (1) + K keypoint maps -> one logit. Spectral norm, no BN."""

    def __init__(self, num_kp=6, channels=(32, 64, 128, 256, 256)):
        super().__init__()
        ch = list(channels)
        layers = [_sn(nn.Conv2d(4 + num_kp, ch[0], 3, 1, 1)), nn.LeakyReLU(0.2)]
        for i in range(len(ch) - 1):
            layers += [_sn(nn.Conv2d(ch[i], ch[i], 3, 1, 1)), nn.LeakyReLU(0.2),
                       _sn(nn.Conv2d(ch[i], ch[i + 1], 4, 2, 1)), nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*layers)
        self.mbstd = MinibatchStd()
        self.head = nn.Sequential(_sn(nn.Conv2d(ch[-1] + 1, ch[-1], 3, 1, 1)), nn.LeakyReLU(0.2), nn.Flatten(),
                                  _sn(nn.Linear(ch[-1] * 16, ch[-1])), nn.LeakyReLU(0.2), _sn(nn.Linear(ch[-1], 1)))

    def forward(self, img, mask, kp):
        x = self.body(torch.cat([img, mask, kp], 1))
        return self.head(self.mbstd(x)).squeeze(1)


def count_params(m):
    return sum(p.numel() for p in m.parameters())


class EqConv2d(nn.Module):
    """Conv2d with equalised learning rate (weights N(0,1), scaled by 1/sqrt(fan_in) at run time)."""

    def __init__(self, cin, cout, k, stride=1, padding=0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale = 1.0 / math.sqrt(cin * k * k)
        self.stride, self.padding = stride, padding

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, self.stride, self.padding)


class EqLinear(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale = 1.0 / math.sqrt(cin)

    def forward(self, x):
        return F.linear(x, self.weight * self.scale, self.bias)


class EqDiscriminator(nn.Module):
    """Same layout as Discriminator, equalised learning rate instead of spectral norm (use with R1)."""

    def __init__(self, num_kp=6, channels=(32, 64, 128, 256, 256)):
        super().__init__()
        ch = list(channels)
        act = lambda: nn.LeakyReLU(0.2)  # noqa: E731
        layers = [EqConv2d(4 + num_kp, ch[0], 3, 1, 1), act()]
        for i in range(len(ch) - 1):
            layers += [EqConv2d(ch[i], ch[i], 3, 1, 1), act(), EqConv2d(ch[i], ch[i + 1], 4, 2, 1), act()]
        self.body = nn.Sequential(*layers)
        self.mbstd = MinibatchStd()
        self.head = nn.Sequential(EqConv2d(ch[-1] + 1, ch[-1], 3, 1, 1), act(), nn.Flatten(),
                                  EqLinear(ch[-1] * 16, ch[-1]), act(), EqLinear(ch[-1], 1))

    def forward(self, img, mask, kp):
        x = self.body(torch.cat([img, mask, kp], 1))
        return self.head(self.mbstd(x)).squeeze(1)


class Refiner(nn.Module):
    """Second stage at 2x the generator's resolution: (coarse [N, 3, R, R], the 64 px stand-in
    upsampled; context [N, 4, R, R], sealed surroundings RGB + mask) -> refined face [N, 3, R, R].

    The output is the coarse face plus a residual (its last conv starts at zero, so an untrained
    refiner is the bilinear upsampling). One level down, residual blocks, one level up; no
    normalisation. Only Conv, Resize (nearest), LeakyRelu, Add and Concat: fast in OpenCV 4.6 dnn.
    """

    def __init__(self, channels=(24, 48), blocks=3, up="resize"):
        super().__init__()
        c0, c1 = channels
        act = lambda: nn.LeakyReLU(0.2)  # noqa: E731
        self.head = nn.Sequential(nn.Conv2d(7, c0, 3, 1, 1), act())
        self.down = nn.Sequential(nn.Conv2d(c0, c1, 4, 2, 1), act())
        self.blocks = nn.ModuleList([nn.Sequential(nn.Conv2d(c1, c1, 3, 1, 1), act(), nn.Conv2d(c1, c1, 3, 1, 1))
                                     for _ in range(blocks)])
        # Nearest-neighbour upsampling and a 3x3 conv: a transposed convolution (up="transposed",
        # the first run) left a 2 px checkerboard in the refined faces.
        self.up = (nn.Sequential(nn.ConvTranspose2d(c1, c0, 4, 2, 1), act()) if up == "transposed" else
                   nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c1, c0, 3, 1, 1), act()))
        self.fuse = nn.Sequential(nn.Conv2d(2 * c0, c0, 3, 1, 1), act())
        self.out = nn.Conv2d(c0, 3, 3, 1, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, coarse, context):
        h = self.head(torch.cat([coarse, context], 1))
        x = self.down(h)
        for b in self.blocks:
            x = x + b(x)
        x = self.fuse(torch.cat([self.up(x), h], 1))
        return coarse + self.out(x)
