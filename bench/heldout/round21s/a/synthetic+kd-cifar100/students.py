import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    """4-conv student network for CIFAR-100"""

    def __init__(self, num_classes=100):
        super().__init__()
        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True))
        self.f = nn.Sequential(block(3, 64), block(64, 64), nn.MaxPool2d(2),
                               block(64, 128), block(128, 128), nn.MaxPool2d(2))
        self.fc = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.f(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def kd_loss(s_logits, t_logits, y, T=4.0, alpha=0.9):
    soft = F.kl_div(F.log_softmax(s_logits / T, 1), F.softmax(t_logits / T, 1), reduction="batchmean") * T * T
    return alpha * soft + (1 - alpha) * F.cross_entropy(s_logits, y)


def cifar100(bs=128):
    import torch
    from torchvision import datasets, transforms
    tf = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor(),
                             transforms.Normalize((0.507, 0.487, 0.441), (0.267, 0.256, 0.276))])
    ds = datasets.CIFAR100("data", train=True, transform=tf, download=True)
    return torch.utils.data.DataLoader(ds, batch_size=bs, shuffle=True, num_workers=4)
