//! [`WasiCtx`], the state of one guest's WASI world (its arguments, environment, standard
//! streams, clocks, random sources, preopened directories and network policy), and
//! [`WasiCtxBuilder`], which makes one. Defaults deny everything that reaches outside: no
//! arguments, no environment, stdin closed, stdout and stderr discarded, no directories, no
//! network.

use crate::cli::{StdinStream, StdoutStream};
use crate::clocks::{Clocks, HostMonotonicClock, HostWallClock};
use crate::filesystem::{Dir, FilesystemCtx, FsPerms, OpenMode};
use crate::random::{RandomCtx, Rng};
use crate::sockets::{SocketAddrUse, SocketsCtx};
use anyhow::{Context, Result};
use cap_std::ambient_authority;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// The WASI state of one store: what the guest sees of the outside world. Make it with
/// [`WasiCtx::builder`].
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) initial_cwd: Option<String>,
    pub(crate) stdin: Box<dyn StdinStream>,
    pub(crate) stdout: Box<dyn StdoutStream>,
    pub(crate) stderr: Box<dyn StdoutStream>,
    pub(crate) clocks: Clocks,
    pub(crate) random: RandomCtx,
    pub(crate) filesystem: FilesystemCtx,
    pub(crate) sockets: SocketsCtx,
}

impl Default for WasiCtx {
    fn default() -> WasiCtx {
        WasiCtx::with_random(RandomCtx::default())
    }
}

impl WasiCtx {
    /// The defaults with these random sources (seeding them from the system costs calls).
    fn with_random(random: RandomCtx) -> WasiCtx {
        WasiCtx {
            args: Vec::new(),
            env: Vec::new(),
            initial_cwd: None,
            stdin: Box::new(std::io::empty()),
            stdout: Box::new(std::io::empty()),
            stderr: Box::new(std::io::empty()),
            clocks: Clocks::default(),
            random,
            filesystem: FilesystemCtx::default(),
            sockets: SocketsCtx::default(),
        }
    }
}

impl WasiCtx {
    /// A builder that starts from the defaults (nothing allowed).
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }
}

/// Builds a [`WasiCtx`]: each method adds or allows something and returns the builder.
pub struct WasiCtxBuilder {
    ctx: WasiCtx,
    built: bool,
}

impl Default for WasiCtxBuilder {
    fn default() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }
}

impl WasiCtxBuilder {
    /// A builder with the defaults: no arguments, no environment, stdin closed, stdout and
    /// stderr discarded, the host's clocks and random sources, no directories, no network.
    pub fn new() -> WasiCtxBuilder {
        WasiCtxBuilder { ctx: WasiCtx::default(), built: false }
    }

    /// The guest's stdin.
    pub fn stdin(&mut self, stdin: impl StdinStream + 'static) -> &mut Self {
        self.ctx.stdin = Box::new(stdin);
        self
    }

    /// The guest's stdout.
    pub fn stdout(&mut self, stdout: impl StdoutStream + 'static) -> &mut Self {
        self.ctx.stdout = Box::new(stdout);
        self
    }

    /// The guest's stderr.
    pub fn stderr(&mut self, stderr: impl StdoutStream + 'static) -> &mut Self {
        self.ctx.stderr = Box::new(stderr);
        self
    }

