"""## What it does
Checks gradient-accumulation loops (a step every k micro-batches, or
`accelerator.accumulate(model)`) of sequence models whose loss is a *token-level
mean* per micro-batch: `cross_entropy`/`CrossEntropyLoss` with the default
`reduction="mean"` and an `ignore_index` for padding (`-100`, a padding id, or in a
file that speaks of tokens, embeddings, RNNs or transformers; segmentation's void
label over pixels is not flagged), or the `.loss` a Hugging Face
language model (`...ForCausalLM`, `...LMHeadModel`, `...ForMaskedLM`,
`...ForConditionalGeneration`, `...ForTokenClassification`) returns. A loss summed
with `reduction="sum"` and divided by the window's token count is accepted. Only where
the token count can vary between micro-batches: the file pads (a padding collator,
`pad_sequence`, `padding=True`), masks (`attention_mask`, a padding id) or ignores
labels (`ignore_index`, `-100`). Texts packed into fixed blocks (`group_texts` with
`default_data_collator`, as `run_clm` does, or a `PackedDataset`) give every micro-batch the same count, and
the per-micro-batch mean is then exact.

## Why is this bad?
Each micro-batch's mean divides by *its own* number of real tokens. Averaging those
means over the window weights a token in a short, heavily padded micro-batch more
than a token in a long one, so the accumulated gradient is not the gradient of the
big batch it stands for; the error grows with the spread of sequence lengths and
with k. Hugging Face Transformers shipped this bug in its Trainer until late 2024
(the "gradient accumulation fix", which sums the loss and divides by
`num_items_in_batch`).

## Example
```python
for step, batch in enumerate(loader):
    logits = model(batch["input_ids"])
    loss = F.cross_entropy(logits.view(-1, vocab), batch["labels"].view(-1), ignore_index=-100)
    (loss / accum).backward()
    if (step + 1) % accum == 0:
        optimizer.step()
        optimizer.zero_grad()
```

## Use instead
```python
for step, batch in enumerate(loader):
    if step % accum == 0:
        window_tokens = count_tokens(loader_window)  # real tokens in the k micro-batches
    logits = model(batch["input_ids"])
    loss = F.cross_entropy(logits.view(-1, vocab), batch["labels"].view(-1), ignore_index=-100, reduction="sum")
    (loss / window_tokens).backward()
    if (step + 1) % accum == 0:
        optimizer.step()
        optimizer.zero_grad()
```

## Options
None.

## References
- [Hugging Face: fixing gradient accumulation (2024)](https://huggingface.co/blog/gradient_accumulation)
- [`torch.nn.functional.cross_entropy`](https://pytorch.org/docs/stable/generated/torch.nn.functional.cross_entropy.html)
"""

from __future__ import annotations

import ast
import re
from typing import Iterator, Optional

from gradlint.registry import Invalid, Report, Valid
from gradlint.source.accumulation import backward_loss, find_accumulation, loss_assignments
from gradlint.source.loops import BACKWARD, Scope, TrainingSummary
from gradlint.source.names import dotted

CODE = "GL205"
NAME = "accumulation-token-mean"
SEVERITY = "warning"
SUMMARY = "A per-micro-batch token-mean loss is accumulated: tokens are weighted unevenly across the window"
SCOPE = "loop"
FIXABLE = False
OPTIONS: dict = {}

