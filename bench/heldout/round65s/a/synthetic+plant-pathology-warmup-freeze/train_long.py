"""Longer schedule used for the final submission: head-only phase, then full fine-tune."""
import argparse

import torch
import torch.nn as nn

from dataset import make_loaders
from utils import LeafNet, fit_one_epoch, seed_everything, set_backbone_trainable


def get_parser():
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", default="../input/plant-pathology-2020-fgvc7")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--freeze-epochs", type=int, default=15)
    p.add_argument("--head-lr", type=float, default=1e-3)
    p.add_argument("--lr", type=float, default=1e-4)
    return p


def main():
    args = get_parser().parse_args()
    seed_everything()
    device = "cuda"
    train_loader, _ = make_loaders(args.data_dir, 512, 16)
    net = LeafNet().to(device)
    set_backbone_trainable(net, False)
    optimizer = torch.optim.AdamW(net.head.parameters(), lr=args.head_lr)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
    for epoch in range(args.epochs):
        if epoch == args.freeze_epochs:
            set_backbone_trainable(net, True)
            optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr)
        loss = fit_one_epoch(net, train_loader, optimizer, criterion, device)
        print(f"[{epoch}/{args.epochs}] loss={loss:.4f}")
    torch.save(net.state_dict(), "leafnet_long.pt")


if __name__ == "__main__":
    main()
