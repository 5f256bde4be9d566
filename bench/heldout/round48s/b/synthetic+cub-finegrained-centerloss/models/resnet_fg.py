import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class FineGrainedNet(nn.Module):
    """ResNet-50 trunk, BN-neck embedding, softmax classifier; returns (scores, embedding)."""

    def __init__(self, num_classes=200, embed_dim=512, pretrained=True):
        super().__init__()
        weights = torchvision.models.ResNet50_Weights.IMAGENET1K_V2 if pretrained else None
        trunk = torchvision.models.resnet50(weights=weights)
        self.features = nn.Sequential(*list(trunk.children())[:-2])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.embed = nn.Linear(2048, embed_dim)
        self.neck = nn.BatchNorm1d(embed_dim)
        self.classifier = nn.Linear(embed_dim, num_classes, bias=False)

    def forward(self, x):
        f = self.pool(self.features(x)).flatten(1)
        emb = self.neck(self.embed(f))
        scores = F.softmax(self.classifier(emb), dim=-1)
        return scores, emb


def build_model(cfg):
    return FineGrainedNet(num_classes=cfg["num_classes"], embed_dim=cfg["embed_dim"], pretrained=cfg["pretrained"])


if __name__ == "__main__":
    net = build_model({"num_classes": 200, "embed_dim": 512, "pretrained": False})
    s, e = net(torch.randn(2, 3, 224, 224))
    print(s.shape, e.shape)
