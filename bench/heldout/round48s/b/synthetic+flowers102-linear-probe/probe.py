"""Linear evaluation of ImageNet features on Oxford Flowers-102."""
import argparse

import torch
import torch.nn as nn
import torchvision
from torch.utils.data import DataLoader
from torchvision import transforms


def build_probe(num_classes, arch="resnet50"):
    model = getattr(torchvision.models, arch)(weights="IMAGENET1K_V2")
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


def get_loaders(root, batch_size):
    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    train_tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.ToTensor(), norm])
    test_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), norm])
    train = torchvision.datasets.Flowers102(root, split="train", transform=train_tf, download=True)
    test = torchvision.datasets.Flowers102(root, split="test", transform=test_tf, download=True)
    return DataLoader(train, batch_size, shuffle=True, num_workers=8), DataLoader(test, 256, num_workers=8)


def evaluate(model, loader, device):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x.to(device))
            correct += (logits.argmax(1).cpu() == y).sum().item()
            total += y.numel()
    return correct / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data")
    ap.add_argument("--arch", default="resnet50")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=0.1)
    args = ap.parse_args()

    device = torch.device("cuda")
    train_loader, test_loader = get_loaders(args.root, 64)
    model = build_probe(102, args.arch).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=args.lr, momentum=0.9, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.epochs)

    for epoch in range(args.epochs):
        model.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        print(f"epoch {epoch}: loss {loss.item():.4f} test acc {evaluate(model, test_loader, device):.4f}")
    torch.save(model.fc.state_dict(), f"probe_{args.arch}_flowers.pth")


if __name__ == "__main__":
    main()
