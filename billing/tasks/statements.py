"""Monthly statements: the e-mail of a closed statement, sent once by whichever run gets it."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing.selectors.statements import statements_unmailed_ids
from billing.services import statements as service_statements
from portal.enqueue import task_enqueue


@shared_task(name="billing.tasks.statement_email_send", acks_late=True)
def statement_email_send(statement_id: int) -> bool:
    return service_statements.statement_email(statement_id=statement_id, now=timezone.now())


@shared_task(name="billing.tasks.statement_email_scan")
def statement_email_scan() -> int:
    """Beat, hourly: the statements whose e-mail task was lost (a broker that was down when
    the cycle committed) or whose send failed get another one."""
    statement_ids = statements_unmailed_ids(now=timezone.now())
    for statement_id in statement_ids:
        task_enqueue(statement_email_send, statement_id)
    return len(statement_ids)
