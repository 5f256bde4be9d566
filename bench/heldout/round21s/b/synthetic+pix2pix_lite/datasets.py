import glob
import os

import torchvision.transforms as T
from PIL import Image
from torch.utils.data import Dataset


class PairedImageDataset(Dataset):
    """Facades-style dataset: each jpg holds [photo | label] side by side."""

    def __init__(self, root, size=256, flip=True):
        self.files = sorted(glob.glob(os.path.join(root, "*.jpg")))
        tf = [T.Resize((size, size), T.InterpolationMode.BICUBIC)]
        self.tf = T.Compose(tf + [T.ToTensor(), T.Normalize((0.5,) * 3, (0.5,) * 3)])
        self.flip = flip

    def __len__(self):
        return len(self.files)

    def __getitem__(self, idx):
        img = Image.open(self.files[idx]).convert("RGB")
        w, h = img.size
        photo = img.crop((0, 0, w // 2, h))
        label = img.crop((w // 2, 0, w, h))
        if self.flip and idx % 2 == 1:
            photo = photo.transpose(Image.FLIP_LEFT_RIGHT)
            label = label.transpose(Image.FLIP_LEFT_RIGHT)
        # A = label map, B = photo
        return self.tf(label), self.tf(photo)


if __name__ == "__main__":
    ds = PairedImageDataset("facades/train")
    a, b = ds[0]
    print(len(ds), a.shape, b.shape)
