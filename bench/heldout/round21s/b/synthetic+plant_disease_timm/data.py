# PlantVillage (38 classes) -- Kaggle "new-plant-diseases-dataset" folder layout
import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

ROOT = "/kaggle/input/new-plant-diseases-dataset/New Plant Diseases Dataset(Augmented)"


def get_loaders(img_size=224, bs=64, workers=2):
    train_tf = transforms.Compose([
        transforms.RandomResizedCrop(img_size, scale=(0.7, 1.0)),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    valid_tf = transforms.Compose([
        transforms.Resize((img_size, img_size)),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    train_ds = datasets.ImageFolder(f"{ROOT}/train", train_tf)
    valid_ds = datasets.ImageFolder(f"{ROOT}/valid", valid_tf)
    return (DataLoader(train_ds, bs, shuffle=True, num_workers=workers, pin_memory=True),
            DataLoader(valid_ds, bs * 2, num_workers=workers, pin_memory=True),
            len(train_ds.classes))


def fit(model, train_dl, valid_dl, optimizer, epochs, device, before_epoch=None):
    criterion = torch.nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        if before_epoch is not None:
            before_epoch(model)
        for xb, yb in train_dl:
            xb, yb = xb.to(device), yb.to(device)
            loss = criterion(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for xb, yb in valid_dl:
                correct += (model(xb.to(device)).argmax(1).cpu() == yb).sum().item()
                total += len(yb)
        print(f"Epoch [{epoch + 1}/{epochs}] val_acc: {correct / total:.4f}")
