"""The registry of training schemes: the one list the schema, ``validate``, the runner and the
contract tests read.

A built-in scheme is its protocol module (``edgesim/schemes/<name>.py``), its
settings model (:mod:`edgesim.config.scheme_settings`) and one entry of
:data:`BUILT_IN` below, in the order ``docs/schemes.md`` lists them. The registry
lives with the configuration, below the protocols, so that a scenario is
validated without importing torch: a built-in names its protocol as
``module:function``, imported when a run starts.

A scheme registered later (a plugin, through :func:`register_scheme`) is
accepted too: the scenario's scheme union is built from the registry when this
module is imported, and each entry of ``schemes:`` is looked up in the
registry as it is validated, so a newer name goes to its own settings model.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import Field, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import PydanticCustomError

from edgesim import plugins
from edgesim.config.scheme_settings import (
    AsyncDistillFLScheme,
    CentralizedScheme,
    DeepEdgeScheme,
    DistillFLScheme,
    EcavgScheme,
    FedAsyncScheme,
    FedAvgPartialScheme,
    FedAvgScheme,
    FedBuffScheme,
    FedCSScheme,
    FedProxScheme,
    GearScheme,
    HandoffScheme,
    LocalScheme,
    OortScheme,
    SchemeBase,
    SwitchAt,
    TiFLScheme,
)
from edgesim.errors import ConfigError, EdgesimError, did_you_mean

if TYPE_CHECKING:
    from edgesim.schemes.runtime import Process, Runtime

SchemeProtocol = Callable[["Runtime", Any], "Process"]
"""``run(rt, settings)``: the scheme's protocol, a SimPy process on the runtime facade."""


@dataclass(frozen=True)
class SchemeInfo:
    """What edgesim knows of a scheme before running it; the flags drive checks and tests.

    The name is the settings model's ``scheme`` literal, so the two cannot disagree.
    """

    settings: type[SchemeBase]
    run: str | SchemeProtocol
    """The protocol, or ``"module:function"`` naming it (imported when a run starts)."""
    description: str
    """One line, as a listing of the schemes shows it."""
    source: str = ""
    """The paper or seed section the protocol implements."""
    needs_server: bool = True
    """It works with the device of ``role: server``: a scenario without one is refused."""
    trains_on_server_data: bool | Callable[[Any], bool] = False
    """It trains on data the server holds (``server_share`` or ``server_copies``), checked
    as the scenario loads; a callable decides from the scheme's settings."""
    server_data_instead: str = ""
    """Another way out that problem names, e.g. ``server_data: uploaded``."""
    distils_on_server_data: bool = False
    """It distils on the server's data (seeds 003/004), checked by the pre-flight."""
    validates_on_client_data: bool = False
    """Its clients validate on their own validation data (``data.validation_fraction`` > 0),
    checked by the pre-flight: without any, every accuracy it decides by would read 0."""
    uses_small_model: bool = False
    """It trains ``training.small_model``; its run records a ``small`` curve."""
    asynchronous: bool = False
    """Clients pull, train and push on their own, with no rounds: an update that fails is
    lost, and each one is weighted by its staleness."""
    global_model: bool = True
    """Targets are judged on one ``global`` model, else on the mean of the devices' own."""
    planned_steps: str | Callable[[Any, Any], int] | None = None
    """For a scheme that no ``rounds`` or ``updates`` setting counts (it runs epochs): the
    training steps a run takes without failures, ``planned_steps(runtime, settings)`` or
    ``"module:function"`` naming it; the progress bar's total."""
    timing_only: bool | str | Callable[[Any], bool | str] = (
        "its SchemeInfo does not declare timing_only=True"
    )
    """True if its timing (every span, byte and joule) never depends on accuracy, so a
    timing-only run gives a real run's timeline; else why not, which the refusal shows.
    A callable decides from the scheme's settings."""
    name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _scheme_name(self.settings))
        if not (callable(self.run) or (isinstance(self.run, str) and ":" in self.run)):
            raise EdgesimError(
                f"scheme '{self.name}': run must be the protocol or 'module:function', "
                f"got {self.run!r}"
            )
        if not self.description.strip() or "\n" in self.description:
            raise EdgesimError(f"scheme '{self.name}': description must be one line")

    def start(self, rt: Runtime, settings: SchemeBase) -> Process:
        """The protocol's process for one run."""
        return _resolved(self.run)(rt, settings)

    def steps_planned(self, rt: Runtime, settings: SchemeBase) -> int | None:
        """The training steps a run takes without failures, if the scheme says (else None)."""
        planned = self.planned_steps
        return None if planned is None else _resolved(planned)(rt, settings)

    def why_not_timing_only(self, settings: SchemeBase) -> str | None:
        """Why, with these settings, it cannot run timing-only; ``None`` if it can."""
        rule = self.timing_only
        verdict = rule(settings) if callable(rule) else rule
        if verdict is True:
            return None
        return verdict or "its timing depends on accuracy"

    def trains_on_server_data_with(self, settings: SchemeBase) -> bool:
        """Whether, with these settings, it trains on the server's data."""
        rule = self.trains_on_server_data
        return rule(settings) if callable(rule) else rule


