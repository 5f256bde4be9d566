import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from src.model_factory import get_model, param_groups
from src.trainer import Trainer


def parse_args():
    parser = argparse.ArgumentParser("PlantVillage fine-tuning")
    parser.add_argument("--data-dir", default="PlantVillage")
    parser.add_argument("--backbone", default="resnet50", choices=["resnet50", "resnet101"])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=48)
    return parser.parse_args()


def main():
    args = parse_args()
    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    train_tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                                   transforms.ColorJitter(0.2, 0.2, 0.2), transforms.ToTensor(), norm])
    val_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), norm])
    train_ds = datasets.ImageFolder(f"{args.data_dir}/train", train_tf)
    val_ds = datasets.ImageFolder(f"{args.data_dir}/val", val_tf)
    train_loader = DataLoader(train_ds, args.batch_size, shuffle=True, num_workers=8, pin_memory=True)
    val_loader = DataLoader(val_ds, args.batch_size * 2, num_workers=8)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = get_model(args.backbone, num_classes=len(train_ds.classes)).to(device)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
    optimizer = torch.optim.AdamW(param_groups(model, args.lr), weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.3)

    trainer = Trainer(model, criterion, optimizer, scheduler, device)
    best = trainer.fit(train_loader, val_loader, args.epochs)
    torch.save(best, f"{args.backbone}_plantvillage.pth")


if __name__ == "__main__":
    main()
