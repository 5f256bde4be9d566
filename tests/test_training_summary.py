"""The training-loop summary: the ordered events rules read."""

from __future__ import annotations

import textwrap

from gradlint.source.loops import summarize
from gradlint.source.unit import SourceUnit


def scopes_of(source: str):
    unit = SourceUnit.from_bytes("t.py", textwrap.dedent(source).encode())
    return summarize(unit).scopes


def kinds(scope) -> list[str]:
    return [event.kind for event in scope.events]


def test_amp_loop_events_in_execution_order():
    (scope,) = scopes_of("""
        scaler = torch.cuda.amp.GradScaler()
        for x, y in loader:
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast("cuda"):
                loss = loss_fn(model(x), y)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
    """)
    assert kinds(scope) == ["zero_grad", "forward", "loss", "scale", "backward", "unscale", "clip",
                            "step", "scaler_update", "scheduler_step"]
    step = scope.first("step")
    assert step.receiver == "optimizer" and step.node.lineno == 10
    assert scope.of("forward")[0].contexts == ("torch.autocast",)


def test_nested_loops_pick_the_inner_training_loop_and_remember_outer_zero_grad():
    (scope,) = scopes_of("""
        for epoch in range(3):
            opt.zero_grad()
            for x, y in loader:
                loss_fn(net(x), y).backward()
                opt.step()
    """)
    assert scope.kind == "for" and scope.node.lineno == 4
    assert [e.node.lineno for e in scope.outer_zero_grads] == [3]


def test_step_function_called_from_loop_is_inlined_not_reported_alone():
    (scope,) = scopes_of("""
        def train_step(batch):
            loss = model(batch).loss
            loss.backward()
            optimizer.step()

        for batch in loader:
            model.zero_grad()
            train_step(batch)
    """)
    assert scope.kind == "for"
    assert kinds(scope) == ["zero_grad", "forward", "loss", "backward", "step"]
    assert scope.of("backward")[0].via.lineno == 9


def test_accumulation_guard_and_loss_division_are_recorded():
    (scope,) = scopes_of("""
        for i, (x, y) in enumerate(loader):
            loss = loss_fn(model(x), y)
            loss = loss / accum
            loss.backward()
            if (i + 1) % accum == 0:
                optimizer.step()
                optimizer.zero_grad()
    """)
    assert "loss_div" in kinds(scope)
    step = scope.first("step")
    assert len(step.guards) == 1 and step.node.lineno == 7


def test_grad_none_loop_counts_as_zero_grad():
    (scope,) = scopes_of("""
        for x in loader:
            for p in model.parameters():
                p.grad = None
            model(x).sum().backward()
            optimizer.step()
    """)
    zero = scope.first("zero_grad")
    assert zero is not None and zero.receiver == "p" and zero.loop_depth == 1


def test_no_scope_without_backward_and_step():
    assert scopes_of("for x in loader:\n    model(x)\n") == []
    assert scopes_of("for x in loader:\n    model(x).sum().backward()\n") == []
