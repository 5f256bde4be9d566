# Precompute frozen MobileNetV2 features once, then fit a logistic regression on them.
import numpy as np
import torch
import torchvision
from sklearn.linear_model import LogisticRegression
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

tf = transforms.Compose([
    transforms.Resize((224, 224)),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


def extract(model, split, device):
    ds = datasets.Food101("data", split=split, transform=tf, download=True)
    dl = DataLoader(ds, batch_size=128, num_workers=4)
    feats, labels = [], []
    with torch.no_grad():
        for x, y in dl:
            f = model(x.to(device))
            feats.append(f.mean(dim=(2, 3)).cpu().numpy())
            labels.append(y.numpy())
    return np.concatenate(feats), np.concatenate(labels)


if __name__ == "__main__":
    device = "cuda" if torch.cuda.is_available() else "cpu"
    backbone = torchvision.models.mobilenet_v2(pretrained=True).features
    for p in backbone.parameters():
        p.requires_grad = False
    backbone = backbone.to(device).eval()
    Xtr, ytr = extract(backbone, "train", device)
    Xte, yte = extract(backbone, "test", device)
    clf = LogisticRegression(max_iter=2000, C=0.5)
    clf.fit(Xtr, ytr)
    print("test accuracy", clf.score(Xte, yte))
