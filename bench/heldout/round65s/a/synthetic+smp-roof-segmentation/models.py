import segmentation_models_pytorch as smp
import torch
import torch.nn as nn


class RoofSegModel(nn.Module):
    """Binary roof mask model: smp Unet with a pretrained encoder."""

    def __init__(self, encoder="resnet34", encoder_weights="imagenet", freeze_encoder=False):
        super().__init__()
        self.net = smp.Unet(
            encoder_name=encoder,
            encoder_weights=encoder_weights,
            in_channels=3,
            classes=1,
            activation=None,
        )
        if freeze_encoder:
            self.net.encoder.requires_grad_(False)

    def forward(self, x):
        logits = self.net(x)
        return torch.sigmoid(logits)


def build_model(cfg):
    mcfg = cfg["model"]
    return RoofSegModel(
        encoder=mcfg["encoder"],
        encoder_weights=mcfg.get("encoder_weights", "imagenet"),
        freeze_encoder=mcfg.get("freeze_encoder", False),
    )
