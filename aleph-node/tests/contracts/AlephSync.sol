// SPDX-License-Identifier: MIT
// The sync contract of NETWORK.md §4.3, written for this project's tests: the same events and
// functions as the network's AlephSync (same signatures, so the same topic0 values), nothing else.
pragma solidity ^0.8.20;

contract AlephSync {
    event SyncEvent(uint256 timestamp, address addr, string message);
    event MessageEvent(uint256 timestamp, address addr, string msgtype, string msgcontent);

    /// A batch of messages (an `aleph` or `aleph-offchain` payload), from a packing node.
    function doEmit(string calldata message) external {
        emit SyncEvent(block.timestamp, msg.sender, message);
    }

    /// One message built from the event (`smart-contract` protocol); its sender is the caller.
    function doMessage(string calldata msgtype, string calldata msgcontent) external {
        emit MessageEvent(block.timestamp, msg.sender, msgtype, msgcontent);
    }
}

/// A contract that writes to the network through the sync contract: its messages' sender is
/// this contract's address.
contract SyncCaller {
    AlephSync private immutable sync;

    constructor(AlephSync target) {
        sync = target;
    }

    function post(string calldata msgtype, string calldata msgcontent) external {
        sync.doMessage(msgtype, msgcontent);
    }
}
