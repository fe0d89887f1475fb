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

/// What one name has: the configuration remembered for it and its command
/// (either may be absent, not both).
#[derive(Default)]
pub(crate) struct Entry {
    /// Set by a configuration or a creation with settings.
    pub(crate) config: Option<Config>,
    /// The command registered under the name.
    pub(crate) command: Option<Command>,
}

/// The configured names and the existing commands, in one map (not a map
/// of each: every map operation is code of its own for each value type,
/// and in the npm package's wasm the second map cost ~1.1 KB gzipped).
/// No name maps to an entry with neither a configuration nor a command.
#[derive(Default)]
pub(crate) struct Entries {
    map: HashMap<String, Entry>,
}

impl Entries {
    /// The command of `name`, if it has one.
    pub(crate) fn command(&self, name: &str) -> Option<&Command> {
        self.map.get(name).and_then(|e| e.command.as_ref())
    }

    /// The configuration remembered for `name`, if any.
    pub(crate) fn config(&self, name: &str) -> Option<&Config> {
        self.map.get(name).and_then(|e| e.config.as_ref())
    }

    /// The entry of `name`, made empty if it had none: the caller sets a
    /// part of it (so that no entry stays empty).
    pub(crate) fn entry(&mut self, name: &str) -> &mut Entry {
        if !self.map.contains_key(name) {
            self.map.insert(name.to_string(), Entry::default());
        }
        self.map.get_mut(name).expect("inserted above if it was missing")
    }

    /// Forgets `name`: its configuration and its command; whether it had either.
    pub(crate) fn remove(&mut self, name: &str) -> bool {
        self.map.remove(name).is_some()
    }

    /// Every name with a command, and the command.
    pub(crate) fn commands(&self) -> impl Iterator<Item = (&String, &Command)> {
        self.map.iter().filter_map(|(k, e)| e.command.as_ref().map(|c| (k, c)))
    }
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
        if let Some(cmd) = entries.command(name) {
            cmd.set_config(config)?;
        }
        entries.entry(name).config = Some(config);
        Ok(())
    }

    /// The command called `name`, created with its configured (or default)
    /// configuration on first use.
    pub fn get_or_create(&self, name: &str) -> Command {
        let mut entries = self.lock();
        if let Some(cmd) = entries.command(name) {
            return cmd.clone();
        }
        let config = entries.config(name).copied().unwrap_or_default();
        let cmd = Command::with_clock(name, config, self.clock.clone())
            .expect("configurations are validated before they are stored");
        entries.entry(name).command = Some(cmd.clone());
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
        if let Some(cmd) = entries.command(name) {
            cmd.check_same_config(config)?;
            return Ok(cmd.clone());
        }
        if let Some(configured) = entries.config(name) {
            first_conflict(name, configured, config, |_| true)?;
        }
        let cmd = Command::with_clock(name, *config, self.clock.clone())?;
        *entries.entry(name) = Entry { config: Some(*config), command: Some(cmd.clone()) };
        Ok(cmd)
    }

    /// The command called `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<Command> {
        self.lock().command(name).cloned()
    }

    /// Forgets `name` and its configuration. The command's memory is freed
    /// once the last clone held elsewhere is dropped. Returns whether
    /// anything was registered under that name.
    pub fn remove(&self, name: &str) -> bool {
        self.lock().remove(name)
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
        self.lock().commands().map(|(k, _)| k.clone()).collect()
    }

    /// The existing commands, sorted by name (clones: holding the list
    /// keeps them alive only as long as the list). What observation lists
    /// as "every named command", in every binding.
    pub fn commands(&self) -> Vec<Command> {
        let mut all: Vec<Command> = self.lock().commands().map(|(_, c)| c.clone()).collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }

    /// The current time on the registry's clock.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Number of existing commands.
    pub fn len(&self) -> usize {
        self.lock().commands().count()
    }

    /// Whether no command exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
