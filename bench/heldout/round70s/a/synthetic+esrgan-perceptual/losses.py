import torch
import torch.nn as nn
import torchvision


class VGGPerceptualLoss(nn.Module):
    """L1 distance between VGG19 relu5_4 (pre-activation) features, as in ESRGAN."""

    def __init__(self, layer_idx=34, use_input_norm=True):
        super().__init__()
        vgg = torchvision.models.vgg19(weights="IMAGENET1K_V1")
        self.features = nn.Sequential(*list(vgg.features.children())[:layer_idx + 1])
        for p in self.features.parameters():
            p.requires_grad = False
        self.use_input_norm = use_input_norm
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.l1 = nn.L1Loss()

    def forward(self, sr, hr):
        if self.use_input_norm:
            sr = (sr - self.mean) / self.std
            hr = (hr - self.mean) / self.std
        return self.l1(self.features(sr), self.features(hr.detach()))


class RelativisticGANLoss(nn.Module):
    def __init__(self):
        super().__init__()
        self.bce = nn.BCEWithLogitsLoss()

    def forward(self, real_logits, fake_logits, for_generator):
        if for_generator:
            return (self.bce(real_logits - fake_logits.mean(), torch.zeros_like(real_logits)) +
                    self.bce(fake_logits - real_logits.mean(), torch.ones_like(fake_logits))) / 2
        return (self.bce(real_logits - fake_logits.mean(), torch.ones_like(real_logits)) +
                self.bce(fake_logits - real_logits.mean(), torch.zeros_like(fake_logits))) / 2
