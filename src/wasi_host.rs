//! `weld run` as a WASI host: the `-S` keys (Wasmtime's spelling), `--dir` and `--env`, and
//! the store data ([`HostState`]) that carries the guest's [`WasiCtx`].
//!
//! Keys weld acts on are applied; keys of Wasmtime features weld does not have yet are
//! refused with that reason, and unknown keys are refused with the list of known ones, so
//! that no flag is silently ignored. `-S help` lists them.

use crate::options::{Item, items, unknown};
use anyhow::{Context as _, Result, bail};
use weld_wasi::{FsPerms, ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use weld_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The store data of `weld run`: the WASI context and the table of the guest's resources.
pub struct HostState {
    /// The guest's WASI context (unused by core modules).
    pub ctx: WasiCtx,
    /// The guest's wasi:http context (which requests it may send).
    pub http: WasiHttpCtx,
    /// The guest's WASI resources.
    pub table: ResourceTable,
    /// The bounds on the guest's memories, tables and instances (`-W max-*`).
    pub limits: weld::StoreLimits,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table }
    }
}

/// The `-S` keys weld honours, with what each does (the text of `-S help`).
const KEYS: &[(&str, &str, &str)] = &[
    ("cli", "[=y|n]", "Define the WASI 0.2 interfaces (cli, io, clocks, random, filesystem, sockets); on by default"),
    ("common", "[=y|n]", "The old name of `cli`"),
    ("inherit-env", "[=y|n]", "Give the guest every environment variable of weld's process (before any --env)"),
    ("inherit-stdin", "[=y|n]", "The guest reads weld's stdin; on by default"),
    ("inherit-stdout", "[=y|n]", "The guest writes to weld's stdout; on by default"),
    ("inherit-stderr", "[=y|n]", "The guest writes to weld's stderr; on by default"),
    ("inherit-network", "[=y|n]", "Let the guest use any address, with TCP and UDP on"),
    ("tcp", "[=y|n]", "Let the guest create TCP sockets (addresses still need inherit-network)"),
    ("udp", "[=y|n]", "Let the guest create UDP sockets (addresses still need inherit-network)"),
    ("allow-ip-name-lookup", "[=y|n]", "Let the guest resolve host names (wasi:sockets/ip-name-lookup)"),
    ("cwd", "=DIR", "What wasi:cli/environment#initial-cwd reports"),
    ("max-resources", "=N", "The most WASI resources (streams, descriptors, sockets...) a guest may hold at once"),
    (
        "max-component-handles",
        "=N",
        "The most component handles (resources) live at once in the store (100000 by default); more traps",
    ),
    ("max-random-size", "=N", "The most bytes one get-random-bytes may ask for (64 MiB by default); more traps"),
    ("cli-exit-with-code", "[=y|n]", "wasi:cli/exit#exit-with-code, always defined (stable since WASI 0.2.12)"),
    ("preview2", "[=y|n]", "Implement WASI with the 0.2 host, which weld always does"),
    (
        "http",
        "[=y|n]",
        "Define wasi:http (0.2: types, outgoing-handler; 0.3: types, client); always on for `weld serve`",
    ),
    (
        "allow-http",
        "=HOST:PORT",
        "Let the guest send HTTP requests to this authority (repeatable); inherit-network allows any",
    ),
];

/// Keys of Wasmtime's `-S` that weld does not implement yet, with the reason.
const NOT_YET: &[(&str, &str)] = &[
    ("http-outgoing-body-buffer-chunks", "sizing wasi:http's body buffers is not implemented yet"),
    ("http-outgoing-body-chunk-size", "sizing wasi:http's body buffers is not implemented yet"),
    ("max-http-fields-size", "a bound on the size of wasi:http fields is not implemented yet"),
    ("p3", "WASI 0.3 is not implemented yet"),
    ("nn", "wasi-nn is not implemented"),
    ("nn-graph", "wasi-nn is not implemented"),
    ("threads", "wasi-threads is not implemented"),
    ("config", "wasi:config is not implemented"),
    ("config-var", "wasi:config is not implemented"),
    ("keyvalue", "wasi:keyvalue is not implemented"),
    ("keyvalue-in-memory-data", "wasi:keyvalue is not implemented"),
    ("tls", "wasi:tls is not implemented"),
    ("listenfd", "it applies only to core modules using WASI preview 1, which weld does not host yet"),
    ("tcplisten", "it applies only to core modules using WASI preview 1, which weld does not host yet"),
    ("preview0", "core modules using WASI preview 0 or 1 are not hosted yet"),
    ("network-error-code", "the unstable wasi:sockets/network#network-error-code is not implemented yet"),
    ("hostcall-fuel", "a fuel bound on the data a guest passes to host calls is not implemented yet"),
];

