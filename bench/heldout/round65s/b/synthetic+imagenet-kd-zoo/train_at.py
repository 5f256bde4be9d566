"""Attention-transfer distillation with a plain loop (no wrapper module)."""
import torch
import torch.nn.functional as F
import torchvision.models as models


def attention_map(feat, p=2):
    return F.normalize(feat.pow(p).mean(1).flatten(1))


def at_loss(f_s, f_t):
    return (attention_map(f_s) - attention_map(f_t)).pow(2).mean()


def stage_features(net, x):
    x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
    feats = []
    for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
        x = layer(x)
        feats.append(x)
    logits = net.fc(torch.flatten(net.avgpool(x), 1))
    return feats, logits


def run(loader, epochs=90, beta=1e3, device="cuda"):
    teacher = models.resnet34(weights="IMAGENET1K_V1").to(device)
    for p in teacher.parameters():
        p.requires_grad = False
    student = models.resnet18(num_classes=1000).to(device)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)

    for epoch in range(epochs):
        student.train()
        teacher.eval()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            feats_s, logits_s = stage_features(student, x)
            with torch.no_grad():
                feats_t, _ = stage_features(teacher, x)
            loss = F.cross_entropy(logits_s, y)
            loss = loss + beta / 2 * sum(at_loss(a, b) for a, b in zip(feats_s[1:], feats_t[1:]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return student
