"""Number ports: the customer's request (checked numbers, letter of authorization, bill), its
one-time fee, and every move through its states, each under the request's row lock.

The fee is one ledger entry per request (``port-fee:<id>``), posted in the same transaction that
moves the draft to submitted; the refund of the numbers not ported is one entry too
(``port-refund:<id>``), so a repeated or concurrent reject, cancel or completion refunds once.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse

from billing.models import DIDGroup, LedgerEntry, PortNumber, PortRequest, PortTransition
from billing.money import CENTS, cents, format_usd, money
from billing.numbers import LineType, classify, pretty
from billing.selectors.ports import dids_existing, port_fee_table, port_numbers_claimed
from billing.services.deposits import deposit_limits
from billing.services.ledger import ledger_post
from billing.services.notifications import account_mail
from billing.services.numbers import did_add
from portal.errors import DomainError
from portal.mail import site_link, support_contact
from portal.models import Account, User

Status = PortRequest.Status

# The only moves a request can make. Everything else (a second completion, a reject after
# completion, a customer's cancel once the losing carrier is engaged) is refused under the lock.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.SUBMITTED, Status.CANCELLED}),
    Status.SUBMITTED: frozenset({Status.IN_PROGRESS, Status.REJECTED, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.COMPLETED, Status.REJECTED, Status.CANCELLED}),
    Status.COMPLETED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.CANCELLED: frozenset(),
}
# Once staff have asked the losing carrier (in progress) only staff may cancel.
CUSTOMER_CANCELLABLE = frozenset({Status.DRAFT, Status.SUBMITTED})
# A draft holds no fee and no number; after this long nobody is coming back to it.
DRAFT_MAX_AGE = dt.timedelta(days=30)
# The bill copy: big enough for a scanned multi-page PDF, small enough to keep storage sane.
BILL_MAX_BYTES = 10 * 1024 * 1024
# Content signatures (magic bytes) of the types we accept: the file's name and the browser's
# Content-Type are the customer's claim, the first bytes are what the file is.
BILL_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
MAX_NUMBERS_PER_REQUEST = 500
# The letter of authorization the customer signs; the text as signed is kept with the request,
# so a later change of wording never changes what someone agreed to.
LOA_TEXT = (
    "I authorize {account}'s provider, Control Center, to act as my agent to port the numbers "
    "listed in this request from the current carrier named in it, and to give that carrier the "
    "account details in it. I confirm that I am the account holder or am authorised to act for "
    "the account holder, and that the information in this request is correct."
)
_LIST_SEPARATORS = re.compile(r"[,;\t]")


@dataclass(frozen=True)
class CheckedNumber:
    line: int
    e164: str
    country: str
    line_type: str
    fee: Decimal


@dataclass(frozen=True)
class LineError:
    line: int
    text: str
    reason: str


class PortNumbersInvalid(DomainError):
    """Some numbers of the list cannot be ported; nothing was created."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__(
            f"{len(errors)} of the numbers cannot be ported; nothing was submitted.",
            code="bad_numbers",
        )
        self.errors = errors


class PortBalanceShort(DomainError):
    """The balance does not cover the fee; nothing was charged or submitted."""

    def __init__(self, *, total: Decimal, balance: Decimal) -> None:
        self.missing = port_top_up_amount(total=total, balance=balance) or Decimal("0")
        super().__init__(
            f"The fee is {format_usd(total)} and your balance is {format_usd(balance)}: add "
            f"at least {format_usd(self.missing)} to submit this request.",
            code="insufficient_balance",
        )


