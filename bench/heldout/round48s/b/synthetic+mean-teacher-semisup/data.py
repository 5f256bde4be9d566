import numpy as np
import torchvision
import torchvision.transforms as T
from torch.utils.data import DataLoader, Dataset, Subset

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class TwoViews(Dataset):
    """Returns two independently augmented views of each unlabeled image."""

    def __init__(self, base, transform):
        self.base, self.transform = base, transform

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        img, _ = self.base[i]
        return self.transform(img), self.transform(img)


def labeled_and_unlabeled_loaders(root, n_labeled=4000, batch_size=64, seed=0):
    aug = T.Compose([T.RandomCrop(32, 4, padding_mode="reflect"), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(MEAN, STD)])
    raw = torchvision.datasets.CIFAR10(root, train=True, download=True)
    rng = np.random.RandomState(seed)
    idx = rng.permutation(len(raw))
    labeled = Subset(torchvision.datasets.CIFAR10(root, train=True, transform=aug), idx[:n_labeled].tolist())
    unlabeled = TwoViews(Subset(raw, idx[n_labeled:].tolist()), aug)
    return (DataLoader(labeled, batch_size, shuffle=True, drop_last=True, num_workers=4),
            DataLoader(unlabeled, batch_size * 7, shuffle=True, drop_last=True, num_workers=4))
