//! Any bytes as the query string of `GET /api/v0/messages.json`: parsed as the handlers parse
//! it, with the message filters, paging and date range checked. Refusals, never a panic.
//!
//! Run with: `RUSTC_BOOTSTRAP=1 cargo fuzz run -s none http_query -- -max_total_time=60`
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = aleph_node::fuzzing::http_query(data);
});