def port_numbers_check(
    *, account: Account, text: str
) -> tuple[list[CheckedNumber], list[LineError]]:
    """Parse a pasted list (one number per line, or separated by commas), normalise each to
    E.164 and say, per line, why any cannot be ported."""
    default, by_country = port_fee_table()
    entries: list[tuple[int, str]] = []
    for line_no, line in enumerate((text or "").splitlines(), start=1):
        entries.extend((line_no, part.strip()) for part in _LIST_SEPARATORS.split(line))
    entries = [(line_no, part) for line_no, part in entries if part]
    errors: list[LineError] = []
    checked: list[CheckedNumber] = []
    if not entries:
        return [], [LineError(line=1, text="", reason="Enter at least one number.")]
    if len(entries) > MAX_NUMBERS_PER_REQUEST:
        reason = f"At most {MAX_NUMBERS_PER_REQUEST} numbers per request; split the list."
        return [], [LineError(line=entries[-1][0], text=entries[-1][1], reason=reason)]
    seen: dict[str, int] = {}
    for line_no, raw in entries:
        try:
            info = classify(raw)
        except DomainError as exc:
            errors.append(LineError(line_no, raw, exc.message))
            continue
        if info.line_type == LineType.UNKNOWN:
            errors.append(LineError(line_no, raw, "not a valid number for its country."))
            continue
        if info.e164 in seen:
            errors.append(LineError(line_no, raw, f"a duplicate of line {seen[info.e164]}."))
            continue
        seen[info.e164] = line_no
        row = by_country.get(info.country, default)
        if info.line_type == LineType.TOLL_FREE and not row.toll_free_portable:
            errors.append(LineError(line_no, raw, "toll-free numbers cannot be ported in."))
            continue
        checked.append(
            CheckedNumber(line_no, info.e164, info.country, str(info.line_type), money(row.fee))
        )
    numbers = [c.e164 for c in checked]
    dids = dids_existing(numbers=numbers)
    claimed = port_numbers_claimed(numbers=numbers)
    keep: list[CheckedNumber] = []
    for item in checked:
        if item.e164 in dids:
            mine = dids[item.e164] == account.pk
            why = "already one of your numbers." if mine else "already in use on our network."
            errors.append(LineError(item.line, pretty(item.e164), why))
        elif item.e164 in claimed:
            errors.append(
                LineError(item.line, pretty(item.e164), "already in another open port request.")
            )
        else:
            keep.append(item)
    errors.sort(key=lambda e: e.line)
    return keep, errors


def port_loa_text(*, account: Account) -> str:
    return LOA_TEXT.format(account=account.name)


def port_top_up_amount(*, total: Decimal, balance: Decimal) -> Decimal | None:
    """What Add Credit should offer so that ``balance`` covers ``total``: the shortfall in
    whole cents, rounded up (a card pays cents), at least the minimum deposit; None if covered."""
    short = money(total - balance)
    if short <= 0:
        return None
    amount = cents(short)
    if amount < short:
        amount += CENTS
    return max(amount, deposit_limits()[0])


def port_bill_check(*, upload: UploadedFile) -> tuple[str, str]:
    """The bill's content type and file extension, read from its first bytes. Raises
    DomainError ``bad_bill`` for anything but a PDF, PNG or JPEG of at most 10 MB."""
    if upload.size is not None and upload.size > BILL_MAX_BYTES:
        raise DomainError("The bill copy is larger than 10 MB.", code="bad_bill")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, content_type, extension in BILL_SIGNATURES:
        if head.startswith(signature):
            return content_type, extension
    raise DomainError("The bill copy must be a PDF, PNG or JPEG file.", code="bad_bill")


def port_draft_create(
    *,
    account: Account,
    user: User,
    numbers_text: str,
    losing_carrier: str,
    carrier_account_number: str,
    carrier_pin: str,
    account_holder_name: str,
    service_address: str,
    requested_date: dt.date,
    loa_name: str,
    loa_ip: str | None,
    bill: UploadedFile | None,
    now: dt.datetime,
) -> PortRequest:
    """A draft request with its checked numbers, their fees and the signed LOA. Raises
    PortNumbersInvalid (every bad line) or DomainError; nothing is created then."""
    checked, errors = port_numbers_check(account=account, text=numbers_text)
    if errors:
        raise PortNumbersInvalid(errors)
    if not loa_name.strip():
        raise DomainError("Type the authorised person's name to sign the letter.", code="no_loa")
    content_type = ""
    if bill is not None:
        content_type, extension = port_bill_check(upload=bill)
    port = PortRequest(
        account=account,
        status=Status.DRAFT,
        losing_carrier=losing_carrier.strip(),
        carrier_account_number=carrier_account_number.strip(),
        carrier_pin=carrier_pin.strip(),
        account_holder_name=account_holder_name.strip(),
        service_address=service_address.strip(),
        requested_date=requested_date,
        loa_name=loa_name.strip(),
        loa_text=port_loa_text(account=account),
        loa_signed_by=user,
        loa_signed_at=now,
        loa_signed_ip=loa_ip or None,
        bill_content_type=content_type,
        fee_total=money(sum((c.fee for c in checked), Decimal("0"))),
        created_at=now,
        updated_at=now,
    )
    if bill is not None:
        # Our own name, not the customer's: the file is only ever served through a view.
        port.bill.save(f"{uuid.uuid4().hex}.{extension}", bill, save=False)
    try:
        with transaction.atomic():
            port.save()
            PortNumber.objects.bulk_create(
                PortNumber(
                    request=port,
                    number=c.e164,
                    country=c.country,
                    line_type=c.line_type,
                    fee=c.fee,
                )
                for c in checked
            )
            PortTransition.objects.create(
                request=port, from_status="", to_status=Status.DRAFT, by=user, at=now
            )
    except Exception:
        if port.bill:
            port.bill.delete(save=False)
        raise
    return port


