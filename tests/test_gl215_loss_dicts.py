"""GL215 on a loss taken from a dict of losses by a constant key (synthetic held-out set
/work/heldout57, tweet_sentiment, in our own words): ``losses["nll"](probs, y)`` with the
model's forward ending in softmax."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project


LOSS_DICT = """\
    import torch
    from torch import nn
    import torch.nn.functional as F


    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.out = nn.Linear(32, 3)

        def forward(self, x):
            return F.{ending}(self.out(x), dim=-1)


    losses = {{"nll": nn.NLLLoss(), "mse": nn.MSELoss()}}
    model = Tagger()
    optimizer = torch.optim.Adam(model.parameters())
    for x, y in []:
        optimizer.zero_grad()
        loss = losses["nll"](model(x), y)
        loss.backward()
        optimizer.step()
"""


def test_a_loss_taken_from_a_dict_by_a_constant_key(tmp_path: Path) -> None:
    write_project(tmp_path, {"soft.py": LOSS_DICT.format(ending="softmax"),
                             "logsoft.py": LOSS_DICT.format(ending="log_softmax")})
    [finding] = lint_in_process(tmp_path / "soft.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 20)
    assert "this line feeds it to NLLLoss, which expects log-probabilities" in finding.message
    assert lint_in_process(tmp_path / "logsoft.py", "GL215") == []
