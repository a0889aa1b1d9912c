"""The audit chain. Import `record` from here: `from mend import audit; audit.record(...)`."""


def record(**kwargs):
    from mend.audit.services import record as _record

    return _record(**kwargs)
