import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from models.zoo import MODEL_ZOO
from utils import AverageMeter, get_logger, set_seed


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="lenet5", choices=sorted(MODEL_ZOO))
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def main():
    args = parse()
    set_seed(args.seed)
    log = get_logger()
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.286,), (0.353,))])
    train_ds = datasets.FashionMNIST("data", train=True, download=True, transform=tf)
    test_ds = datasets.FashionMNIST("data", train=False, download=True, transform=tf)
    train_dl = DataLoader(train_ds, batch_size=128, shuffle=True)
    test_dl = DataLoader(test_ds, batch_size=512)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = MODEL_ZOO[args.arch](num_classes=10).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    for epoch in range(args.epochs):
        model.train()
        meter = AverageMeter()
        for x, y in train_dl:
            x, y = x.to(device), y.to(device)
            output = model(x)
            loss = criterion(output, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            meter.update(loss.item(), x.size(0))
        model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in test_dl:
                correct += (model(x.to(device)).argmax(1).cpu() == y).sum().item()
        log.info("%s epoch %d loss %.4f acc %.4f", args.arch, epoch, meter.avg, correct / len(test_ds))


if __name__ == "__main__":
    main()
