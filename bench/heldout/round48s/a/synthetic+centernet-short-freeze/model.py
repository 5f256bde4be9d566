import torch
import torch.nn as nn
import torchvision


class CenterNetR18(nn.Module):
    def __init__(self, num_classes=80, head_ch=64):
        super().__init__()
        r18 = torchvision.models.resnet18(weights="IMAGENET1K_V1")
        self.backbone = nn.Sequential(*list(r18.children())[:-2])
        self.up = nn.Sequential(
            nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.ReLU(True),
            nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
        )
        self.hm = nn.Sequential(nn.Conv2d(64, head_ch, 3, padding=1), nn.ReLU(True),
                                nn.Conv2d(head_ch, num_classes, 1))
        self.wh = nn.Sequential(nn.Conv2d(64, head_ch, 3, padding=1), nn.ReLU(True),
                                nn.Conv2d(head_ch, 2, 1))
        self.reg = nn.Sequential(nn.Conv2d(64, head_ch, 3, padding=1), nn.ReLU(True),
                                 nn.Conv2d(head_ch, 2, 1))

    def set_backbone_trainable(self, flag):
        for p in self.backbone.parameters():
            p.requires_grad = flag

    def forward(self, x):
        f = self.up(self.backbone(x))
        return {"hm": self.hm(f).sigmoid(), "wh": self.wh(f), "reg": self.reg(f)}
