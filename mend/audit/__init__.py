"""The audit chain. Import `record` from here: `from mend import audit; audit.record(...)`."""


def record(**kwargs):
    from mend.audit.services import record as _record  # layering: the app's package loads before its models

    return _record(**kwargs)
