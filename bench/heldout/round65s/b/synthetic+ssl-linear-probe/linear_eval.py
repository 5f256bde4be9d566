"""Standard linear evaluation: only the last fc layer learns, BN statistics stay fixed."""
import argparse

import torch
import torch.nn as nn

from backbones import freeze_all_but, load_pretrained

parser = argparse.ArgumentParser()
parser.add_argument("--arch", default="resnet50")
parser.add_argument("--pretrained", required=True)
parser.add_argument("--epochs", type=int, default=100)
parser.add_argument("--lr", type=float, default=30.0)


def train(loader, model, criterion, optimizer, device):
    # the backbone is frozen; keep BN in inference mode while the linear layer learns
    model.eval()
    for images, target in loader:
        images, target = images.to(device), target.to(device)
        loss = criterion(model(images), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main(loader):
    args = parser.parse_args()
    device = torch.device("cuda")
    model = load_pretrained(args.arch, args.pretrained).to(device)
    params = freeze_all_but(model, ("fc",))
    optimizer = torch.optim.SGD(params, args.lr, momentum=0.9, weight_decay=0.0)
    criterion = nn.CrossEntropyLoss().to(device)
    for epoch in range(args.epochs):
        train(loader, model, criterion, optimizer, device)