_LANGUAGE_MODEL = re.compile(r"For(CausalLM|MaskedLM|Seq2SeqLM|ConditionalGeneration|TokenClassification)\b|LMHeadModel\b")
# the loss is already normalised over the window (transformers' own spelling of the fix)
_WINDOW_NORMALISED = re.compile(r"num_items_in_batch|num_tokens_in_window|tokens_in_window")
# evidence that the token count varies between micro-batches: padding, masks, ignored labels
_PADDING = re.compile(
    r"pad_sequence|DataCollatorWithPadding|DataCollatorFor(Seq2Seq|TokenClassification|LanguageModeling)"
    r"|\bpadding\s*=\s*(True|[\"'](longest|max_length))"
)
_VARYING_COUNTS = re.compile(_PADDING.pattern + r"|pad_token_id|\bpad_(id|idx|index)\b|attention_mask|ignore_index|-100")
# texts concatenated and cut into fixed blocks (run_clm's group_texts + default_data_collator)
_PACKED_BLOCKS = re.compile(r"default_data_collator|\bgroup_texts\b|\bPacked\w*Dataset\b")
# what tells a sequence model's training code from, say, segmentation with a void label
# (ignore_index=255 over pixels), where the counted elements vary far less
_SEQUENCE_HINTS = re.compile(
    r"Embedding|input_ids|attention_mask|\b(LSTM|GRU|RNN)(Cell)?\b|Transformer|[Tt]oken|[Vv]ocab|\bseq(uence)?_?len|\bpad(_?(id|idx|index|token|token_id))?\b"
)

