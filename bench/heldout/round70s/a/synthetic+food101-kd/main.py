"""Distil a fine-tuned ResNet-101 teacher into a MobileNetV3-Small student on Food-101."""
import argparse

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

from kd_trainer import DistillTrainer


def build_teacher(path, num_classes=101):
    teacher = models.resnet101(num_classes=num_classes)
    teacher.load_state_dict(torch.load(path, map_location="cpu"))
    return teacher


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher_ckpt", default="checkpoints/resnet101_food101.pth")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--T", type=float, default=4.0)
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"

    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tr = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor(), norm])
    te = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), norm])
    train_loader = DataLoader(datasets.Food101("data", "train", transform=tr, download=True),
                              batch_size=128, shuffle=True, num_workers=8)
    test_loader = DataLoader(datasets.Food101("data", "test", transform=te), batch_size=256, num_workers=8)

    teacher = build_teacher(args.teacher_ckpt)
    student = models.mobilenet_v3_small(num_classes=101)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, weight_decay=4e-5)
    trainer = DistillTrainer(student, teacher, optimizer, device, T=args.T)
    for epoch in range(args.epochs):
        loss = trainer.train_epoch(train_loader)
        acc = trainer.evaluate(test_loader)
        print(f"[{epoch:02d}] kd_loss={loss:.4f} student_top1={acc:.4f}")


if __name__ == "__main__":
    main()