def _locked(port: PortRequest) -> PortRequest:
    return PortRequest.objects.select_for_update().get(pk=port.pk)


def _move(
    port: PortRequest, *, to: str, by: User | None, by_staff: bool, note: str, now: dt.datetime
) -> None:
    if to not in ALLOWED_TRANSITIONS[port.status]:
        label = Status(port.status).label.lower()
        raise DomainError(
            f"Port #{port.pk} is {label}: it cannot be {Status(to).label.lower()} now.",
            code="transition_not_allowed",
        )
    PortTransition.objects.create(
        request=port,
        from_status=port.status,
        to_status=to,
        by=by,
        by_staff=by_staff,
        at=now,
        note=note,
    )
    port.status = to
    port.updated_at = now


def _notify(port: PortRequest, *, note: str, refund: Decimal) -> None:
    context = {
        "port": port,
        "status": Status(port.status).label,
        "note": note,
        "refund": format_usd(refund) if refund else "",
        "foc_date": port.foc_date,
        "link": site_link(reverse("billing:port_detail", args=[port.pk])),
    }
    subject = f"Number port #{port.pk}: {Status(port.status).label.lower()}"
    account_id = port.account_id
    transaction.on_commit(
        lambda: account_mail(
            account_id, subject=subject, template="billing/email/port_status.txt", context=context
        )
    )


def _refund_not_ported(port: PortRequest, *, now: dt.datetime) -> Decimal:
    """Credit back the fee of every number that did not port, once per request."""
    if port.submitted_at is None:
        return Decimal("0")  # a draft: no fee was taken
    amount = money(
        sum(
            (n.fee for n in port.numbers.exclude(outcome=PortNumber.Outcome.PORTED)),
            Decimal("0"),
        )
    )
    if amount <= 0:
        return Decimal("0")
    ledger_post(
        account=port.account_id,
        amount=amount,
        kind=LedgerEntry.Kind.REFUND,
        description=f"Number port #{port.pk}: fee refunded for the numbers not ported",
        idempotency_key=f"port-refund:{port.pk}",
        source_type="port_request",
        source_id=str(port.pk),
        now=now,
    )
    return amount


def port_submit(*, port: PortRequest, user: User, now: dt.datetime) -> PortRequest:
    """Charge the fee shown on the draft and submit it, or change nothing: PortBalanceShort
    when the balance does not cover it, PortNumbersInvalid when a number was taken since."""
    with transaction.atomic():
        locked = _locked(port)
        if Status.SUBMITTED not in ALLOWED_TRANSITIONS[locked.status]:
            _move(locked, to=Status.SUBMITTED, by=user, by_staff=False, note="", now=now)  # raises
        account = Account.objects.select_for_update().get(pk=locked.account_id)
        numbers = list(locked.numbers.all())
        e164s = [n.number for n in numbers]
        dids = dids_existing(numbers=e164s)
        claimed = port_numbers_claimed(numbers=e164s, exclude_port_id=locked.pk)
        errors = [
            LineError(i, pretty(n.number), "already in use on our network.")
            if n.number in dids
            else LineError(i, pretty(n.number), "already in another open port request.")
            for i, n in enumerate(numbers, start=1)
            if n.number in dids or n.number in claimed
        ]
        if errors:
            raise PortNumbersInvalid(errors)
        total = money(sum((n.fee for n in numbers), Decimal("0")))
        if account.balance < total:
            raise PortBalanceShort(total=total, balance=account.balance)
        try:
            with transaction.atomic():  # a concurrent submission of the same number loses here
                PortNumber.objects.filter(request=locked).update(claimed=True)
        except IntegrityError as exc:
            raise DomainError(
                "One of these numbers was just submitted in another port request.",
                code="number_claimed",
            ) from exc
        if total > 0:
            ledger_post(
                account=account,
                amount=-total,
                kind=LedgerEntry.Kind.PORT_FEE,
                description=f"Number port #{locked.pk}: {len(numbers)} number(s)",
                idempotency_key=f"port-fee:{locked.pk}",
                source_type="port_request",
                source_id=str(locked.pk),
                now=now,
                locked=True,
                metadata={"numbers": e164s},
            )
        _move(locked, to=Status.SUBMITTED, by=user, by_staff=False, note="", now=now)
        locked.fee_total = total
        locked.submitted_at = now
        locked.save(update_fields=["status", "fee_total", "submitted_at", "updated_at"])
        _notify(locked, note="", refund=Decimal("0"))
    return locked


