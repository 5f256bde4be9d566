import torch
import torch.nn as nn
import torch.nn.functional as F

from .feature_extractor import MultiScaleExtractor, build_backbone


class STFPM(nn.Module):
    """Student-teacher feature pyramid matching: the teacher is a fixed ImageNet network."""

    def __init__(self, arch="resnet18"):
        super().__init__()
        self.teacher = MultiScaleExtractor(build_backbone(arch, pretrained=True))
        self.student = MultiScaleExtractor(build_backbone(arch, pretrained=False))
        for p in self.teacher.parameters():
            p.requires_grad_(False)

    def forward(self, x):
        with torch.no_grad():
            t_feats = self.teacher(x)
        s_feats = self.student(x)
        return t_feats, s_feats

    @staticmethod
    def loss(t_feats, s_feats):
        total = 0.0
        for t, s in zip(t_feats, s_feats):
            t, s = F.normalize(t, dim=1), F.normalize(s, dim=1)
            total = total + 0.5 * ((t - s) ** 2).sum(dim=1).mean()
        return total

    @torch.no_grad()
    def anomaly_map(self, x):
        t_feats, s_feats = self(x)
        amap = 1.0
        for t, s in zip(t_feats, s_feats):
            d = 1 - F.cosine_similarity(t, s, dim=1).unsqueeze(1)
            amap = amap * F.interpolate(d, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return amap
