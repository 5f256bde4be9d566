import torch
import torch.nn.functional as F

from utils import evaluate


class KDTrainer:
    def __init__(self, student, teacher, train_loader, val_loader, epochs=100, lr=0.01,
                 temperature=4.0, alpha=0.7, device="cuda"):
        self.student = student.to(device)
        self.teacher = teacher.to(device)
        self.teacher.eval()
        self.train_loader, self.val_loader = train_loader, val_loader
        self.epochs, self.T, self.alpha, self.device = epochs, temperature, alpha, device
        self.optimizer = torch.optim.SGD(self.student.parameters(), lr=lr, momentum=0.9,
                                         weight_decay=5e-4)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, epochs)

    def distill_loss(self, s_logits, t_logits, y):
        soft = F.kl_div(F.log_softmax(s_logits / self.T, 1), F.softmax(t_logits / self.T, 1),
                        reduction="batchmean") * self.T ** 2
        return self.alpha * soft + (1 - self.alpha) * F.cross_entropy(s_logits, y)

    def fit(self):
        best = 0.0
        for epoch in range(self.epochs):
            self.student.train()
            for x, y in self.train_loader:
                x, y = x.to(self.device), y.to(self.device)
                with torch.no_grad():
                    t_logits = self.teacher(x)
                loss = self.distill_loss(self.student(x), t_logits, y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            self.scheduler.step()
            best = max(best, evaluate(self.student, self.val_loader, self.device))
            print(f"epoch {epoch}: best student top-1 {best:.2f}")
        return best
