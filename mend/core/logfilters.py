"""Log records never carry a one-time link: tokens in paths are replaced before anything is written."""

import logging
import re

_TOKEN_IN_PATH = re.compile(r"/join/[^/\s\"']+")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/join/" in message:
            record.msg = _TOKEN_IN_PATH.sub("/join/[redacted]", message)
            record.args = ()
        if record.exc_text and "/join/" in record.exc_text:
            record.exc_text = _TOKEN_IN_PATH.sub("/join/[redacted]", record.exc_text)
        return True
