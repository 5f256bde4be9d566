# Baseline with a classic VGG-16 (no batchnorm) as a fixed feature extractor
import argparse

import torch
import torch.nn as nn

from models import get_model, trainable_params
from utils import make_loaders, run_epoch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="vgg16", choices=["vgg16", "alexnet"])
    ap.add_argument("--data", default="data/hymenoptera_data")
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    loaders = make_loaders(args.data, bs=16)
    model = get_model(args.arch, num_classes=2, feature_extract=True).to(device)
    optimizer = torch.optim.Adam(trainable_params(model), lr=1e-4)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        tl, ta = run_epoch(model, loaders["train"], criterion, optimizer, device)
        vl, va = run_epoch(model, loaders["val"], criterion, optimizer, device, train=False)
        print(epoch, round(tl, 4), round(ta, 4), round(vl, 4), round(va, 4))
    torch.save(model.state_dict(), f"{args.arch}_fe.pt")


if __name__ == "__main__":
    main()
