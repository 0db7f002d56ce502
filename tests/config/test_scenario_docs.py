"""``docs/scenario.md`` stays complete and its example stays valid."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from edgesim.config import load_scenario
from edgesim.config.profiles import builtin_device_profiles, builtin_link_profiles
from edgesim.config.scenario import Scenario
from edgesim.runner import check_names

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario.md"


def models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in models_in(arg)]


def all_fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    if model in seen:
        return set()
    seen.add(model)
    names = set(model.model_fields)
    for field in model.model_fields.values():
        for inner in models_in(field.annotation):
            names |= all_fields(inner, seen)
    return names


def test_every_scenario_field_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    # a field is documented as `name`, or inside a dotted path such as `power_w.idle`
    missing = sorted(
        name
        for name in all_fields(Scenario, set())
        if not re.search(rf"`(?:[\w.]*\.)?{name}(?:\.[\w.]*)?`", text)
    )
    assert missing == []


def test_every_builtin_profile_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in builtin_link_profiles():
        assert f"| `{name}` |" in text, name
    for name in builtin_device_profiles():
        assert f"`{name}`" in text, name


def test_the_complete_example_is_valid(tmp_path: Path) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    examples = [b for b in blocks if re.search(r"^name:", b, re.M)]
    assert examples, "docs/scenario.md has no complete example"
    for i, example in enumerate(examples):
        path = tmp_path / f"example-{i}.yaml"
        path.write_text(example, encoding="utf-8")
        loaded = load_scenario(path)
        check_names(loaded)
        assert {s.scheme for s in loaded.scenario.schemes} == {
            "local",
            "centralized",
            "fedavg",
            "handoff",
        }
