//! The real `aleph` binary against an in-process `aleph-node`: every command area, with snapshots
//! of human and `--json` output, and the official Python SDK judging what the CLI signs.

mod common;
mod files;
mod messages;
mod offline;
mod python_sdk;
mod social;
