"""Near miss: the scheduler is told the epoch explicitly at the start of it (no value is skipped),
and a warm-up scheduler runs after the step."""
import torch

optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=500)

for epoch in range(args.epochs):
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        output = net(data)
        loss = torch.nn.functional.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if epoch == 0:
            warmup.step()
