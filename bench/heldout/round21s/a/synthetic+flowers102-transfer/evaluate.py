# Evaluate a saved checkpoint on the test split, also print top-5 for one image
import argparse

import torch
import torch.nn as nn
from PIL import Image
from torchvision import datasets, models, transforms

TF = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


def load_checkpoint(path):
    ckpt = torch.load(path, map_location="cpu")
    model = models.resnet50(pretrained=False)
    model.fc = nn.Sequential(
        nn.Linear(2048, 512), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(512, 102), nn.LogSoftmax(dim=1),
    )
    model.load_state_dict(ckpt["state_dict"])
    for p in model.parameters():
        p.requires_grad = False
    model.class_to_idx = ckpt["class_to_idx"]
    return model


def predict(image_path, model, topk=5):
    img = TF(Image.open(image_path).convert("RGB")).unsqueeze(0)
    model.eval()
    with torch.no_grad():
        ps = torch.exp(model(img))
    probs, idx = ps.topk(topk, dim=1)
    inv = {v: k for k, v in model.class_to_idx.items()}
    return probs[0].tolist(), [inv[i] for i in idx[0].tolist()]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--test_dir", default="flowers/test")
    ap.add_argument("--image", default=None)
    args = ap.parse_args()

    model = load_checkpoint(args.checkpoint)
    model.eval()
    ds = datasets.ImageFolder(args.test_dir, TF)
    dl = torch.utils.data.DataLoader(ds, batch_size=32)
    correct = 0
    with torch.no_grad():
        for x, y in dl:
            correct += (model(x).argmax(1) == y).sum().item()
    print("test accuracy: %.4f" % (correct / len(ds)))
    if args.image:
        print(predict(args.image, model))
