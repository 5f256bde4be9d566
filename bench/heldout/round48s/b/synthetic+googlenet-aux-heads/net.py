import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicConv(nn.Module):
    def __init__(self, cin, cout, **kw):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class AuxHead(nn.Module):
    def __init__(self, cin, num_classes):
        super().__init__()
        self.conv = BasicConv(cin, 128, kernel_size=1)
        self.fc1 = nn.Linear(128 * 4 * 4, 512)
        self.fc2 = nn.Linear(512, num_classes)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(x, (4, 4))
        x = self.conv(x).flatten(1)
        x = F.dropout(F.relu(self.fc1(x)), 0.7, training=self.training)
        return self.fc2(x)


class MiniInception(nn.Module):
    """Small GoogLeNet-like classifier with one auxiliary head used only in training."""

    def __init__(self, num_classes=100):
        super().__init__()
        self.stem = nn.Sequential(BasicConv(3, 64, kernel_size=3, padding=1), BasicConv(64, 128, kernel_size=3, padding=1))
        self.block1 = nn.Sequential(BasicConv(128, 256, kernel_size=3, stride=2, padding=1), BasicConv(256, 256, kernel_size=3, padding=1))
        self.aux = AuxHead(256, num_classes)
        self.block2 = nn.Sequential(BasicConv(256, 512, kernel_size=3, stride=2, padding=1), BasicConv(512, 512, kernel_size=3, padding=1))
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.block1(self.stem(x))
        aux = self.aux(x) if self.training else None
        x = self.block2(x)
        logits = self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
        if not self.training:
            return F.softmax(logits, dim=1)
        return logits, aux
