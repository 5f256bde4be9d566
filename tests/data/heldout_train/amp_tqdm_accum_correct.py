"""Correct: AMP with accumulation, unscale_ and clip once per window, tqdm around the loader."""
import torch
from tqdm.auto import tqdm

scaler = torch.cuda.amp.GradScaler(enabled=args.fp16)
optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
scheduler = get_linear_schedule_with_warmup(optimizer, args.warmup_steps, args.total_steps)

model.train()
progress = tqdm(train_loader, total=len(train_loader))
for step, batch in enumerate(progress):
    with torch.cuda.amp.autocast(enabled=args.fp16):
        loss = model(**batch).loss
        loss = loss / args.gradient_accumulation_steps
    scaler.scale(loss).backward()
    if (step + 1) % args.gradient_accumulation_steps == 0 or step == len(train_loader) - 1:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        optimizer.zero_grad()
    progress.set_postfix(loss=loss.item())
