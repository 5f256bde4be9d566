import torch
import torch.nn.functional as F

from .feature_extractor import MultiScaleExtractor, build_backbone


class PaDiM:
    """Gaussian per patch position fitted on features of a pre-trained CNN (no training)."""

    def __init__(self, arch="wide_resnet50_2", device="cuda", d_reduced=550):
        self.extractor = MultiScaleExtractor(build_backbone(arch)).to(device).eval()
        self.device = device
        self.d_reduced = d_reduced
        self.idx = None
        self.mean = None
        self.cov_inv = None

    @torch.no_grad()
    def embed(self, x):
        feats = self.extractor(x.to(self.device))
        size = feats[0].shape[-2:]
        emb = torch.cat([F.interpolate(f, size=size, mode="nearest") for f in feats], dim=1)
        if self.idx is None:
            self.idx = torch.randperm(emb.size(1), device=emb.device)[: self.d_reduced]
        return emb[:, self.idx]

    def fit(self, loader):
        emb = torch.cat([self.embed(x) for x, *_ in loader])
        b, c, h, w = emb.shape
        emb = emb.view(b, c, h * w)
        self.mean = emb.mean(dim=0)
        eye = 0.01 * torch.eye(c, device=emb.device)
        covs = [torch.cov(emb[:, :, i].T) + eye for i in range(h * w)]
        self.cov_inv = torch.linalg.inv(torch.stack(covs))
