# 4x GPU training with DataParallel; encoder frozen (weights from ImageNet)
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from net import RetinaGrader, kappa

ap = argparse.ArgumentParser()
ap.add_argument("--data", default="/data/aptos2019")
ap.add_argument("--epochs", type=int, default=40)
ap.add_argument("--bs", type=int, default=128)
args = ap.parse_args()

tf = transforms.Compose([transforms.Resize((320, 320)), transforms.RandomRotation(20),
                         transforms.ToTensor()])
train_dl = DataLoader(datasets.ImageFolder(f"{args.data}/train", tf), args.bs, shuffle=True, num_workers=12)
val_dl = DataLoader(datasets.ImageFolder(f"{args.data}/val", tf), args.bs, num_workers=12)

model = RetinaGrader()
model = nn.DataParallel(model).cuda()
for p in model.module.encoder.parameters():
    p.requires_grad = False

optimizer = torch.optim.Adam(model.module.fc.parameters(), lr=3e-4)
criterion = nn.CrossEntropyLoss()

for epoch in range(args.epochs):
    model.train()
    for imgs, y in train_dl:
        imgs, y = imgs.cuda(), y.cuda()
        loss = criterion(model(imgs), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    preds, gts = [], []
    with torch.no_grad():
        for imgs, y in val_dl:
            preds += model(imgs.cuda()).argmax(1).cpu().tolist()
            gts += y.tolist()
    print(f"epoch {epoch} loss {loss.item():.4f} qwk {kappa(preds, gts):.4f}")
torch.save(model.module.state_dict(), "retina_dp.pth")
