# expect: GL406 22
# A frozen torchvision ResNet used as a feature extractor; the whole model goes back
# to train mode every epoch, so the backbone's BatchNorm statistics drift.
import torch
import torch.nn as nn
from torchvision import models


class Finetuner(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.backbone = models.resnet50(weights="IMAGENET1K_V2")
        self.backbone.fc = nn.Identity()
        self.head = nn.Linear(2048, classes)

    def forward(self, x):
        return self.head(self.backbone(x))


model = Finetuner(5)
for p in model.backbone.parameters():
    p.requires_grad = False
optimizer = torch.optim.Adam(model.head.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()


def run(loader, epochs):
    for epoch in range(epochs):
        model.train()
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
