//! The named commands of this wasm module: one core [`Registry`], which
//! decides which names exist, their settings (configured before or after
//! first use), conflicts between constructions (semantics §2) and removal.
//! The glue (js/registry.mjs) only caches its wrapper of each named command
//! (listeners, the JS clock) by name.

use crate::{alloc, config_error, given, WasmCommand, CREATE_HEADROOM, MEMORY_EXHAUSTED};
use hystrix_core::{Command, Entered, Registry, SettingsError, TimePassedIn, NO_SETTINGS_AT};
use std::sync::{Arc, OnceLock};
use wasm_bindgen::prelude::*;

/// The module's registry. Its commands read no clock: JS passes the time.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::hosted)
}

/// A refused setting as the glue reads it: `"key\u{1}message"` for an
/// invalid one, `"\u{2}key\u{2}existing\u{2}given"` for a conflict.
pub(crate) fn settings_error(e: SettingsError) -> JsValue {
    match e {
        SettingsError::Invalid(e) => config_error(e),
        SettingsError::Conflict(c) => {
            JsValue::from_str(&crate::joined(&["\u{2}", c.key(), "\u{2}", c.existing(), "\u{2}", c.given()]))
        }
    }
}

#[wasm_bindgen]
impl WasmCommand {
    /// The command called `name` for a construction giving the SPEC
    /// settings `settings`, `texts` (see `given`) — or, with
    /// `reconfigure`, for the registry's `configure()`, which applies them
    /// (live to an existing command) first. Returns a new `WasmCommand` if
    /// the registry made the command now, `undefined` if the name already
    /// had one (the glue holds its wrapper; after a reconfiguration it
    /// calls `refresh()` on it). Throws what `settings_error` makes, or
    /// the memory-exhausted string; nothing changes then.
    pub fn named(name: &str, settings: &[f64], texts: &str, reconfigure: bool) -> Result<Option<WasmCommand>, JsValue> {
        let patch = given(settings, texts)?;
        let reg = registry();
        if reg.get(name).is_none() && !alloc::has_headroom(CREATE_HEADROOM) {
            return Err(JsValue::from_str(MEMORY_EXHAUSTED));
        }
        let mut given = &patch[..];
        if reconfigure {
            reg.configure_patch(name, given).map_err(config_error)?;
            given = NO_SETTINGS_AT;
        }
        let make = |name: &str, config| Command::with_clock(name, config, Arc::new(TimePassedIn));
        match reg.enter(name, given, make).map_err(settings_error)? {
            Entered::Created(cmd) => Ok(Some(WasmCommand::wrap(cmd))),
            Entered::Existing(_) => Ok(None),
        }
    }

    /// After the registry reconfigured this command (`named` with
    /// `reconfigure`): re-reads what the command caches about its settings
    /// and hands the listeners what the change notified.
    pub fn refresh(&self) {
        self.simple.set(WasmCommand::simple_config(&self.cmd));
        self.flush();
    }

    /// Takes this command's name out of the registry if this command is the
    /// one registered under it (`dispose()`); whether it was.
    pub fn unregister(&self) -> bool {
        registry().remove_command(self.cmd.name(), &self.cmd)
    }

    /// Forgets the name `name` and its settings; whether it had any.
    #[wasm_bindgen(js_name = removeNamed)]
    pub fn remove_named(name: &str) -> bool {
        registry().remove(name)
    }

    /// The names of the registry's commands, in no particular order: what
    /// observation lists as every named command (and sorts).
    #[wasm_bindgen(js_name = registeredNames)]
    pub fn registered_names() -> Vec<String> {
        registry().names_unordered()
    }
}
