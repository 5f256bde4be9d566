import torch
import torch.nn as nn
import torch.nn.functional as F

from .darknet import conv_bn, darknet53


def head(in_ch, mid, out_ch):
    return nn.Sequential(conv_bn(in_ch, mid, 1), conv_bn(mid, mid * 2, 3),
                         conv_bn(mid * 2, mid, 1), nn.Conv2d(mid, out_ch, 1))


class YoloBody(nn.Module):
    def __init__(self, anchors_mask, num_classes):
        super().__init__()
        self.backbone = darknet53()
        out_ch = len(anchors_mask[0]) * (num_classes + 5)
        self.head0 = head(1024, 512, out_ch)
        self.reduce1 = conv_bn(1024, 256, 1)
        self.head1 = head(512 + 256, 256, out_ch)
        self.reduce2 = conv_bn(512 + 256, 128, 1)
        self.head2 = head(256 + 128, 128, out_ch)

    def forward(self, x):
        c3, c4, c5 = self.backbone(x)
        out0 = self.head0(c5)
        p4 = torch.cat([F.interpolate(self.reduce1(c5), scale_factor=2), c4], 1)
        out1 = self.head1(p4)
        p3 = torch.cat([F.interpolate(self.reduce2(p4), scale_factor=2), c3], 1)
        out2 = self.head2(p3)
        return out0, out1, out2