def _resolved(function: str | Callable) -> Callable:
    """``function`` itself, or the function a ``"module:function"`` reference names."""
    if not isinstance(function, str):
        return function
    module, _, name = function.partition(":")
    return getattr(importlib.import_module(module), name)


def _scheme_name(settings: object) -> str:
    """The name a settings model pins with ``scheme: Literal["<name>"]``, else why it cannot."""
    if not (isinstance(settings, type) and issubclass(settings, SchemeBase)):
        raise EdgesimError(
            f"scheme settings must be a subclass of edgesim.schemes.SchemeBase, got {settings!r}"
        )
    scheme = settings.model_fields.get("scheme")
    annotation = scheme.annotation if scheme is not None else None
    names = get_args(annotation) if get_origin(annotation) is Literal else ()
    if len(names) != 1 or not isinstance(names[0], str) or not names[0]:
        raise EdgesimError(
            f"{settings.__name__}: a scheme's settings name it in a field "
            "scheme: Literal['<name>'] of one non-empty string"
        )
    return names[0]


def register_scheme(info: SchemeInfo) -> None:
    """Add a scheme (a plugin's); its name must be new."""
    if not isinstance(info, SchemeInfo):
        raise EdgesimError(f"register_scheme takes a SchemeInfo, got {type(info).__name__}")
    if info.name in SCHEMES:
        raise EdgesimError(f"scheme '{info.name}' is already registered")
    SCHEMES[info.name] = info


def with_plugin_schemes(data: Any, base_dir: Path, source: str) -> Any:
    """The scenario data with each user scheme it names registered, and named by its own name.

    An entry of ``schemes:`` may name a scheme by reference (``fedprox.py:SCHEME``,
    ``package.module:SCHEME``, relative to ``base_dir``) or by an ``edgesim.schemes``
    entry point; the object found is a :class:`SchemeInfo`, registered in this
    process (a sweep's worker does this again) before the scenario is validated.
    """
    entries = data.get("schemes") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return data
    problems, resolved = [], []
    for i, entry in enumerate(entries):
        name = entry.get("scheme") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name in SCHEMES:
            resolved.append(entry)
            continue
        try:
            info = _plugin_scheme(name, base_dir)
        except EdgesimError as exc:
            problems.append(f"schemes[{i}].scheme: {exc}")
            info = None
        resolved.append(entry if info is None else {**entry, "scheme": info.name})
    if problems:
        raise ConfigError(source, problems)
    return {**data, "schemes": resolved}


def _plugin_scheme(name: str, base_dir: Path) -> SchemeInfo | None:
    """The scheme a reference or entry point stands for, registered; None if it is neither."""
    found = plugins.find(plugins.absolute(name, base_dir), "scheme")
    if found is None:
        return None
    if not isinstance(found, SchemeInfo):
        raise plugins.PluginError(f"{name}: expected a SchemeInfo, got {type(found).__name__}")
    if SCHEMES.get(found.name) is not found:
        register_scheme(found)
    return found


def scheme_info(name: str) -> SchemeInfo:
    """The registered scheme of that name; an unknown one is named with the nearest."""
    if name not in SCHEMES:
        raise EdgesimError(f"unknown scheme '{name}'{did_you_mean(name, SCHEMES)}")
    return SCHEMES[name]


def _gear_timing_only(settings: Any) -> bool | str:
    """A fixed switch round is timing; ``switch: auto`` waits for the small model to plateau."""
    if isinstance(settings.switch, SwitchAt):
        return True
    return (
        "switch: auto changes gear when the small model's validation accuracy plateaus; "
        "give a fixed switch: {round: N}"
    )


