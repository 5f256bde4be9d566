"""## What it does
Reports a file that Python cannot parse (or decode), at the parser's line and column.

## Why is this bad?
A file that does not parse cannot be checked for any other problem, and it will
fail the moment the training job imports it. gradlint reports it as a finding and
goes on with the rest of the run; it never stops on one broken file.

## Example
```python
for batch in loader:
    loss = model(batch
```

## Use instead
```python
for batch in loader:
    loss = model(batch)
```

## Options
None.

## References
- [Python language reference: lexical analysis](https://docs.python.org/3/reference/lexical_analysis.html)
"""

from __future__ import annotations

from typing import Iterator

from gradlint.registry import Invalid, Report, Span, Valid
from gradlint.source.unit import SourceUnit

CODE = "GL001"
NAME = "syntax-error"
SEVERITY = "error"
SUMMARY = "File cannot be parsed"
SCOPE = "file"
FIXABLE = False
OPTIONS: dict = {}

VALID = [Valid("x = 1\n")]
INVALID = [
    Invalid("x = 1\ndef f(:\n    pass\n", line=2),
    Invalid("import torch\nfor x in y\n    pass\n", line=2),
]


def check(unit: SourceUnit, options: dict) -> Iterator[Report]:
    problem = unit.syntax_error
    if problem is None:
        return
    line = min(max(problem.line, 1), max(len(unit.lines), 1))
    column = problem.column
    yield Report(Span(line, column, line, column + 1), problem.message)
