"""`hystrix.__version__` is the project's one version: the installed
distribution's and the workspace's (`[workspace.package] version` in the
repository's Cargo.toml), whichever way the package was installed."""
import pathlib
import re
from importlib import metadata

import hystrix

CARGO_TOML = pathlib.Path(__file__).resolve().parents[2] / "Cargo.toml"


def workspace_version() -> str:
    """The `version` line of Cargo.toml's [workspace.package] table."""
    table = None
    for line in CARGO_TOML.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^\[(.+)\]\s*$", line)
        if header:
            table = header.group(1)
            continue
        value = re.match(r'^version\s*=\s*"([^"]+)"', line)
        if table == "workspace.package" and value:
            return value.group(1)
    raise AssertionError(f"{CARGO_TOML} has no [workspace.package] version")


def test_version_is_the_workspace_version():
    assert isinstance(hystrix.__version__, str)
    assert hystrix.__version__ == workspace_version()


def test_version_is_the_installed_distributions():
    assert hystrix.__version__ == metadata.version("hystrix")


def test_version_comes_from_the_native_module():
    # The compiled core and the Python glue are one build: a stale native
    # module next to newer glue would show here.
    from hystrix import _hystrix

    assert _hystrix.__version__ == hystrix.__version__