VALID = [
    Valid(  # texts packed into fixed blocks: every micro-batch holds block_size tokens
        """
from transformers import AutoModelForCausalLM, default_data_collator
model = AutoModelForCausalLM.from_pretrained("gpt2")
blocks = tokenized.map(group_texts, batched=True)
loader = DataLoader(blocks, batch_size=4, collate_fn=default_data_collator)
for batch in loader:
    with accelerator.accumulate(model):
        loss = model(**batch).loss
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
    Valid(  # a packed dataset: the -1 label is defensive, every block is full
        """
import torch.nn.functional as F
data = PackedDataset(shards, block_size=2048)
for i, batch in enumerate(loader):
    logits = model(batch[:, :-1])
    loss = F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten(), ignore_index=-1)
    (loss / 4).backward()
    if (i + 1) % 4 == 0:
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
    Valid(  # nothing says the token count varies: no padding, mask or ignored label
        """
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained("gpt2")
for batch in loader:
    with accelerator.accumulate(model):
        loss = model(**batch).loss
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
    Valid(  # classification: every micro-batch holds the same number of examples
        """
import torch.nn.functional as F
for i, (x, y) in enumerate(loader):
    loss = F.cross_entropy(model(x), y) / 4
    loss.backward()
    if (i + 1) % 4 == 0:
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
    Valid(  # summed and divided by the window's tokens
        """
import torch.nn.functional as F
for i, batch in enumerate(loader):
    logits = model(batch["input_ids"])
    loss = F.cross_entropy(logits.flatten(0, 1), batch["labels"].flatten(), ignore_index=-100, reduction="sum")
    (loss / window_tokens).backward()
    if (i + 1) % 4 == 0:
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
    Valid(  # segmentation with a void label: pixels, not a sequence model's tokens
        """
import torch.nn.functional as F
model = nn.Conv2d(3, 21, 3, padding=1)
for i, (images, masks) in enumerate(loader):
    loss = F.cross_entropy(model(images), masks, ignore_index=255)
    (loss / 4).backward()
    if (i + 1) % 4 == 0:
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
    Valid(  # token mean without accumulation is fine
        """
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained("gpt2")
for batch in loader:
    loss = model(**batch).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
"""
    ),
]
INVALID = [
    Invalid(
        """
from transformers import AutoModelForCausalLM, DataCollatorWithPadding
model = AutoModelForCausalLM.from_pretrained("gpt2")
loader = DataLoader(texts, batch_size=4, collate_fn=DataCollatorWithPadding(tokenizer))
for batch in loader:
    with accelerator.accumulate(model):
        outputs = model(**batch)
        loss = outputs.loss
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
""",
        line=8,
    ),
    Invalid(
        """
import torch
criterion = torch.nn.CrossEntropyLoss(ignore_index=pad_id)
for step, (src, tgt) in enumerate(loader):
    logits = model(src)
    loss = criterion(logits.view(-1, logits.size(-1)), tgt.view(-1)) / accum
    loss.backward()
    if (step + 1) % accum == 0:
        optimizer.step()
        optimizer.zero_grad()
""",
        line=6,
    ),
]


def check(summary: TrainingSummary, options: dict) -> Iterator[Report]:
    text = summary.unit.text
    if _WINDOW_NORMALISED.search(text) or not _VARYING_COUNTS.search(text):
        return
    if _PACKED_BLOCKS.search(text) and not _PADDING.search(text):
        return  # texts packed into fixed blocks: every micro-batch has the same token count
    for scope in summary.scopes:
        if find_accumulation(scope) is None:
            continue
        for event in scope.of(BACKWARD):
            found = _token_mean(summary, scope, event)
            if found is not None:
                node, what = found
                yield Report(
                    summary.unit.span(node),
                    f"{what} is a mean over each micro-batch's own tokens, accumulated over the window: "
                    f"tokens in short micro-batches weigh more; sum the loss (reduction=\"sum\") and "
                    f"divide by the number of tokens in the whole accumulation window",
                )
                break


def _token_mean(summary: TrainingSummary, scope: Scope, event) -> Optional[tuple[ast.expr, str]]:
    loss = backward_loss(event)
    if loss is None:
        return None
    sources: list[ast.AST] = [loss]
    for name in {node.id for node in ast.walk(loss) if isinstance(node, ast.Name) and "loss" in node.id.lower()}:
        assignments = loss_assignments(scope, name, event, summary.unit.tree)  # type: ignore[arg-type]
        if any(_reweights(stmt) for stmt in assignments):
            return None  # multiplied by a count: normalised by hand
        sources += [stmt.value for stmt in assignments
                    if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and stmt.value is not None]
    for expr in sources:
        for node in ast.walk(expr):
            if isinstance(node, ast.Call) and _is_token_mean_criterion(summary, node):
                return node, "the cross-entropy loss (reduction=\"mean\" with ignore_index)"
            if isinstance(node, ast.Attribute) and node.attr == "loss" and _LANGUAGE_MODEL.search(summary.unit.text):
                return node, "the language model's .loss"
    return None


def _is_token_mean_criterion(summary: TrainingSummary, call: ast.Call) -> bool:
    callee = summary.names.qualify(call.func) or ""
    if callee.endswith("cross_entropy"):
        keywords = {k.arg: k.value for k in call.keywords}
    else:
        binding = summary.names.bindings.get(dotted(call.func) or "")
        if binding is None or not (binding.call or "").endswith("CrossEntropyLoss"):
            return False
        keywords = {k.arg: k.value for k in binding.node.keywords}  # type: ignore[attr-defined]
    reduction = keywords.get("reduction")
    mean = reduction is None or (isinstance(reduction, ast.Constant) and reduction.value == "mean")
    return "ignore_index" in keywords and mean and _sequence_model(summary, keywords["ignore_index"])


def _sequence_model(summary: TrainingSummary, ignore_index: ast.AST) -> bool:
    """-100 (the token convention of Hugging Face and torch's default), a padding id, or
    a file that speaks of tokens, embeddings, recurrent layers or transformers."""
    if isinstance(ignore_index, ast.UnaryOp) and isinstance(ignore_index.operand, ast.Constant):
        if ignore_index.operand.value == 100:
            return True  # a negative label of its own (-1: nanoGPT and lit-llama) says padding only with the hints
    if "pad" in (dotted(ignore_index) or "").lower():
        return True
    return bool(_SEQUENCE_HINTS.search(summary.unit.text))


def _reweights(stmt: ast.stmt) -> bool:
    """``loss = loss * n_tokens / total``: multiplied by something that is not a constant."""
    value = getattr(stmt, "value", None)
    op = getattr(stmt, "op", None)
    if isinstance(stmt, ast.AugAssign):
        return isinstance(op, ast.Mult) and not isinstance(value, ast.Constant)
    return any(
        isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)
        and not isinstance(node.right, ast.Constant) and not isinstance(node.left, ast.Constant)
        for node in ast.walk(value) if value is not None
    ) if value is not None else False