BUILT_IN = (
    SchemeInfo(
        LocalScheme,
        "edgesim.schemes.local:run",
        "each device trains alone on its own data",
        "baseline",
        needs_server=False,
        global_model=False,
        planned_steps="edgesim.schemes.local:planned_steps",
        timing_only=True,
    ),
    SchemeInfo(
        CentralizedScheme,
        "edgesim.schemes.centralized:run",
        "devices upload raw data, the server trains",
        "seed 000 baseline",
        planned_steps="edgesim.schemes.centralized:planned_steps",
        timing_only=True,
    ),
    SchemeInfo(
        FedAvgScheme,
        "edgesim.schemes.fedavg:run",
        "synchronous federated averaging with a round deadline",
        "McMahan et al. 2017",
        timing_only=True,
    ),
    SchemeInfo(
        HandoffScheme,
        "edgesim.schemes.handoff:run",
        "device trains, server continues on its data, device keeps the better model",
        "seed 000",
        trains_on_server_data=True,
        global_model=False,
        # the device picks the better model, but either costs the same to train and send
        timing_only=True,
    ),
    SchemeInfo(
        FedAsyncScheme,
        "edgesim.schemes.fedasync:run",
        "asynchronous FL: each arriving model is mixed in, weighted by its staleness",
        "Xie et al. 2019",
        asynchronous=True,
        timing_only=True,
    ),
    SchemeInfo(
        FedBuffScheme,
        "edgesim.schemes.fedbuff:run",
        "asynchronous FL: the server applies every K buffered, staleness-scaled deltas",
        "Nguyen et al. 2022",
        asynchronous=True,
        timing_only=True,
    ),
    SchemeInfo(
        EcavgScheme,
        "edgesim.schemes.ecavg:run",
        "edges pre-train, server averages and fine-tunes, edges fine-tune the result",
        "seed 001",
        trains_on_server_data=lambda settings: settings.server_data == "own",
        server_data_instead="server_data: uploaded",
        global_model=False,
        timing_only=True,
    ),
    SchemeInfo(
        DistillFLScheme,
        "edgesim.schemes.distill_fl:run",
        "small-model FedAvg with forward and reverse distillation on the server (sync)",
        "seed 003 conventional [1], seed 004 12-6",
        distils_on_server_data=True,
        uses_small_model=True,
        timing_only=True,
    ),
    SchemeInfo(
        AsyncDistillFLScheme,
        "edgesim.schemes.async_distill_fl:run",
        "small-model FedAvg; a distillation server reverse-distils without blocking it",
        "seed 003 proposed",
        distils_on_server_data=True,
        uses_small_model=True,
        timing_only=True,
    ),
    SchemeInfo(
        GearScheme,
        "edgesim.schemes.gear:run",
        "small-model FL with distillation, then FedAvg of the large model",
        "seed 004",
        distils_on_server_data=True,
        uses_small_model=True,
        timing_only=_gear_timing_only,
    ),
    SchemeInfo(
        DeepEdgeScheme,
        "edgesim.schemes.deep_edge:run",
        "profiled, speed-proportional data-parallel training on a parameter server",
        "seed 002",
        timing_only=True,
    ),
    SchemeInfo(
        FedCSScheme,
        "edgesim.schemes.fedcs:run",
        "FedAvg of as many clients as their estimated round times fit into a deadline",
        "Nishio & Yonetani, ICC 2019",
        timing_only=True,
    ),
    SchemeInfo(
        OortScheme,
        "edgesim.schemes.oort:run",
        "guided selection by loss-based utility, penalised beyond a preferred round time",
        "Lai et al., OSDI 2021",
        timing_only="Oort selects clients by the training losses they report, "
        "which a timing-only run does not compute",
    ),
    SchemeInfo(
        TiFLScheme,
        "edgesim.schemes.tifl:run",
        "clients in tiers by measured latency, one tier a round, chosen by tier accuracy",
        "Chai et al., HPDC 2020",
        validates_on_client_data=True,
        timing_only="TiFL chooses each round's tier by the tiers' validation accuracy, "
        "which a timing-only run does not compute",
    ),
    SchemeInfo(
        FedProxScheme,
        "edgesim.schemes.fedprox:run",
        "FedAvg with a proximal term; stragglers send the partial work that fits the deadline",
        "Li et al., MLSys 2020",
        timing_only=True,
    ),
    SchemeInfo(
        FedAvgPartialScheme,
        "edgesim.schemes.partial:run",
        "deadline FedAvg: stragglers send partial updates, weighted by the work they did",
        "Li et al., MLSys 2020, §5.2",
        timing_only=True,
    ),
)
"""The built-in schemes, one entry each, in the order of ``docs/schemes.md``."""

SCHEMES: dict[str, SchemeInfo] = {info.name: info for info in BUILT_IN}
"""Every registered scheme by name: the built-ins, then those registered since."""

_IN_UNION = frozenset(SCHEMES)
"""The schemes the union below was built from (its JSON schema names these)."""


def _by_registry(value: Any, handler: ValidatorFunctionWrapHandler) -> SchemeBase:
    """A scheme registered after the union was built goes to its own settings model.

    Every other entry goes through the union, whose errors name the field
    (``schemes[2].rounds``); an unknown name then lists every registered one.
    """
    name = value.get("scheme") if isinstance(value, dict) else getattr(value, "scheme", None)
    info = SCHEMES.get(name) if isinstance(name, str) else None
    if info is not None and name not in _IN_UNION:
        return info.settings.model_validate(value)
    added = len(SCHEMES) > len(_IN_UNION)
    if info is None and added and isinstance(value, dict) and "scheme" in value:
        raise PydanticCustomError(
            "union_tag_invalid",
            "Input tag {tag} found using {discriminator} does not match any of the "
            "expected tags: {expected_tags}",
            {
                "discriminator": "'scheme'",
                "tag": str(name),
                "expected_tags": ", ".join(f"'{n}'" for n in SCHEMES),
            },
        )
    return handler(value)


SchemeSpec = Annotated[
    Union[tuple(info.settings for info in SCHEMES.values())],  # noqa: UP007 (of a tuple)
    Field(discriminator="scheme"),
    WrapValidator(_by_registry),
]
"""One entry of ``schemes:``: the registered scheme its ``scheme:`` names."""


def scheme_label(spec: SchemeBase) -> str:
    return spec.label or spec.scheme
