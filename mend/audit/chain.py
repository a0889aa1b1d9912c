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


def verify(events) -> tuple[bool, str]:
    """Walks events in seq order; returns (ok, description of the first broken link)."""
    prev = GENESIS
    expected_seq = 1
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
        prev = event.hash
        expected_seq += 1
    return True, f"{expected_seq - 1} events, chain intact"
