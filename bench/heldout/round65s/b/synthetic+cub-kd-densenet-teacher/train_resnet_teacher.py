"""Same recipe with a ResNet-152 teacher; the teacher is scored before the trainer is built."""
import torch
import torch.nn as nn
import torchvision.models as models

from train import build_student
from trainer import KDTrainer
from utils import evaluate, freeze_


def main(train_loader, val_loader, ckpt="weights/resnet152_cub.pth"):
    teacher = models.resnet152()
    teacher.fc = nn.Linear(teacher.fc.in_features, 200)
    teacher.load_state_dict(torch.load(ckpt, map_location="cpu"))
    freeze_(teacher).cuda()
    print(f"teacher top-1: {evaluate(teacher, val_loader):.2f}")
    trainer = KDTrainer(build_student(), teacher, train_loader, val_loader, epochs=150)
    return trainer.fit()


if __name__ == "__main__":
    from data import cub_loaders
    train_loader, val_loader = cub_loaders("data/CUB_200_2011", batch_size=64)
    acc = main(train_loader, val_loader)
    print(f"final best student top-1: {acc:.2f}")
