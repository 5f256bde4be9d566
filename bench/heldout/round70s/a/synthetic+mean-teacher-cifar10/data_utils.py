import numpy as np
from torch.utils.data import Subset
from torchvision import datasets, transforms

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class TwoViews:
    def __init__(self, tf):
        self.tf = tf

    def __call__(self, x):
        return self.tf(x), self.tf(x)


def labeled_unlabeled_split(root, n_labeled=4000, seed=0):
    weak = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                               transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    plain = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    lab_ds = datasets.CIFAR10(root, train=True, download=True, transform=weak)
    unl_ds = datasets.CIFAR10(root, train=True, download=True, transform=TwoViews(weak))
    rng = np.random.RandomState(seed)
    targets = np.array(lab_ds.targets)
    idx = np.concatenate([rng.choice(np.where(targets == c)[0], n_labeled // 10, replace=False)
                          for c in range(10)])
    test = datasets.CIFAR10(root, train=False, download=True, transform=plain)
    return Subset(lab_ds, idx), unl_ds, test
