import os

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset


class DeepGlobeRoads(Dataset):
    """DeepGlobe road extraction: *_sat.jpg images with *_mask.png binary masks."""

    def __init__(self, root, split, size=512):
        self.dir = os.path.join(root, split)
        self.ids = sorted(f[:-8] for f in os.listdir(self.dir) if f.endswith("_sat.jpg"))
        self.size = size
        self.train = split == "train"

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        stem = os.path.join(self.dir, self.ids[i])
        img = Image.open(stem + "_sat.jpg").convert("RGB").resize((self.size, self.size))
        mask = Image.open(stem + "_mask.png").convert("L").resize((self.size, self.size), Image.NEAREST)
        img = np.asarray(img, dtype=np.float32) / 255.0
        mask = (np.asarray(mask) > 127).astype(np.float32)
        if self.train and np.random.rand() < 0.5:
            img, mask = img[:, ::-1].copy(), mask[:, ::-1].copy()
        img = torch.from_numpy(img).permute(2, 0, 1)
        img = (img - 0.5) / 0.25
        return img, torch.from_numpy(mask)[None]
