-- aleph-node schema. Times are float epoch seconds; JSON documents are stored as text.

PRAGMA journal_mode = WAL;

CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per item hash ever seen, with its current status.
CREATE TABLE IF NOT EXISTS message_status (
    item_hash TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    reception_time REAL NOT NULL
);

-- Messages accepted at intake and not yet processed (or waiting for a retry).
CREATE TABLE IF NOT EXISTS pending_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_hash TEXT NOT NULL,
    sender TEXT NOT NULL,
    signature TEXT NOT NULL,
    message TEXT NOT NULL,            -- the pending envelope as JSON
    origin TEXT NOT NULL,             -- api | p2p | sync
    reception_time REAL NOT NULL,
    next_attempt REAL NOT NULL,
    retries INTEGER NOT NULL DEFAULT 0,
    UNIQUE (sender, item_hash, signature)
);
CREATE INDEX IF NOT EXISTS pending_next_attempt ON pending_messages (next_attempt, id);
CREATE INDEX IF NOT EXISTS pending_item_hash ON pending_messages (item_hash);

-- Processed (and removing) messages.
CREATE TABLE IF NOT EXISTS messages (
    item_hash TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,             -- processing order, for resumable streams
    type TEXT NOT NULL,
    chain TEXT NOT NULL,
    sender TEXT NOT NULL,
    signature TEXT,
    item_type TEXT NOT NULL,
    item_content TEXT,
    content TEXT NOT NULL,            -- the raw parsed content (with address/time filled in)
    time REAL NOT NULL,
    channel TEXT,
    size INTEGER NOT NULL,
    owner TEXT NOT NULL,              -- content.address
    content_type TEXT,                -- POST type
    content_ref TEXT,                 -- POST/STORE ref
    content_key TEXT,                 -- AGGREGATE key
    content_item_hash TEXT,           -- STORE file hash
    payment_type TEXT,
    tags TEXT                         -- JSON array, or NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_seq ON messages (seq);
-- Listing order is (time DESC, item_hash ASC): every listing index carries both, so a page is
-- read straight from the index without sorting the matching rows.
DROP INDEX IF EXISTS messages_sender_time;
DROP INDEX IF EXISTS messages_owner_time;
DROP INDEX IF EXISTS messages_type_time;
DROP INDEX IF EXISTS messages_channel_time;
CREATE INDEX IF NOT EXISTS messages_time ON messages (time DESC, item_hash);
CREATE INDEX IF NOT EXISTS messages_sender_order ON messages (sender, time DESC, item_hash);
-- Only the messages sent for someone else: the others are found through the sender index
-- (`owners` filters read both, see storage/messages.rs). Most messages are their sender's own, so
-- this saves an index entry, and its pages in the WAL, on nearly every insert.
DROP INDEX IF EXISTS messages_owner_order;
CREATE INDEX IF NOT EXISTS messages_owner_other ON messages (owner, time DESC, item_hash) WHERE owner <> sender;
-- The same messages by sender: what an owner sent for others, to correct `sender_counts` into
-- per-owner totals.
CREATE INDEX IF NOT EXISTS messages_sent_for_others ON messages (sender, type) WHERE owner <> sender;
CREATE INDEX IF NOT EXISTS messages_type_order ON messages (type, time DESC, item_hash);
CREATE INDEX IF NOT EXISTS messages_channel_order ON messages (channel, time DESC, item_hash);
-- The content columns are NULL for most messages (a ref, a key, a file hash or a post type each
-- belong to one or two message types): partial indexes skip those rows, so an insert does not
-- pay for an index entry no query can use (`col IN (…)` implies `col IS NOT NULL`).
DROP INDEX IF EXISTS messages_ref;
DROP INDEX IF EXISTS messages_key;
DROP INDEX IF EXISTS messages_content_item_hash;
DROP INDEX IF EXISTS messages_content_type;
CREATE INDEX IF NOT EXISTS messages_ref_set ON messages (content_ref) WHERE content_ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_key_set ON messages (content_key) WHERE content_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_content_item_hash_set ON messages (content_item_hash)
    WHERE content_item_hash IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_content_type_set ON messages (content_type) WHERE content_type IS NOT NULL;

-- Message counts per (sender, type) over `messages`, kept by the pipeline: the totals of
-- address-filtered listings and the address stats, without counting rows.
CREATE TABLE IF NOT EXISTS sender_counts (
    sender TEXT NOT NULL,
    type TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (sender, type)
);

CREATE TABLE IF NOT EXISTS confirmations (
    item_hash TEXT NOT NULL,
    chain TEXT NOT NULL,
    height INTEGER NOT NULL,
    hash TEXT NOT NULL,
    time REAL,
    publisher TEXT,
    PRIMARY KEY (item_hash, chain, hash)
);

CREATE TABLE IF NOT EXISTS rejected_messages (
    item_hash TEXT PRIMARY KEY,
    message TEXT NOT NULL,            -- the message as received
    error_code INTEGER NOT NULL,
    details TEXT                      -- JSON
);

CREATE TABLE IF NOT EXISTS forgotten_messages (
    item_hash TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    chain TEXT NOT NULL,
    sender TEXT NOT NULL,
    signature TEXT,
    item_type TEXT NOT NULL,
    time REAL NOT NULL,
    channel TEXT,
    owner TEXT,
    payment_type TEXT,
    size INTEGER,
    forgotten_at REAL NOT NULL,
    forgotten_by TEXT NOT NULL,       -- JSON array of FORGET hashes
    reason TEXT
);

-- Posts: originals and amends; `latest_amend` points an original at its displayed version.
CREATE TABLE IF NOT EXISTS posts (
    item_hash TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    type TEXT NOT NULL,
    ref TEXT,
    amends TEXT,                      -- for amends: the original's hash
    channel TEXT,
    creation REAL NOT NULL,
    content TEXT,                     -- content.content, JSON
    latest_amend TEXT,
    last_updated REAL NOT NULL
);
-- Only amends have `amends`; the index serves `amends = ?` lookups.
DROP INDEX IF EXISTS posts_amends;
CREATE INDEX IF NOT EXISTS posts_amends_set ON posts (amends) WHERE amends IS NOT NULL;
CREATE INDEX IF NOT EXISTS posts_owner ON posts (owner, last_updated DESC);
CREATE INDEX IF NOT EXISTS posts_updated ON posts (last_updated DESC);

CREATE TABLE IF NOT EXISTS aggregate_elements (
    item_hash TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    content TEXT NOT NULL,            -- JSON object
    creation REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS aggregate_elements_owner_key ON aggregate_elements (owner, key, creation);

CREATE TABLE IF NOT EXISTS aggregates (
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    content TEXT NOT NULL,            -- the merged JSON object
    creation REAL NOT NULL,
    last_updated REAL NOT NULL,
    original_item_hash TEXT NOT NULL,
    last_update_item_hash TEXT NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX IF NOT EXISTS aggregates_updated ON aggregates (last_updated DESC);

-- Files and what keeps them.
CREATE TABLE IF NOT EXISTS files (
    hash TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    type TEXT NOT NULL DEFAULT 'file'
);

CREATE TABLE IF NOT EXISTS file_pins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_hash TEXT NOT NULL,
    kind TEXT NOT NULL,               -- message | content | grace_period
    owner TEXT,
    item_hash TEXT,
    ref TEXT,
    created REAL NOT NULL,
    delete_by REAL
);
CREATE INDEX IF NOT EXISTS file_pins_file ON file_pins (file_hash);
CREATE INDEX IF NOT EXISTS file_pins_item ON file_pins (item_hash);
CREATE INDEX IF NOT EXISTS file_pins_owner ON file_pins (owner, kind);

CREATE TABLE IF NOT EXISTS file_tags (
    tag TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    item_hash TEXT NOT NULL,
    last_updated REAL NOT NULL
);

-- Executables (PROGRAM, INSTANCE) and the STOREs they use as volumes.
CREATE TABLE IF NOT EXISTS vms (
    item_hash TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    type TEXT NOT NULL,               -- program | instance
    allow_amend INTEGER NOT NULL,
    replaces TEXT,
    persistent INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS vm_volumes (
    vm_hash TEXT NOT NULL,
    ref TEXT NOT NULL,
    use_latest INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS vm_volumes_ref ON vm_volumes (ref);
CREATE INDEX IF NOT EXISTS vm_volumes_vm ON vm_volumes (vm_hash);

-- ALEPH balances per (address, chain, dapp) and credits.
CREATE TABLE IF NOT EXISTS balances (
    address TEXT NOT NULL,
    chain TEXT NOT NULL,
    dapp TEXT NOT NULL DEFAULT '',
    balance TEXT NOT NULL,            -- decimal string
    height INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (address, chain, dapp)
);
CREATE TABLE IF NOT EXISTS credit_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address TEXT NOT NULL,
    amount INTEGER NOT NULL,          -- positive for credit, negative for expense
    price TEXT,
    bonus_amount INTEGER,
    tx_hash TEXT,
    token TEXT,
    chain TEXT,
    provider TEXT,
    origin TEXT,
    origin_ref TEXT,
    payment_method TEXT,
    credit_ref TEXT NOT NULL,
    credit_index INTEGER NOT NULL,
    expiration_date REAL,
    message_timestamp REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS credit_history_address ON credit_history (address, message_timestamp);

-- Costs of paid resources, per owner.
CREATE TABLE IF NOT EXISTS account_costs (
    owner TEXT NOT NULL,
    item_hash TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    ref TEXT,
    payment_type TEXT NOT NULL,
    cost_hold TEXT NOT NULL,
    cost_stream TEXT NOT NULL,
    cost_credit TEXT NOT NULL,
    size_mib REAL                     -- the size the component was priced for (volumes, files)
);
CREATE INDEX IF NOT EXISTS account_costs_owner ON account_costs (owner, payment_type);
CREATE INDEX IF NOT EXISTS account_costs_item ON account_costs (item_hash);
-- One row per component, as the reference's unique constraint (recording again replaces it).
CREATE UNIQUE INDEX IF NOT EXISTS account_costs_unique ON account_costs (owner, item_hash, type, name);

-- Chain bridges (NETWORK.md §4). Transactions read from chains, whose messages they confirm.
CREATE TABLE IF NOT EXISTS chain_txs (
    chain TEXT NOT NULL,
    hash TEXT NOT NULL,
    height INTEGER NOT NULL,
    time REAL NOT NULL,
    publisher TEXT,
    protocol TEXT NOT NULL,           -- aleph | aleph-offchain | smart-contract
    protocol_version INTEGER NOT NULL,
    content TEXT NOT NULL,            -- JSON
    PRIMARY KEY (chain, hash)
);
-- How far each reader has read: the last height (or, for the Tezos indexer, events) consumed.
CREATE TABLE IF NOT EXISTS chain_sync_status (
    chain TEXT NOT NULL,
    kind TEXT NOT NULL,               -- sync | token | tezos
    height INTEGER NOT NULL,
    last_update REAL NOT NULL,
    PRIMARY KEY (chain, kind)
);
-- What a reader skipped, and why (malformed events, unreadable archives, unauthorized emitters).
CREATE TABLE IF NOT EXISTS chain_skipped (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chain TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    height INTEGER NOT NULL,
    reason TEXT NOT NULL,
    time REAL NOT NULL
);
-- ALEPH token balances indexed from ERC-20 Transfer logs, in the token's base unit (decimal text).
CREATE TABLE IF NOT EXISTS token_balances (
    chain TEXT NOT NULL,
    address TEXT NOT NULL,            -- checksummed
    amount TEXT NOT NULL,
    height INTEGER NOT NULL,
    published INTEGER NOT NULL DEFAULT 0,  -- 1 once a balances-update POST carried this amount
    PRIMARY KEY (chain, address)
);
CREATE INDEX IF NOT EXISTS token_balances_unpublished ON token_balances (chain) WHERE published = 0;
-- Messages this node emitted in a sync batch, until the batch's event confirms them (a packing
-- node does not emit them again meanwhile).
CREATE TABLE IF NOT EXISTS chain_outbox_items (
    item_hash TEXT PRIMARY KEY,
    chain TEXT NOT NULL,
    tx_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chain_outbox_items_tx ON chain_outbox_items (chain, tx_hash);
-- Transactions whose archive could not be fetched yet: retried with backoff, then skipped.
CREATE TABLE IF NOT EXISTS chain_pending_txs (
    chain TEXT NOT NULL,
    hash TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt REAL NOT NULL,
    PRIMARY KEY (chain, hash)
);
