import glob
import os
import random

import torchvision.transforms.functional as TF
from PIL import Image
from torch.utils.data import Dataset


class SRPatchDataset(Dataset):
    """Random HR crops and their bicubic-downsampled LR counterparts, both scaled to [-1, 1]."""

    def __init__(self, hr_dir, patch=96, scale=4):
        self.files = sorted(glob.glob(os.path.join(hr_dir, "*.png")))
        self.patch, self.scale = patch, scale

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        img = Image.open(self.files[i]).convert("RGB")
        x = random.randint(0, img.width - self.patch)
        y = random.randint(0, img.height - self.patch)
        hr = img.crop((x, y, x + self.patch, y + self.patch))
        if random.random() < 0.5:
            hr = TF.hflip(hr)
        lr = hr.resize((self.patch // self.scale,) * 2, Image.BICUBIC)
        return TF.to_tensor(lr) * 2 - 1, TF.to_tensor(hr) * 2 - 1