/// What the `-S` options, `--dir` and `--env` ask of the WASI host.
#[derive(Debug, PartialEq)]
pub struct WasiSettings {
    /// Whether WASI is defined at all (`-S cli=n` turns it off).
    pub cli: bool,
    inherit_env: bool,
    inherit_stdin: bool,
    inherit_stdout: bool,
    inherit_stderr: bool,
    inherit_network: bool,
    tcp: Option<bool>,
    udp: Option<bool>,
    ip_name_lookup: Option<bool>,
    cwd: Option<String>,
    max_resources: Option<usize>,
    /// `-S max-component-handles=N`.
    pub max_component_handles: Option<usize>,
    max_random_size: Option<u64>,
    /// `-S http`: define wasi:http (`weld serve` always does).
    pub http: bool,
    /// `-S allow-http=AUTHORITY`: where the guest may send HTTP requests.
    allow_http: Vec<String>,
    /// `-S help`: print the keys and stop.
    pub help: bool,
}

impl Default for WasiSettings {
    fn default() -> WasiSettings {
        WasiSettings {
            cli: true,
            inherit_env: false,
            inherit_stdin: true,
            inherit_stdout: true,
            inherit_stderr: true,
            inherit_network: false,
            tcp: None,
            udp: None,
            ip_name_lookup: None,
            cwd: None,
            max_resources: None,
            max_component_handles: None,
            max_random_size: None,
            http: false,
            allow_http: Vec::new(),
            help: false,
        }
    }
}

impl WasiSettings {
    /// Reads every `-S` occurrence.
    pub fn parse(occurrences: &[String]) -> Result<WasiSettings> {
        let mut s = WasiSettings::default();
        for item in items('S', occurrences) {
            match item.key {
                "help" | "help-long" => s.help = true,
                "cli" | "common" => s.cli = item.bool()?,
                "inherit-env" => s.inherit_env = item.bool()?,
                "inherit-stdin" => s.inherit_stdin = item.bool()?,
                "inherit-stdout" => s.inherit_stdout = item.bool()?,
                "inherit-stderr" => s.inherit_stderr = item.bool()?,
                "inherit-network" => s.inherit_network = item.bool()?,
                "tcp" => s.tcp = Some(item.bool()?),
                "udp" => s.udp = Some(item.bool()?),
                "allow-ip-name-lookup" => s.ip_name_lookup = Some(item.bool()?),
                "cwd" => s.cwd = Some(item.value()?.to_string()),
                "max-resources" => s.max_resources = Some(number(&item)?),
                "max-random-size" => s.max_random_size = Some(number(&item)?),
                "max-component-handles" => s.max_component_handles = Some(number(&item)?),
                "http" => s.http = item.bool()?,
                "allow-http" => s.allow_http.push(item.value()?.to_string()),
                "cli-exit-with-code" => {
                    if !item.bool()? {
                        eprintln!(
                            "warning: -S cli-exit-with-code=n: exit-with-code is stable WASI and cannot be turned off"
                        );
                    }
                }
                "preview2" => {
                    if !item.bool()? {
                        bail!("-S preview2=n: weld implements WASI only with its 0.2 host");
                    }
                }
                "p3" if !item.bool()? => {}
                key => {
                    if let Some((_, why)) = NOT_YET.iter().find(|(k, _)| *k == key) {
                        bail!("-S {key}: {why} in weld");
                    }
                    let known: Vec<&str> = KEYS.iter().map(|(k, _, _)| *k).collect();
                    return Err(unknown(&item, &known));
                }
            }
        }
        Ok(s)
    }

