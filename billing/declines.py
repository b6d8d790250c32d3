"""Why a card payment did not go through, in words a customer understands.

The one table from a failure code (Stripe's ``decline_code``, else its error ``code``, else one
of the portal's own codes) to the sentence the Control Center shows. Stripe's own message stays
on the payment for staff (the admin); customers read these. Codes not in the table get
``GENERIC_REASON``: a processor adds codes over time, and its raw text is not for customers.

Lost, stolen and fraud-flagged cards read as a plain decline on purpose: telling whoever holds
such a card why it failed helps only them (Stripe's advice too).
"""

from __future__ import annotations

GENERIC_REASON = (
    "Your bank declined the payment. Please try another card, or contact your bank to find out why."
)

_DECLINED = GENERIC_REASON
_TRY_LATER = (
    "Your bank could not be reached to approve the payment. Please try again in a few minutes."
)
_OTHER_CARD = "This card cannot be used for this payment. Please use another card."

# Code -> the sentence shown to the customer.
DECLINE_REASONS: dict[str, str] = {
    # Stripe decline codes (card_declined's decline_code) and card error codes.
    "generic_decline": _DECLINED,
    "card_declined": _DECLINED,
    "do_not_honor": _DECLINED,
    "do_not_try_again": _DECLINED,
    "call_issuer": _DECLINED,
    "no_action_taken": _DECLINED,
    "not_permitted": _DECLINED,
    "revocation_of_authorization": _DECLINED,
    "transaction_not_allowed": _DECLINED,
    "lost_card": _DECLINED,
    "stolen_card": _DECLINED,
    "pickup_card": _DECLINED,
    "restricted_card": _DECLINED,
    "fraudulent": _DECLINED,
    "merchant_blacklist": _DECLINED,
    "security_violation": _DECLINED,
    "stop_payment_order": _DECLINED,
    "insufficient_funds": (
        "The card does not have enough funds for this payment. Please try another card or a "
        "smaller amount."
    ),
    "card_velocity_exceeded": (
        "The card has reached its spending limit. Please try another card, or ask your bank "
        "to raise the limit."
    ),
    "withdrawal_count_limit_exceeded": (
        "The card has reached its spending limit. Please try another card, or ask your bank "
        "to raise the limit."
    ),
    "expired_card": "The card has expired. Please use another card.",
    "incorrect_cvc": (
        "The security code (CVC) was not correct. Check the 3 or 4 digits on the card and try "
        "again."
    ),
    "invalid_cvc": (
        "The security code (CVC) was not correct. Check the 3 or 4 digits on the card and try "
        "again."
    ),
    "incorrect_number": "The card number was not correct. Check it and try again.",
    "invalid_number": "The card number was not correct. Check it and try again.",
    "invalid_expiry_month": "The card's expiry date was not correct. Check it and try again.",
    "invalid_expiry_year": "The card's expiry date was not correct. Check it and try again.",
    "incorrect_zip": "The postal code did not match the card. Check it and try again.",
    "invalid_amount": _DECLINED,
    "card_not_supported": _OTHER_CARD,
    "currency_not_supported": _OTHER_CARD,
    "invalid_account": _OTHER_CARD,
    "new_account_information_available": _OTHER_CARD,
    "processing_error": (
        "An error occurred while processing the card. Nothing was charged; please try again "
        "in a few minutes."
    ),
    "issuer_not_available": _TRY_LATER,
    "try_again_later": _TRY_LATER,
    "reenter_transaction": _TRY_LATER,
    "approve_with_id": _TRY_LATER,
    "authentication_required": (
        "Your bank asked you to confirm this payment (3-D Secure). Nothing has been charged yet."
    ),
    "payment_intent_authentication_failure": (
        "The payment was not confirmed with your bank, so nothing was charged. Please try again."
    ),
    "requires_payment_method": "The payment was not completed. Nothing was charged.",
    "canceled": "The payment was cancelled. Nothing was charged.",
    # The portal's own codes.
    "canceled_by_customer": (
        "Cancelled before it was confirmed with your bank. Nothing was charged."
    ),
    "authentication_expired": (
        "Not confirmed with your bank within a day, so it was cancelled. Nothing was charged."
    ),
    "abandoned": "The payment was not completed. Nothing was charged.",
    "interrupted": "The payment was interrupted. Nothing was charged.",
    "no_card": "The card was not set up, so nothing was charged. Please enter the card again.",
    "bad_setup": "The card was not set up, so nothing was charged. Please enter the card again.",
    "stripe_error": (
        "The card processor did not answer. If you were charged, your balance is credited "
        "automatically."
    ),
}


def decline_reason(code: str) -> str:
    """The customer's sentence for a failure code; unknown or empty codes get the generic one."""
    return DECLINE_REASONS.get((code or "").strip().lower(), GENERIC_REASON)
