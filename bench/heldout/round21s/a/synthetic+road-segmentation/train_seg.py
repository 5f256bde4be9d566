# DeepLabV3 for road segmentation, backbone kept frozen (only ASPP head is trained)
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision.models.segmentation import deeplabv3_resnet50
from torchvision.models.segmentation.deeplabv3 import DeepLabHead

from dataset import RoadDataset, iou

p = argparse.ArgumentParser()
p.add_argument("--root", default="./road_data")
p.add_argument("--epochs", type=int, default=30)
p.add_argument("--bs", type=int, default=8)
p.add_argument("--lr", type=float, default=1e-3)
args = p.parse_args()

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

model = deeplabv3_resnet50(pretrained=True, progress=True)
model.classifier = DeepLabHead(2048, 3)
model.aux_classifier = None
model.backbone.requires_grad_(False)
model = model.to(device)

train_loader = DataLoader(RoadDataset(args.root, "train"), batch_size=args.bs, shuffle=True, num_workers=4)
val_loader = DataLoader(RoadDataset(args.root, "val"), batch_size=args.bs, num_workers=4)

optimizer = torch.optim.Adam(model.classifier.parameters(), lr=args.lr)
criterion = nn.CrossEntropyLoss()

best_miou = 0
for epoch in range(1, args.epochs + 1):
    model.train()
    for imgs, masks in train_loader:
        imgs, masks = imgs.to(device), masks.to(device)
        out = model(imgs)["out"]
        loss = criterion(out, masks)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    model.eval()
    scores = []
    with torch.no_grad():
        for imgs, masks in val_loader:
            pred = model(imgs.to(device))["out"].argmax(1).cpu()
            scores.append(iou(pred, masks))
    miou = sum(scores) / len(scores)
    print(f"epoch {epoch} loss {loss.item():.4f} mIoU {miou:.4f}")
    if miou > best_miou:
        best_miou = miou
        torch.save(model.state_dict(), "deeplab_road_best.pth")
