"""Personal data at rest: ID numbers and phones encrypted, a keyed hash for look-up, masks for display.

The key comes from PII_KEY (any long random string; keep it apart from SECRET_KEY so that rotating
one does not lose the other's data). Without PII_KEY a key is derived from SECRET_KEY, which is only
acceptable for the demo; `check --deploy` warns about it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.translation import gettext as _

from common.errors import DomainError

# GB 11643-1999: weights of the first 17 digits and the check character for each sum mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# ASCII only: Python's \d also matches Arabic-Indic and other digits, which int() would read.
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")
_PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")


def _half_width(raw: str) -> str:
    """Full-width digits, letters and signs (４２０６…Ｘ, ＋８６) as ASCII: Chinese IMEs type them."""
    return unicodedata.normalize("NFKC", raw or "")


@dataclass(frozen=True)
class IdNumber:
    """A validated 18-digit resident ID number and what it says about its holder."""

    value: str
    birth_date: dt.date
    gender: str  # "M" or "F": the 17th digit is odd for men


def id_number_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_number_parse(raw: str) -> IdNumber:
    """Validate an ID number (format, birth date, checksum) and return it normalised.

    Raises DomainError(field="id_number") with the reason in Chinese.
    """
    value = _half_width(raw).strip().upper().replace(" ", "")
    if not _ID_RE.match(value):
        raise DomainError(
            "id_number_format", _("身份证号应为18位，前17位为数字，末位为数字或X。"), field="id_number"
        )
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise DomainError(
            "id_number_birth_date", _("身份证号中的出生日期无效。"), field="id_number"
        ) from None
    if birth.year < 1900 or birth > dt.date.today():
        raise DomainError("id_number_birth_date", _("身份证号中的出生日期无效。"), field="id_number")
    if id_number_check_char(value[:17]) != value[17]:
        raise DomainError(
            "id_number_checksum", _("身份证号校验码不正确，请核对后重新输入。"), field="id_number"
        )
    return IdNumber(value=value, birth_date=birth, gender="M" if int(value[16]) % 2 else "F")


def phone_parse(raw: str) -> str:
    """Validate a mainland mobile number (11 digits starting 13–19); accepts +86 and spaces or dashes."""
    value = re.sub(r"[\s-]", "", _half_width(raw))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not _PHONE_RE.match(value):
        raise DomainError("phone_format", _("手机号应为11位数字，以1开头。"), field="phone")
    return value


def mask_id_number(value: str) -> str:
    """4206**********1234: the region prefix and the last four, as design.md §3 shows."""
    return f"{value[:4]}{'*' * 10}{value[-4:]}"


def mask_phone(value: str) -> str:
    """138****5678."""
    return f"{value[:3]}****{value[-4:]}" if value else ""


def mask_name(value: str) -> str:
    """A person's name for public pages: the first and last character kept, the middle masked —
    张*明, 欧**华; a two-character name keeps its surname (王*); one character becomes *.

    Used wherever a resident is named to people without access to personal data (the public points
    board). Spaces are dropped first so "张 明" masks like "张明"."""
    name = "".join((value or "").split())
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@cache
def _keys(material: str) -> tuple[Fernet, bytes]:
    root = hashlib.sha256(("xiangzhi-pii:" + material).encode()).digest()
    encryption_key = hmac.new(root, b"encrypt", hashlib.sha256).digest()
    lookup_key = hmac.new(root, b"lookup", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(encryption_key)), lookup_key


def _key_material() -> str:
    return getattr(settings, "PII_KEY", "") or settings.SECRET_KEY


def encrypt(value: str) -> str:
    if not value:
        return ""
    fernet, _lookup = _keys(_key_material())
    return fernet.encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    fernet, _lookup = _keys(_key_material())
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken:
        raise DomainError(
            "pii_key_mismatch", _("个人信息无法解密：PII_KEY 与加密时不一致。"), status=500
        ) from None


def lookup_hash(value: str) -> str:
    """A keyed hash (HMAC-SHA256, hex) of a normalised value: equal values give equal hashes."""
    if not value:
        return ""
    _fernet, lookup = _keys(_key_material())
    return hmac.new(lookup, value.encode(), hashlib.sha256).hexdigest()


def id_number_columns(value: str, lookup: str = "") -> dict[str, str]:
    """The three stored columns of a normalised ID number: ciphertext, look-up hash, mask.

    `lookup`, when the caller computed it already, is lookup_hash(value). Every writer of residents
    (services, roster import, demo seed) stores ID numbers through this one function.
    """
    return {
        "id_number_encrypted": encrypt(value),
        "id_number_hash": lookup or lookup_hash(value),
        "id_number_masked": mask_id_number(value),
    }


def phone_columns(value: str) -> dict[str, str]:
    """The three stored columns of a normalised phone (all empty for no phone)."""
    return {
        "phone_encrypted": encrypt(value),
        "phone_hash": lookup_hash(value),
        "phone_masked": mask_phone(value),
    }
