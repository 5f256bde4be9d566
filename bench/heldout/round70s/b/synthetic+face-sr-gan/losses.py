import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as models


class PerceptualLoss(nn.Module):
    """Content loss on VGG19 conv5_4 features (before activation), as in SRGAN."""

    def __init__(self, layer=35):
        super().__init__()
        vgg = models.vgg19(weights=models.VGG19_Weights.IMAGENET1K_V1)
        self.features = nn.Sequential(*list(vgg.features.children())[:layer])
        for p in self.features.parameters():
            p.requires_grad = False
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, sr, hr):
        sr = (sr * 0.5 + 0.5 - self.mean) / self.std
        hr = (hr * 0.5 + 0.5 - self.mean) / self.std
        return F.mse_loss(self.features(sr), self.features(hr.detach()))


class IdentityLoss(nn.Module):
    """Cosine distance between face embeddings of SR and HR crops. The embedder is a
    ResNet-50 trained for face recognition; it is only used as a fixed feature extractor."""

    def __init__(self, ckpt="weights/resnet50_face_emb.pth", emb_dim=512):
        super().__init__()
        net = models.resnet50(weights=None)
        net.fc = nn.Linear(net.fc.in_features, emb_dim)
        net.load_state_dict(torch.load(ckpt, map_location="cpu"))
        net.requires_grad_(False)
        self.net = net

    def forward(self, sr, hr):
        e_sr = F.normalize(self.net(F.interpolate(sr, size=112)), dim=1)
        e_hr = F.normalize(self.net(F.interpolate(hr, size=112)), dim=1)
        return (1.0 - (e_sr * e_hr).sum(1)).mean()


adv_criterion = nn.BCEWithLogitsLoss()


def adversarial_loss(pred, is_real):
    target = torch.ones_like(pred) if is_real else torch.zeros_like(pred)
    return adv_criterion(pred, target)
