"""Linear evaluation protocol: encoder weights fixed, a single Linear layer on top."""
import argparse

import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as T

from nets import resnet_encoder


def get_loaders(bs):
    norm = T.Normalize([0.43, 0.42, 0.39], [0.27, 0.26, 0.27])
    tr = torchvision.datasets.STL10("data", split="train", download=True,
                                    transform=T.Compose([T.RandomCrop(96, 8), T.RandomHorizontalFlip(), T.ToTensor(), norm]))
    te = torchvision.datasets.STL10("data", split="test", download=True, transform=T.Compose([T.ToTensor(), norm]))
    return (torch.utils.data.DataLoader(tr, bs, shuffle=True, num_workers=8),
            torch.utils.data.DataLoader(te, 512, num_workers=8))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="byol_resnet18_encoder.pth")
    ap.add_argument("--epochs", type=int, default=100)
    args = ap.parse_args()

    encoder, dim = resnet_encoder("resnet18")
    encoder.load_state_dict(torch.load(args.ckpt, map_location="cpu"))
    classifier = nn.Linear(dim, 10)
    model = nn.Sequential(encoder, classifier).cuda()
    optimizer = torch.optim.Adam(classifier.parameters(), lr=3e-4, weight_decay=1e-6)
    criterion = nn.CrossEntropyLoss()
    train_loader, test_loader = get_loaders(256)

    for epoch in range(args.epochs):
        model.train()
        for x, y in train_loader:
            x, y = x.cuda(), y.cuda()
            feats = encoder(x).detach()
            loss = criterion(classifier(feats), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in test_loader:
                correct += (model(x.cuda()).argmax(1).cpu() == y).sum().item()
                total += y.numel()
        print(f"epoch {epoch}: linear acc {correct / total:.4f}")


if __name__ == "__main__":
    main()
