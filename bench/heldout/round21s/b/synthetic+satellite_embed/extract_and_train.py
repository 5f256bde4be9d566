"""Ship detection in Sentinel-2 chips (ship / no-ship), MLP on frozen CNN
embeddings. The encoder is only run under no_grad, so nothing updates it."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import models
from torchvision.ops import FrozenBatchNorm2d

from chips import ChipDataset

p = argparse.ArgumentParser()
p.add_argument("--encoder", default="effnet", choices=["effnet", "alexnet", "resnet50"])
p.add_argument("--epochs", type=int, default=40)
args = p.parse_args()
device = "cuda" if torch.cuda.is_available() else "cpu"


def build_encoder(name):
    if name == "effnet":
        m = models.efficientnet_b0(weights=models.EfficientNet_B0_Weights.DEFAULT)
        return nn.Sequential(m.features, nn.AdaptiveAvgPool2d(1), nn.Flatten()), 1280
    if name == "resnet50":
        # detection-style trunk: BN replaced by FrozenBatchNorm2d (fixed statistics)
        m = models.resnet50(weights=models.ResNet50_Weights.DEFAULT, norm_layer=FrozenBatchNorm2d)
        m.fc = nn.Identity()
        return m, 2048
    m = models.alexnet(weights=models.AlexNet_Weights.DEFAULT)
    return nn.Sequential(m.features, m.avgpool, nn.Flatten(), *list(m.classifier.children())[:-1]), 4096


encoder, dim = build_encoder(args.encoder)
encoder = encoder.to(device)
head = nn.Sequential(nn.Linear(dim, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 1)).to(device)

train_dl = DataLoader(ChipDataset("chips/train"), batch_size=64, shuffle=True, num_workers=4)
val_dl = DataLoader(ChipDataset("chips/val"), batch_size=128)
criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(head.parameters(), lr=1e-3)

for epoch in range(args.epochs):
    head.train()
    for x, y in train_dl:
        x, y = x.to(device), y.float().to(device)
        with torch.no_grad():
            z = encoder(x)
        logits = head(z).squeeze(1)
        loss = criterion(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    head.eval()
    tp = fp = fn = 0
    with torch.no_grad():
        for x, y in val_dl:
            pred = (torch.sigmoid(head(encoder(x.to(device))).squeeze(1)) > 0.5).cpu()
            tp += (pred & (y == 1)).sum().item()
            fp += (pred & (y == 0)).sum().item()
            fn += (~pred & (y == 1)).sum().item()
    f1 = 2 * tp / max(1, 2 * tp + fp + fn)
    print(f"epoch {epoch:02d} loss {loss.item():.4f} val F1 {f1:.4f}")

torch.save(head.state_dict(), f"ship_head_{args.encoder}.pth")
