import os

from PIL import Image
from torch.utils.data import Dataset
from torchvision import transforms


class OfficeDomain(Dataset):
    """One domain (amazon / dslr / webcam) of Office-31."""

    def __init__(self, root, domain, size=224):
        base = os.path.join(root, domain, "images")
        self.classes = sorted(os.listdir(base))
        self.samples = [(os.path.join(base, c, f), i)
                        for i, c in enumerate(self.classes)
                        for f in sorted(os.listdir(os.path.join(base, c)))]
        self.tf = transforms.Compose([
            transforms.Resize(256),
            transforms.RandomCrop(size),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ])

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        path, label = self.samples[i]
        return self.tf(Image.open(path).convert("RGB")), label
