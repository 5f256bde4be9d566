import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from models import build_model
from trainer import Trainer

parser = argparse.ArgumentParser(description="NEU surface defect classification")
parser.add_argument("--model", default="small", choices=["small", "mlp"])
parser.add_argument("--epochs", type=int, default=25)
parser.add_argument("--lr", type=float, default=1e-3)
args = parser.parse_args()

tf = transforms.Compose([
    transforms.Grayscale(),
    transforms.Resize((64, 64)),
    transforms.RandomHorizontalFlip(),
    transforms.ToTensor(),
    transforms.Normalize([0.5], [0.5]),
])
train_ds = datasets.ImageFolder("NEU-CLS/train", transform=tf)
val_ds = datasets.ImageFolder("NEU-CLS/val", transform=tf)
train_loader = DataLoader(train_ds, batch_size=32, shuffle=True)
val_loader = DataLoader(val_ds, batch_size=64)

device = "cuda" if torch.cuda.is_available() else "cpu"
model = build_model(args.model, num_classes=len(train_ds.classes))
if args.model == "mlp":
    criterion = nn.NLLLoss()
else:
    criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=3)

trainer = Trainer(model, criterion, optimizer, device=device, scheduler=scheduler)
history = trainer.fit(train_loader, val_loader, epochs=args.epochs)
torch.save(model.state_dict(), f"neu_{args.model}.pth")
