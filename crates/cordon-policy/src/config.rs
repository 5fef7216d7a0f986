//! The MXC-compatible configuration document, exactly as it is written.
//!
//! These types mirror the JSON one to one. They are strict (`deny_unknown_fields`
//! at every level) so a typo is an error that names the field, never a policy
//! silently dropped. Meaning is given to them later, in `validate` and `resolve`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// A whole configuration: one-shot request or state-aware phase request.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Editor hint; accepted and ignored.
    #[serde(rename = "$schema")]
    pub schema: Option<Value>,
    /// Free-form annotation; accepted and ignored.
    #[serde(rename = "_comment")]
    pub comment: Option<Value>,
    pub version: Option<String>,
    #[serde(rename = "containerId")]
    pub container_id: Option<String>,
    pub containment: Option<String>,
    pub process: Option<Process>,
    pub filesystem: Option<Filesystem>,
    pub network: Option<Network>,
    #[serde(rename = "runtimeConfig")]
    pub runtime_config: Option<RuntimeConfig>,
    pub ui: Option<Ui>,
    pub lifecycle: Option<Lifecycle>,
    /// Windows-only DACL fallback consent; accepted and ignored on Linux.
    pub fallback: Option<Fallback>,
    pub lxc: Option<Lxc>,
    /// Windows backend section; its content only matters on Windows.
    #[serde(rename = "processContainer")]
    pub process_container: Option<Value>,
    /// Old name of `processContainer`.
    #[serde(rename = "appContainer")]
    pub app_container: Option<Value>,
    /// macOS backend section.
    pub seatbelt: Option<Value>,
    /// Old name of `seatbelt`.
    pub macos_sandbox: Option<Value>,
    /// Per-backend experimental settings (`wslc`, `telemetry`, `test`, ...).
    pub experimental: Option<BTreeMap<String, Value>>,
    /// MXC's telemetry switch (0.9 on; before: `experimental.telemetry`).
    /// Accepted and ignored: cordon sends no telemetry anywhere.
    pub telemetry: Option<Telemetry>,
    /// Sections of Windows and VM backends: present only so that the
    /// contract check refuses them as `unsupported_containment`.
    pub wslc: Option<Value>,
    #[serde(rename = "isolationSession")]
    pub isolation_session: Option<Value>,
    #[serde(rename = "windowsSandbox")]
    pub windows_sandbox: Option<Value>,
    pub hyperlight: Option<Value>,
    /// Schema 1.1's test feature (`message`); accepted and ignored.
    pub test: Option<Value>,
    /// State-aware lifecycle phase (SPEC §4).
    pub phase: Option<String>,
    #[serde(rename = "sandboxId")]
    pub sandbox_id: Option<String>,
    /// cordon extension (SPEC §1.1).
    pub resources: Option<Resources>,
    /// cordon extension: named toolchain and identity presets (`presets`).
    pub presets: Option<Vec<String>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Process {
    #[serde(rename = "commandLine")]
    pub command_line: Option<String>,
    pub cwd: Option<String>,
    pub env: Option<Vec<String>>,
    /// Milliseconds; 0 or absent means no timeout.
    pub timeout: Option<u32>,
    /// Schema 0.9 on: layer `env` over the default environment instead of
    /// replacing it.
    #[serde(rename = "inheritDefaultEnv")]
    pub inherit_default_env: Option<bool>,
    /// Not part of the document: `cwd` is the caller's own directory, put
    /// there by `cordon run` flags (not asked for by name), so an invisible
    /// one is explained in those terms.
    #[serde(skip)]
    pub cwd_is_callers: bool,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filesystem {
    #[serde(rename = "readonlyPaths")]
    pub readonly_paths: Option<Vec<String>>,
    #[serde(rename = "readwritePaths")]
    pub readwrite_paths: Option<Vec<String>>,
    #[serde(rename = "deniedPaths")]
    pub denied_paths: Option<Vec<String>>,
    /// cordon extension: classes of protected paths (files the host runs
    /// later) left writable inside writable trees (see `protected`).
    pub unprotect: Option<Vec<String>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    // Legacy shape.
    #[serde(rename = "defaultPolicy")]
    pub default_policy: Option<LegacyDefault>,
    #[serde(rename = "enforcementMode")]
    pub enforcement_mode: Option<EnforcementMode>,
    #[serde(rename = "allowedHosts")]
    pub allowed_hosts: Option<Vec<String>>,
    #[serde(rename = "blockedHosts")]
    pub blocked_hosts: Option<Vec<String>>,
    pub proxy: Option<Proxy>,
    // Either shape.
    #[serde(rename = "allowLocalNetwork")]
    pub allow_local_network: Option<bool>,
    // Directional shape (0.8+).
    pub egress: Option<Egress>,
    pub ingress: Option<Ingress>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LegacyDefault {
    Allow,
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnforcementMode {
    Capabilities,
    Firewall,
    Both,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proxy {
    /// Port of a proxy the caller runs on the host's loopback.
    pub localhost: Option<i64>,
    #[serde(rename = "builtinTestServer")]
    pub builtin_test_server: Option<bool>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Allow,
    Deny,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Egress {
    pub default: Option<Action>,
    pub allow: Option<Vec<Rule>>,
    pub deny: Option<Vec<Rule>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ingress {
    pub default: Option<Action>,
    #[serde(rename = "hostLoopback")]
    pub host_loopback: Option<Action>,
    /// cordon extension: sandbox ports a host loopback port forwards to.
    pub publish: Option<Vec<Publish>>,
}

/// One published port (`network.ingress.publish[]`): connections to
/// `hostAddress:hostPort` on the host reach the sandbox's own loopback at
/// `port`. Names follow MXC's port selectors (`port`, `protocol`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    pub port: Option<u16>,
    #[serde(rename = "hostPort")]
    pub host_port: Option<u16>,
    #[serde(rename = "hostAddress")]
    pub host_address: Option<String>,
    pub protocol: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub to: Option<Vec<Peer>>,
    pub ports: Option<Vec<PortSelector>>,
}

/// A destination: a CIDR (MXC) or a host name pattern (cordon extension).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    pub cidr: Option<String>,
    pub except: Option<Vec<String>>,
    pub host: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSelector {
    pub protocol: Option<Protocol>,
    pub port: Option<i64>,
    #[serde(rename = "endPort")]
    pub end_port: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    Any,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    #[serde(rename = "networkProxy")]
    pub network_proxy: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ui {
    pub disable: Option<bool>,
    pub clipboard: Option<Clipboard>,
    pub injection: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Clipboard {
    None,
    Read,
    Write,
    All,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    #[serde(rename = "destroyOnExit")]
    pub destroy_on_exit: Option<bool>,
    #[serde(rename = "preservePolicy")]
    pub preserve_policy: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Telemetry {
    pub enabled: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fallback {
    #[serde(rename = "allowDaclMutation")]
    pub allow_dacl_mutation: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lxc {
    pub distribution: Option<String>,
    pub release: Option<String>,
}

/// cordon-only resource limits (SPEC §1.1).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    #[serde(rename = "memoryMb")]
    pub memory_mb: Option<u64>,
    #[serde(rename = "maxProcesses")]
    pub max_processes: Option<u64>,
    #[serde(rename = "cpuPercent")]
    pub cpu_percent: Option<u64>,
    #[serde(rename = "maxFileSizeMb")]
    pub max_file_size_mb: Option<u64>,
    #[serde(rename = "maxOpenFiles")]
    pub max_open_files: Option<u64>,
}
