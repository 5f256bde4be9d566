import argparse

import torch

from coco_tags import coco_multilabel_loaders
from losses import build_loss
from probes import ViTLinearProbe


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coco", default="/data/coco2017")
    ap.add_argument("--loss", default="bce", choices=["bce", "asl"])
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args()

    train_dl, val_dl = coco_multilabel_loaders(args.coco, img_size=384, batch_size=64)
    model = ViTLinearProbe().cuda()
    criterion = build_loss(args.loss)
    opt = torch.optim.AdamW(model.head.parameters(), lr=1e-3, weight_decay=1e-4)

    for epoch in range(args.epochs):
        model.train()
        for imgs, targets in train_dl:
            imgs, targets = imgs.cuda(), targets.float().cuda()
            logits = model(imgs)
            loss = criterion(logits, targets)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        tp = fp = fn = 0
        with torch.no_grad():
            for imgs, targets in val_dl:
                pred = torch.sigmoid(model(imgs.cuda())).cpu() > 0.5
                tp += (pred & targets.bool()).sum().item()
                fp += (pred & ~targets.bool()).sum().item()
                fn += (~pred & targets.bool()).sum().item()
        print(f"epoch {epoch}: loss {loss.item():.4f} F1 {2 * tp / max(2 * tp + fp + fn, 1):.4f}")


if __name__ == "__main__":
    main()
