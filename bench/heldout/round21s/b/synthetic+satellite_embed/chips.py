import glob
import os

import numpy as np
import rasterio
import torch
from torch.utils.data import Dataset

# Sentinel-2 L2A, bands B4/B3/B2 scaled to reflectance
S2_MEAN = np.array([0.0919, 0.1023, 0.1180], dtype=np.float32)
S2_STD = np.array([0.0546, 0.0421, 0.0394], dtype=np.float32)


class ChipDataset(Dataset):
    """Folder layout: <root>/ship/*.tif and <root>/noship/*.tif (3-band 128x128)."""

    def __init__(self, root, augment=False):
        self.items = []
        for label, sub in enumerate(["noship", "ship"]):
            for f in sorted(glob.glob(os.path.join(root, sub, "*.tif"))):
                self.items.append((f, label))
        self.augment = augment

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        with rasterio.open(path) as src:
            arr = src.read([1, 2, 3]).astype(np.float32) / 10000.0
        arr = (arr - S2_MEAN[:, None, None]) / S2_STD[:, None, None]
        if self.augment and np.random.rand() < 0.5:
            arr = arr[:, :, ::-1].copy()
        return torch.from_numpy(arr), label
