# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Errors raised by the coffee machine clients.

Every error says whether trying again later may succeed (``retryable``) and,
when the machine told us, after how many seconds (``retry_after``), so the job
queue can decide between a delayed retry and a failure shown to a person.
Messages are written for that person and never contain a password or token.
"""


class CoffeeError(Exception):
    """Base of all errors talking to a coffee machine."""

    #: default for instances that do not say otherwise
    retryable = False

    def __init__(self, message, status=None, code=None, retryable=None,
                 retry_after=None):
        super().__init__(message)
        self.message = message
        #: the message without the leading "Coffee 1900 at <url>: "
        self.reason = message
        self.status = status
        self.code = code
        if retryable is not None:
            self.retryable = retryable
        self.retry_after = retry_after

    def __str__(self):
        return self.message

    def __repr__(self):
        return '%s(%r, status=%r, code=%r, retryable=%r, retry_after=%r)' % (
            type(self).__name__, self.message, self.status, self.code,
            self.retryable, self.retry_after)


class CoffeeConnectionError(CoffeeError):
    """The machine could not be reached (refused, DNS, network down)."""

    retryable = True


class CoffeeTimeout(CoffeeError):
    """The machine did not answer in time."""

    retryable = True


class CoffeeBusy(CoffeeError):
    """The machine is overloaded (1900 ``busy``, 2900 rate limit)."""

    retryable = True


class CoffeeServerError(CoffeeError):
    """The machine failed with a 5xx that is not one of the documented ones."""

    retryable = True


class CoffeeMachineError(CoffeeError):
    """The machine is in an error state (no water, no beans, ...).

    ``code`` carries the machine's error code (``E01``...), when known.
    Retryable: someone will refill the machine.
    """

    retryable = True


class CoffeeAuthError(CoffeeError):
    """The machine refused the credentials (401/403)."""


class CoffeeNotFound(CoffeeError):
    """The record does not exist (any more) on the machine (404)."""


class CoffeeConflict(CoffeeError):
    """409: the record exists, the drink is disabled, or a cup is brewing.

    Only the ``brewing``/``busy`` case is retryable; ``code`` tells which.
    """


class CoffeeValidationError(CoffeeError):
    """The machine refused the values sent (400/422); keeps its message."""


class CoffeePreconditionFailed(CoffeeError):
    """412: the record changed on the machine since we read its ETag."""


class CoffeeNoCredit(CoffeeError):
    """402: the card's credit is lower than the price."""


class CoffeeBlocked(CoffeeError):
    """423: the card or consumer is blocked."""


class CoffeeProtocolError(CoffeeError):
    """The answer is not what the documented protocol says.

    Non-JSON bodies, missing keys, or a URL that speaks another version.
    Not retryable: it needs a person to fix the configuration.
    """


class CoffeeWrongVersion(CoffeeProtocolError):
    """The URL answers, but not in this client's protocol version.

    Typically a backend set to 1900 pointing at a 2900, or the reverse.
    """


class CoffeeSignatureError(CoffeeError):
    """A webhook delivery whose signature must be rejected.

    ``code`` says why: ``malformed`` (header unreadable), ``mismatch`` (not
    signed with our secret, or body altered) or ``expired`` (``t`` more than
    the tolerance away from our clock: a replay, or a clock to fix).
    """
