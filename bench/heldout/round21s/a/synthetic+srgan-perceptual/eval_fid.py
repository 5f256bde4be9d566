# Frechet distance between real and generated images with InceptionV3 pool features
import numpy as np
import torch
import torch.nn as nn
import torchvision
from scipy import linalg


class InceptionPool(nn.Module):
    def __init__(self):
        super().__init__()
        net = torchvision.models.inception_v3(pretrained=True, aux_logits=True)
        net.fc = nn.Identity()
        self.net = net
        for p in self.net.parameters():
            p.requires_grad = False
        self.net.eval()

    @torch.no_grad()
    def forward(self, x):
        x = nn.functional.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        return self.net(x)


def stats(model, images, bs=50):
    feats = []
    for i in range(0, len(images), bs):
        feats.append(model(images[i:i + bs]).cpu().numpy())
    f = np.concatenate(feats)
    return f.mean(0), np.cov(f, rowvar=False)


def fid(mu1, s1, mu2, s2):
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean.real))


if __name__ == "__main__":
    m = InceptionPool().eval()
    real = torch.rand(200, 3, 128, 128)
    fake = torch.rand(200, 3, 128, 128)
    print("FID", fid(*stats(m, real), *stats(m, fake)))
