"""APTOS 2019 blindness detection: ResNet-50, only layer4 + fc fine-tuned, 5-fold CV."""
import argparse

import pandas as pd
import torch
from torch.utils.data import DataLoader

from dataset import RetinaDataset, get_transforms
from src.engine import train_fn, valid_fn
from src.models import get_model

parser = argparse.ArgumentParser()
parser.add_argument("--fold", type=int, default=0)
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--lr", type=float, default=3e-4)
parser.add_argument("--bs", type=int, default=24)
args = parser.parse_args()

device = torch.device("cuda")
df = pd.read_csv("input/train_folds.csv")
trn, val = df[df.kfold != args.fold], df[df.kfold == args.fold]
train_loader = DataLoader(RetinaDataset(trn, get_transforms("train")), batch_size=args.bs, shuffle=True,
                          num_workers=4, drop_last=True)
valid_loader = DataLoader(RetinaDataset(val, get_transforms("valid")), batch_size=args.bs * 2, num_workers=4)

model = get_model("resnet50", num_classes=1, trainable_layers=("layer4", "fc")).to(device)
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=args.lr)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=len(train_loader))
best = -1.0
for epoch in range(args.epochs):
    loss = train_fn(model, train_loader, optimizer, scheduler, device)
    qwk = valid_fn(model, valid_loader, device)
    print(f"fold {args.fold} epoch {epoch}: loss={loss:.4f} qwk={qwk:.4f}")
    if qwk > best:
        best = qwk
        torch.save(model.state_dict(), f"resnet50_fold{args.fold}.bin")
