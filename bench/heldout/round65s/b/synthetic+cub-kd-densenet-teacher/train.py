"""Fine-grained birds: DenseNet-161 teacher -> MobileNetV3 student."""
import torch
import torch.nn as nn
import torchvision.models as models

from trainer import KDTrainer
from utils import evaluate, freeze_


def build_teacher(ckpt="weights/densenet161_cub.pth", num_classes=200):
    net = models.densenet161()
    net.classifier = nn.Linear(net.classifier.in_features, num_classes)
    net.load_state_dict(torch.load(ckpt, map_location="cpu"))
    return freeze_(net)


def build_student(num_classes=200):
    net = models.mobilenet_v3_large(weights="IMAGENET1K_V2")
    net.classifier[-1] = nn.Linear(net.classifier[-1].in_features, num_classes)
    return net


def main(train_loader, val_loader):
    teacher = build_teacher()
    student = build_student()
    trainer = KDTrainer(student, teacher, train_loader, val_loader, epochs=150)
    print(f"teacher top-1: {evaluate(trainer.teacher, val_loader):.2f}")
    trainer.fit()
    torch.save(student.state_dict(), "weights/mbv3_cub_kd.pth")
