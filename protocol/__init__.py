# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""HTTP clients of the Coffee 1900 and Coffee 2900 machines.

Knows nothing of Odoo, so it can be tested against the emulator alone and
reasoned about from the vendor reference only.
"""

from .base import DEFAULT_TIMEOUT, MAX_JSON_BYTES, BaseClient
from .csvlog import (
    LOG_CSV_COLUMNS,
    MAX_LOG_FILE_BYTES,
    CsvHeaderError,
    CsvLine,
    parse_log_csv,
)
from .errors import (
    CoffeeAuthError,
    CoffeeBlocked,
    CoffeeBusy,
    CoffeeConflict,
    CoffeeConnectionError,
    CoffeeError,
    CoffeeMachineError,
    CoffeeNoCredit,
    CoffeeNotFound,
    CoffeePreconditionFailed,
    CoffeeProtocolError,
    CoffeeServerError,
    CoffeeSignatureError,
    CoffeeTimeout,
    CoffeeValidationError,
    CoffeeWrongVersion,
)
from .signature import (
    SIGNATURE_HEADER,
    sign,
    signature_header,
    verify_signature,
)
from .timestamps import TIMESTAMP_FORMAT_1900, TIMESTAMP_FORMAT_2900
from .v1900 import Coffee1900Client, format_local_timestamp
from .v2900 import Coffee2900Client, clear_token_cache, format_utc_timestamp

CLIENT_CLASSES = {
    '1900': Coffee1900Client,
    '2900': Coffee2900Client,
}


def client_class(version):
    """The client class speaking protocol ``version`` ('1900' or '2900')."""
    try:
        return CLIENT_CLASSES[str(version)]
    except KeyError:
        raise ValueError('unknown coffee machine version %r; expected one of '
                         '%s' % (version, ', '.join(sorted(CLIENT_CLASSES))))


__all__ = [
    'BaseClient', 'CLIENT_CLASSES', 'Coffee1900Client', 'Coffee2900Client',
    'CoffeeAuthError', 'CoffeeBlocked', 'CoffeeBusy', 'CoffeeConflict',
    'CoffeeConnectionError', 'CoffeeError', 'CoffeeMachineError',
    'CoffeeNoCredit', 'CoffeeNotFound', 'CoffeePreconditionFailed',
    'CoffeeProtocolError', 'CoffeeServerError', 'CoffeeSignatureError',
    'CoffeeTimeout', 'CoffeeValidationError', 'CoffeeWrongVersion',
    'CsvHeaderError', 'CsvLine', 'DEFAULT_TIMEOUT', 'LOG_CSV_COLUMNS',
    'MAX_JSON_BYTES', 'MAX_LOG_FILE_BYTES',
    'SIGNATURE_HEADER', 'TIMESTAMP_FORMAT_1900', 'TIMESTAMP_FORMAT_2900',
    'clear_token_cache', 'client_class',
    'format_local_timestamp', 'format_utc_timestamp', 'parse_log_csv',
    'sign', 'signature_header', 'verify_signature',
]