    /// The guest reads the process's stdin.
    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdin(std::io::stdin())
    }

    /// The guest writes to the process's stdout.
    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.stdout(std::io::stdout())
    }

    /// The guest writes to the process's stderr.
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stderr(std::io::stderr())
    }

    /// The guest uses the process's stdin, stdout and stderr.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Adds environment variables (in order; a name given twice is seen twice).
    pub fn envs(&mut self, env: &[(impl AsRef<str>, impl AsRef<str>)]) -> &mut Self {
        for (k, v) in env {
            self.env(k, v);
        }
        self
    }

    /// Adds one environment variable.
    pub fn env(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> &mut Self {
        self.ctx.env.push((name.as_ref().to_string(), value.as_ref().to_string()));
        self
    }

    /// Adds every environment variable of the process (those whose name and value are
    /// valid UTF-8).
    pub fn inherit_env(&mut self) -> &mut Self {
        let vars: Vec<(String, String)> =
            std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect();
        self.envs(&vars)
    }

    /// Adds arguments (the first is what programs see as their name, argv[0]).
    pub fn args(&mut self, args: &[impl AsRef<str>]) -> &mut Self {
        for arg in args {
            self.arg(arg);
        }
        self
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<str>) -> &mut Self {
        self.ctx.args.push(arg.as_ref().to_string());
        self
    }

    /// Adds the process's own arguments (those that are valid UTF-8).
    pub fn inherit_args(&mut self) -> &mut Self {
        let args: Vec<String> = std::env::args_os().filter_map(|a| a.into_string().ok()).collect();
        self.args(&args)
    }

    /// What `wasi:cli/environment#initial-cwd` reports.
    pub fn initial_cwd(&mut self, path: impl AsRef<str>) -> &mut Self {
        self.ctx.initial_cwd = Some(path.as_ref().to_string());
        self
    }

    /// Opens the host directory `host_path` now and gives it to the guest as `guest_path`,
    /// with `perms`. Fails if the directory cannot be opened.
    pub fn preopened_dir(
        &mut self,
        host_path: impl AsRef<Path>,
        guest_path: impl AsRef<str>,
        perms: FsPerms,
    ) -> Result<&mut Self> {
        let host_path = host_path.as_ref();
        let dir = cap_std::fs::Dir::open_ambient_dir(host_path, ambient_authority())
            .with_context(|| format!("cannot open the directory `{}` to preopen it", host_path.display()))?;
        let open_mode = OpenMode { read: true, write: perms == FsPerms::ReadWrite };
        let dir = Dir { dir: Arc::new(dir), perms, open_mode };
        self.ctx.filesystem.preopens.push((dir, guest_path.as_ref().to_string()));
        Ok(self)
    }

    /// The source of `wasi:random/random`.
    pub fn secure_random(&mut self, random: impl Rng + 'static) -> &mut Self {
        self.ctx.random.secure = Box::new(random);
        self
    }

    /// The source of `wasi:random/insecure`.
    pub fn insecure_random(&mut self, random: impl Rng + 'static) -> &mut Self {
        self.ctx.random.insecure = Box::new(random);
        self
    }

    /// What `wasi:random/insecure-seed#insecure-seed` returns.
    pub fn insecure_random_seed(&mut self, seed: u128) -> &mut Self {
        self.ctx.random.insecure_seed = seed;
        self
    }

    /// The most bytes one `get-random-bytes` may ask for; more is a trap (default 64 MiB).
    pub fn max_random_size(&mut self, max_size: u64) -> &mut Self {
        self.ctx.random.max_size = max_size;
        self
    }

    /// The wall clock the guest reads.
    pub fn wall_clock(&mut self, clock: impl HostWallClock + 'static) -> &mut Self {
        self.ctx.clocks.wall = Box::new(clock);
        self
    }

    /// The monotonic clock the guest reads.
    pub fn monotonic_clock(&mut self, clock: impl HostMonotonicClock + 'static) -> &mut Self {
        self.ctx.clocks.monotonic = Box::new(clock);
        self
    }

    /// Allows every address for every use. TCP and UDP themselves still need
    /// [`allow_tcp`](Self::allow_tcp) and [`allow_udp`](Self::allow_udp).
    pub fn inherit_network(&mut self) -> &mut Self {
        self.socket_addr_check(|_, _| true)
    }

    /// Decides, per address and use, whether the guest may bind, connect, send or accept
    /// (the default denies every address). Unlike Wasmtime's, the check is a plain function:
    /// weld's WASI host is synchronous.
    pub fn socket_addr_check<F>(&mut self, check: F) -> &mut Self
    where
        F: Fn(SocketAddr, SocketAddrUse) -> bool + Send + Sync + 'static,
    {
        self.ctx.sockets.addr_check = Arc::new(check);
        self
    }

    /// Whether `wasi:sockets/ip-name-lookup` resolves names (default: no).
    pub fn allow_ip_name_lookup(&mut self, enable: bool) -> &mut Self {
        self.ctx.sockets.ip_name_lookup = enable;
        self
    }

    /// Whether the guest may create TCP sockets (default: no).
    pub fn allow_tcp(&mut self, enable: bool) -> &mut Self {
        self.ctx.sockets.tcp = enable;
        self
    }

    /// Whether the guest may create UDP sockets (default: no).
    pub fn allow_udp(&mut self, enable: bool) -> &mut Self {
        self.ctx.sockets.udp = enable;
        self
    }

    /// The context. A builder builds once: it panics if called again, as the state it held
    /// (stdio, directories) has moved into the first context.
    pub fn build(&mut self) -> WasiCtx {
        assert!(!self.built, "WasiCtxBuilder::build was called twice on the same builder");
        self.built = true;
        // What stays behind is never used: it needs no entropy from the system.
        let unused = WasiCtx::with_random(RandomCtx::unseeded());
        std::mem::replace(&mut self.ctx, unused)
    }
}
