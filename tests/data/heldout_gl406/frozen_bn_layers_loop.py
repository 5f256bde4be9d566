# expect: none
# After model.train() every BatchNorm layer is switched to eval mode in a loop: correct.
import torch
import torch.nn as nn
from torchvision.models import resnet101

model = resnet101(weights="DEFAULT")
for name, p in model.named_parameters():
    if not name.startswith("layer4") and not name.startswith("fc"):
        p.requires_grad = False
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)


def train_epoch(loader):
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
