"""The classifier head of a torchvision or timm model (GL215): the attribute whose output
is the model's output. A script that replaces it (``model.fc = nn.Sequential(nn.Linear(2048,
n), nn.Softmax(dim=1))``) makes the whole model end in that activation.

Only the families whose last module is known: ResNet-like models end in ``fc``; DenseNet,
VGG, MobileNet, EfficientNet, SqueezeNet in ``classifier``; vision transformers in ``head`` (timm) or
``heads`` (torchvision)."""

from __future__ import annotations

import ast
import re
from typing import Optional

from gradlint.source.chosen_names import chosen_string

_FAMILIES = (
    (re.compile(r"^(resnet|resnext|wide_resnet|seresnet|ecaresnet|res2net|resnest|regnet|googlenet|inception|"
                r"shufflenet|xception|dla|dpn|skresnet)"), frozenset({"fc"})),
    (re.compile(r"^(densenet|vgg|alexnet|mobilenet|efficientnet|tf_efficientnet|mnasnet|mixnet|ghostnet|"
                r"semnasnet|fbnet|lcnet|hardcorenas|squeezenet)"), frozenset({"classifier"})),
    (re.compile(r"^(vit_|deit|swin|beit|convnext|visformer|levit|cait|xcit|eva)"), frozenset({"head", "heads"})),
)


# every head attribute of those families
HEADS = frozenset().union(*(heads for _, heads in _FAMILIES))
# the torchvision builders whose head is an ``nn.Sequential`` (a module added to it with
# ``add_module`` runs last); a ResNet's ``fc`` and a DenseNet's ``classifier`` are one Linear
SEQUENTIAL_HEADS = re.compile(r"^torchvision\.models\.(vgg|alexnet|mobilenet|efficientnet|squeezenet|mnasnet|"
                              r"convnext|vit_|swin|maxvit)")


def head_attributes(call: ast.Call, qualified: Optional[str], tree: ast.Module) -> frozenset[str]:
    """The head attribute names of the model ``call`` builds (``qualified``: its callee,
    ``torchvision.models.resnet50`` or ``timm.create_model``); empty when unknown."""
    if not qualified:
        return frozenset()
    if qualified.startswith("torchvision.models."):
        name: Optional[str] = qualified.rsplit(".", 1)[-1]
    elif qualified in ("timm.create_model", "timm.models.create_model") and call.args:
        name = chosen_string(call.args[0], None, tree)
    else:
        return frozenset()
    for pattern, heads in _FAMILIES:
        if name and pattern.match(name):
            return heads
    return frozenset()
