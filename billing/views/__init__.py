"""Control Center pages of the billing app (Calls, Numbers, rate lookup, Per Minute and Add
Credit) and the Stripe webhook, one module per page. Thin: reads through selectors, writes through
services; every customer page is ``@customer_view`` and looks objects up scoped to
``request.account`` before it checks the method, so another account's id is always a 404."""
