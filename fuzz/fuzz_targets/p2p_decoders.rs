//! Any bytes from a peer: as a gossip payload (JSON or percent-encoded JSON) and as a catch-up
//! request or page, judged as the node judges them. Verdicts, never a panic.
//!
//! Run with: `RUSTC_BOOTSTRAP=1 cargo fuzz run -s none p2p_decoders -- -max_total_time=60`
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = aleph_node::fuzzing::gossip(data);
    let _ = aleph_node::fuzzing::sync_message(data);
});
