# Linear probing a frozen ViT-B/16 (timm) on EuroSAT
import argparse

import timm
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


def get_args():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="vit_base_patch16_224")
    p.add_argument("--root", default="data/eurosat")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=1e-3)
    return p.parse_args()


def main():
    args = get_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = timm.create_model(args.model, pretrained=True, num_classes=10)
    for n, p in model.named_parameters():
        p.requires_grad = n.startswith("head")
    model.to(device)
    cfg = model.default_cfg
    tf = transforms.Compose([transforms.Resize(224), transforms.ToTensor(),
                             transforms.Normalize(cfg["mean"], cfg["std"])])
    dl = DataLoader(datasets.ImageFolder(args.root, tf), batch_size=128, shuffle=True, num_workers=4)
    opt = torch.optim.AdamW(model.head.parameters(), lr=args.lr)
    crit = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        model.train()
        for x, y in dl:
            x, y = x.to(device), y.to(device)
            loss = crit(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch} loss {loss.item():.4f}")
    torch.save(model.head.state_dict(), "vit_probe_head.pth")


if __name__ == "__main__":
    main()
