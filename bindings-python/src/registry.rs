//! The named commands of this process: one core [`Registry`], which decides
//! which names exist, their settings (configured before or after first
//! use), conflicts between constructions (semantics §2) and removal. The
//! package (`_registry.py`) only caches its `Circuit` of each named
//! command by name.
//!
//! Every function here runs holding the GIL and never releases it, and no
//! Python code runs while the registry is locked: a `fork()` (which the
//! forking thread makes holding the GIL) can never copy it locked.

use crate::clock::PyClock;
use crate::convert::dict_to_json;
use crate::{config_error, NativeCommand};
use hystrix_core::{Command, Entered, Registry, SettingsError};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::{Arc, OnceLock};

/// The process's registry (its commands hold the native clock; a Python
/// clock stays in the `NativeCommand`'s `PyClock`).
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::hosted)
}

/// The command called `name` for a construction giving the settings
/// `config` (a dict of SPEC keys) — or, with `reconfigure`, for
/// `hystrix.configure()`, which applies them first (live to an existing
/// command). Returns a new `NativeCommand` if the registry made the command
/// now, `None` if the name already had one (the package holds its
/// circuit). Raises `InvalidConfigError` or `SettingsConflictError` naming
/// the command, and then nothing changes.
#[pyfunction]
#[pyo3(signature = (name, config, reconfigure=false))]
fn registry_enter(
    py: Python<'_>,
    name: &str,
    config: &Bound<'_, PyDict>,
    reconfigure: bool,
) -> PyResult<Option<NativeCommand>> {
    let patch = dict_to_json(config)?.map_err(PyTypeError::new_err)?;
    let reg = registry();
    let given = if reconfigure {
        reg.configure_patch(name, &patch).map_err(|e| config_error(py, e, Some(name)))?;
        // Emptied: configure() made the settings the name's.
        serde_json::Value::Object(Default::default())
    } else {
        patch
    };
    let make = |name: &str, config| Command::with_clock(name, config, crate::clock::native());
    let entered = reg.enter(name, &given, make).map_err(|e| match e {
        SettingsError::Invalid(e) => config_error(py, e, Some(name)),
        SettingsError::Conflict(c) => crate::errors::settings_conflict(py, &c),
    })?;
    Ok(match entered {
        Entered::Created(cmd) => {
            Some(NativeCommand::wrap(py, cmd, Arc::new(PyClock::new(name.to_string())), name.to_string()))
        }
        _ => None,
    })
}

/// Takes `command`'s name out of the registry if `command` is the one
/// registered under it (its last holder closed); whether it was.
#[pyfunction]
fn registry_release(command: &Bound<'_, NativeCommand>) -> bool {
    let cmd = &command.get().cmd;
    registry().remove_command(cmd.name(), cmd)
}

/// Forgets the name `name` and its settings; whether it had any.
#[pyfunction]
fn registry_remove(name: &str) -> bool {
    registry().remove(name)
}

/// The names of the registry's commands, sorted: what observation lists
/// as every named command.
#[pyfunction]
fn registry_names() -> Vec<String> {
    registry().names()
}

/// Adds the registry's functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(registry_enter, m)?)?;
    m.add_function(wrap_pyfunction!(registry_release, m)?)?;
    m.add_function(wrap_pyfunction!(registry_remove, m)?)?;
    m.add_function(wrap_pyfunction!(registry_names, m)?)?;
    Ok(())
}
