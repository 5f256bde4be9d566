import argparse

import torch.nn as nn
import torchvision
from torch.utils.data import DataLoader

from chexpert import CheXpertDataset
from trainer import Trainer

LABELS = ["Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Pleural Effusion"]


def build_model(num_labels):
    model = torchvision.models.densenet121(weights="IMAGENET1K_V1")
    model.classifier = nn.Linear(model.classifier.in_features, num_labels)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="CheXpert-v1.0-small/train.csv")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--bs", type=int, default=32)
    args = ap.parse_args()
    train_dl = DataLoader(CheXpertDataset(args.csv, LABELS, train=True), batch_size=args.bs,
                          shuffle=True, num_workers=8)
    val_dl = DataLoader(CheXpertDataset(args.csv.replace("train", "valid"), LABELS, train=False),
                        batch_size=args.bs, num_workers=8)
    model = build_model(len(LABELS))
    trainer = Trainer(model, train_dl, val_dl, lr=1e-4)
    trainer.fit(args.epochs)


if __name__ == "__main__":
    main()
