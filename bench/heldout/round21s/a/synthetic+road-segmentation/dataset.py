import os

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset


class RoadDataset(Dataset):
    """images/*.png + masks/*.png (0 = background, 1 = road, 2 = lane marking)"""

    def __init__(self, root, split="train", size=(384, 384)):
        self.img_dir = os.path.join(root, split, "images")
        self.mask_dir = os.path.join(root, split, "masks")
        self.files = sorted(os.listdir(self.img_dir))
        self.size = size
        self.mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
        self.std = np.array([0.229, 0.224, 0.225], dtype=np.float32)

    def __len__(self):
        return len(self.files)

    def __getitem__(self, idx):
        name = self.files[idx]
        img = Image.open(os.path.join(self.img_dir, name)).convert("RGB").resize(self.size)
        mask = Image.open(os.path.join(self.mask_dir, name)).resize(self.size, Image.NEAREST)
        img = (np.asarray(img, dtype=np.float32) / 255.0 - self.mean) / self.std
        img = torch.from_numpy(img.transpose(2, 0, 1))
        mask = torch.from_numpy(np.asarray(mask, dtype=np.int64))
        return img, mask


def iou(pred, target, n_cls=3):
    ious = []
    for c in range(n_cls):
        p, t = pred == c, target == c
        inter = (p & t).sum().item()
        union = (p | t).sum().item()
        if union:
            ious.append(inter / union)
    return sum(ious) / max(len(ious), 1)
