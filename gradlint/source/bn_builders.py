"""The builders GL406 knows to make BatchNorm: torch's BatchNorm classes, torchvision and
timm model families, segmentation_models_pytorch's architectures by their encoder, and other
libraries' CNN builders, by qualified name."""

from __future__ import annotations

import ast
import re
from typing import Callable, Optional

BN_CLASS = re.compile(r"^torch\.nn\.(modules\.batchnorm\.)?(BatchNorm[123]d|SyncBatchNorm|LazyBatchNorm[123]d)$")
# torchvision builders (torchvision.models.<name>) whose networks normalise with BatchNorm
TV_BN = re.compile(
    r"^torchvision\.models\.(\w+\.)?(resnet\d+|resnext\w+|wide_resnet\w+|densenet\d+|mobilenet_v[23]\w*|"
    r"efficientnet_\w+|regnet_\w+|inception_v3|googlenet|vgg\d+_bn|shufflenet_v2\w*|mnasnet\w+|"
    r"deeplabv3_\w+|fcn_resnet\w+|lraspp_mobilenet_v3_large|r3d_18|mc3_18|r2plus1d_18|s3d)$"
)
# torchvision's model classes with BatchNorm, built directly or subclassed (``class Net(models.Inception3)``)
TV_BN_CLASS = re.compile(r"^torchvision\.models\.(\w+\.)?(ResNet|Inception3|DenseNet|MobileNetV2|MobileNetV3|"
                         r"EfficientNet|GoogLeNet|ShuffleNetV2|MNASNet|RegNet)$")
# other libraries' CNN builders with BatchNorm (lukemelas' efficientnet_pytorch)
# (also Ross Wightman's gen-efficientnet, ``geffnet``: every network it builds uses BatchNorm)
LIBRARY_BN = re.compile(r"^(efficientnet_pytorch\.(model\.)?EfficientNet(\.from_pretrained|\.from_name)?"
                        r"|geffnet\.(create_model|(tf_)?(efficientnet|mobilenetv[23]|mixnet|mnasnet|spnasnet|fbnetc|"
                        r"semnasnet)\w*))$")
# timm model names with BatchNorm (the classic CNN families), by the name passed to create_model
TIMM_BN = re.compile(r"^(resnet|resnext|seresnet|wide_resnet|densenet|efficientnet|tf_efficientnet|mobilenet|"
                     r"regnet|mnasnet|inception|xception|dla|dpn|res2net|resnest|ecaresnet|rexnet|hrnet|"
                     r"ghostnet|cspresnet|cspdarknet|darknet|vgg\d+_bn|visformer|levit|repvgg|mobilevit|vovnet|"
                     r"selecsls|tresnet|mixnet|semnasnet|spnasnet|fbnetc|lcnet|hardcorenas)")

# segmentation_models_pytorch's architectures, and the encoder names whose networks use
# BatchNorm (``resnet34``, its default; ``efficientnet-b0``, ``timm-regnetx_002``, ``tu-<timm name>``);
# a Mix Transformer (``mit_b0``) or a plain VGG encoder has none
SMP_ARCHITECTURE = re.compile(r"^segmentation_models_pytorch\.(Unet|UnetPlusPlus|FPN|PSPNet|DeepLabV3|DeepLabV3Plus|"
                              r"Linknet|MAnet|PAN|UPerNet|Segformer|create_model)$")
SMP_BN_ENCODER = re.compile(r"^(timm-|tu-)?(resnet|resnext|resnest|res2n|se_|senet|seresnet|skresnet|densenet|"
                            r"efficientnet|tf_efficientnet|mobilenet|mobileone|regnet|gernet|dpn|inception|xception|"
                            r"vgg\d+_bn)")


