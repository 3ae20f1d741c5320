//! Integration tests of the node: the HTTP API through the router and over the network, the
//! pipeline's processing rules and error codes, the status page in a headless browser, a crash
//! test of the real binary, and the official Python SDK driving a node.

mod aggregates;
mod chains;
mod common;
mod corechannel;
mod crash;
mod crn;
mod dev;
mod endpoints;
mod forget;
mod ipfs;
mod ipfs_dht;
mod ipfs_sharded;
#[path = "../kubo/driver.rs"]
mod kubo;
mod limits;
mod messages;
mod microvm;
mod openapi;
mod p2p;
mod p2p_reference;
mod payment;
mod posts;
mod prices;
mod python_interop;
mod router;
mod status_page;
mod storage;
mod submit;
mod vm;
mod ws;
