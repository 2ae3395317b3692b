"""Personal data never reaches a log line: ID numbers and mobile numbers are masked on the way out.

PersonalDataFilter sits on every handler in settings.LOGGING. It masks the formatted message (its
arguments included) and the traceback of a logged exception — a DomainError or a database error can
carry the value that was refused — with the same masks the pages use (governance.pii): 4206**********1234
and 138****5678. Masking in the handler, not the call site, covers third-party loggers (django.request
logs a failing request's exception) and code that forgets.
"""

from __future__ import annotations

import logging
import re

# An 18-character resident ID number (a plausible birth date inside) not glued to other digits, and a
# mainland mobile number, optionally after +86 / 0086. The ID pattern runs first: a masked ID number
# has no 11-digit run left for the phone pattern to take.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])([1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx])(?![0-9A-Za-z])"
)
_PHONE = re.compile(r"(?<![0-9])(?:(?:\+|00)86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?![0-9])")


def personal_data_mask(text: str) -> str:
    """`text` with every ID number and mobile number masked."""
    from governance.pii import mask_id_number, mask_phone

    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(1).upper()), text)
    return _PHONE.sub(lambda m: mask_phone(m.group(1) + m.group(2) + m.group(3)), text)


class PersonalDataFilter(logging.Filter):
    """Masks personal data in the record in place; never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: leave it to the handler
            return True
        masked = personal_data_mask(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = personal_data_mask(record.exc_text)
        if record.stack_info:
            record.stack_info = personal_data_mask(record.stack_info)
        return True
