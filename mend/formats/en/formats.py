"""Mend's one set of date formats (issue 18), in English: a date, a date with its time, and the long form a
meeting is announced in. Templates use the names (`|date:"DATE_FORMAT"`), never a pattern of their own; the
browser's `dateTime` (mend/static/mend/i18n.js) shows the same short form."""

DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
DATETIME_FORMAT = "l j F Y, H:i"
TIME_FORMAT = "H:i"
