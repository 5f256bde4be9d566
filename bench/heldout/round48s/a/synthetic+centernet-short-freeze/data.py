import json
import os

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset


class CocoCenterDataset(Dataset):
    """Minimal CenterNet target builder (heatmaps drawn elsewhere, cached as npz)."""

    def __init__(self, root, split, size=512, down=4):
        with open(os.path.join(root, "annotations", f"instances_{split}.json")) as f:
            self.images = json.load(f)["images"]
        self.root, self.split, self.size, self.down = root, split, size, down

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        info = self.images[i]
        img = Image.open(os.path.join(self.root, self.split, info["file_name"])).convert("RGB")
        img = img.resize((self.size, self.size))
        cached = np.load(os.path.join(self.root, "targets", f"{info['id']}.npz"))
        out = {k: torch.from_numpy(cached[k]) for k in ("hm", "wh", "reg", "mask")}
        out["image"] = torch.from_numpy(np.asarray(img, np.float32) / 255.0).permute(2, 0, 1)
        return out
