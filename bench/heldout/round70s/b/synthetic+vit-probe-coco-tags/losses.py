"""Loss registry shared by the probing and distillation scripts."""
import torch
import torch.nn as nn

LOSS_REGISTRY = {}


def register(name):
    def deco(fn):
        LOSS_REGISTRY[name] = fn
        return fn
    return deco


@register("bce")
def bce_loss(**kw):
    return nn.BCELoss(**kw)


@register("asl")
def asymmetric_loss(gamma_neg=4, gamma_pos=0, clip=0.05):
    def fn(logits, targets):
        p = torch.sigmoid(logits)
        p_neg = (p - clip).clamp(min=0)
        lp = targets * torch.log(p.clamp(min=1e-8)) * (1 - p) ** gamma_pos
        ln = (1 - targets) * torch.log((1 - p_neg).clamp(min=1e-8)) * p_neg ** gamma_neg
        return -(lp + ln).sum(1).mean()
    return fn


@register("ce")
def ce_loss(**kw):
    return nn.CrossEntropyLoss(**kw)


def build_loss(name, **kw):
    return LOSS_REGISTRY[name](**kw)