    /// The text `-S help` prints.
    pub fn help_text() -> String {
        let width = KEYS.iter().map(|(k, v, _)| k.len() + v.len()).max().unwrap_or(0);
        let mut text = String::from("Available wasi options:\n\n");
        for (key, value, doc) in KEYS {
            text.push_str(&format!("  -S {:>width$} -- {doc}\n", format!("{key}{value}")));
        }
        text.push_str("\nNot implemented in weld yet (refused): ");
        text.push_str(&NOT_YET.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", "));
        text.push('\n');
        text
    }

    /// The store data for a guest run with these settings, the `--dir` and `--env` options,
    /// and the guest's arguments (`argv[0]` first).
    pub fn host_state(&self, dirs: &[String], envs: &[String], argv: &[String]) -> Result<HostState> {
        let mut builder = WasiCtxBuilder::new();
        builder.args(argv);
        if self.inherit_stdin {
            builder.inherit_stdin();
        }
        if self.inherit_stdout {
            builder.inherit_stdout();
        }
        if self.inherit_stderr {
            builder.inherit_stderr();
        }
        if self.inherit_env {
            builder.inherit_env();
        }
        for env in envs {
            match env.split_once('=') {
                Some((name, value)) => {
                    builder.env(name, value);
                }
                // `--env NAME` passes the host's value, if it has one.
                None => {
                    if let Some(value) = std::env::var_os(env) {
                        let value = value
                            .into_string()
                            .map_err(|_| anyhow::anyhow!("--env {env}: the host's value is not valid UTF-8"))?;
                        builder.env(env, value);
                    }
                }
            }
        }
        for dir in dirs {
            let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
            builder.preopened_dir(host, guest, FsPerms::ReadWrite).with_context(|| format!("--dir {dir}"))?;
        }
        if let Some(cwd) = &self.cwd {
            builder.initial_cwd(cwd);
        }
        if self.inherit_network {
            builder.inherit_network().allow_tcp(true).allow_udp(true);
        }
        if let Some(tcp) = self.tcp {
            builder.allow_tcp(tcp);
        }
        if let Some(udp) = self.udp {
            builder.allow_udp(udp);
        }
        if let Some(lookup) = self.ip_name_lookup {
            builder.allow_ip_name_lookup(lookup);
        }
        if let Some(max) = self.max_random_size {
            builder.max_random_size(max);
        }
        let mut table = ResourceTable::new();
        if let Some(max) = self.max_resources {
            table.set_max_capacity(max);
        }
        let mut http = WasiHttpCtx::new();
        if self.inherit_network {
            http.allow_all_outgoing();
        }
        for authority in &self.allow_http {
            http.allow_authority(authority);
        }
        Ok(HostState { ctx: builder.build(), http, table, limits: weld::StoreLimits::default() })
    }
}

fn number<T: TryFrom<u64>>(item: &Item<'_>) -> Result<T> {
    let text = item.value()?;
    let digits = text.replace('_', "");
    let parsed = match digits.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => digits.parse::<u64>().ok(),
    };
    parsed
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| anyhow::anyhow!("-S {}: `{text}` is not a number this option accepts", item.key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(items: &[&str]) -> Result<WasiSettings> {
        WasiSettings::parse(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn keys_are_read() {
        let s = parse(&["inherit-env,tcp", "udp=n", "max-resources=0x10", "cwd=/work"]).unwrap();
        assert!(s.inherit_env);
        assert_eq!((s.tcp, s.udp), (Some(true), Some(false)));
        assert_eq!(s.max_resources, Some(16));
        assert_eq!(s.cwd.as_deref(), Some("/work"));
        assert!(parse(&["cli=n"]).unwrap() != WasiSettings::default());
        assert!(!parse(&["inherit-stdin=n"]).unwrap().inherit_stdin);
        assert_eq!(parse(&["p3=n"]).unwrap(), WasiSettings::default());
    }

    #[test]
    fn refusals_say_why() {
        let err = |items: &[&str]| parse(items).unwrap_err().to_string();
        assert!(parse(&["http", "allow-http=127.0.0.1:8080"]).unwrap().http);
        assert_eq!(err(&["p3"]), "-S p3: WASI 0.3 is not implemented yet in weld");
        assert!(
            err(&["frobnicate"]).starts_with("-S frobnicate: unknown option; the options weld knows here are: cli,")
        );
        assert_eq!(err(&["max-resources=lots"]), "-S max-resources: `lots` is not a number this option accepts");
        assert_eq!(err(&["preview2=n"]), "-S preview2=n: weld implements WASI only with its 0.2 host");
    }

    #[test]
    fn help_lists_every_key() {
        let help = WasiSettings::help_text();
        for (key, _, _) in KEYS {
            assert!(help.contains(key), "{key} missing from -S help");
        }
        assert!(help.contains("max-http-fields-size"), "keys not implemented yet are listed too");
    }
}
