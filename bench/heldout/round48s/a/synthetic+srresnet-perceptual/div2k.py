import os
import random

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset


class DIV2KPatches(Dataset):
    """Random HR crops with bicubic-downsampled LR counterparts."""

    def __init__(self, root, patch=96, scale=4, repeat=20):
        self.files = sorted(os.path.join(root, f) for f in os.listdir(root) if f.endswith(".png"))
        self.patch, self.scale, self.repeat = patch, scale, repeat

    def __len__(self):
        return len(self.files) * self.repeat

    def __getitem__(self, i):
        img = Image.open(self.files[i % len(self.files)]).convert("RGB")
        w, h = img.size
        x = random.randint(0, w - self.patch)
        y = random.randint(0, h - self.patch)
        hr = img.crop((x, y, x + self.patch, y + self.patch))
        lr = hr.resize((self.patch // self.scale,) * 2, Image.BICUBIC)
        to_t = lambda im: torch.from_numpy(np.asarray(im, np.float32) / 255.0).permute(2, 0, 1)
        return to_t(lr), to_t(hr)
