"""Cheap baseline requested by the supervisor: frozen VGG16 conv features, train only the classifier."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from data import ChestXrayDataset, build_transforms
from engine import evaluate, train_one_epoch
from models import get_model

if __name__ == "__main__":
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader = DataLoader(ChestXrayDataset("/data/nih-cxr", "train", build_transforms(True)),
                              batch_size=32, shuffle=True, num_workers=8)
    val_loader = DataLoader(ChestXrayDataset("/data/nih-cxr", "val", build_transforms(False)),
                            batch_size=32, num_workers=8)
    model = get_model("vgg16", num_classes=14, freeze_features=True).to(device)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-2, momentum=0.9)
    criterion = nn.BCEWithLogitsLoss()
    for epoch in range(15):
        loss = train_one_epoch(model, train_loader, criterion, optimizer, device)
        print(epoch, loss, evaluate(model, val_loader, device))
