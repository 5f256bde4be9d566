import sys

import torch
import yaml
from sklearn.metrics import classification_report

from src.data import make_loaders
from src.model import build_model

cfg = yaml.safe_load(open(sys.argv[1] if len(sys.argv) > 1 else "configs/default.yaml"))
_, val_dl = make_loaders(cfg["data"])
model = build_model(cfg["model"])
model.load_state_dict(torch.load(f"{cfg['experiment']}.pt", map_location="cpu"))
model.eval()
ys, ps = [], []
with torch.no_grad():
    for x, y in val_dl:
        ps += model(x).argmax(1).tolist()
        ys += y.tolist()
print(classification_report(ys, ps, digits=4))
