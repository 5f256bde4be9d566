import argparse

import pytorch_lightning as pl
from pytorch_lightning.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from lit_module import EmotionClassifier


def make_loaders(root, batch_size):
    tf_train = transforms.Compose([
        transforms.Grayscale(num_output_channels=3),
        transforms.Resize(96),
        transforms.RandomHorizontalFlip(),
        transforms.RandomRotation(10),
        transforms.ToTensor(),
    ])
    tf_val = transforms.Compose([transforms.Grayscale(3), transforms.Resize(96), transforms.ToTensor()])
    train = datasets.ImageFolder(f"{root}/train", tf_train)
    val = datasets.ImageFolder(f"{root}/test", tf_val)
    return DataLoader(train, batch_size, shuffle=True, num_workers=6), DataLoader(val, batch_size, num_workers=6)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="fer2013")
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--bs", type=int, default=128)
    args = ap.parse_args()

    train_loader, val_loader = make_loaders(args.root, args.bs)
    module = EmotionClassifier(num_classes=7)
    ckpt = ModelCheckpoint(monitor="val/acc", mode="max")
    trainer = pl.Trainer(max_epochs=args.epochs, accelerator="auto", callbacks=[ckpt])
    trainer.fit(module, train_loader, val_loader)
