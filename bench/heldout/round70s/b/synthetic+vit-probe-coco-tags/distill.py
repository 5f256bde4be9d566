"""Distil a RegNetY-8GF multi-label teacher into the ViT probe head (soft-label BCE)."""
import torch
import torch.nn.functional as F

from coco_tags import coco_multilabel_loaders
from probes import RegNetTeacher, ViTLinearProbe


def main(epochs=10, tau=1.0):
    train_dl, _ = coco_multilabel_loaders("/data/coco2017", img_size=384, batch_size=64)
    teacher = RegNetTeacher("checkpoints/regnety8gf_coco.pth").cuda()
    teacher.eval()
    teacher.requires_grad_(False)
    student = ViTLinearProbe().cuda()
    opt = torch.optim.AdamW(student.head.parameters(), lr=5e-4)

    for epoch in range(epochs):
        student.train()
        for imgs, targets in train_dl:
            imgs, targets = imgs.cuda(), targets.float().cuda()
            with torch.no_grad():
                soft = torch.sigmoid(teacher(imgs) / tau)
            logits = student(imgs)
            loss = 0.5 * F.binary_cross_entropy_with_logits(logits, soft) \
                + 0.5 * F.binary_cross_entropy_with_logits(logits, targets)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch} loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
