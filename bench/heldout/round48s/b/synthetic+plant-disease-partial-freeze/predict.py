import argparse
import csv
import os

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms

from src.model_factory import get_model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default="resnet50_plantvillage.pth")
    ap.add_argument("--images", default="test_images")
    ap.add_argument("--classes", default="classes.txt")
    args = ap.parse_args()

    classes = [c.strip() for c in open(args.classes)]
    model = get_model("resnet50", len(classes), pretrained=False)
    model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    model.eval()
    tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    with open("submission.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "label", "confidence"])
        for fname in sorted(os.listdir(args.images)):
            x = tf(Image.open(os.path.join(args.images, fname)).convert("RGB"))[None]
            with torch.no_grad():
                probs = F.softmax(model(x), dim=1)[0]
            conf, idx = probs.max(0)
            writer.writerow([fname, classes[idx], f"{conf:.4f}"])


if __name__ == "__main__":
    main()
