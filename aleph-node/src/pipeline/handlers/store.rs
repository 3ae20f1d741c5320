//! STORE: file references, tags (refs), and pins.

use aleph_core::message::PendingMessage;
use aleph_core::validate::{ErrorList, ProcessingError};
use aleph_core::ItemHash;
use rusqlite::{params, OptionalExtension, Transaction};

use super::{Ctx, Decoded, HResult};

/// The file tag of a STORE: its own hash without `ref`; `ref` itself when it is an item hash (a
/// revision); `owner/ref` for a user-defined name.
pub(crate) fn tag_of(item_hash: &str, owner: &str, reference: Option<&str>) -> String {
    match reference {
        None | Some("") => item_hash.to_owned(),
        Some(r) if ItemHash::is_valid(r) => r.to_owned(),
        Some(r) => format!("{owner}/{r}"),
    }
}

pub(super) fn check(tx: &Transaction<'_>, _ctx: &Ctx, m: &PendingMessage, content: &Decoded) -> HResult<()> {
    let file_hash = content.str_field("item_hash").unwrap_or_default();
    let known: bool = tx
        .prepare_cached("SELECT 1 FROM files WHERE hash = ?1")?
        .query_row([file_hash], |_| Ok(true))
        .optional()?
        .is_some();
    if !known {
        return Err(ProcessingError::file_unavailable(file_hash, None).into());
    }
    let reference = content.str_field("ref");
    if let Some(r) = reference.filter(|r| ItemHash::is_valid(r)) {
        let target: Option<Option<String>> = tx
            .prepare_cached("SELECT content_ref FROM messages WHERE item_hash = ?1 AND type = 'STORE'")?
            .query_row([r], |row| row.get(0))
            .optional()?;
        match target {
            None => return Err(ProcessingError::StoreRefNotFound(ErrorList::one(r)).into()),
            Some(Some(_)) => return Err(ProcessingError::StoreUpdateUpdate(ErrorList::one(r)).into()),
            Some(None) => {}
        }
    }
    if reference.is_some() {
        let tag = tag_of(m.item_hash.as_str(), content.owner(), reference);
        let owner: Option<String> = tx
            .prepare_cached("SELECT owner FROM file_tags WHERE tag = ?1")?
            .query_row([&tag], |r| r.get(0))
            .optional()?;
        if let Some(owner) = owner {
            aleph_core::permissions::check_file_tag_owner(&owner, content.owner(), m.item_hash.as_str())?;
        }
    }
    Ok(())
}

pub(super) fn apply(tx: &Transaction<'_>, m: &PendingMessage, content: &Decoded) -> HResult<()> {
    let file_hash = content.str_field("item_hash").unwrap_or_default();
    let reference = content.str_field("ref");
    let time = content.time();
    tx.prepare_cached("INSERT INTO file_pins (file_hash, kind, owner, item_hash, ref, created) VALUES (?1, 'message', ?2, ?3, ?4, ?5)")?.execute(
        params![file_hash, content.owner(), m.item_hash.as_str(), reference, time],
    )?;
    // The file is owned now: its upload grace period no longer matters.
    tx.prepare_cached("DELETE FROM file_pins WHERE file_hash = ?1 AND kind = 'grace_period'")?
        .execute([file_hash])?;
    let tag = tag_of(m.item_hash.as_str(), content.owner(), reference);
    tx.prepare_cached(
        "INSERT INTO file_tags (tag, owner, file_hash, item_hash, last_updated) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (tag) DO UPDATE SET file_hash = excluded.file_hash, item_hash = excluded.item_hash,
            last_updated = excluded.last_updated
         WHERE excluded.last_updated > file_tags.last_updated",
    )?
    .execute(params![tag, content.owner(), file_hash, m.item_hash.as_str(), time])?;
    Ok(())
}

/// Removes a STORE's pin; a file left without pins gets a grace period before collection.
pub(crate) fn unpin(tx: &Transaction<'_>, ctx: &Ctx, item_hash: &str, file_hash: &str) -> HResult<()> {
    tx.prepare_cached("DELETE FROM file_pins WHERE item_hash = ?1 AND kind = 'message'")?
        .execute([item_hash])?;
    // Re-point the tags this STORE held at the newest remaining STORE of the same tag, or drop
    // them.
    let tags: Vec<String> = {
        let mut stmt = tx.prepare_cached("SELECT tag FROM file_tags WHERE item_hash = ?1")?;
        let rows = stmt.query_map([item_hash], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
        rows
    };
    for tag in tags {
        let newest: Option<(String, String, String, f64)> = tx
            .prepare_cached(
                "SELECT owner, file_hash, item_hash, created FROM file_pins
                 WHERE kind = 'message' AND (item_hash = ?1 OR ref = ?1 OR owner || '/' || ref = ?1)
                 ORDER BY created DESC, item_hash DESC LIMIT 1",
            )?
            .query_row([&tag], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        match newest {
            Some((owner, file, item, created)) => tx.prepare_cached("UPDATE file_tags SET owner = ?2, file_hash = ?3, item_hash = ?4, last_updated = ?5 WHERE tag = ?1")?.execute(
                params![tag, owner, file, item, created],
            )?,
            None => tx.prepare_cached("DELETE FROM file_tags WHERE tag = ?1")?.execute( [&tag])?,
        };
    }
    grace_if_unpinned(tx, ctx, file_hash)
}

/// Gives a file that nothing pins any more a grace period before collection.
pub(crate) fn grace_if_unpinned(tx: &Transaction<'_>, ctx: &Ctx, file_hash: &str) -> HResult<()> {
    let pins: i64 = tx
        .prepare_cached("SELECT COUNT(*) FROM file_pins WHERE file_hash = ?1")?
        .query_row([file_hash], |r| r.get(0))?;
    if pins == 0 {
        tx.prepare_cached(
            "INSERT INTO file_pins (file_hash, kind, created, delete_by) VALUES (?1, 'grace_period', ?2, ?3)",
        )?
        .execute(params![file_hash, ctx.now, ctx.now + ctx.grace_secs])?;
    }
    Ok(())
}
