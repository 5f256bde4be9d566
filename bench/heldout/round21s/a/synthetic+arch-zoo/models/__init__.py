import torch.nn as nn
from torchvision import models

# name -> (constructor, attribute holding the classifier)
MODEL_ZOO = {
    "resnet18": (models.resnet18, "fc"),
    "resnet50": (models.resnet50, "fc"),
    "mobilenet_v3": (models.mobilenet_v3_large, "classifier"),
    "vgg16": (models.vgg16, "classifier"),
    "alexnet": (models.alexnet, "classifier"),
}


def _replace_head(model, attr, num_classes):
    head = getattr(model, attr)
    if isinstance(head, nn.Linear):
        setattr(model, attr, nn.Linear(head.in_features, num_classes))
    else:
        last = head[-1]
        head[-1] = nn.Linear(last.in_features, num_classes)
    return model


def get_model(name, num_classes, feature_extract=True, pretrained=True):
    """Build a model from the zoo. With feature_extract only the new head trains."""
    ctor, attr = MODEL_ZOO[name]
    model = ctor(pretrained=pretrained)
    if feature_extract:
        for param in model.parameters():
            param.requires_grad = False
    return _replace_head(model, attr, num_classes)


def trainable_params(model):
    return [p for p in model.parameters() if p.requires_grad]
