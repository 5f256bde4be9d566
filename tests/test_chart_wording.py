"""The terminal chart's wording: ordinals, sampling that keeps every kind of layer, the
log axis range, and a word for a layer with no gradient (no torch needed)."""

from __future__ import annotations

import pytest

from gradlint.probe.chart import ordinal, text_chart


def _gpt2_like() -> list[dict]:
    """51 weight layers as GPT-2 lists them: the two c_proj kinds sit at odd indices, so
    a stride of 2 alone never shows them."""
    layers = [{"name": "transformer.wte", "type": "Embedding"}, {"name": "transformer.wpe", "type": "Embedding"}]
    for block in range(12):
        for part in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"):
            layers.append({"name": f"transformer.h.{block}.{part}", "type": "Conv1D"})
    layers.append({"name": "lm_head", "type": "Linear"})
    for index, layer in enumerate(layers):
        layer.update(grad_norm=10.0 ** (-index / 10), backward_signal=0.01)
    return layers


def _chart(layers: list[dict]) -> str:
    probe = {"device": "cpu", "dtype": "float32", "input": "int64[8,64]", "loss": "cross-entropy", "steps": 1,
             "global_grad_norm": 1.0, "layers": layers}
    return text_chart({"name": "gpt2", "probe": probe})


@pytest.mark.parametrize("number, word", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                                          (12, "12th"), (13, "13th"), (21, "21st"), (22, "22nd"), (102, "102nd")])
def test_ordinals(number, word):
    assert ordinal(number) == word


def test_sampled_chart_keeps_one_of_each_kind_and_says_how_it_sampled():
    chart = _chart(_gpt2_like())
    assert "(29 of 51 layers: every 2nd, the last, and the first of each kind of layer)" in chart
    rows = [line.split("|")[0].split() for line in chart.splitlines() if "|" in line]
    names = [row[0] for row in rows]
    assert "transformer.h.0.attn.c_proj" in names and "transformer.h.0.mlp.c_proj" in names
    assert "transformer.h.1.attn.c_proj" not in names  # one of each kind, not every copy
    assert names[0] == "transformer.wte" and names[-1] == "lm_head" and len(rows) == 29
    assert names == sorted(names, key=[l["name"] for l in _gpt2_like()].index)  # forward order kept


def test_log_axis_range_is_in_the_header():
    layers = [{"name": str(i), "type": "Linear", "grad_norm": value, "backward_signal": 1.0}
              for i, value in enumerate((1e-6, 1e-3, 1.0))]
    header = _chart(layers).splitlines()[1]
    assert header.startswith("  gradient norm by layer (log scale, 5.01e-07 to 1)")


def test_a_layer_with_zero_gradient_gets_a_word_not_an_empty_bar():
    layers = [{"name": "branch.conv1", "type": "Conv2d", "grad_norm": 0.0, "backward_signal": 0.0},
              {"name": "branch.conv2", "type": "Conv2d", "grad_norm": 0.5, "backward_signal": 0.1},
              {"name": "fc", "type": "Linear", "grad_norm": None, "backward_signal": None}]
    rows = [line for line in _chart(layers).splitlines() if "|" in line]
    assert rows[0].split("|")[1].strip() == "(zero gradient)"
    assert rows[2].split("|")[1].strip() == "(not measured)"
    assert rows[1].split("|")[1].strip().startswith("█")
