//! Assigning persistent programs to this CCN's CRNs: the seed's flow, where a PROGRAM reaches
//! a CCN, which assigns it to one of the CRNs linked to it in the `corechannel` view.
//!
//! On the live network an external scheduler does this; here the CCN plays that part for its
//! own CRNs, speaking the same contract: `POST /control/allocations` with the full desired set,
//! signed `Aleph-EIP191-V1` by the scheduler key (which the CRNs list in
//! `crn.allocation_signers`). Each persistent program goes to the CRN its
//! `requirements.node.node_hash` names when that CRN is linked here, else to the linked CRN
//! with the highest rendezvous weight (sha256 of program hash ‖ CRN hash): stable while the set
//! of CRNs is, and moving only the programs of a CRN that leaves. The set is re-sent when it
//! changes and every `interval_secs`, so a restarted CRN gets its programs back.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::{MessageType, Signer};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::pipeline::{Event, Pipeline};

/// The scheduler's settings (`[scheduler]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    /// The key (hex) allocations are signed with.
    pub signer_key: String,
    /// This CCN's hash in the `corechannel` view; absent: the node owned by the signer's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_hash: Option<String>,
    /// How often the allocations are re-sent, in seconds.
    #[serde(default = "default_interval")]
    pub interval_secs: f64,
}

fn default_interval() -> f64 {
    30.0
}

/// Why the scheduler cannot start.
#[derive(Debug, thiserror::Error)]
#[error("scheduler: {0}")]
pub struct SchedulerError(String);

/// The persistent programs (processed, not forgotten) and the node each requires, if any.
async fn persistent_programs(pipeline: &Pipeline) -> Vec<(String, Option<String>)> {
    let rows = pipeline
        .db()
        .read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT v.item_hash, m.content FROM vms v JOIN messages m ON m.item_hash = v.item_hash
                 WHERE v.type = 'program' AND v.persistent = 1 ORDER BY v.item_hash",
            )?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
        .unwrap_or_default();
    rows.into_iter()
        .map(|(hash, content)| {
            let pinned = content.and_then(|c| serde_json::from_str::<Value>(&c).ok()).and_then(|c| {
                c.pointer("/requirements/node/node_hash").and_then(Value::as_str).map(str::to_owned)
            });
            (hash, pinned)
        })
        .collect()
}

/// The CRN (hash) a program goes to among `crns`.
fn assign<'a>(
    program: &str,
    pinned: Option<&str>,
    crns: &'a [(String, String)],
) -> Option<&'a (String, String)> {
    if let Some(pin) = pinned {
        return crns.iter().find(|(hash, _)| hash == pin);
    }
    crns.iter().max_by_key(|(hash, _)| {
        let mut h = Sha256::new();
        h.update(program.as_bytes());
        h.update(hash.as_bytes());
        <[u8; 32]>::from(h.finalize())
    })
}

/// The desired set per CRN URL.
async fn plan(pipeline: &Pipeline, node_hash: &str) -> BTreeMap<String, BTreeSet<String>> {
    let crns: Vec<(String, String)> = match pipeline.corechannel().linked_crns(node_hash).await {
        Ok(list) => list
            .into_iter()
            .filter(|c| !c.info.address.is_empty())
            .map(|c| (c.info.hash, c.info.address))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "scheduler: cannot read the corechannel view");
            return BTreeMap::new();
        }
    };
    let mut out: BTreeMap<String, BTreeSet<String>> =
        crns.iter().map(|(_, url)| (url.clone(), BTreeSet::new())).collect();
    for (program, pinned) in persistent_programs(pipeline).await {
        if let Some((_, url)) = assign(&program, pinned.as_deref(), &crns) {
            out.entry(url.clone()).or_default().insert(program);
        }
    }
    out
}

