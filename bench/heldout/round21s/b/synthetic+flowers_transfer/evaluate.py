"""Evaluate a saved linear-probe head on the Flowers-102 test split."""
import argparse

import torch
import torch.nn as nn
from torchvision import models

from common import accuracy, flowers_loaders

parser = argparse.ArgumentParser()
parser.add_argument("--head", default="probe_head.pth")
parser.add_argument("--device", default="cuda")
args = parser.parse_args()

_, _, test_dl = flowers_loaders(bs=64)

model = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
for p in model.parameters():
    p.requires_grad = False
model.fc = nn.Linear(model.fc.in_features, 102)
model.fc.load_state_dict(torch.load(args.head, map_location="cpu"))
model = model.to(args.device)
model.eval()

acc = accuracy(model, test_dl, args.device)
print(f"test accuracy: {acc:.4f}")

# per-class accuracy for the report
per_class = torch.zeros(102)
counts = torch.zeros(102)
with torch.no_grad():
    for x, y in test_dl:
        pred = model(x.to(args.device)).argmax(1).cpu()
        for t, p in zip(y, pred):
            counts[t] += 1
            per_class[t] += float(t == p)
worst = (per_class / counts.clamp(min=1)).argsort()[:10]
print("10 hardest classes:", worst.tolist())
