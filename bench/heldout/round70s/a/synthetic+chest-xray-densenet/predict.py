"""Write per-image probabilities for the test split (for the ensemble notebook)."""
import sys

import pandas as pd
import torch
from torch.utils.data import DataLoader

from data import FINDINGS, ChestXrayDataset, build_transforms
from models import get_model

ckpt = sys.argv[1] if len(sys.argv) > 1 else "densenet121_best.pt"
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = get_model("densenet121", num_classes=14, pretrained=False, freeze_features=True)
model.load_state_dict(torch.load(ckpt, map_location="cpu"))
model.to(device).eval()

ds = ChestXrayDataset("/data/nih-cxr", "test", build_transforms(False))
rows = []
with torch.no_grad():
    for images, _ in DataLoader(ds, batch_size=64, num_workers=8):
        rows.append(torch.sigmoid(model(images.to(device))).cpu())
probs = torch.cat(rows).numpy()
out = pd.DataFrame(probs, columns=FINDINGS)
out.insert(0, "Image Index", ds.df["Image Index"].values)
out.to_csv(ckpt.replace(".pt", "_test_probs.csv"), index=False)
print("wrote", len(out), "rows")
