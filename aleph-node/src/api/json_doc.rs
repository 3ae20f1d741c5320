//! The bytes `add_json` stores: the uploaded document re-serialized compact with sorted keys, as
//! the reference does, but with every number copied as it was written. Going through `f64` (or
//! `u64`) would turn `123456789012345678901234567890` into `1.2345678901234568e29` and `0.10`
//! into `0.1`, storing something other than what was uploaded.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

/// The compact, key-sorted form of the JSON document `bytes`; an error when it is not JSON.
pub(crate) fn compact_sorted(bytes: &[u8]) -> Result<String, serde_json::Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        <serde_json::Error as serde::de::Error>::custom(format!("the body is not UTF-8: {e}"))
    })?;
    let root: &RawValue = serde_json::from_str(text)?;
    let mut out = String::with_capacity(text.len());
    write(root, &mut out)?;
    Ok(out)
}

fn write(value: &RawValue, out: &mut String) -> Result<(), serde_json::Error> {
    let text = value.get().trim();
    match text.as_bytes().first() {
        Some(b'{') => {
            // Duplicate keys: the last one wins, as Python's parsers have it.
            let members: BTreeMap<String, &RawValue> = serde_json::from_str(text)?;
            out.push('{');
            for (i, (key, member)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key)?);
                out.push(':');
                write(member, out)?;
            }
            out.push('}');
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text)?;
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out)?;
            }
            out.push(']');
        }
        // Strings with their escapes normalised.
        Some(b'"') => out.push_str(&serde_json::to_string(&serde_json::from_str::<String>(text)?)?),
        // Numbers, `true`, `false`, `null`: as written.
        _ => out.push_str(text),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_kept_and_keys_sorted() {
        let doc = br#" { "b" : 123456789012345678901234567890, "a": [0.10, -0, 1E2, 1.5e-7],
                        "c": {"z": null, "y": true, "x": "\u00e9\n\/"}, "a": [0.1000000000000000055511151231257827] } "#;
        assert_eq!(
            compact_sorted(doc).unwrap(),
            r#"{"a":[0.1000000000000000055511151231257827],"b":123456789012345678901234567890,"c":{"x":"é\n/","y":true,"z":null}}"#
        );
        assert_eq!(compact_sorted(b"[1.10, {}, []]").unwrap(), "[1.10,{},[]]");
        assert!(compact_sorted(b"{\"a\":").is_err());
        assert!(compact_sorted(b"[1] 2").is_err());
        assert!(compact_sorted(b"\xff").is_err());
    }
}
