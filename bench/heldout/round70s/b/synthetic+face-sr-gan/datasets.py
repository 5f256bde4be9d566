import glob
import os

import torch.nn.functional as F
import torchvision.transforms.functional as TF
from PIL import Image
from torch.utils.data import Dataset


class FaceSRDataset(Dataset):
    """Aligned face crops; LR made on the fly by bicubic downsampling. Images in [-1, 1]."""

    def __init__(self, root, scale=4, hr_size=128):
        self.files = sorted(glob.glob(os.path.join(root, "*.png")))
        if not self.files:
            raise FileNotFoundError(root)
        self.scale = scale
        self.hr_size = hr_size

    def __len__(self):
        return len(self.files)

    def __getitem__(self, idx):
        img = Image.open(self.files[idx]).convert("RGB").resize((self.hr_size, self.hr_size))
        if idx % 2:
            img = TF.hflip(img)
        hr = TF.to_tensor(img) * 2.0 - 1.0
        lr = F.interpolate(hr.unsqueeze(0), scale_factor=1 / self.scale, mode="bicubic",
                           align_corners=False).squeeze(0).clamp(-1, 1)
        return lr, hr
