# hymenoptera (ants vs bees) feature extraction, pick the architecture with --arch
import argparse

import torch
import torch.nn as nn

from models import MODEL_ZOO, get_model, trainable_params
from utils import make_loaders, run_epoch

parser = argparse.ArgumentParser()
parser.add_argument("--arch", default="resnet18", choices=list(MODEL_ZOO))
parser.add_argument("--data", default="data/hymenoptera_data")
parser.add_argument("--epochs", type=int, default=25)
parser.add_argument("--lr", type=float, default=0.001)
args = parser.parse_args()

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
loaders = make_loaders(args.data)
model = get_model(args.arch, num_classes=2).to(device)
optimizer = torch.optim.SGD(trainable_params(model), lr=args.lr, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)
criterion = nn.CrossEntropyLoss()

best_acc = 0.0
for epoch in range(args.epochs):
    tr_loss, tr_acc = run_epoch(model, loaders["train"], criterion, optimizer, device, train=True)
    va_loss, va_acc = run_epoch(model, loaders["val"], criterion, optimizer, device, train=False)
    scheduler.step()
    print(f"{epoch:3d} train {tr_loss:.4f}/{tr_acc:.4f}  val {va_loss:.4f}/{va_acc:.4f}")
    if va_acc > best_acc:
        best_acc = va_acc
        torch.save(model.state_dict(), f"{args.arch}_best.pt")
print("Best val Acc: {:4f}".format(best_acc))
