"""Recipes: ordered steps of operations, read from DataBrew JSON/YAML or built in Python.

A step is ``{"Action": {"Operation": "NAME", "Parameters": {...}}, "ConditionExpressions":
[...]}`` exactly as DataBrew exports it; lakebed also reads the shorter ``{"operation": ...,
"parameters": ..., "conditions": ...}`` and ``{"sql": "SELECT ... FROM input"}``. Everything a
recipe can get wrong without seeing data is checked when it is loaded: unknown operations,
unknown or missing parameters, values of the wrong type. What needs the input's columns
(missing columns, conditions on absent columns, type mismatches) is checked by
:meth:`Recipe.check` before any job runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lakebed.errors import ConfigError
from lakebed.transform import ops
from lakebed.transform.conditions import Condition
from lakebed.transform.ops.base import Operation, parse_param


class RecipeError(ConfigError):
    """A recipe step is invalid; the message names the step number and the operation."""


@dataclass(frozen=True)
class Step:
    """One step: an operation, its parameters (DataBrew strings or Python values), conditions."""

    operation: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The step in DataBrew's shape (parameters as strings, nested values JSON-encoded)."""
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in self.parameters.items()}
        out: dict[str, Any] = {"Action": {"Operation": self.operation, "Parameters": params}}
        if self.conditions:
            out["ConditionExpressions"] = [c.to_dict() for c in self.conditions]
        return out


@dataclass(frozen=True)
class BoundStep:
    """A step checked against the registry: its operation and parsed parameters."""

    number: int
    step: Step
    op: Operation
    params: dict[str, Any]

    @property
    def where(self) -> str:
        return f"step {self.number} ({self.step.operation})"


def _step_from(raw: Any, number: int) -> Step:
    where = f"step {number}"
    if isinstance(raw, Step):
        return raw
    if not isinstance(raw, Mapping):
        raise RecipeError(
            f"{where}: a step must be an object, got {raw!r}",
            fix='write {"Action": {"Operation": "NAME", "Parameters": {...}}}',
        )
    if "sql" in raw and len(raw) == 1:
        return Step("SQL", {"query": raw["sql"]})
    conditions_raw: Any = ()
    if "RecipeAction" in raw and "Action" not in raw:  # DataBrew's docs use both spellings
        raw = {("Action" if k == "RecipeAction" else k): v for k, v in raw.items()}
    if "Action" in raw:
        unknown = set(raw) - {"Action", "ConditionExpressions"}
        action = raw["Action"]
        if unknown or not isinstance(action, Mapping) or "Operation" not in action:
            raise RecipeError(
                f"{where}: expected Action.Operation (and ConditionExpressions), got {raw!r}",
                fix='write {"Action": {"Operation": "NAME", "Parameters": {...}}}',
            )
        name, params = action["Operation"], action.get("Parameters") or {}
        conditions_raw = raw.get("ConditionExpressions") or ()
    elif "operation" in raw:
        unknown = set(raw) - {"operation", "parameters", "conditions"}
        if unknown:
            raise RecipeError(
                f"{where}: unknown keys {sorted(unknown)}",
                fix="a step has operation, parameters and conditions",
            )
        name, params = raw["operation"], raw.get("parameters") or {}
        conditions_raw = raw.get("conditions") or ()
    else:
        raise RecipeError(
            f"{where}: no operation in {raw!r}",
            fix='write {"Action": {"Operation": "NAME", ...}} or {"operation": "NAME", ...}',
        )
    if not isinstance(params, Mapping):
        raise RecipeError(f"{where}: Parameters must be an object", fix="give name: value pairs")
    return Step(str(name), dict(params), _conditions(conditions_raw, f"{where} ({name})"))


def _conditions(raw: Any, where: str) -> tuple[Condition, ...]:
    try:
        return tuple(Condition.parse(c, where) for c in raw)
    except RecipeError:
        raise
    except ConfigError as exc:
        raise RecipeError(exc.message, fix=exc.fix) from None


