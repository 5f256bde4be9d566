"""More cases of the rules, one module per rule, named as the rule's module.

A rule module carries its own ``VALID`` and ``INVALID`` cases (Fixit-style): a
representative set, the ones that show what the rule means. Past a few screens of
cases, the rest (mostly the regressions real code taught it: each false alarm fixed and
each miss found gets a case) live here, in ``rules/cases/<the rule's module name>.py``,
as the same two lists of ``gradlint.registry.Case``. The tests run both sets alike
(``tests/rule_case_support.rule_cases``); ``gradlint explain`` shows the docstring only,
and the registry never loads these modules (it loads the ``gl*`` modules of ``rules/``).
"""
