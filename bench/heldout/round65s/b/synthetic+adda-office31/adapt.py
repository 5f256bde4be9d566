"""Adversarial discriminative domain adaptation (source -> target), stage 2."""
import copy

import torch
import torch.nn as nn

from models import Classifier, Critic, ResNetEncoder
from utils import freeze, make_variable, save_model

params = dict(num_epochs=50, d_lr=1e-4, c_lr=1e-5, beta1=0.5, beta2=0.999, log_step=20)


def train_tgt(src_encoder, tgt_encoder, critic, src_loader, tgt_loader):
    tgt_encoder.train()
    critic.train()
    bce = nn.BCEWithLogitsLoss()
    opt_tgt = torch.optim.Adam(tgt_encoder.parameters(), lr=params["c_lr"],
                               betas=(params["beta1"], params["beta2"]))
    opt_critic = torch.optim.Adam(critic.parameters(), lr=params["d_lr"],
                                  betas=(params["beta1"], params["beta2"]))
    for epoch in range(params["num_epochs"]):
        for step, ((xs, _), (xt, _)) in enumerate(zip(src_loader, tgt_loader)):
            xs, xt = make_variable(xs), make_variable(xt)
            # 1) critic: source features are "real", target features "fake"
            feat_src = src_encoder(xs)
            feat_tgt = tgt_encoder(xt)
            feats = torch.cat([feat_src, feat_tgt.detach()], 0)
            labels = torch.cat([torch.ones(xs.size(0), 1), torch.zeros(xt.size(0), 1)]).to(feats)
            loss_critic = bce(critic(feats), labels)
            opt_critic.zero_grad()
            loss_critic.backward()
            opt_critic.step()
            # 2) target encoder: fool the critic
            loss_tgt = bce(critic(tgt_encoder(xt)), torch.ones(xt.size(0), 1, device=xt.device))
            opt_tgt.zero_grad()
            loss_tgt.backward()
            opt_tgt.step()
            if step % params["log_step"] == 0:
                print(f"epoch {epoch} step {step} d={loss_critic.item():.3f} g={loss_tgt.item():.3f}")
    return tgt_encoder


def main(src_loader, tgt_loader):
    src_encoder = ResNetEncoder(pretrained=False)
    src_classifier = Classifier()
    ckpt = torch.load("snapshots/src_amazon.pt", map_location="cpu")
    src_encoder.load_state_dict(ckpt["encoder"])
    src_classifier.load_state_dict(ckpt["classifier"])
    tgt_encoder = copy.deepcopy(src_encoder)
    freeze(src_encoder)
    freeze(src_classifier)
    src_encoder, tgt_encoder = src_encoder.cuda(), tgt_encoder.cuda()
    critic = Critic().cuda()
    tgt_encoder = train_tgt(src_encoder, tgt_encoder, critic, src_loader, tgt_loader)
    save_model(tgt_encoder, "snapshots/tgt_webcam_encoder.pt")
