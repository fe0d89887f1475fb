//! Named commands, like hystrix-go's `ConfigureCommand` / `GetCircuit`:
//! configure a name before or after first use, fetch-or-create by name,
//! remove a name to free everything its command held.

use crate::clock::Clock;
use crate::command::Command;
use crate::config::Config;
use crate::error::{ConfigError, SettingsError};
use crate::settings_conflict::first_conflict;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A thread-safe map from names to commands. Not on any hot path: callers
/// keep the [`Command`] they got and call through it.
pub struct Registry {
    clock: Arc<dyn Clock>,
    inner: Mutex<Entries>,
}

/// The configured names and the existing commands.
#[derive(Default)]
pub(crate) struct Entries {
    pub(crate) configs: HashMap<String, Config>,
    pub(crate) commands: HashMap<String, Command>,
}

impl Registry {
    /// An empty registry whose commands read `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Registry {
        Registry { clock, inner: Mutex::new(Entries::default()) }
    }

    /// The process-wide registry on the real monotonic clock.
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    pub fn global() -> &'static Registry {
        static GLOBAL: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
        GLOBAL.get_or_init(|| Registry::new(Arc::new(crate::clock::MonotonicClock::new())))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Entries> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the configuration for `name`: applied live to an existing
    /// command, and used when the command is first created.
    pub fn configure(&self, name: &str, config: Config) -> Result<(), ConfigError> {
        config.validate()?;
        let mut entries = self.lock();
        if let Some(cmd) = entries.commands.get(name) {
            cmd.set_config(config)?;
        }
        entries.configs.insert(name.to_string(), config);
        Ok(())
    }

    /// The command called `name`, created with its configured (or default)
    /// configuration on first use.
    pub fn get_or_create(&self, name: &str) -> Command {
        let mut entries = self.lock();
        if let Some(cmd) = entries.commands.get(name) {
            return cmd.clone();
        }
        let config = entries.configs.get(name).copied().unwrap_or_default();
        let cmd = Command::with_clock(name, config, self.clock.clone())
            .expect("configurations are validated before they are stored");
        entries.commands.insert(name.to_string(), cmd.clone());
        cmd
    }

    /// The command called `name`, made with `config` on first use. A name
    /// has one set of settings (semantics §2, "One command per name"): if
    /// the command exists (or the name was configured) with a different
    /// configuration, this is a [`SettingsError::Conflict`] naming the
    /// first differing key and both values, and nothing changes; settings
    /// are changed through [`Registry::configure`]. The same configuration
    /// shares the existing command.
    pub fn get_or_create_with(&self, name: &str, config: &Config) -> Result<Command, SettingsError> {
        config.validate()?;
        let mut entries = self.lock();
        if let Some(cmd) = entries.commands.get(name) {
            cmd.check_same_config(config)?;
            return Ok(cmd.clone());
        }
        if let Some(configured) = entries.configs.get(name) {
            first_conflict(name, configured, config, |_| true)?;
        }
        let cmd = Command::with_clock(name, *config, self.clock.clone())?;
        entries.configs.insert(name.to_string(), *config);
        entries.commands.insert(name.to_string(), cmd.clone());
        Ok(cmd)
    }

    /// The command called `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<Command> {
        self.lock().commands.get(name).cloned()
    }

    /// Forgets `name` and its configuration. The command's memory is freed
    /// once the last clone held elsewhere is dropped. Returns whether
    /// anything was registered under that name.
    pub fn remove(&self, name: &str) -> bool {
        let mut entries = self.lock();
        let had_cmd = entries.commands.remove(name).is_some();
        let had_cfg = entries.configs.remove(name).is_some();
        had_cmd || had_cfg
    }

    /// The names of existing commands, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names = self.names_unordered();
        // Keys of one map: no two equal, so an unstable sort gives the one order.
        names.sort_unstable();
        names
    }

    /// The names of existing commands in no particular order: for hosts
    /// that need no order (the npm package's renders are sorted by the
    /// observation), whose wasm then carries no sort.
    pub fn names_unordered(&self) -> Vec<String> {
        self.lock().commands.keys().cloned().collect()
    }

    /// The existing commands, sorted by name (clones: holding the list
    /// keeps them alive only as long as the list). What observation lists
    /// as "every named command", in every binding.
    pub fn commands(&self) -> Vec<Command> {
        let mut all: Vec<Command> = self.lock().commands.values().cloned().collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }

    /// The current time on the registry's clock.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Number of existing commands.
    pub fn len(&self) -> usize {
        self.lock().commands.len()
    }

    /// Whether no command exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
