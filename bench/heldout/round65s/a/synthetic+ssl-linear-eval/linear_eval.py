import argparse

import torch
import torch.nn as nn

from backbones import LinearClassifier, load_moco_resnet50
from data import imagenet_loaders


def train_epoch(model, loader, criterion, optimizer, device, keep_trunk_eval=False):
    model.train()
    if keep_trunk_eval:
        model.backbone.eval()
    for step, (images, target) in enumerate(loader):
        images, target = images.cuda(device, non_blocking=True), target.cuda(device, non_blocking=True)
        loss = criterion(model(images), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.3f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pretrained", required=True)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=30.0)
    ap.add_argument("--gpu", type=int, default=0)
    args = ap.parse_args()
    train_loader, val_loader = imagenet_loaders("/datasets/imagenet", batch_size=256)

    model = LinearClassifier(load_moco_resnet50(args.pretrained)).cuda(args.gpu)
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=args.lr, momentum=0.9, weight_decay=0.0)
    criterion = nn.CrossEntropyLoss().cuda(args.gpu)
    for epoch in range(args.epochs):
        train_epoch(model, train_loader, criterion, optimizer, args.gpu)
        torch.save({"epoch": epoch, "fc": model.fc.state_dict()}, "linear_fc.pth.tar")


if __name__ == "__main__":
    main()
