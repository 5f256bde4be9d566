import glob
import os

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class ACDCSlices(Dataset):
    """2-D short-axis slices from the ACDC ED/ES frames, resized to 224x224."""

    def __init__(self, root, split, size=224):
        patients = sorted(glob.glob(os.path.join(root, "training", "patient*")))
        patients = patients[:80] if split == "train" else patients[80:]
        self.items = []
        for p in patients:
            for gt in sorted(glob.glob(os.path.join(p, "*_frame*_gt.nii.gz"))):
                img = nib.load(gt.replace("_gt", "")).get_fdata().astype(np.float32)
                seg = nib.load(gt).get_fdata().astype(np.int64)
                img = (img - img.mean()) / (img.std() + 1e-6)
                for z in range(img.shape[2]):
                    self.items.append((img[..., z], seg[..., z]))
        self.size = size

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        img, seg = self.items[i]
        img = F.interpolate(torch.from_numpy(img)[None, None], size=(self.size, self.size), mode="bilinear")[0]
        seg = F.interpolate(torch.from_numpy(seg)[None, None].float(), size=(self.size, self.size), mode="nearest")[0, 0]
        return img, seg.long()


def get_loaders(root, batch_size=16):
    return (DataLoader(ACDCSlices(root, "train"), batch_size, shuffle=True, num_workers=4, drop_last=True),
            DataLoader(ACDCSlices(root, "val"), 1, num_workers=2))
