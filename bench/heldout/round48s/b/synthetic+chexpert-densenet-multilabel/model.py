import torch.nn as nn
import torchvision

FROZEN_PREFIXES = ("features.conv0", "features.norm0", "features.denseblock1", "features.transition1",
                   "features.denseblock2", "features.transition2")


def densenet121_multilabel(num_labels=14, pretrained=True, freeze_early=True):
    weights = torchvision.models.DenseNet121_Weights.IMAGENET1K_V1 if pretrained else None
    net = torchvision.models.densenet121(weights=weights)
    net.classifier = nn.Linear(net.classifier.in_features, num_labels)
    if freeze_early:
        for name, param in net.named_parameters():
            if name.startswith(FROZEN_PREFIXES):
                param.requires_grad = False
    return net


def count_trainable(net):
    total = sum(p.numel() for p in net.parameters())
    trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    return trainable, total


if __name__ == "__main__":
    m = densenet121_multilabel(pretrained=False)
    t, n = count_trainable(m)
    print(f"{t}/{n} parameters trainable")
