//! Property tests: parse ↔ serialize round-trips for item hashes, addresses, chains and envelopes.

use aleph_core::chain::ethereum::{checksum, to_checksum_address};
use aleph_core::message::{Message, UnsignedMessage};
use aleph_core::{Chain, ItemHash, MessageType, PendingMessage};
use proptest::prelude::*;

fn chain() -> impl Strategy<Value = Chain> {
    prop::sample::select(Chain::ALL.to_vec())
}

fn message_type() -> impl Strategy<Value = MessageType> {
    prop::sample::select(MessageType::ALL.to_vec())
}

proptest! {
    #[test]
    fn sha256_item_hashes_round_trip(bytes in prop::array::uniform32(any::<u8>())) {
        let h = ItemHash::from_digest(bytes);
        let parsed: ItemHash = h.as_str().parse().unwrap();
        prop_assert_eq!(&parsed, &h);
        prop_assert_eq!(parsed.sha256_digest(), Some(bytes));
        let json = serde_json::to_string(&h).unwrap();
        prop_assert_eq!(serde_json::from_str::<ItemHash>(&json).unwrap(), h);
    }

    #[test]
    fn cid_item_hashes_round_trip(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        let v0 = aleph_core::cid::cid_v0(&data);
        let parsed: ItemHash = v0.parse().unwrap();
        prop_assert_eq!(parsed.as_str(), v0.as_str());
        prop_assert_eq!(parsed.item_type(), aleph_core::ItemType::Ipfs);
    }

    #[test]
    fn arbitrary_strings_never_panic_the_item_hash_parser(s in ".{0,80}") {
        match s.parse::<ItemHash>() {
            Ok(h) => prop_assert_eq!(h.as_str(), s.as_str()),
            Err(_) => prop_assert!(!ItemHash::is_valid(&s)),
        }
    }

    #[test]
    fn chains_round_trip(c in chain()) {
        prop_assert_eq!(c.as_str().parse::<Chain>().unwrap(), c);
        let json = serde_json::to_string(&c).unwrap();
        prop_assert_eq!(serde_json::from_str::<Chain>(&json).unwrap(), c);
    }

    #[test]
    fn evm_addresses_round_trip_through_any_case(bytes in prop::array::uniform20(any::<u8>()), upper in any::<bool>()) {
        let address = to_checksum_address(&bytes);
        let recased = if upper { format!("0x{}", address[2..].to_uppercase()) } else { address.to_lowercase() };
        prop_assert_eq!(checksum(&recased).unwrap(), address.clone());
        prop_assert_eq!(checksum(&address).unwrap(), address);
    }

    #[test]
    fn envelopes_round_trip_byte_exact(
        c in chain(),
        t in message_type(),
        sender in "[0-9A-Za-z]{1,60}",
        body in "\\PC{0,200}",
        time in 0.0f64..9.0e9,
        channel in prop::option::of("[ -~]{0,40}"),
        signature in "[ -~]{1,120}",
    ) {
        let content = serde_json::json!({"address": sender, "time": time, "type": "t", "content": {"body": body}}).to_string();
        let unsigned = UnsignedMessage::inline(t, content.clone(), time, channel.clone());
        let pending = PendingMessage {
            sender: sender.clone(),
            chain: c,
            signature: Some(signature),
            message_type: t,
            item_type: unsigned.item_type,
            item_content: unsigned.item_content.clone(),
            item_hash: unsigned.item_hash.clone(),
            time,
            channel,
        };
        // The wire form parses back to the same message, and serializes to the same bytes.
        let text = serde_json::to_string(&pending).unwrap();
        let back = PendingMessage::from_json(&text).unwrap();
        prop_assert_eq!(&back, &pending);
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), text.clone());
        prop_assert_eq!(back.item_content.as_deref(), Some(content.as_str()));
        // The API form reads it too, and gives the same pending form back.
        let api = Message::from_value(&serde_json::from_str(&text).unwrap()).unwrap();
        prop_assert_eq!(api.to_pending().unwrap(), pending);
    }
}