def port_start(
    *, port: PortRequest, staff_user: User, foc_date: dt.date, note: str, now: dt.datetime
) -> PortRequest:
    """Staff: the losing carrier confirmed the port for ``foc_date``."""
    with transaction.atomic():
        locked = _locked(port)
        _move(locked, to=Status.IN_PROGRESS, by=staff_user, by_staff=True, note=note, now=now)
        locked.foc_date = foc_date
        locked.save(update_fields=["status", "foc_date", "updated_at"])
        _notify(locked, note=note, refund=Decimal("0"))
    return locked


def port_complete(
    *,
    port: PortRequest,
    staff_user: User,
    ported: Collection[str],
    did_group: DIDGroup,
    note: str,
    now: dt.datetime,
) -> PortRequest:
    """Staff: the numbers in ``ported`` (E.164) moved to us and become the account's DIDs in
    ``did_group``; the fee of the others is refunded."""
    with transaction.atomic():
        locked = _locked(port)
        _move(locked, to=Status.COMPLETED, by=staff_user, by_staff=True, note=note, now=now)
        numbers = {n.number: n for n in locked.numbers.all()}
        unknown = sorted(set(ported) - set(numbers))
        if unknown:
            raise DomainError(
                f"Not numbers of this request: {', '.join(unknown)}.", code="unknown_number"
            )
        if not ported:
            raise DomainError(
                "Tick the numbers that ported; if none did, reject the request.",
                code="none_ported",
            )
        account = Account.objects.get(pk=locked.account_id)
        for number, row in numbers.items():
            if number in ported:
                did_add(account=account, number=number, group_name=did_group.name)
                row.outcome = PortNumber.Outcome.PORTED
            else:
                row.outcome = PortNumber.Outcome.NOT_PORTED
            row.claimed = False
        PortNumber.objects.bulk_update(numbers.values(), ["outcome", "claimed"])
        locked.did_group = did_group
        locked.save(update_fields=["status", "did_group", "updated_at"])
        refund = _refund_not_ported(locked, now=now)
        _notify(locked, note=note, refund=refund)
    return locked


def _close(
    port: PortRequest, *, to: str, by: User | None, by_staff: bool, note: str, now: dt.datetime
) -> PortRequest:
    with transaction.atomic():
        locked = _locked(port)
        if not by_staff and to == Status.CANCELLED and locked.status not in CUSTOMER_CANCELLABLE:
            raise DomainError(
                "This port is already with the losing carrier: contact support at "
                f"{support_contact()} to cancel it.",
                code="transition_not_allowed",
            )
        _move(locked, to=to, by=by, by_staff=by_staff, note=note, now=now)
        if to == Status.REJECTED:
            locked.reject_reason = note
        locked.numbers.update(outcome=PortNumber.Outcome.NOT_PORTED, claimed=False)
        locked.save(update_fields=["status", "reject_reason", "updated_at"])
        refund = _refund_not_ported(locked, now=now)
        _notify(locked, note=note, refund=refund)
    return locked


def port_reject(
    *, port: PortRequest, staff_user: User, reason: str, now: dt.datetime
) -> PortRequest:
    """Staff: the losing carrier (or we) refused; ``reason`` is shown to the customer."""
    if not reason.strip():
        raise DomainError("Give the reason the customer will see.", code="no_reason")
    return _close(
        port, to=Status.REJECTED, by=staff_user, by_staff=True, note=reason.strip(), now=now
    )


def port_cancel(
    *, port: PortRequest, user: User | None, by_staff: bool, note: str, now: dt.datetime
) -> PortRequest:
    """Cancel: the customer while it is a draft or submitted, staff at any open state."""
    return _close(port, to=Status.CANCELLED, by=user, by_staff=by_staff, note=note, now=now)


def port_drafts_expire(*, now: dt.datetime) -> int:
    """Cancel the drafts older than 30 days (no fee was taken). Returns how many."""
    cutoff = now - DRAFT_MAX_AGE
    ids = list(
        PortRequest.objects.filter(status=Status.DRAFT, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    done = 0
    note = f"Not submitted within {DRAFT_MAX_AGE.days} days."
    for pk in ids:
        try:
            port_cancel(port=PortRequest(pk=pk), user=None, by_staff=True, note=note, now=now)
        except DomainError:
            continue  # submitted or cancelled meanwhile
        done += 1
    return done
