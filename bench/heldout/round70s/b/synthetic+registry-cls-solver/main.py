import argparse

import torch
import torchvision
import torchvision.transforms as T

from losses import build_criterion
from models import get_model
from solver import Solver

CONFIGS = {
    "cifar10_simplenet": {
        "model": {"name": "simplenet", "num_classes": 10, "width": 64},
        "loss": {"name": "ce", "smoothing": 0.1},
        "epochs": 60, "lr": 0.05, "batch_size": 128,
    },
    "cifar10_mlp": {
        "model": {"name": "mlp_mixer_tiny", "num_classes": 10},
        "loss": {"name": "nll"},
        "epochs": 30, "lr": 0.01, "batch_size": 256,
    },
}


def loaders(batch_size):
    norm = T.Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261))
    train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), norm])
    test_tf = T.Compose([T.ToTensor(), norm])
    tr = torchvision.datasets.CIFAR10("./data", train=True, download=True, transform=train_tf)
    te = torchvision.datasets.CIFAR10("./data", train=False, download=True, transform=test_tf)
    return (torch.utils.data.DataLoader(tr, batch_size, shuffle=True, num_workers=4),
            torch.utils.data.DataLoader(te, 512, shuffle=False, num_workers=4))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="cifar10_simplenet", choices=sorted(CONFIGS))
    args = parser.parse_args()
    cfg = CONFIGS[args.config]

    model_cfg = dict(cfg["model"])
    model = get_model(model_cfg.pop("name"), **model_cfg)
    criterion = build_criterion(cfg["loss"])
    train_loader, val_loader = loaders(cfg["batch_size"])

    solver = Solver(model, criterion, train_loader, val_loader, cfg,
                    device="cuda" if torch.cuda.is_available() else "cpu")
    best = solver.fit()
    print(f"best top-1: {best:.4f}")


if __name__ == "__main__":
    main()
