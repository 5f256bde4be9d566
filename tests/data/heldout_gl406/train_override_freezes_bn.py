# expect: none
# The model overrides train() to keep its frozen backbone in eval mode: correct.
import torch
import torch.nn as nn
import torchvision


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = torchvision.models.resnet34(weights="DEFAULT")
        self.backbone.requires_grad_(False)
        self.head = nn.Conv2d(512, 4, 1)

    def train(self, mode=True):
        super().train(mode)
        self.backbone.eval()
        return self

    def forward(self, x):
        return self.head(self.backbone(x))


model = Detector()
optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
for epoch in range(5):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        optimizer.step()
