import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

from utils import accuracy, freeze_until, save_checkpoint


def build(num_classes):
    net = models.resnet101(weights=models.ResNet101_Weights.IMAGENET1K_V2)
    net.fc = nn.Linear(net.fc.in_features, num_classes)
    freeze_until(net, "layer4")
    return net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--lr", type=float, default=0.01)
    args = ap.parse_args()
    tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor()])
    train_dl = DataLoader(datasets.Food101(args.root, "train", tf, download=True), batch_size=64,
                          shuffle=True, num_workers=8)

    net = build(101).cuda()
    optimizer = torch.optim.SGD((p for p in net.parameters() if p.requires_grad),
                                lr=args.lr, momentum=0.9, weight_decay=1e-4)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    for epoch in range(args.epochs):
        net.train()
        top1 = 0.0
        for i, (x, y) in enumerate(train_dl):
            x, y = x.cuda(non_blocking=True), y.cuda(non_blocking=True)
            out = net(x)
            loss = criterion(out, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            top1 += accuracy(out, y)[0]
        print(f"epoch {epoch} top1 {top1 / (i + 1):.3f}")
        save_checkpoint({"epoch": epoch, "state_dict": net.state_dict()}, "food101_r101.pth")


if __name__ == "__main__":
    main()
