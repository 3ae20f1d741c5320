//! The `aleph` binary: everything lives in the `aleph_cli` library.

use std::process::ExitCode;

fn main() -> ExitCode {
    match aleph_cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => aleph_cli::report(&error),
    }
}
