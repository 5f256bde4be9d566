import sys

import pandas as pd
import torch
from torch.utils.data import DataLoader

from dataset import CassavaDataset, get_transforms
from models.factory import get_model


@torch.no_grad()
def predict(weights, arch="tf_efficientnet_b3_ns", csv="data/test.csv", img_dir="data/test_images"):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = get_model(arch, num_classes=5, pretrained=False, freeze_backbone=True)
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    model.to(device).eval()
    ds = CassavaDataset(csv, img_dir, fold=-1, train=True, transform=get_transforms(False))
    preds = []
    for images, _ in DataLoader(ds, batch_size=64, num_workers=4):
        preds.append(model(images.to(device)).softmax(1).cpu())
    probs = torch.cat(preds)
    out = pd.DataFrame({"image_id": ds.df.image_id, "label": probs.argmax(1).numpy()})
    out.to_csv("submission.csv", index=False)


if __name__ == "__main__":
    predict(sys.argv[1])
