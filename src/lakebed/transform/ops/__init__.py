"""The operation registry: every recipe operation by its (DataBrew) name.

Operations live in one module per category in this package; each class is added with
:func:`register`. The modules are imported on first lookup, so importing lakebed stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil

from lakebed.transform.ops.base import ROW, Ctx, Native, Operation, Param

__all__ = ["ROW", "Ctx", "Native", "Operation", "Param", "all_operations", "get", "register"]

_registry: dict[str, type[Operation]] = {}
_loaded = False


def register(cls: type[Operation]) -> type[Operation]:
    """Class decorator: make ``cls`` available to recipes under ``cls.name``."""
    if cls.name in _registry and _registry[cls.name] is not cls:
        raise RuntimeError(f"operation {cls.name} is registered twice")
    _registry[cls.name] = cls
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base" and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True


def get(name: str) -> type[Operation] | None:
    """The operation called ``name`` (exact DataBrew spelling), or None."""
    _load()
    return _registry.get(name)


def all_operations() -> dict[str, type[Operation]]:
    """Every operation, by name, sorted by category then name."""
    _load()
    return dict(sorted(_registry.items(), key=lambda kv: (kv[1].category, kv[0])))
