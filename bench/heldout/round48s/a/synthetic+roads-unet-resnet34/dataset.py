import os

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset


class RoadDataset(Dataset):
    def __init__(self, root, split, size=384):
        self.img_dir = os.path.join(root, split, "images")
        self.mask_dir = os.path.join(root, split, "masks")
        self.names = sorted(os.listdir(self.img_dir))
        self.size = size

    def __len__(self):
        return len(self.names)

    def __getitem__(self, i):
        name = self.names[i]
        img = Image.open(os.path.join(self.img_dir, name)).convert("RGB").resize((self.size, self.size))
        mask = Image.open(os.path.join(self.mask_dir, name)).convert("L").resize((self.size, self.size))
        img = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
        mask = torch.from_numpy((np.asarray(mask) > 127).astype(np.float32))[None]
        return img, mask
