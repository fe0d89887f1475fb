"""The typing constructs the annotations use, on every supported Python
without a runtime dependency: ``ParamSpec`` and ``Concatenate`` come from
``typing`` on 3.10+, ``Unpack`` on 3.11+. Older interpreters get a plain
``TypeVar`` standing in for the parameter spec (so ``Generic[P, R]`` still
works) and never evaluate the rest: the modules using them defer their
annotations. Type checkers see the real constructs (from
``typing_extensions``, which they always have) whatever version they target.
"""
import sys
from typing import TYPE_CHECKING, TypeVar

if sys.version_info >= (3, 11):
    from typing import Concatenate, ParamSpec, Unpack
elif TYPE_CHECKING:
    from typing_extensions import Concatenate, ParamSpec, Unpack
elif sys.version_info >= (3, 10):
    from typing import Concatenate, ParamSpec

    Unpack = None
else:
    Concatenate = Unpack = None

    def ParamSpec(name: str) -> TypeVar:  # noqa: N802 - stands in for the class
        """A ``TypeVar`` standing in for ``typing.ParamSpec`` before 3.10."""
        return TypeVar(name)


__all__ = ["Concatenate", "ParamSpec", "Unpack"]
