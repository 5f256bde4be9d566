# second experiment: resnet34, full fine-tuning by default
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

parser = argparse.ArgumentParser(description="ResNet34 pneumonia")
parser.add_argument("--data", default="data/chest_xray/train")
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--lr", type=float, default=1e-4)
parser.add_argument("--freeze", action="store_true", help="freeze the conv layers")
args = parser.parse_args()

device = "cuda" if torch.cuda.is_available() else "cpu"
tf = transforms.Compose([
    transforms.Grayscale(3),
    transforms.Resize((224, 224)),
    transforms.ToTensor(),
])
loader = DataLoader(datasets.ImageFolder(args.data, tf), batch_size=32, shuffle=True)

model = models.resnet34(pretrained=True)
if args.freeze:
    for name, p in model.named_parameters():
        if not name.startswith("fc"):
            p.requires_grad = False
model.fc = nn.Linear(512, 2)
model = model.to(device)

optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=args.lr, momentum=0.9)
criterion = nn.CrossEntropyLoss()

for epoch in range(args.epochs):
    model.train()
    epoch_loss = 0.0
    for imgs, lbls in loader:
        imgs, lbls = imgs.to(device), lbls.to(device)
        optimizer.zero_grad()
        loss = criterion(model(imgs), lbls)
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()
    print("epoch", epoch, "loss", epoch_loss / len(loader))

torch.save(model.state_dict(), "resnet34_xray.pth")
