# Transfer learning on Oxford Flowers-102 (course assignment, week 6)
import argparse
import os
import time

import torch
import torch.nn as nn
import torch.optim as optim
from torchvision import datasets, models, transforms


def get_loaders(data_dir, batch_size):
    train_tf = transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    val_tf = transforms.Compose([
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    train_ds = datasets.ImageFolder(os.path.join(data_dir, "train"), train_tf)
    val_ds = datasets.ImageFolder(os.path.join(data_dir, "valid"), val_tf)
    train_dl = torch.utils.data.DataLoader(train_ds, batch_size=batch_size, shuffle=True, num_workers=4)
    val_dl = torch.utils.data.DataLoader(val_ds, batch_size=batch_size, num_workers=4)
    return train_dl, val_dl


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_dir", default="flowers")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--lr", type=float, default=0.003)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--save", default="checkpoint.pth")
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_dl, val_dl = get_loaders(args.data_dir, args.batch_size)

    model = models.resnet50(pretrained=True)
    # freeze all the pretrained weights, we only train the classifier
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Sequential(
        nn.Linear(2048, 512),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(512, 102),
        nn.LogSoftmax(dim=1),
    )
    model.to(device)

    criterion = nn.NLLLoss()
    optimizer = optim.Adam(model.fc.parameters(), lr=args.lr)

    for epoch in range(args.epochs):
        start = time.time()
        model.train()
        running_loss = 0.0
        for images, labels in train_dl:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            logps = model(images)
            loss = criterion(logps, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()

        model.eval()
        correct, total = 0, 0
        with torch.no_grad():
            for images, labels in val_dl:
                images, labels = images.to(device), labels.to(device)
                preds = model(images).argmax(dim=1)
                correct += (preds == labels).sum().item()
                total += labels.size(0)
        print(f"Epoch {epoch+1}/{args.epochs} loss {running_loss/len(train_dl):.3f} "
              f"val acc {correct/total:.3f} ({time.time()-start:.0f}s)")

    model.class_to_idx = train_dl.dataset.class_to_idx
    torch.save({"state_dict": model.state_dict(), "class_to_idx": model.class_to_idx}, args.save)


if __name__ == "__main__":
    main()
