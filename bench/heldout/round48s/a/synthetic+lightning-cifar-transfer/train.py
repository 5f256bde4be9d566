import argparse

import lightning as L
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from callbacks import BackboneFreezeUnfreeze
from modules import FinetuneClassifier, TransferClassifier
from ssl_probe import SSLProbe


def loaders(root, bs):
    tf = transforms.Compose([transforms.Resize(224), transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    train = datasets.CIFAR10(root, train=True, transform=tf, download=True)
    val = datasets.CIFAR10(root, train=False, transform=tf, download=True)
    return DataLoader(train, bs, shuffle=True, num_workers=8), DataLoader(val, bs, num_workers=8)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["extract", "finetune", "probe"], default="extract")
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args()
    train_dl, val_dl = loaders("data", 64)

    if args.mode == "extract":
        model = TransferClassifier(num_classes=10)
        trainer = L.Trainer(max_epochs=args.epochs, accelerator="auto")
    elif args.mode == "probe":
        model = SSLProbe("ckpt/ssl_r18.ckpt", num_classes=10)
        trainer = L.Trainer(max_epochs=args.epochs, accelerator="auto")
    else:
        model = FinetuneClassifier(num_classes=10)
        trainer = L.Trainer(max_epochs=args.epochs, accelerator="auto",
                            callbacks=[BackboneFreezeUnfreeze(unfreeze_at_epoch=10)])
    trainer.fit(model, train_dl, val_dl)
