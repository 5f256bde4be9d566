import argparse

import torch

from data import herbarium_loader
from engine import train
from models.registry import get_model


def main():
    ap = argparse.ArgumentParser(description="Herbarium fine-tune (last stages only)")
    ap.add_argument("--root", default="/kaggle/input/herbarium-2022")
    ap.add_argument("--num-classes", type=int, default=15501)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-4)
    args = ap.parse_args()

    loader = herbarium_loader(args.root, batch_size=48, size=320)
    model = get_model("effnet_b3", args.num_classes)
    model = train(model, loader, args.epochs, args.lr)
    torch.save(model.state_dict(), "effnet_b3_herbarium.pt")


if __name__ == "__main__":
    main()
