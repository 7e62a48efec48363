"""The bad-input corpus: hostile and malformed execution inputs, kept as data in corpus/*.json.

Each file is `{"description": ..., "cases": [case, ...]}`; a case is
```
{"id": "tag-semicolon",                    unique; part of the execution name
 "why": "what makes it hostile",
 "input": <any JSON>,                      the execution input, or instead:
 "base": "ecr-push" | "manual",            a deployable input of the emulated world ...
 "merge": {...},                           ... with these fields changed ("$delete" removes one)
 "error": "InvalidInput",                  the error Resolve fails with (ImageNotFound: a well-formed
                                           tag or digest the repository does not hold)
 "reason": "image_tag: String should"}     a substring of the one-line reason
```
Large or deep values are written as generators: `{"$repeat": "x", "times": n}` ("x" * n; with
`"as": "list"`, n copies in a list), `{"$keys": "k", "times": n}` (an object with keys k0..kn-1),
`{"$nest": value, "depth": n}` (value inside n lists; with `"key": "k"`, inside n objects).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).with_name("corpus")
DELETE = "$delete"


@dataclass(frozen=True)
class Case:
    id: str
    why: str
    error: str
    reason: str
    file: str
    raw: Mapping[str, Any]

    def build(self, bases: Mapping[str, Any]) -> Any:
        """The execution input: generators expanded, merged over its base if it has one."""
        if "base" in self.raw:
            return _merge(copy.deepcopy(bases[self.raw["base"]]), _expand(self.raw["merge"]))
        return _expand(self.raw["input"])


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CORPUS_DIR.glob("*.json")):
        for raw in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            cases.append(
                Case(id=raw["id"], why=raw["why"], error=raw["error"], reason=raw["reason"], file=path.name, raw=raw)
            )
    return cases


def _expand(value: Any) -> Any:
    if isinstance(value, list):
        return [_expand(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$repeat" in value:
        item, times = _expand(value["$repeat"]), int(value["times"])
        return [item] * times if value.get("as") == "list" else item * times
    if "$keys" in value:
        return {f"{value['$keys']}{i}": i for i in range(int(value["times"]))}
    if "$nest" in value:
        nested = _expand(value["$nest"])
        for _ in range(int(value["depth"])):
            nested = {value["key"]: nested} if "key" in value else [nested]
        return nested
    return {key: _expand(item) for key, item in value.items()}


def _merge(target: Any, changes: Mapping[str, Any]) -> Any:
    for key, change in changes.items():
        if change == DELETE:
            target.pop(key, None)
        elif isinstance(change, dict) and isinstance(target.get(key), dict):
            _merge(target[key], change)
        else:
            target[key] = change
    return target
