"""The PEP 517 build backend of the hystrix Python package: maturin's, with
one change. Where no Rust toolchain (`cargo`) is on PATH, maturin would
download one (about 1 GB) into a temporary directory and compile there; this
backend stops instead with a message saying what is missing and what to do.
Setting HYSTRIX_INSTALL_RUST=1 restores maturin's download.

Used by `pip install ./bindings-python` and by installs from the sdist
(pyproject.toml: `backend-path = ["build_backend"]`).
"""
import os
import shutil

# Read by maturin's hooks each time they run, so it must be set before any.
ALLOW_DOWNLOAD = os.environ.get("HYSTRIX_INSTALL_RUST") == "1"
if not ALLOW_DOWNLOAD:
    os.environ["MATURIN_NO_INSTALL_RUST"] = "1"

import maturin  # noqa: E402  (after the variable above)

NO_RUST = """
hystrix: building this package from source needs Rust, and no `cargo` was found on PATH.
  - A prebuilt wheel needs no Rust: on Linux x86_64 or aarch64 (glibc >= 2.17), CPython >= 3.9
    installs the manylinux2014 abi3 wheel (scripts/dist-python.sh builds them; see
    bindings-python/README.md).
  - Or install Rust (https://rustup.rs, or your system's `cargo` package), make sure `cargo`
    is on PATH, and retry.
  - Or set HYSTRIX_INSTALL_RUST=1 to let maturin download a temporary Rust toolchain
    (about 1 GB) for this one build.
"""


def _need_cargo() -> None:
    """Stops the build, saying why, when there is no cargo and no opt-in."""
    if not ALLOW_DOWNLOAD and shutil.which("cargo") is None:
        raise SystemExit(NO_RUST)


def get_requires_for_build_wheel(config_settings=None):
    """maturin's hook, after checking for cargo."""
    _need_cargo()
    return maturin.get_requires_for_build_wheel(config_settings)


def get_requires_for_build_editable(config_settings=None):
    """maturin's hook, after checking for cargo."""
    _need_cargo()
    return maturin.get_requires_for_build_editable(config_settings)


def get_requires_for_build_sdist(config_settings=None):
    """maturin's hook, after checking for cargo (maturin's sdist runs cargo too)."""
    _need_cargo()
    return maturin.get_requires_for_build_sdist(config_settings)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    """maturin's hook, after checking for cargo."""
    _need_cargo()
    return maturin.prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    """maturin's hook, after checking for cargo."""
    _need_cargo()
    return maturin.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """maturin's hook, after checking for cargo."""
    _need_cargo()
    return maturin.build_editable(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    """maturin's hook, after checking for cargo."""
    _need_cargo()
    return maturin.build_sdist(sdist_directory, config_settings)
