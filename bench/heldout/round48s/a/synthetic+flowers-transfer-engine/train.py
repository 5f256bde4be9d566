import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from engine import evaluate, train_one_epoch
from models import get_model


def parse_args():
    p = argparse.ArgumentParser("flowers102 transfer learning")
    p.add_argument("--data", default="./data")
    p.add_argument("--model", default="flowernet_r50")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=64)
    return p.parse_args()


def main():
    args = parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tf = transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    train_set = datasets.Flowers102(args.data, split="train", transform=tf, download=True)
    val_set = datasets.Flowers102(args.data, split="val", transform=tf, download=True)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=4)
    val_loader = DataLoader(val_set, batch_size=args.batch_size, num_workers=4)

    model = get_model(args.model, num_classes=102, pretrained=True, freeze_backbone=True)
    model.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.head.parameters(), lr=args.lr, weight_decay=1e-4)

    for epoch in range(args.epochs):
        train_loss = train_one_epoch(model, criterion, optimizer, train_loader, device, epoch)
        val_loss, val_acc = evaluate(model, criterion, val_loader, device)
        print(f"[{epoch}] train {train_loss:.3f} val {val_loss:.3f} acc {val_acc:.3f}")
    torch.save(model.state_dict(), "flowernet.pth")


if __name__ == "__main__":
    main()
