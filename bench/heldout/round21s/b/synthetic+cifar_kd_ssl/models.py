import torch.nn as nn
import torch.nn.functional as F
from torchvision import models


def resnet50_cifar(num_classes=100):
    net = models.resnet50(weights=None, num_classes=num_classes)
    net.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    net.maxpool = nn.Identity()
    return net


class StudentCNN(nn.Module):
    """Small student: 4 conv layers. Outputs log-probabilities."""

    def __init__(self, num_classes=100):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(128, 256, 3, padding=1), nn.BatchNorm2d(256), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(256, 256, 3, padding=1), nn.BatchNorm2d(256), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.fc = nn.Linear(256, num_classes)

    def forward(self, x, T=1.0):
        return F.log_softmax(self.fc(self.body(x)) / T, dim=1)


class TeacherWrapper(nn.Module):
    """Returns temperature-softened probabilities of a trained teacher."""

    def __init__(self, net, T=4.0):
        super().__init__()
        self.net = net
        self.T = T

    def forward(self, x):
        return F.softmax(self.net(x) / self.T, dim=1)
