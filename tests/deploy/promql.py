"""Just enough PromQL reading for the deploy tests: which metric names and label matchers an
expression uses. Not a parser: strings, label matchers, ranges, grouping clauses and function
calls are removed, and what is left that looks like an identifier is a metric name."""

from __future__ import annotations

import re

#: Aggregations, keywords and operators that look like identifiers.
KEYWORDS = frozenset({
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
    "offset", "atan2", "inf", "nan",
})  # fmt: skip
_SELECTOR = re.compile(r"(?<![\w:$])([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r'([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w:$.])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()")


def _strip_variables(expr: str) -> str:
    """Grafana variables (``$job``, ``${datasource}``, ``$__rate_interval``) become a neutral token."""
    return re.sub(r"\$\{[^}]*\}|\$\w+", "1m", expr)


def selectors(expr: str) -> list[tuple[str, dict[str, str]]]:
    """(metric, {label: value}) for every ``metric{...}`` selector in ``expr``."""
    out = []
    for name, body in _SELECTOR.findall(expr):
        out.append((name, {label: value for label, _, value in _MATCHER.findall(body)}))
    return out


def metric_names(expr: str) -> set[str]:
    """Metric names referenced by ``expr``."""
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _GROUPING.sub(" ", _strip_variables(text))
    return {name for name in _IDENT.findall(text) if name not in KEYWORDS}
