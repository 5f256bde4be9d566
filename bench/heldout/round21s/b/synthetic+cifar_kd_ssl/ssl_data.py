import numpy as np
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
weak = transforms.Compose([
    transforms.RandomCrop(32, padding=4, padding_mode="reflect"),
    transforms.RandomHorizontalFlip(),
    transforms.ToTensor(),
    transforms.Normalize(MEAN, STD),
])


class TwoViews:
    def __init__(self, tf):
        self.tf = tf

    def __call__(self, x):
        return self.tf(x), self.tf(x)


class DropLabel:
    def __init__(self, ds):
        self.ds = ds

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        return self.ds[i][0]


def labeled_unlabeled_loaders(n_labels=4000, bs=64, mu=7, root="data", seed=0):
    rng = np.random.RandomState(seed)
    base = datasets.CIFAR10(root, train=True, download=True)
    targets = np.array(base.targets)
    idx = np.concatenate([rng.choice(np.where(targets == c)[0], n_labels // 10, replace=False) for c in range(10)])
    lab = Subset(datasets.CIFAR10(root, train=True, transform=weak), idx)
    unl = DropLabel(datasets.CIFAR10(root, train=True, transform=TwoViews(weak)))
    return (DataLoader(lab, batch_size=bs, shuffle=True, drop_last=True, num_workers=4),
            DataLoader(unl, batch_size=bs * mu, shuffle=True, drop_last=True, num_workers=4))
