import argparse

import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as T

from engine import evaluate, train_one_epoch
from models.simple_cnn import simple_cnn


def build_loaders(root, batch_size, workers):
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(mean, std)])
    test_tf = T.Compose([T.ToTensor(), T.Normalize(mean, std)])
    train_set = torchvision.datasets.CIFAR10(root, train=True, download=True, transform=train_tf)
    test_set = torchvision.datasets.CIFAR10(root, train=False, download=True, transform=test_tf)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size, shuffle=True, num_workers=workers)
    test_loader = torch.utils.data.DataLoader(test_set, 256, shuffle=False, num_workers=workers)
    return train_loader, test_loader


def parse_args():
    parser = argparse.ArgumentParser(description="CIFAR-10 baseline")
    parser.add_argument("--data", default="./data")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=4)
    return parser.parse_args()


def main():
    args = parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader, test_loader = build_loaders(args.data, args.batch_size, args.workers)

    model = simple_cnn(num_classes=10).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    best = 0.0
    for epoch in range(args.epochs):
        loss, acc = train_one_epoch(model, train_loader, criterion, optimizer, device)
        val_acc = evaluate(model, test_loader, device)
        scheduler.step()
        print(f"epoch {epoch}: loss {loss:.4f} train-acc {acc:.3f} val-acc {val_acc:.3f}")
        if val_acc > best:
            best = val_acc
            torch.save(model.state_dict(), "best_simple_cnn.pt")


if __name__ == "__main__":
    main()
