"""factkit: validate facts extracted from news articles and export them as typed tables.

The library returns result objects and raises typed errors (`toolkit.errors`);
only the command line (`python -m toolkit`, `factkit`) prints and exits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "load", "validate"]

if TYPE_CHECKING:
    from toolkit.checker import validate
    from toolkit.loader import load


def __getattr__(name: str) -> Any:
    # Imported on first use, so `import toolkit` stays cheap and builds no state.
    if name == "validate":
        from toolkit.checker import validate

        return validate
    if name == "load":
        from toolkit.loader import load

        return load
    raise AttributeError(name)
