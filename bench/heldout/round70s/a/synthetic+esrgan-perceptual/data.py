import glob
import random

import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms.functional import to_tensor


class DIV2KPairs(Dataset):
    def __init__(self, root, patch=128, scale=4):
        self.hr = sorted(glob.glob(f"{root}/DIV2K_train_HR/*.png"))
        self.root, self.patch, self.scale = root, patch, scale

    def __len__(self):
        return len(self.hr) * 100

    def __getitem__(self, i):
        path = self.hr[i % len(self.hr)]
        hr = Image.open(path).convert("RGB")
        lr = Image.open(path.replace("HR", f"LR_bicubic/X{self.scale}").replace(".png", f"x{self.scale}.png"))
        ps, s = self.patch // self.scale, self.scale
        x = random.randint(0, lr.width - ps)
        y = random.randint(0, lr.height - ps)
        lr = lr.crop((x, y, x + ps, y + ps))
        hr = hr.crop((x * s, y * s, (x + ps) * s, (y + ps) * s))
        if random.random() < 0.5:
            lr, hr = lr.transpose(Image.FLIP_LEFT_RIGHT), hr.transpose(Image.FLIP_LEFT_RIGHT)
        return to_tensor(lr), to_tensor(hr)
