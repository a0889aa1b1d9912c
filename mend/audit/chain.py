"""How an event is hashed into the chain: SHA-256 over the previous hash and the RFC 8785 JSON."""

import hashlib

import rfc8785

GENESIS = "0" * 64


def event_body(*, seq, at, code, actor_id, target_type, target_id, payload) -> dict:
    return {
        "seq": seq,
        "at": at.isoformat(),
        "code": code,
        "actor": actor_id,
        "target": f"{target_type}:{target_id}",
        "payload": payload,
    }


def link_hash(prev_hash: str, body: dict) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + rfc8785.dumps(body)).hexdigest()


def verify(
    events, *, checkpoints: dict[int, str] | None = None, start_seq: int = 0, start_hash: str = GENESIS
):
    """Walks events in seq order from the link (start_seq, start_hash); returns (ok, description of the
    first broken link). `checkpoints` maps a seq to the hash a signed checkpoint recorded for it: an
    attacker who edits an event and recomputes every later hash keeps the links whole, but not those."""
    checkpoints = checkpoints or {}
    prev = start_hash
    expected_seq = start_seq + 1
    last_matching = start_seq
    for event in events:
        if event.seq != expected_seq:
            return False, f"event {expected_seq} is missing or out of order (found {event.seq})"
        body = event_body(
            seq=event.seq,
            at=event.at,
            code=event.code,
            actor_id=event.actor_id,
            target_type=event.target_type,
            target_id=event.target_id,
            payload=event.payload,
        )
        if event.prev_hash != prev or link_hash(prev, body) != event.hash:
            return False, f"event {event.seq} ({event.code}) does not match the chain"
        if event.seq in checkpoints:
            if checkpoints[event.seq] != event.hash:
                since = f"after event {last_matching}" if last_matching else f"at or before event {event.seq}"
                return False, (
                    f"the signed checkpoint at event {event.seq} no longer matches the chain: an event "
                    f"{since} was edited, deleted or reordered, and the hashes after it recomputed"
                )
            last_matching = event.seq
        prev = event.hash
        expected_seq += 1
    last = expected_seq - 1
    beyond = [seq for seq in checkpoints if seq > last]
    if beyond:
        return False, (
            f"the signed checkpoint at event {min(beyond)} is beyond the end of the chain (event {last}): "
            "events were deleted"
        )
    return True, f"{last - start_seq} events, chain intact"
