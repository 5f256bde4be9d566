import torch
import torch.nn.functional as F


def byol_loss(p, z):
    return 2 - 2 * F.cosine_similarity(p, z.detach(), dim=-1).mean()


class BYOLTrainer:
    def __init__(self, model, optimizer, device="cuda"):
        self.model = model.to(device)
        self.optimizer = optimizer
        self.device = device

    def train_epoch(self, loader):
        self.model.train()
        for (v1, v2), _ in loader:
            p1, p2, z1, z2 = self.model(v1.to(self.device), v2.to(self.device))
            loss = byol_loss(p1, z2) + byol_loss(p2, z1)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.model.update_target()


class SEEDTrainer:
    """Self-supervised distillation: a small student matches the similarity distribution
    of a big pre-trained teacher over a queue of teacher embeddings."""

    def __init__(self, student, teacher, queue_size=65536, t_s=0.2, t_t=0.01, device="cuda"):
        self.student = student.to(device)
        self.teacher = teacher.to(device)
        self.optimizer = torch.optim.SGD(self.student.parameters(), lr=0.03, momentum=0.9,
                                         weight_decay=1e-4)
        self.queue = F.normalize(torch.randn(queue_size, 256, device=device), dim=1)
        self.t_s, self.t_t = t_s, t_t
        self.device = device

    def step(self, x):
        z_s = F.normalize(self.student(x), dim=1)
        with torch.no_grad():
            z_t = F.normalize(self.teacher(x), dim=1)
        logits_s = torch.cat([(z_s * z_t).sum(1, keepdim=True), z_s @ self.queue.t()], dim=1)
        logits_t = torch.cat([(z_t * z_t).sum(1, keepdim=True), z_t @ self.queue.t()], dim=1)
        loss = -(F.softmax(logits_t / self.t_t, 1) * F.log_softmax(logits_s / self.t_s, 1)).sum(1).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.queue = torch.cat([z_t, self.queue[:-z_t.size(0)]])
        return loss.item()

    def train_epoch(self, loader):
        self.student.train()
        for x, _ in loader:
            self.step(x.to(self.device))