async fn send(
    http: &reqwest::Client,
    signer: &EthereumSigner,
    url: &str,
    programs: &BTreeSet<String>,
) -> Result<(), String> {
    let path = "/control/allocations";
    let body =
        json!({"persistent_vms": programs, "instances": [], "on_demand_vms": [], "jobs": []}).to_string();
    let auth = aleph_core::vm_auth::sign_scheduler_request(
        signer,
        "POST",
        path,
        body.as_bytes(),
        chrono::Utc::now(),
    )
    .map_err(|e| e.to_string())?;
    let resp = http
        .post(format!("{}{path}", url.trim_end_matches('/')))
        .header("Authorization", auth)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {status}: {text}"))
    }
}

/// The scheduler task (run it under the node's task manager); it returns when `stop` fires.
pub(crate) fn task(
    config: SchedulerConfig,
    pipeline: Pipeline,
    stop: CancellationToken,
) -> Result<impl std::future::Future<Output = Result<(), String>> + Send + 'static, SchedulerError> {
    let signer = EthereumSigner::from_hex(&config.signer_key)
        .map_err(|e| SchedulerError(format!("signer_key: {e}")))?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| SchedulerError(e.to_string()))?;
    let mut events = pipeline.subscribe();
    Ok(async move {
        let period = Duration::from_secs_f64(config.interval_secs.max(0.1));
        let mut sent: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut last_full = tokio::time::Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(500).min(period));
        let mut dirty = true;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                event = events.recv() => {
                    dirty |= match event {
                        Ok(Event::Processed { message, .. }) => {
                            matches!(message.get("type").and_then(Value::as_str), Some(t) if t == MessageType::Program.as_str() || t == MessageType::Forget.as_str() || t == MessageType::Post.as_str())
                        }
                        Ok(_) => false,
                        Err(_) => true,
                    };
                    continue;
                }
                _ = tick.tick() => {}
            }
            let full = last_full.elapsed() >= period;
            if !dirty && !full {
                continue;
            }
            dirty = false;
            let node_hash = match &config.node_hash {
                Some(h) => Some(h.clone()),
                None => pipeline
                    .corechannel()
                    .node_of_owner(signer.address())
                    .await
                    .ok()
                    .flatten()
                    .map(|n| n.info.hash),
            };
            let Some(node_hash) = node_hash else { continue };
            let wanted = plan(&pipeline, &node_hash).await;
            if full {
                last_full = tokio::time::Instant::now();
            }
            for (url, programs) in &wanted {
                if !full && sent.get(url) == Some(programs) {
                    continue;
                }
                match send(&http, &signer, url, programs).await {
                    Ok(()) => {
                        tracing::info!(crn = %url, programs = programs.len(), "allocations sent");
                        sent.insert(url.clone(), programs.clone());
                    }
                    Err(e) => {
                        tracing::warn!(crn = %url, error = %e, "allocations not accepted");
                        sent.remove(url);
                    }
                }
            }
            // CRNs no longer linked here keep nothing of ours.
            let gone: Vec<String> = sent.keys().filter(|u| !wanted.contains_key(*u)).cloned().collect();
            for url in gone {
                let _ = send(&http, &signer, &url, &BTreeSet::new()).await;
                sent.remove(&url);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_programs_go_where_asked_and_others_spread_stably() {
        let crns = vec![("a".repeat(64), "http://a".into()), ("b".repeat(64), "http://b".into())];
        let pin = "b".repeat(64);
        assert_eq!(assign("p1", Some(&pin), &crns).unwrap().1, "http://b");
        assert!(assign("p1", Some("c"), &crns).is_none(), "a CRN not linked here is not used");
        let first = assign("p2", None, &crns).unwrap().0.clone();
        assert_eq!(assign("p2", None, &crns).unwrap().0, first);
        let spread: BTreeSet<&str> =
            (0..32).map(|i| assign(&format!("p{i}"), None, &crns).unwrap().1.as_str()).collect();
        assert_eq!(spread.len(), 2, "programs spread over both CRNs");
    }
}