# Cadene's pretrainedmodels: every network holds BatchNorm but AlexNet and the plain VGGs
PRETRAINEDMODELS_PLAIN = re.compile(r"^(alexnet|vgg\d+)$")
# a torch.hub model name of a convolutional family with BatchNorm, unless it names a transformer
HUB_BN = re.compile(r"resne(t|xt)|efficientnet|mobilenet|densenet|regnet|inception|shufflenet|mnasnet")
HUB_PLAIN = re.compile(r"vit|deit|swin|xcit|convnext|beit")


def builds_bn(qualified: str) -> bool:
    """Calling (or subclassing) ``qualified`` builds BatchNorm (``timm:<name>``: the timm
    model of that name)."""
    if qualified.startswith("timm:"):
        return bool(TIMM_BN.match(qualified[len("timm:"):]))
    return bool(BN_CLASS.match(qualified) or TV_BN.match(qualified) or TV_BN_CLASS.match(qualified))


def torchvision_bn(qualified: str) -> Optional[bool]:
    """Whether a torchvision builder makes a model with BatchNorm; None for anything else."""
    if not qualified.startswith("torchvision.models."):
        return None
    return bool(TV_BN.match(qualified))


def library_builds_bn(callee: str, value: ast.Call, string: Callable[[ast.expr], Optional[str]]) -> Optional[bool]:
    """Whether the library call ``value`` (to ``callee``, qualified) builds a BatchNorm
    model: a builder above, ``timm.create_model("resnet50")``, ``torch.hub.load("pytorch/vision",
    "resnet50")``; None when ``callee`` is none of them. ``string``: the string an argument holds."""
    if builds_bn(callee) or LIBRARY_BN.match(callee):
        return True
    if callee in ("timm.create_model", "timm.models.create_model") and value.args:
        name = string(value.args[0])
        return name is not None and bool(TIMM_BN.match(name))
    if SMP_ARCHITECTURE.match(callee):  # smp.Unet(encoder_name="resnet34", ...); create_model("unet", "resnet34")
        position = 1 if callee.endswith("create_model") else 0
        given = next((k.value for k in value.keywords if k.arg == "encoder_name"),
                     value.args[position] if len(value.args) > position else None)
        encoder = string(given) if given is not None else "resnet34"
        return encoder is not None and bool(SMP_BN_ENCODER.match(encoder))
    if callee.startswith("pretrainedmodels.") and callee.count(".") == 1:  # Cadene's pretrainedmodels
        return not PRETRAINEDMODELS_PLAIN.match(callee.partition(".")[2])
    if callee == "torch.hub.load" and len(value.args) >= 2:
        repo, model = (string(arg) for arg in value.args[:2])
        if isinstance(repo, str) and repo.startswith("pytorch/vision"):
            return isinstance(model, str) and bool(TV_BN.match(f"torchvision.models.{model}"))
        # another hub repository's convolutional network (``"facebookresearch/dino:main", "dino_resnet50"``)
        return isinstance(model, str) and bool(HUB_BN.search(model)) and not HUB_PLAIN.search(model)
    return None


# attributes of the models above that hold no BatchNorm (their classifier heads; a ResNet's stem
# convolution, ReLU and pooling)
HEAD_NAMES = {"fc", "_fc", "classifier", "head", "last_linear", "aux_logits", "dropout", "avgpool", "global_pool",
              "segmentation_head", "classification_head"}
PLAIN_STEM_PARTS = frozenset({"conv1", "relu", "maxpool"})
# the builders whose stem is a torchvision ResNet's (``PLAIN_STEM_PARTS`` hold no BatchNorm there)
RESNET = re.compile(r"resne(t|xt)")


def hub_resnet(callee: str, value: ast.Call, string: Callable[[ast.expr], Optional[str]]) -> bool:
    """``torch.hub.load(repo, "resnext50_32x4d_swsl")``: a hub ResNet, whose stem is a
    torchvision ResNet's."""
    if callee != "torch.hub.load" or len(value.args) < 2:
        return False
    model = string(value.args[1])
    return model is not None and bool(RESNET.search(model))
