"""Run the ResNet baseline on a folder of dermoscopy images and write a CSV."""
import csv
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torchvision import models, transforms

CLASSES = ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]

tf = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


def load_baseline(path):
    net = models.resnet34(weights=None)
    net.fc = nn.Linear(net.fc.in_features, len(CLASSES))
    net.load_state_dict(torch.load(path, map_location="cpu"))
    net.eval()
    return net


@torch.no_grad()
def predict_folder(net, folder, out_csv):
    rows = []
    for img_path in sorted(Path(folder).glob("*.jpg")):
        x = tf(Image.open(img_path).convert("RGB")).unsqueeze(0)
        logits = net(x)
        probs = F.softmax(logits, dim=1)[0]
        rows.append([img_path.name] + [f"{p:.4f}" for p in probs.tolist()])
    with open(out_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image"] + CLASSES)
        w.writerows(rows)


if __name__ == "__main__":
    predict_folder(load_baseline(sys.argv[1]), sys.argv[2], "submission.csv")
