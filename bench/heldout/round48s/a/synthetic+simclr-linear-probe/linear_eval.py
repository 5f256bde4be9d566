import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from backbones import FEATURE_DIMS, load_simclr_resnet


class LinearProbe(nn.Module):
    def __init__(self, backbone, feat_dim, num_classes):
        super().__init__()
        self.backbone = backbone
        self.backbone.requires_grad_(False)
        self.fc = nn.Linear(feat_dim, num_classes)

    def forward(self, x):
        return self.fc(self.backbone(x))


def run(args):
    device = "cuda"
    tf = transforms.Compose([transforms.RandomCrop(32, padding=4),
                             transforms.RandomHorizontalFlip(),
                             transforms.ToTensor()])
    train_ds = datasets.CIFAR10(args.data, train=True, transform=tf, download=True)
    test_ds = datasets.CIFAR10(args.data, train=False, transform=transforms.ToTensor())
    train_dl = DataLoader(train_ds, batch_size=256, shuffle=True, num_workers=8)
    test_dl = DataLoader(test_ds, batch_size=512)

    encoder = load_simclr_resnet(args.ckpt, args.arch)
    probe = LinearProbe(encoder, FEATURE_DIMS[args.arch], 10).to(device)
    opt = torch.optim.SGD(probe.fc.parameters(), lr=args.lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)

    for epoch in range(args.epochs):
        probe.train()
        for x, y in train_dl:
            x, y = x.to(device), y.to(device)
            loss = F.cross_entropy(probe(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        probe.eval()
        hits = 0
        with torch.no_grad():
            for x, y in test_dl:
                hits += (probe(x.to(device)).argmax(1).cpu() == y).sum().item()
        print(f"epoch {epoch}: top1 {hits / len(test_ds):.4f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--arch", default="resnet50")
    ap.add_argument("--data", default="./data")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.1)
    run(ap.parse_args())
