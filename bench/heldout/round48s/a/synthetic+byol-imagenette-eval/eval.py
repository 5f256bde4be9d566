import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from model import EvalNet, build_encoder


def get_loaders(img_dir, img_size, batch_size):
    tf = transforms.Compose([transforms.RandomResizedCrop(img_size), transforms.ToTensor()])
    train = datasets.ImageFolder(f"{img_dir}/train", tf)
    val = datasets.ImageFolder(f"{img_dir}/val", transforms.Compose([
        transforms.Resize(img_size), transforms.CenterCrop(img_size), transforms.ToTensor()]))
    return (DataLoader(train, batch_size, shuffle=True, num_workers=4),
            DataLoader(val, batch_size, num_workers=4))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--img-dir", default="data/imagenette2-160")
    ap.add_argument("--img-size", type=int, default=128)
    ap.add_argument("--checkpoint-path", required=True)
    ap.add_argument("--evaluation-scheme", choices=["linear", "finetune"], default="linear")
    ap.add_argument("--epochs", type=int, default=100)
    args = ap.parse_args()

    train_dl, val_dl = get_loaders(args.img_dir, args.img_size, 256)
    net = EvalNet(build_encoder(args.checkpoint_path)).cuda()
    if args.evaluation_scheme == "linear":
        optimizer = torch.optim.Adam(net.linear.parameters(), lr=3e-4)
    else:
        optimizer = torch.optim.Adam(net.parameters(), lr=3e-4)
    criterion = nn.CrossEntropyLoss()

    for epoch in range(args.epochs):
        net.train()
        for x, y in train_dl:
            x, y = x.cuda(), y.cuda()
            loss = criterion(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        net.eval()
        correct = 0
        with torch.no_grad():
            for x, y in val_dl:
                correct += (net(x.cuda()).argmax(1).cpu() == y).sum().item()
        print(f"{args.evaluation_scheme} epoch {epoch} acc {correct / len(val_dl.dataset):.4f}")


if __name__ == "__main__":
    main()
