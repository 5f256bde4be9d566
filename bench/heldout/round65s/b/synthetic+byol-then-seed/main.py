import argparse

import torch
import torch.nn as nn

from nets import BYOL, mlp, resnet_trunk
from trainers import BYOLTrainer, SEEDTrainer


def pretrain(loader, epochs):
    model = BYOL("resnet50")
    opt = torch.optim.SGD(list(model.online.parameters()) + list(model.predictor.parameters()),
                          lr=0.2, momentum=0.9, weight_decay=1.5e-6)
    trainer = BYOLTrainer(model, opt)
    for _ in range(epochs):
        trainer.train_epoch(loader)
    torch.save(model.online.state_dict(), "byol_r50_online.pth")


def distill(loader, epochs):
    t_trunk, t_dim = resnet_trunk("resnet50")
    teacher = nn.Sequential(t_trunk, mlp(t_dim))
    teacher.load_state_dict(torch.load("byol_r50_online.pth", map_location="cpu"))
    trunk, dim = resnet_trunk("resnet18")
    student = nn.Sequential(trunk, mlp(dim))
    trainer = SEEDTrainer(student, teacher)
    for _ in range(epochs):
        trainer.train_epoch(loader)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=["pretrain", "distill"])
    ap.add_argument("--epochs", type=int, default=200)
    args = ap.parse_args()
    from data import two_view_loader, single_view_loader
    if args.stage == "pretrain":
        pretrain(two_view_loader(), args.epochs)
    else:
        distill(single_view_loader(), args.epochs)
