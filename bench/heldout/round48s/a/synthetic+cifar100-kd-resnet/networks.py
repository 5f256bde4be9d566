import torch
import torch.nn as nn
import torchvision


def cifar_resnet(depth_fn, num_classes=100):
    """Adapt a torchvision ResNet to 32x32 inputs."""
    net = depth_fn(weights=None, num_classes=num_classes)
    net.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    net.maxpool = nn.Identity()
    return net


def build_teacher(ckpt, num_classes=100):
    teacher = cifar_resnet(torchvision.models.resnet50, num_classes)
    state = torch.load(ckpt, map_location="cpu")
    teacher.load_state_dict(state["model"])
    return teacher


def build_student(num_classes=100):
    return cifar_resnet(torchvision.models.resnet18, num_classes)


class SmallCNN(nn.Module):
    def __init__(self, num_classes=100):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Linear(64 * 8 * 8, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))
