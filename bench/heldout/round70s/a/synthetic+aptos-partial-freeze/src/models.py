import torch.nn as nn
import torchvision


def get_model(name, num_classes=1, trainable_layers=("layer4", "fc")):
    """Regression head for diabetic-retinopathy grade (0-4) on APTOS 2019."""
    if name == "resnet50":
        model = torchvision.models.resnet50(weights="IMAGENET1K_V2")
    elif name == "resnet101":
        model = torchvision.models.resnet101(weights="IMAGENET1K_V2")
    else:
        raise NotImplementedError(name)
    model.fc = nn.Sequential(nn.Dropout(0.3), nn.Linear(model.fc.in_features, num_classes))
    for pname, p in model.named_parameters():
        p.requires_grad = pname.split(".")[0] in trainable_layers
    return model


def count_trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def print_param_summary(model):
    groups = {}
    for name, p in model.named_parameters():
        top = name.split(".")[0]
        g = groups.setdefault(top, [0, 0])
        g[0] += p.numel()
        g[1] += p.numel() if p.requires_grad else 0
    for top, (n, t) in groups.items():
        print(f"{top:10s} {n:>10,d} params, {t:>10,d} trainable")
