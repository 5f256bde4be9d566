import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from dataset import RoadDataset
from unet import ResNetUNet
from utils import dice_score, freeze_encoder, seed_everything


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data/roads")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--freeze-encoder", action="store_true", default=True)
    args = ap.parse_args()
    seed_everything()

    model = ResNetUNet(n_classes=1, pretrained=True).cuda()
    if args.freeze_encoder:
        freeze_encoder(model)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=args.lr)
    criterion = nn.BCEWithLogitsLoss()
    train_dl = DataLoader(RoadDataset(args.root, "train"), batch_size=8, shuffle=True)
    val_dl = DataLoader(RoadDataset(args.root, "val"), batch_size=8)

    for epoch in range(args.epochs):
        model.train()
        for img, mask in train_dl:
            img, mask = img.cuda(), mask.cuda()
            loss = criterion(model(img), mask)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            scores = [dice_score(model(i.cuda()), m.cuda()) for i, m in val_dl]
        print(f"epoch {epoch}: dice {sum(scores) / len(scores):.4f}")


if __name__ == "__main__":
    main()
