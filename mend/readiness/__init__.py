"""One readiness rule: a snapshot of a case's people and records (`snapshot`), and pure functions over it
that say what is still missing (`rules`). The stage table, scheduling, the video room, the dialogue and
progress updates all ask these, so that a new consent mode or scope cannot split them."""
