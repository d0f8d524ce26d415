//! The `wasi:cli` interfaces on a [`WasiCtxView`]: environment, exit, the standard streams
//! and the terminal queries.

use super::{TerminalInput, TerminalOutput};
use crate::I32Exit;
use crate::bindings::wasi::cli::{
    environment, exit, stderr, stdin, stdout, terminal_input, terminal_output, terminal_stderr, terminal_stdin,
    terminal_stdout,
};
use crate::streams::{DynInputStream, DynOutputStream};
use crate::view::WasiCtxView;
use weld::component::Resource;

impl environment::Host for WasiCtxView<'_> {
    fn get_environment(&mut self) -> weld::Result<Vec<(String, String)>> {
        Ok(self.ctx.env.clone())
    }

    fn get_arguments(&mut self) -> weld::Result<Vec<String>> {
        Ok(self.ctx.args.clone())
    }

    fn initial_cwd(&mut self) -> weld::Result<Option<String>> {
        Ok(self.ctx.initial_cwd.clone())
    }
}

impl exit::Host for WasiCtxView<'_> {
    fn exit(&mut self, status: Result<(), ()>) -> weld::Result<()> {
        Err(I32Exit(if status.is_ok() { 0 } else { 1 }).into())
    }

    fn exit_with_code(&mut self, status_code: u8) -> weld::Result<()> {
        Err(I32Exit(status_code.into()).into())
    }
}

impl stdin::Host for WasiCtxView<'_> {
    fn get_stdin(&mut self) -> weld::Result<Resource<DynInputStream>> {
        let stream: DynInputStream = self.ctx.stdin.p2_stream();
        Ok(self.table.push(stream)?)
    }
}

impl stdout::Host for WasiCtxView<'_> {
    fn get_stdout(&mut self) -> weld::Result<Resource<DynOutputStream>> {
        let stream: DynOutputStream = self.ctx.stdout.p2_stream();
        Ok(self.table.push(stream)?)
    }
}

impl stderr::Host for WasiCtxView<'_> {
    fn get_stderr(&mut self) -> weld::Result<Resource<DynOutputStream>> {
        let stream: DynOutputStream = self.ctx.stderr.p2_stream();
        Ok(self.table.push(stream)?)
    }
}

impl terminal_input::HostTerminalInput for WasiCtxView<'_> {
    fn drop(&mut self, terminal: Resource<TerminalInput>) -> weld::Result<()> {
        self.table.delete(terminal)?;
        Ok(())
    }
}

impl terminal_input::Host for WasiCtxView<'_> {}

impl terminal_output::HostTerminalOutput for WasiCtxView<'_> {
    fn drop(&mut self, terminal: Resource<TerminalOutput>) -> weld::Result<()> {
        self.table.delete(terminal)?;
        Ok(())
    }
}

impl terminal_output::Host for WasiCtxView<'_> {}

impl terminal_stdin::Host for WasiCtxView<'_> {
    fn get_terminal_stdin(&mut self) -> weld::Result<Option<Resource<TerminalInput>>> {
        if self.ctx.stdin.is_terminal() { Ok(Some(self.table.push(TerminalInput)?)) } else { Ok(None) }
    }
}

impl terminal_stdout::Host for WasiCtxView<'_> {
    fn get_terminal_stdout(&mut self) -> weld::Result<Option<Resource<TerminalOutput>>> {
        if self.ctx.stdout.is_terminal() { Ok(Some(self.table.push(TerminalOutput)?)) } else { Ok(None) }
    }
}

impl terminal_stderr::Host for WasiCtxView<'_> {
    fn get_terminal_stderr(&mut self) -> weld::Result<Option<Resource<TerminalOutput>>> {
        if self.ctx.stderr.is_terminal() { Ok(Some(self.table.push(TerminalOutput)?)) } else { Ok(None) }
    }
}
