"""Same pipeline with the attention U-Net. Uses Dice + CE like the baseline."""
import argparse

import torch
import torch.nn as nn

from acdc import get_loaders
from nets.losses import DiceLoss
from nets.unet import AttentionUNet


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()

    train_dl, val_dl = get_loaders("/data/ACDC", batch_size=16)
    model = AttentionUNet(in_ch=1, n_classes=4).cuda()
    dice = DiceLoss(n_classes=4)
    ce = nn.CrossEntropyLoss(weight=torch.tensor([0.1, 1.0, 1.0, 1.0]).cuda())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    for epoch in range(args.epochs):
        model.train()
        for img, seg in train_dl:
            img, seg = img.cuda(), seg.long().cuda()
            probs = model(img)
            loss = dice(probs, seg) + ce(probs, seg)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch} loss {loss.item():.4f}")
        torch.save(model.state_dict(), "attunet_last.pt")


if __name__ == "__main__":
    main()
