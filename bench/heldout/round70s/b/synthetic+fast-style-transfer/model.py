import torch
import torch.nn as nn
import torch.nn.functional as F

from networks import LossNetwork, TransformerNet, gram

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class StyleTransferModel(nn.Module):
    """Bundles the image transformation net with its (fixed) loss network so that
    checkpoints and device moves handle both together."""

    def __init__(self, style_image, content_weight=1e5, style_weight=1e10):
        super().__init__()
        self.transformer = TransformerNet()
        self.loss_net = LossNetwork()
        self.register_buffer("mean", IMAGENET_MEAN.clone())
        self.register_buffer("std", IMAGENET_STD.clone())
        with torch.no_grad():
            targets = [gram(f) for f in self.loss_net(self._norm(style_image))]
        for i, g in enumerate(targets):
            self.register_buffer(f"style_gram_{i}", g)
        self.cw, self.sw = content_weight, style_weight

    def _norm(self, x):
        return (x - self.mean) / self.std

    def forward(self, content):
        stylised = self.transformer(content)
        f_out = self.loss_net(self._norm(stylised))
        f_in = self.loss_net(self._norm(content))
        content_loss = F.mse_loss(f_out[1], f_in[1])
        style_loss = sum(F.mse_loss(gram(f), getattr(self, f"style_gram_{i}").expand(f.size(0), -1, -1))
                         for i, f in enumerate(f_out))
        return self.cw * content_loss + self.sw * style_loss, stylised
