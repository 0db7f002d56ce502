"""``docs/scenario.md`` stays complete and its example stays valid."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, TypeAdapter, ValidationError

from edgesim.config import load_scenario
from edgesim.config.base import MAX_STRING
from edgesim.config.names import Name
from edgesim.config.profiles import builtin_device_profiles, builtin_link_profiles
from edgesim.config.scenario import Scenario
from edgesim.runner import check_names

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario.md"


RECORDS = {("DeviceProfile", "calibration")}
"""Fields a tool writes, not a user (a profile's calibration record, documented in
edgesim/device_profiles/README.md): not scenario settings, so not in docs/scenario.md."""


def settings_of(model: type[BaseModel]) -> dict[str, Any]:
    return {n: f for n, f in model.model_fields.items() if (model.__name__, n) not in RECORDS}


def models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in models_in(arg)]


def all_fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    if model in seen:
        return set()
    seen.add(model)
    names = set(settings_of(model))
    for field in settings_of(model).values():
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


# --------------------------------------------------------------------------- bounds

BOUND_KEYWORDS = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "maxLength")
LENGTH_KEYWORDS = ("minItems", "maxItems")  # of a list; a tuple's length is its type
SEPARATORS = ("", " ", ",")  # 1000000, 1 000 000, 1,000,000


def schema_bounds(schema: dict[str, Any]) -> set[float]:
    """The numbers of every bound in one property's schema, through ``anyOf`` and items."""
    keywords = BOUND_KEYWORDS + (() if "prefixItems" in schema else LENGTH_KEYWORDS)
    found = {schema[k] for k in keywords if k in schema}
    for inner in [*schema.get("anyOf", []), *schema.get("prefixItems", [])]:
        found |= schema_bounds(inner)
    if isinstance(schema.get("items"), dict):
        found |= schema_bounds(schema["items"])
    return found


def longest_name() -> int:
    """The most characters a :data:`Name` may have, found by trying (the rule is a regex)."""
    adapter = TypeAdapter(Name)
    n = 1
    while n < MAX_STRING:
        try:
            adapter.validate_python("a" * (n + 1))
        except ValidationError:
            return n
        n += 1
    return n


def all_models(model: type[BaseModel], seen: list[type[BaseModel]]) -> list[type[BaseModel]]:
    if model not in seen:
        seen.append(model)
        for field in settings_of(model).values():
            for inner in models_in(field.annotation):
                all_models(inner, seen)
    return seen


def expected_bounds() -> list[tuple[str, str, set[float]]]:
    """(model, field, numbers its docs row must state) for every bounded field of a scenario."""
    schema = Scenario.model_json_schema()
    settings = {model.__name__ for model in all_models(Scenario, [])}
    models = {"Scenario": schema, **{k: v for k, v in schema["$defs"].items() if k in settings}}
    expected = [
        (model, field, schema_bounds(prop))
        for model, spec in models.items()
        for field, prop in spec.get("properties", {}).items()
    ]
    # a Name's rule is a validator, which the JSON schema cannot show: add its length
    name_rule = get_args(Name)[1]
    names = {
        (model.__name__, field)
        for model in all_models(Scenario, [])
        for field, info in settings_of(model).items()
        if name_rule in info.metadata
    }
    assert names, "no field is a Name any more: drop this part of the check"
    limit = longest_name()  # newer pydantic also shows the base's looser MAX_STRING: not the rule
    expected = [
        (m, f, (b - {MAX_STRING}) | {limit} if (m, f) in names else b) for m, f, b in expected
    ]
    return [(m, f, b) for m, f, b in expected if b]


def spellings(number: float) -> set[str]:
    """How docs/scenario.md may write a bound: 4096, 10 000 (or 10,000), 1e9 (or 1e+09), 0.001."""
    found = set()
    if float(number).is_integer():
        digits = str(int(number))
        head = len(digits) % 3 or 3
        groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
        found |= {sep.join(groups) for sep in SEPARATORS}
    else:
        found.add(repr(float(number)))
    mantissa, exponent = f"{number:e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    found |= {f"{mantissa}e{int(exponent)}", f"{mantissa}e{exponent}"}
    return found


def states(cell: str, number: float) -> bool:
    """The cell writes ``number`` as a whole number (``1`` is not found in ``1 000`` or ``1e9``)."""
    return any(
        re.search(rf"(?<![\w.,+\-−])(?<!\d ){re.escape(s)}(?![\w]|[.,]\d| \d)", cell)
        for s in spellings(number)
    )


def bounds_cells() -> dict[str, list[str]]:
    """The bounds cell of every row of a docs table with a bounds column, by its field.

    A row documents the field its first cell names alone: `` `rounds` ``, or the last part
    of a dotted path such as `` `power_w.idle` `` or `` `subsets.<name>.labels` ``.
    """
    cells: dict[str, list[str]] = defaultdict(list)
    column = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            column = None
            continue
        row = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if column is None:
            column = row.index("bounds") if "bounds" in row else -1
        elif column >= 0 and (field := re.fullmatch(r"`([^`]+)`", row[0])):
            cells[field[1].split(".")[-1]].append(row[column])
    return cells


def test_spellings_of_a_bound() -> None:
    assert states("1 to 1 000 000", 1_000_000) and states("≤ 1,000,000", 1e6)
    assert states("> 0, ≤ 1e9", 1e9) and states("≤ 1e+09", 1e9) and states("0.001 to 1", 1e-3)
    assert states("0 to 4 294 967 295 (2³²−1)", 2**32 - 1)
    assert not states("1 to 1 000 000", 1000) and not states("≤ 1e9", 9)
    assert not states("at most 10 000", 100) and not states("≤ 1e13", 1)


def test_every_bound_is_in_the_docs() -> None:
    """Each bounded field has a row whose bounds cell states every number of its range.

    A field name used by several models (``epochs``, ``rounds``, ``horizon_s``) has a row
    in each section; any one of them that states that model's range will do.
    """
    cells = bounds_cells()
    wrong = [
        f"{model}.{field}: no row of `{field}` states {sorted(bounds)}: {cells.get(field, [])}"
        for model, field, bounds in expected_bounds()
        if not any(all(states(cell, b) for b in bounds) for cell in cells.get(field, []))
    ]
    assert wrong == []
