# v2: same setup, but keep the frozen encoder's BatchNorm statistics from ImageNet
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from net import RetinaGrader, kappa

EPOCHS = 40
tf = transforms.Compose([transforms.Resize((320, 320)), transforms.ToTensor()])
train_dl = DataLoader(datasets.ImageFolder("/data/aptos2019/train", tf), 128, shuffle=True, num_workers=12)
val_dl = DataLoader(datasets.ImageFolder("/data/aptos2019/val", tf), 128, num_workers=12)

model = nn.DataParallel(RetinaGrader()).cuda()
model.module.encoder.requires_grad_(False)
optimizer = torch.optim.Adam(model.module.fc.parameters(), lr=3e-4)
criterion = nn.CrossEntropyLoss()

for epoch in range(EPOCHS):
    model.train()
    model.module.encoder.eval()  # frozen part stays in inference mode
    for imgs, y in train_dl:
        loss = criterion(model(imgs.cuda()), y.cuda())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    preds, gts = [], []
    with torch.no_grad():
        for imgs, y in val_dl:
            preds += model(imgs.cuda()).argmax(1).cpu().tolist()
            gts += y.tolist()
    print(epoch, kappa(preds, gts))