def bind(step: Step, number: int) -> BoundStep:
    """Check ``step`` against the operation registry; RecipeError naming the step when wrong."""
    where = f"step {number} ({step.operation})"
    cls = ops.get(step.operation)
    if cls is None:
        close = [n for n in ops.all_operations() if n.split("_")[0] == step.operation.split("_")[0]]
        hint = f"; similar: {', '.join(close[:5])}" if close else ""
        raise RecipeError(
            f"step {number}: operation {step.operation!r} is not supported by lakebed{hint}",
            fix="remove the step or replace it; `lakebed recipe list-operations` lists them",
        )
    if step.conditions and not cls.conditions:
        raise RecipeError(
            f"{where}: this operation does not take conditions",
            fix="remove ConditionExpressions from the step, or filter rows in a step before it",
        )
    unknown = set(step.parameters) - set(cls.params)
    if unknown:
        raise RecipeError(
            f"{where}: unknown parameter(s) {', '.join(sorted(unknown))}",
            fix="its parameters are: " + (", ".join(cls.params) or "none"),
        )
    parsed: dict[str, Any] = {}
    for name, spec in cls.params.items():
        if name not in step.parameters or step.parameters[name] is None:
            if spec.required:
                raise RecipeError(
                    f"{where}: parameter {name!r} is required",
                    fix=f"add {name} ({spec.doc or spec.kind}) to the step's Parameters",
                )
            parsed[name] = spec.default
            continue
        try:
            parsed[name] = parse_param(name, spec, step.parameters[name], step.operation)
        except ConfigError as exc:
            raise RecipeError(f"step {number}: {exc.message}", fix=exc.fix) from None
    return BoundStep(number, step, cls(), parsed)


class Recipe:
    """An ordered list of steps; immutable. Build with :meth:`add` or load with :meth:`load`."""

    def __init__(self, steps: Sequence[Step | Mapping[str, Any]] = (), *, name: str = "") -> None:
        self.name = name
        self.steps: tuple[Step, ...] = tuple(_step_from(s, i) for i, s in enumerate(steps, 1))
        self.bound: tuple[BoundStep, ...] = tuple(bind(s, i) for i, s in enumerate(self.steps, 1))

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __repr__(self) -> str:
        ops_ = ", ".join(s.operation for s in self.steps)
        return f"Recipe({self.name or 'unnamed'}: {ops_})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Recipe) and self.to_list() == other.to_list()

    def add(
        self,
        operation: str,
        conditions: Sequence[Condition | Mapping[str, Any]] = (),
        **parameters: Any,
    ) -> Recipe:
        """A new recipe with one more step (parameters as Python values or DataBrew strings)."""
        number = len(self.steps) + 1
        conds = _conditions(conditions, f"step {number} ({operation})")
        return Recipe([*self.steps, Step(operation, parameters, conds)], name=self.name)

    def sql(self, query: str) -> Recipe:
        """A new recipe with a SQL step: a SELECT over the previous step, named ``input``."""
        return self.add("SQL", query=query)

    # -- serialisation ---------------------------------------------------------------------------
    def to_list(self) -> list[dict[str, Any]]:
        """The steps in DataBrew's JSON shape."""
        return [s.to_dict() for s in self.steps]

    def to_json(self) -> str:
        return json.dumps(self.to_list(), indent=2)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_list(), sort_keys=False)

    @classmethod
    def from_data(cls, data: Any, *, name: str = "") -> Recipe:
        """From parsed JSON/YAML: a list of steps, or an object with ``Steps`` (DataBrew's
        DescribeRecipe output) or ``steps``."""
        if isinstance(data, Mapping):
            name = str(data.get("Name") or data.get("name") or name)
            data = data.get("Steps", data.get("steps"))
        if not isinstance(data, list):
            raise RecipeError(
                "a recipe must be a list of steps (or an object with Steps)",
                fix='write [{"Action": {"Operation": "NAME", "Parameters": {...}}}, ...]',
            )
        return cls(data, name=name)

    @classmethod
    def loads(cls, text: str, *, name: str = "") -> Recipe:
        """From JSON or YAML text."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise RecipeError(f"recipe {name or ''} is not valid JSON or YAML: {exc}") from None
        return cls.from_data(data, name=name)

    @classmethod
    def load(cls, path: str | Path) -> Recipe:
        """From a .json, .yaml or .yml file."""
        p = Path(path)
        try:
            text = p.read_text()
        except OSError as exc:
            raise RecipeError(f"cannot read recipe file {p}: {exc.strerror}") from None
        return cls.loads(text, name=p.stem)
